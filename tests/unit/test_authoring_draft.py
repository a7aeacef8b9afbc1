"""Writing an assignment folder: the same bytes every time, validated, never over foreign files."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from autograde.authoring.draft import MADE_BY, Draft, DraftError, write_draft
from autograde.errors import RubricError


def _draft(points: object = 1) -> Draft:
    rubric = {
        "schema": 1,
        "assignment": "tiny",
        "title": "Tiny",
        "tasks": [{"id": "f", "points": points, "checks": [{"kind": "exists", "target": "f", "weight": 1}]}],
    }
    template = v4.new_notebook(cells=[v4.new_code_cell("def f():\n    ...")])
    solution = v4.new_notebook(cells=[v4.new_code_cell("def f():\n    return 1")])
    return Draft("tiny", rubric, template, solution, "tiny.ipynb", files={"data/x.txt": b"1\n"})


def test_writing_twice_gives_the_same_files(tmp_path: Path) -> None:
    out = tmp_path / "tiny"
    write_draft(_draft(), out)
    first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    write_draft(_draft(), out)  # fresh random cell ids would differ
    second = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert first == second
    assert set(first) == {
        Path(n) for n in ("rubric.yaml", "template.ipynb", "solution.ipynb", "data/x.txt", MADE_BY)
    }
    nb = nbformat.read(out / "template.ipynb", as_version=4)
    assert [c.id for c in nb.cells] == ["cell-1"]
    assert (out / "rubric.yaml").read_text().startswith("# Made by autograde from tiny.ipynb.")


def test_a_folder_of_other_files_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(DraftError, match="holds files that autograde did not write"):
        write_draft(_draft(), tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "keep"


def test_an_invalid_rubric_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(RubricError, match=r"tiny/rubric\.yaml"):
        write_draft(_draft(points="many"), tmp_path / "tiny")
    assert not any(tmp_path.iterdir())


def test_multi_line_strings_are_literal_blocks_and_read_back_the_same(tmp_path: Path) -> None:
    import yaml

    draft = _draft()
    code = "assert f() == 1\nassert f() != 2\n"
    draft.rubric["tasks"][0]["checks"].append({"kind": "test_code", "code": code, "weight": 1})
    write_draft(draft, tmp_path / "tiny")
    text = (tmp_path / "tiny" / "rubric.yaml").read_text()
    assert "code: |\n      assert f() == 1\n      assert f() != 2\n" in text
    assert yaml.safe_load(text)["tasks"][0]["checks"][1]["code"] == code
