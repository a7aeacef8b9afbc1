"""A kind defined outside autograde (tests/toy_kind.py, one module) grades a real notebook:
the rubric validates with `kind: toy`, the local backend runs the notebook on a real kernel,
and the toy's own judge gives each check's verdict, under the name the kind gives itself."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml

from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.results import GradeReport
from autograde.rubric import Assignment, load_rubric_file
from tests import toy_kind  # noqa: F401  (registers `kind: toy`)

pytestmark = pytest.mark.integration

NOTEBOOK = 'level = "Level"\nkayaks = "kayaks"\nradar = "radar"\nnumber = 12321\n'

CHECKS = {
    "palindrome": {"kind": "toy", "variable": "level"},
    "not_palindrome": {"kind": "toy", "variable": "kayaks"},
    "too_short": {"kind": "toy", "variable": "radar", "min_length": 6, "name": "long palindrome"},
    "not_a_word": {"kind": "toy", "variable": "number"},
    "undefined": {"kind": "toy", "variable": "missing_word"},
    "beside_a_builtin": {"kind": "value", "variable": "radar", "expect": "radar"},
}


@pytest.fixture(scope="module")
def assignment(tmp_path_factory: pytest.TempPathFactory) -> Assignment:
    folder = tmp_path_factory.mktemp("toy")
    rubric = {
        "schema": 1,
        "assignment": "toy",
        "title": "a kind from outside autograde",
        "limits": {"cell_timeout": "30s", "probe_timeout": "20s", "total_timeout": "120s"},
        "tasks": [{"id": name, "points": 1, "checks": [check]} for name, check in CHECKS.items()],
    }
    (folder / "rubric.yaml").write_text(yaml.safe_dump(rubric))
    return load_rubric_file(folder / "rubric.yaml")


@pytest.fixture(scope="module")
def graded(assignment: Assignment, tmp_path_factory: pytest.TempPathFactory) -> GradeReport:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(NOTEBOOK)]
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    path = tmp_path_factory.mktemp("toy_nb") / "toy.ipynb"
    nbformat.write(nb, path)
    return grade_submission(path, assignment, GradeOptions(grading_seed=3))


def test_the_rubric_validates_the_toy_fields(assignment: Assignment) -> None:
    checks = {task.id: task.checks[0] for task in assignment.rubric.tasks}
    assert type(checks["palindrome"]).__name__ == "ToyCheck"
    assert checks["too_short"].min_length == 6  # type: ignore[attr-defined]
    assert checks["palindrome"].min_length == 1  # type: ignore[attr-defined]


def test_the_toy_judge_gives_each_verdict(graded: GradeReport) -> None:
    assert graded.status == "graded", graded.notes
    result = {task.id: task.checks[0] for task in graded.tasks}
    assert result["palindrome"].status == "pass", result["palindrome"].message
    assert "'Level' reads the same backwards" in result["palindrome"].message
    assert result["not_palindrome"].status == "fail"
    assert "'kayaks' does not read the same backwards" in result["not_palindrome"].message
    assert result["too_short"].status == "fail"
    assert "5 letters, fewer than 6" in result["too_short"].message
    assert result["not_a_word"].status == "fail"
    assert "not a word" in result["not_a_word"].message
    assert result["undefined"].status == "fail"  # a missing name is the student's failure
    assert "missing_word" in result["undefined"].message
    assert result["beside_a_builtin"].status == "pass", result["beside_a_builtin"].message
    assert graded.score == 2.0


def test_the_toy_names_itself_alike_when_graded_and_when_rejected(
    graded: GradeReport, assignment: Assignment, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    rejected = grade_submission(broken, assignment, GradeOptions(grading_seed=3))
    assert rejected.status == "invalid notebook"
    names = {task.id: task.checks[0].name for task in graded.tasks}
    assert names["palindrome"] == "toy level"
    assert names["too_short"] == "long palindrome"
    assert {task.id: task.checks[0].name for task in rejected.tasks} == names
    assert all(task.checks[0].status == "not-run" for task in rejected.tasks)
