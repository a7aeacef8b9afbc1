"""The README's assignment table is what the rubrics say (regenerate with
`autograde list --readme README.md`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from autograde.cli.main import main
from autograde.errors import RubricError
from autograde.rubric import discover, load_rubric_file
from autograde.rubric.table import END, START, markdown, splice

ROOT = Path(__file__).resolve().parents[2]


def library_rubrics():
    return [load_rubric_file(path).rubric for path in discover(ROOT / "rubrics")]


def test_readme_table_matches_the_rubrics():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    expected = splice(readme, markdown(library_rubrics()))
    assert readme == expected, "README.md is stale: run `.venv/bin/autograde list --readme README.md`"


def test_every_assignment_task_and_total_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index(START) : readme.index(END)]
    for rubric in library_rubrics():
        row = next(line for line in table.splitlines() if f"**{rubric.assignment}**" in line)
        assert row.endswith(f"| {sum(t.points for t in rubric.tasks):g} |")
        for task in rubric.tasks:
            assert f"`{task.id}`" in row and f"({task.points:g}" in row


def test_rewrite_replaces_only_the_marked_part(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n{START}\nold table\n{END}\nafter\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["list", "--rubrics", str(ROOT / "rubrics"), "--readme", str(readme)])
    assert result.exit_code == 0, result.output
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# title\n\nbefore\n") and text.endswith(f"{END}\nafter\n")
    assert "old table" not in text and "**ex02_gradient_descent**" in text
    again = CliRunner().invoke(main, ["list", "--rubrics", str(ROOT / "rubrics"), "--readme", str(readme)])
    assert "already up to date" in again.output


def test_missing_markers_are_a_clear_error(tmp_path):
    with pytest.raises(RubricError, match="markers are missing"):
        splice("# no table here\n", "| a |\n", "docs/README.md")
    readme = tmp_path / "README.md"
    readme.write_text("# nothing\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["list", "--rubrics", str(ROOT / "rubrics"), "--readme", str(readme)])
    assert result.exit_code == 2 and "markers are missing" in result.output
