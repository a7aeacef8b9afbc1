"""The README's assignment table is what the rubrics say (regenerate with
`autograde list --readme README.md`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


def deep_folder(tmp_path: Path) -> Path:
    """A folder whose path is far longer than any terminal line (as pytest's can be)."""
    folder = tmp_path.joinpath(*[f"a-rather-long-folder-name-{i}-" + "x" * 40 for i in range(4)])
    folder.mkdir(parents=True)
    assert len(str(folder)) > 250
    return folder


def run_narrow(*args: str) -> subprocess.CompletedProcess[str]:
    """The command in a fresh process whose output is a pipe 40 columns wide."""
    return subprocess.run(
        [sys.executable, "-c", "from autograde.cli.main import main; main(prog_name='autograde')", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "40"},
    )


def test_messages_stay_whole_on_a_narrow_terminal_with_a_long_path(tmp_path):
    readme = deep_folder(tmp_path) / "README.md"
    readme.write_text(f"# t\n{START}\n{END}\n", encoding="utf-8")
    first = run_narrow("list", "--rubrics", str(ROOT / "rubrics"), "--readme", str(readme))
    assert first.returncode == 0, first.stderr
    assert f"{readme}: updated\n" in first.stdout
    again = run_narrow("list", "--rubrics", str(ROOT / "rubrics"), "--readme", str(readme))
    assert f"{readme}: already up to date\n" in again.stdout


def test_validate_and_error_messages_stay_whole(tmp_path):
    library = deep_folder(tmp_path)
    shutil.copytree(ROOT / "rubrics" / "ex02_gradient_descent", library / "ex02_gradient_descent")
    valid = run_narrow("rubric", "validate", str(library))
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert f"ok      {library / 'ex02_gradient_descent' / 'rubric.yaml'}\n" in valid.stdout
    missing = library / "no-such-library"
    failed = run_narrow("list", "--rubrics", str(missing))
    assert failed.returncode == 2
    assert f"error: {missing}: rubric library folder not found\n" in failed.stderr
