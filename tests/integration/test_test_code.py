"""Instructor test code (`kind: test_code`) graded for real: a tiny assignment folder with
support files (`files:`), a read-only cell (`locked:`), public and hidden tests with and
without expected output, an all-or-nothing task and a task of 0 points, graded by the local
backend on a real kernel; then `autograde bundle` and `autograde check` on it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from click.testing import CliRunner

from autograde.cli.main import main
from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.reporters.gradescope import gradescope_results
from autograde.reporters.markdown import feedback_markdown
from autograde.rubric import Assignment, load_rubric_file
from autograde.rubric.selftest import cases, run_case

pytestmark = pytest.mark.integration

SETUP = 'from helpers import double\nwith open("data.txt") as handle:\n    BASE = int(handle.read())\n'
SQUARES = "def squares(n):\n    return [i * i for i in range(1, n + 1)]\n"
TOTAL = "def total(xs):\n    return sum(xs) + BASE\n"
HIDDEN_Q1 = "assert squares(0) == []\nassert squares(4)[-1] == 16\n"
HIDDEN_Q2 = "assert total([]) == 7\n"

RUBRIC: dict[str, Any] = {
    "schema": 1,
    "assignment": "squares",
    "title": "test code, support files, a locked cell",
    "limits": {"cell_timeout": "30s", "probe_timeout": "20s", "total_timeout": "120s"},
    "files": ["data.txt", "helpers.py"],
    "locked": ["setup"],
    "tasks": [
        {
            "id": "q1",
            "points": 3,
            "checks": [
                {"kind": "test_code", "code": "# squares of 1..3\nassert squares(3) == [1, 4, 9]\n"},
                {"kind": "test_code", "name": "prints", "code": "print(squares(2))\nsquares(1)\n",
                 "expect_output": "[1, 4]\n[1]  \n\n"},
                {"kind": "test_code", "code": HIDDEN_Q1, "visible": "hidden",
                 "failure_message": "squares is wrong for 0 or 4"},
            ],
        },
        {
            "id": "q2",
            "points": 2,
            "all_or_nothing": True,
            "checks": [
                {"kind": "test_code", "name": "total public", "code": "assert total([1, 2]) == 10\n"},
                {"kind": "test_code", "name": "total hidden", "code": HIDDEN_Q2, "visible": "hidden"},
            ],
        },
        {
            "id": "q3",
            "points": 0,
            "checks": [{"kind": "test_code", "name": "helper", "code": "assert double(2) == 4\n"}],
        },
    ],
}


def _notebook(path: Path, setup: str, squares: str, total: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nb.cells = [
        nbformat.v4.new_code_cell(setup, metadata={"tags": ["setup"]}),
        nbformat.v4.new_code_cell(squares, metadata={"tags": ["squares"]}),
        nbformat.v4.new_code_cell(total, metadata={"tags": ["total"]}),
    ]
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def assignment(tmp_path_factory: pytest.TempPathFactory) -> Assignment:
    folder = tmp_path_factory.mktemp("lib") / "squares"
    folder.mkdir()
    (folder / "data.txt").write_text("7\n")
    (folder / "helpers.py").write_text("def double(x):\n    return 2 * x\n")
    (folder / "rubric.yaml").write_text(yaml.safe_dump(RUBRIC, sort_keys=False))
    stub = "    raise NotImplementedError\n"
    _notebook(folder / "template.ipynb", SETUP, "def squares(n):\n" + stub, "def total(xs):\n" + stub)
    _notebook(folder / "solution.ipynb", SETUP, SQUARES, TOTAL)
    return load_rubric_file(folder / "rubric.yaml")


def test_solution_full_points_template_zero_as_rubric_test_asks(assignment: Assignment) -> None:
    solution, template = cases(assignment)
    for case in (solution, template):
        run_case(assignment, case, seed=1)
        assert case.ok, case.problems
    assert solution.report is not None and solution.report.score == 5.0
    assert template.report is not None and template.report.score == 0.0
    q1 = template.report.task("q1")
    assert [c.status for c in q1.checks] == ["error", "error", "error"]
    assert "NotImplementedError" in q1.checks[0].message


def test_wrong_notebook_loses_the_right_points_with_its_locked_cell_restored(
    assignment: Assignment, tmp_path: Path
) -> None:
    wrong = _notebook(
        tmp_path / "wrong.ipynb",
        "from helpers import double\nBASE = 0  # edited\n",  # a locked cell the student changed
        "def squares(n):\n    return [i * i for i in range(1, max(n, 1) + 1)]\n",  # wrong at 0
        "def total(xs):\n    return sum(xs) + BASE if xs else 0\n",  # wrong for []
    )
    report = grade_submission(wrong, assignment, GradeOptions(grading_seed=1))
    assert report.status == "graded", report.notes
    assert "cell 'setup' is read-only; your edits were undone before grading" in report.notes
    q1, q2, q3 = report.tasks
    assert [c.status for c in q1.checks] == ["pass", "pass", "fail"]
    assert q1.points == 2.0  # one test of three
    # the restored cell read data.txt by its relative path: BASE is 7, the public test passes
    assert [c.status for c in q2.checks] == ["pass", "fail"]
    assert q2.points == 0.0  # all or nothing: half the weight passed, nothing earned
    assert q3.points == 0.0 and q3.checks[0].status == "pass"
    assert report.score == 2.0
    hidden = q1.checks[2]
    assert hidden.name == "hidden test code"
    assert hidden.message.startswith("squares is wrong for 0 or 4 (AssertionError (test line 1)")
    shown = json.dumps(report.to_json()) + feedback_markdown(report)
    shown += json.dumps(gradescope_results(report, assignment))
    assert "squares(0)" not in shown and "total([])" not in shown
    assert q1.checks[0].name == "test code assert squares(3) == [1, 4, 9]"


def test_bundle_and_check_carry_public_tests_and_files_never_hidden_ones(
    assignment: Assignment, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    runner = CliRunner()
    made = runner.invoke(main, ["bundle", str(assignment.folder / "rubric.yaml"), "--out", str(out)])
    assert made.exit_code == 0, made.output
    handed_out = sorted(p.name for p in out.iterdir())
    assert handed_out == ["data.txt", "helpers.py", "squares.check", "squares.ipynb"]
    with zipfile.ZipFile(out / "squares.check") as archive:
        members = {name: archive.read(name).decode() for name in archive.namelist()}
    assert members["files/data.txt"] == "7\n" and "def double" in members["files/helpers.py"]
    everything = "".join(members.values())
    assert "squares(3) == [1, 4, 9]" in everything
    assert "squares(0)" not in everything and "total([])" not in everything
    student = _notebook(tmp_path / "mine.ipynb", SETUP, SQUARES, TOTAL)
    checked = runner.invoke(main, ["check", str(student), "--bundle", str(out / "squares.check")])
    assert checked.exit_code == 0, checked.output
    assert "checks passed: 4/4" in checked.output
