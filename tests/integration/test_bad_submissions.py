"""Bad submissions, each run through a real kernel on the local backend.

Each one must get a clear verdict, lose only the tasks the fault touches, and leave the
rest graded. Built from the ex02 solution with one thing broken.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.results import GradeReport

pytestmark = pytest.mark.integration

FULL = {"loss": 2.0, "gradient": 3.0, "descent": 2.0, "regression": 3.0}


def grade(path: Path, assignment) -> GradeReport:
    return grade_submission(path, assignment, GradeOptions(grading_seed=7))


def points(report: GradeReport) -> dict[str, float]:
    return {task.id: task.points for task in report.tasks}


def checks_of(report: GradeReport, task_id: str) -> list:
    return report.task(task_id).checks


def cell_with(report: GradeReport, status: str) -> dict:
    found = [c for c in report.cells if c["status"] == status]
    assert found, f"no cell with status {status}: {report.cells}"
    return found[0]


def test_invalid_json_gets_a_row_with_a_clear_status(tmp_path, ex02_fast):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [{"cell_type": "code", "source": "x = ')
    report = grade(path, ex02_fast)
    assert report.status == "invalid notebook"
    assert report.score == 0
    assert "broken.ipynb" in report.notes[0] and "JSON" in report.notes[0]
    assert all(c.status == "not-run" for t in report.tasks for c in t.checks)


def test_notebook_without_kernelspec_runs_on_the_graders_kernel(make_nb, ex02_fast):
    def strip(nb):
        nb.metadata.pop("kernelspec", None)
        nb.metadata.pop("language_info", None)

    report = grade(make_nb("nokernel.ipynb", mutate=strip), ex02_fast)
    assert report.status == "graded"
    assert points(report) == FULL
    assert any("declares no kernel" in note for note in report.notes)


def test_foreign_kernel_is_reported_and_replaced(make_nb, ex02_fast):
    def to_r(nb):
        nb.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}

    report = grade(make_nb("rkernel.ipynb", mutate=to_r), ex02_fast)
    assert points(report) == FULL
    assert any("'ir'" in note for note in report.notes)


def test_a_cell_that_raises_costs_only_its_task(make_nb, ex02_fast, solution_nb):
    from tests.integration.conftest import tagged

    source = solution_nb.cells[tagged(solution_nb, "descent")].source
    path = make_nb("raises.ipynb", replace={"descent": "x = 1\nundefined_name + 1\n" + source})
    report = grade(path, ex02_fast)
    assert points(report) == {**FULL, "descent": 0.0}
    cell = cell_with(report, "error")
    assert cell["ename"] == "NameError"
    assert cell["line"].startswith("line 2")
    message = checks_of(report, "descent")[0].message
    assert "`gradient_descent` is not defined" in message
    assert f"cell {cell['number']}" in message and "NameError" in message and "line 2" in message


def test_infinite_loop_cell_is_interrupted_and_later_tasks_graded(make_nb, ex02_fast):
    report = grade(make_nb("loop.ipynb", insert_before={"gradient": "while True:\n    pass"}), ex02_fast)
    assert points(report) == FULL
    cell = cell_with(report, "timeout")
    assert "interrupted" in cell["note"]
    # after the interrupt the same kernel runs the later cells normally: none of them waits
    # out a timeout of its own (a stale channel once made every later cell take 4 s)
    later = [c for c in report.cells if c["index"] > cell["index"]]
    assert later and all(c["status"] == "ok" and c["seconds"] < 3 for c in later)


def test_sigint_immune_loop_is_killed_and_notebook_replayed(make_nb, ex02_fast):
    hang = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    report = grade(make_nb("immune.ipynb", insert_before={"descent": hang}), ex02_fast)
    assert points(report) == FULL
    cell = cell_with(report, "timeout")
    assert "re-run without this cell" in cell["note"]
    # given up after the cell timeout plus the responsiveness wait, not the 120 s kernel
    # start-up wait (which once used up the whole submission's time limit)
    assert cell["seconds"] < 4 + 2 * 5 + 5


def test_os_exit_in_a_cell_loses_nothing_else(make_nb, ex02_fast):
    report = grade(make_nb("exit.ipynb", insert_before={"regression": "import os\nos._exit(0)"}), ex02_fast)
    assert points(report) == FULL
    assert "kernel died" in cell_with(report, "crashed")["note"]


def test_function_that_hangs_only_when_probed(make_nb, ex02_fast):
    hang = "def fit_line(x, t, eta, epochs):\n    while True:\n        pass"
    report = grade(make_nb("probe_hang.ipynb", replace={"regression": hang}), ex02_fast)
    assert points(report) == {**FULL, "regression": 0.0}
    check = checks_of(report, "regression")[0]
    assert check.status == "timeout"
    assert "did not finish within 4s" in check.message


def test_sigint_immune_hang_in_a_probe_recovers_for_later_checks(make_nb, ex02_fast):
    hang = ("import signal\ndef gradient_descent(w, eta, epochs):\n"
            "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    while True:\n        pass")
    report = grade(make_nb("probe_immune.ipynb", replace={"descent": hang}), ex02_fast)
    assert points(report) == {**FULL, "descent": 0.0}
    assert checks_of(report, "descent")[0].status == "timeout"


def test_sys_exit_and_keyboardinterrupt_in_graded_functions_fail_that_check(make_nb, ex02_fast):
    path = make_nb("exits.ipynb", replace={
        "descent": "import sys\ndef gradient_descent(w, eta, epochs):\n    sys.exit(0)",
        "regression": "def fit_line(x, t, eta, epochs):\n    raise KeyboardInterrupt",
    })
    report = grade(path, ex02_fast)
    assert points(report) == {**FULL, "descent": 0.0, "regression": 0.0}
    assert "SystemExit" in checks_of(report, "descent")[0].message
    assert "KeyboardInterrupt" in checks_of(report, "regression")[0].message


def test_tampering_in_the_kernel_changes_nothing(make_nb, ex02_fast, tmp_path):
    wrong = ("import numpy as np, json\nnp.allclose = lambda *a, **k: True\n"
             "np.isclose = lambda a, b, **k: np.ones(np.shape(a), bool)\n"
             "print('SCORE: 100')\nopen('results.json', 'w').write(json.dumps({'score': 100}))\n"
             "def gradient(w):\n    return np.zeros(2)")
    report = grade(make_nb("tamper.ipynb", replace={"gradient": wrong}), ex02_fast)
    assert points(report)["gradient"] == 0.0
    assert report.score < 10


def test_lying_objects_are_rejected_not_trusted(make_nb, ex02_fast):
    liar = ("class Liar:\n    def __eq__(self, other): return True\n"
            "    def __float__(self): return 0.0\n    def __array__(self, *a, **k):\n"
            "        raise RuntimeError('never called')\n"
            "def loss(w):\n    return Liar()")
    report = grade(make_nb("liar.ipynb", replace={"loss": liar}), ex02_fast)
    assert points(report)["loss"] == 0.0
    value = next(c for c in checks_of(report, "loss") if c.kind == "value")
    assert "unsupported object" in value.message and "Liar" in value.message


def test_nan_output_fails_with_a_message(make_nb, ex02_fast):
    nan = "import numpy as np\ndef gradient_descent(w, eta, epochs):\n    return np.array([np.nan, 1.0])"
    report = grade(make_nb("nan.ipynb", replace={"descent": nan}), ex02_fast)
    assert points(report)["descent"] == 0.0
    assert "NaN" in checks_of(report, "descent")[0].message


def test_report_json_round_trips(make_nb, ex02_fast):
    report = grade(make_nb("ok.ipynb"), ex02_fast)
    data = json.loads(json.dumps(report.to_json()))
    assert data["score"] == 10.0
    assert [t["id"] for t in data["tasks"]] == list(FULL)
