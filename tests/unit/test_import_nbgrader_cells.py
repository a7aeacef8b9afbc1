"""nbgrader cell metadata: schema 3 read as stored, v0 migrated, bad inputs named by file and cell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograde.authoring.nbgrader import import_nbgrader
from autograde.authoring.nbgrader.cells import NbgraderError, read_notebook, read_roles
from tests.authoring_data import authoring, nbgrader_notebook

APPS = "nbgrader/tests/apps/files"


def _write(tmp_path: Path, nb: Any, name: str = "hw.ipynb") -> Path:
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def test_v0_is_migrated_to_the_grading_structure_of_schema_3() -> None:
    v0 = read_notebook(authoring(f"{APPS}/test-v0.ipynb"))
    v3 = read_notebook(authoring(f"{APPS}/test.ipynb"))
    assert v0.nbformat_minor == 5  # 4.0 upgraded
    shape = [
        (r.grade_id, r.solution, r.grade, r.task, r.points, r.read_only)
        for r in read_roles(v0, "test-v0.ipynb")
    ]
    assert shape == [
        (r.grade_id, r.solution, r.grade, r.task, r.points, r.read_only) for r in read_roles(v3, "test.ipynb")
    ]
    # ordinary v0 cells ({grade: false, solution: false}, no grade id) stay ordinary;
    # "1" is the number 1; the answer cells lacking `grade` are not graded
    assert [r.number for r in read_roles(v0, "x")] == [1, 3, 6, 7, 9, 12, 13, 15, 17]
    points = {r.grade_id: r.points for r in read_roles(v0, "x")}
    assert points["correct_squares"] == 1.0 and points["squares"] is None
    assert points["sum_of_squares_equation"] == 1.0 and points["sum_of_squares_application"] == 2.0


def test_v0_rubric_equals_the_schema_3_rubric() -> None:
    v0 = import_nbgrader(authoring(f"{APPS}/test-v0.ipynb"), "a").rubric
    v3 = import_nbgrader(authoring(f"{APPS}/test.ipynb"), "a").rubric
    assert v0["tasks"] == v3["tasks"] and v0["locked"] == v3["locked"]
    assert [t["points"] for t in v0["tasks"]] == [1, 1, 0.5, 0.5, 1, 2]


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            [
                ("code", "x = 1", {"grade": True, "solution": False, "grade_id": "a", "points": 1}),
                ("code", "y = 2", {"grade": True, "solution": False, "grade_id": "a", "points": 1}),
            ],
            "hw.ipynb: cell 2 (a): grade_id 'a' is already used by cell 1",
        ),
        (
            [("code", "x = 1", {"grade": True, "solution": False, "grade_id": "a", "points": ""})],
            "hw.ipynb: cell 1 (a): a graded cell's points are blank",
        ),
        (
            [
                (
                    "markdown",
                    "t",
                    {"grade": False, "solution": False, "task": True, "grade_id": "t", "points": -2},
                )
            ],
            "hw.ipynb: cell 1 (t): points must be a number >= 0",
        ),
        (
            [("code", "x = 1", {"grade": True, "solution": False, "points": 1})],
            "hw.ipynb: cell 1: an nbgrader cell (solution, graded, task or read-only) has no grade_id",
        ),
        (
            [("code", "x = 1", {"grade": True, "solution": False, "grade_id": "a"})],
            "hw.ipynb: cell 1 (a): a graded cell needs points",
        ),
        (
            [("code", "x = 1", {"grade": "yes", "grade_id": "a"})],
            "hw.ipynb: cell 1: nbgrader `grade` must be true or false",
        ),
        (
            [("code", "x = 1", {"grade": True, "grade_id": "a", "points": 1, "schema_version": 9})],
            "hw.ipynb: cell 1: nbgrader schema_version 9 is not one this importer knows",
        ),
        (
            [("code", "x = 1\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION", None)],
            "hw.ipynb: cell 1: a solution region in a cell that is not a solution cell",
        ),
        (
            [("code", "def f():\n    ### BEGIN SOLUTION\n    return 1", {"solution": True, "grade_id": "f"})],
            "hw.ipynb: cell 1, line 2: BEGIN SOLUTION is never closed",
        ),
        (
            [
                (
                    "markdown",
                    "Do it\n=== BEGIN MARK SCHEME ===\nall of it",
                    {"task": True, "grade_id": "t", "points": 1, "locked": True},
                )
            ],
            "cell 1 (t), line 2: BEGIN MARK SCHEME is never closed",
        ),
    ],
)
def test_bad_inputs_name_file_and_cell(
    tmp_path: Path, cells: list[tuple[str, str, dict[str, Any] | None]], message: str
) -> None:
    with pytest.raises(Exception) as raised:
        import_nbgrader(_write(tmp_path, nbgrader_notebook(*cells)), "hw")
    assert message in str(raised.value)
    assert isinstance(raised.value, NbgraderError) or type(raised.value).__name__ == "MarkerError"


def test_not_a_notebook(tmp_path: Path) -> None:
    path = tmp_path / "notes.ipynb"
    path.write_text("this is not json")
    with pytest.raises(NbgraderError, match=r"notes\.ipynb: not a Jupyter notebook"):
        import_nbgrader(path, "hw")
    with pytest.raises(NbgraderError, match="not a file"):
        import_nbgrader(tmp_path, "hw")


def test_grade_ids_become_unique_task_ids_and_tags(tmp_path: Path) -> None:
    nb = nbgrader_notebook(
        (
            "code",
            "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
            {"solution": True, "grade_id": "cell-1a"},
        ),
        ("code", "assert f() == 1", {"grade": True, "grade_id": "1-test", "points": 2}),
        ("code", "assert f()", {"grade": True, "grade_id": "1_test", "points": "0"}),
    )
    draft = import_nbgrader(_write(tmp_path, nb), "hw")
    tasks = draft.rubric["tasks"]
    assert [t["id"] for t in tasks] == ["c_1_test", "c_1_test_2"]
    assert [t["points"] for t in tasks] == [2, 0]
    assert [c["tag"] for t in tasks for c in t["checks"]] == ["cell-1a", "cell-1a"]
    assert draft.rubric["locked"] == ["1-test", "1_test"]
    assert [c.metadata["tags"] for c in draft.template.cells] == [["cell-1a"], ["1-test"], ["1_test"]]
