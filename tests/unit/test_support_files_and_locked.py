"""The rubric's `files` (support files beside the notebook) and `locked` (read-only cells),
and nbgrader's grade ids as tags at ingest."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from autograde.backends import fake
from autograde.errors import RubricError
from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.pipeline.ingest import read_notebook
from autograde.pipeline.locked import locked_cells, restore_locked
from autograde.rubric import Assignment, load_rubric_file
from autograde.rubric.support import support_files


def folder_with(tmp_path: Path, **top: Any) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir(exist_ok=True)
    data = {
        "schema": 1,
        "assignment": "demo",
        "title": "Demo",
        **top,
        "tasks": [{"id": "q", "points": 1, "checks": [{"kind": "value", "variable": "x", "expect": 1}]}],
    }
    (folder / "rubric.yaml").write_text(yaml.safe_dump(data))
    return folder


def load(folder: Path) -> Assignment:
    return load_rubric_file(folder / "rubric.yaml")


# ---------------------------------------------------------------- files


def test_support_files_are_found_while_folders_below_come_and_go(tmp_path: Path) -> None:
    """The assignment folder may hold the grader's temporary folder (job folders made and
    removed by the sandboxes of a batch) while each upload looks for its support files."""
    folder = folder_with(tmp_path, files=["ok.txt"])
    (folder / "ok.txt").write_text("support")
    (folder / "solution.ipynb").write_text("{}")
    assignment = load(folder)
    churn = folder / "tmp"
    stop = threading.Event()

    def come_and_go() -> None:
        index = 0
        while not stop.is_set():
            job = churn / f"autograde-job-{index % 4}" / "work" / "a" / "b"
            job.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(churn / f"autograde-job-{(index + 2) % 4}", ignore_errors=True)
            index += 1

    worker = threading.Thread(target=come_and_go)
    worker.start()
    try:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            assert list(support_files(assignment)) == ["ok.txt"]
    finally:
        stop.set()
        worker.join()


def test_an_assignment_without_support_files_looks_at_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assignment = load(folder_with(tmp_path))
    def walked(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the assignment folder was walked")

    monkeypatch.setattr("os.walk", walked)
    monkeypatch.setattr(Path, "rglob", walked)
    assert support_files(assignment) == {}


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("../secret.txt", "must stay inside the assignment folder"),
        ("data/../../x", "must stay inside the assignment folder"),
        ("/etc/passwd", "relative path with forward slashes"),
        ("data\\x.txt", "relative path with forward slashes"),
        (" data.txt", "without spaces around it"),
    ],
)
def test_files_must_be_relative_paths_inside_the_folder(tmp_path: Path, entry: str, why: str) -> None:
    folder = folder_with(tmp_path, files=["ok.txt", entry])
    with pytest.raises(RubricError) as info:
        load(folder)
    message = str(info.value)
    assert str(folder / "rubric.yaml") in message and "files.1" in message and why in message


def test_support_files_lists_files_and_folders_in_order(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, files=["data.txt", "data/"])
    (folder / "data.txt").write_text("7")
    (folder / "data" / "sub").mkdir(parents=True)
    (folder / "data" / "b.csv").write_text("b")
    (folder / "data" / "sub" / "a.csv").write_text("a")
    found = support_files(load(folder))
    assert list(found) == ["data.txt", "data/b.csv", "data/sub/a.csv"]
    assert found["data/sub/a.csv"].read_text() == "a"


@pytest.mark.parametrize("case", ["missing", "link out", "solution", "master", "reference module"])
def test_support_files_refuse_what_must_not_travel(tmp_path: Path, case: str) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    folder = folder_with(tmp_path, files=["x.txt"])
    if case == "link out":
        (folder / "x.txt").symlink_to(outside)
        why = "x.txt leads outside the assignment folder"
    elif case == "solution":
        folder = folder_with(tmp_path, files=["solution.ipynb"])
        (folder / "solution.ipynb").write_text("{}")
        why = "is a file of the instructor"
    elif case == "master":
        folder = folder_with(tmp_path, files=["notebooks/"])
        (folder / "notebooks").mkdir()
        (folder / "notebooks" / "master.ipynb").write_text("{}")
        why = "notebooks/master.ipynb is a file of the instructor"
    elif case == "reference module":
        folder = folder_with(tmp_path, files=["make.py"], hidden_data={"h": {"generator": "make.py:make"}})
        (folder / "make.py").write_text("def make(): ...")
        why = "'make.py' would give students make.py, the host-side reference code"
    else:
        why = "no such file or folder"
    with pytest.raises(RubricError) as info:
        support_files(load(folder))
    assert str(folder / "rubric.yaml") in str(info.value) and "files.0" in str(info.value)
    assert why in str(info.value)


def test_loading_a_rubric_checks_its_files_before_any_grading(tmp_path: Path) -> None:
    """A bad entry is one clear error when the assignment loads, not a grader error per upload."""
    folder = folder_with(tmp_path, files=["absent.txt"])
    with pytest.raises(RubricError, match=r"files\.0.*no such file or folder"):
        load(folder)
    (folder / "absent.txt").write_text("now here")
    assert load(folder).rubric.files == ["absent.txt"]


def test_support_files_are_staged_into_the_jobs_in_folder(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, files=["data.txt", "data/"])
    (folder / "data.txt").write_text("seven")
    (folder / "data").mkdir()
    (folder / "data" / "a.csv").write_text("1,2")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, tmp_path / "sub.ipynb")
    kept = tmp_path / "kept"
    with fake.scripted(fake.Script(respond=lambda spec: fake.value(1))):
        opts = GradeOptions(backend="fake", keep_job=kept)
        report = grade_submission(tmp_path / "sub.ipynb", load(folder), opts)
    assert report.score == 1.0
    files = kept / "sub" / "in" / "files"
    assert {p.relative_to(files).as_posix(): p.read_text() for p in files.rglob("*") if p.is_file()} == {
        "data.txt": "seven",
        "data/a.csv": "1,2",
    }


# ---------------------------------------------------------------- locked cells


def cell(source: str, *tags: str, **meta: Any) -> Any:
    return nbformat.v4.new_code_cell(source, metadata={"tags": list(tags), **meta})


def write_nb(path: Path, *cells: Any) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def locked(tmp_path: Path) -> Assignment:
    folder = folder_with(tmp_path, locked=["setup", "check"])
    write_nb(
        folder / "template.ipynb",
        cell("import math", "setup"),
        cell("x = ...", "answer"),
        cell("print('given')", "given"),
        cell("assert x == 1", "check"),
    )
    return load(folder)


def test_an_edited_locked_cell_gets_the_templates_source_back(locked: Assignment, tmp_path: Path) -> None:
    path = write_nb(
        tmp_path / "s.ipynb",
        cell("import math\nmath.pi = 3", "setup"),
        cell("x = 1", "answer"),
        cell("print('given')", "given"),
        cell("assert x == 1", "check"),
    )
    sub = read_notebook(path)
    restore_locked(sub, locked)
    assert [c.source for c in sub.nb.cells] == ["import math", "x = 1", "print('given')", "assert x == 1"]
    assert sub.notes.count("cell 'setup' is read-only; your edits were undone before grading") == 1
    assert not any("'check'" in note for note in sub.notes)  # unchanged: no note


def test_a_deleted_locked_cell_is_put_back_after_its_predecessor(locked: Assignment, tmp_path: Path) -> None:
    path = write_nb(tmp_path / "s.ipynb", cell("x = 1", "answer"), cell("print('given')", "given"),
                    cell("y = 2"))
    sub = read_notebook(path)
    restore_locked(sub, locked)
    # setup has no predecessor: at its own index 0; check goes after the `given` cell
    sources = [c.source for c in sub.nb.cells]
    assert sources == ["import math", "x = 1", "print('given')", "assert x == 1", "y = 2"]
    assert "cell 'check' is read-only and was missing; the template's cell was put back" in sub.notes
    assert len({c.get("id") for c in sub.nb.cells}) == 5  # every cell id stays unique
    nbformat.validate(sub.nb)


def test_a_locked_tag_missing_from_the_template_names_the_rubric(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, locked=["setup", "nowhere"])
    write_nb(folder / "template.ipynb", cell("import math", "setup"))
    with pytest.raises(RubricError) as info:
        locked_cells(load(folder))
    assert str(folder / "rubric.yaml") in str(info.value)
    assert "locked: tag 'nowhere' is on no cell of template.ipynb" in str(info.value)


def test_locked_tags_listed_twice_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RubricError, match="tag 'a' is listed twice"):
        load(folder_with(tmp_path, locked=["a", "a"]))


def test_nbgrader_grade_ids_become_tags_and_match_locked_cells(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, locked=["cell-setup"])
    nbgrader = {"nbgrader": {"grade_id": "cell-setup", "locked": True, "solution": False}}
    write_nb(folder / "template.ipynb", cell("import math", **nbgrader))
    raw = json.loads(nbformat.writes(nbformat.v4.new_notebook(cells=[cell("import os", **nbgrader),
                                                                       cell("z = 1", "keep")])))
    raw["cells"][1]["metadata"]["nbgrader"] = {"grade_id": "answer"}
    raw["cells"][0]["metadata"].pop("tags")
    (tmp_path / "s.ipynb").write_text(json.dumps(raw))
    sub = read_notebook(tmp_path / "s.ipynb")
    assert sub.nb.cells[0].metadata.tags == ["cell-setup"]
    assert sub.nb.cells[1].metadata.tags == ["keep", "answer"]
    restore_locked(sub, load(folder))
    assert sub.nb.cells[0].source == "import math"
