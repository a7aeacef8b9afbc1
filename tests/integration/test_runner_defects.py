"""The in-sandbox runner on real kernels: the plan's format version, a probe that writes
nothing, a kernel killed by every probe near the deadline, probes that read only their
own inputs. Graded through the local backend, or the runner started on a job folder."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.results import GradeReport
from autograde.rubric import load_rubric_file
from autograde.rubric.schema import Limits
from autograde.runner import protocol
from autograde.runner.probe_phase import HARNESS_MODULE
from tests.ex02_variant import ex02_variant

pytestmark = pytest.mark.integration

FULL = {"loss": 2.0, "gradient": 3.0, "descent": 2.0, "regression": 3.0}


def points(report: GradeReport) -> dict[str, float]:
    return {task.id: task.points for task in report.tasks}


def test_a_plan_of_another_format_version_is_a_grader_error_naming_it(make_nb, ex02_fast, monkeypatch):
    # the host writes plans of an older format; the runner (a separate process) reads its own
    runner_reads = protocol.PLAN_VERSION
    monkeypatch.setattr(protocol, "PLAN_VERSION", runner_reads - 1)
    report = grade_submission(make_nb("solution.ipynb"), ex02_fast, GradeOptions(grading_seed=3))
    assert report.status == "grader error"
    assert report.score == 0
    note = next(n for n in report.notes if "format version" in n)
    assert f"format version {runner_reads - 1} but this runner reads version {runner_reads}" in note
    assert "autograde sandbox build" in note


# Once probed (the harness is loaded), fit_line swallows the harness's next two renames (its
# arrays, then its record) and puts os.replace back: that probe returns without a result, and
# every other probe is unharmed (the notebook's own calls of fit_line change nothing)
NO_RESULT = f"""import numpy as np, os, sys
_real_replace = os.replace
def _swallow(*args, **kwargs):
    _swallow.calls += 1
    if _swallow.calls == 2:
        os.replace = _real_replace
_swallow.calls = 0
def fit_line(x, t, eta, epochs):
    if {HARNESS_MODULE!r} in sys.modules and _swallow.calls == 0:
        os.replace = _swallow
    return np.zeros(2)
"""


def test_a_probe_that_writes_no_result_is_that_checks_error_only(make_nb, ex02_fast):
    report = grade_submission(make_nb("no_result.ipynb", replace={"regression": NO_RESULT}), ex02_fast,
                              GradeOptions(grading_seed=4))
    assert report.status == "graded", report.notes
    assert points(report) == {**FULL, "regression": 0.0}
    (check,) = report.task("regression").checks
    assert check.status == "error"
    assert "wrote no result" in check.message


KILLS_THE_KERNEL = "import os, signal\ndef loss(w):\n    os.kill(os.getpid(), signal.SIGKILL)\n"


def test_a_kernel_killed_by_every_probe_stops_at_the_deadline_and_names_the_crash(make_nb, tmp_path):
    limits = {"cell_timeout": "20s", "probe_timeout": "5s", "total_timeout": "40s"}
    assignment = load_rubric_file(ex02_variant(tmp_path, limits))
    # every replay of the notebook costs ten seconds: after the first, no time is left for another
    path = make_nb("killer.ipynb", replace={"loss": KILLS_THE_KERNEL},
                   insert_before={"loss": "import time\ntime.sleep(10)"})
    started = time.monotonic()
    report = grade_submission(path, assignment, GradeOptions(grading_seed=5))
    assert time.monotonic() - started < 40
    assert report.status == "graded"
    assert not [n for n in report.notes if "total time limit" in n], report.notes
    assert any("kernel died" in n and "did not allow replaying" in n for n in report.notes), report.notes
    checks = [c for task in report.tasks for c in task.checks]
    crashed = [c for c in checks if c.status == "crashed"]
    not_run = [c for c in checks if c.status == "not-run"]
    assert crashed and "kernel died" in crashed[0].message
    assert not_run and all("did not allow replaying" in c.message for c in not_run)
    assert all("`loss`" in c.message for c in not_run)  # the check that killed the kernel is named


# -- the runner started on a job folder of its own ---------------------------------------------


def run_runner(root: Path, source: str, probes: list[dict[str, Any]], inputs: Path | None,
               version: object = protocol.PLAN_VERSION) -> Path:
    """Lay out in/ as the host does, run `python -m autograde.runner`, return out/."""
    folders = {name: root / name for name in (protocol.IN_DIR, protocol.OUT_DIR, protocol.WORK_DIR)}
    for folder in folders.values():
        folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, folders[protocol.IN_DIR] / protocol.NOTEBOOK)
    plan = {"version": version, "limits": Limits(total_timeout=60).model_dump(),
            "probes": probes, "device": "cpu", "seed": 0}
    (folders[protocol.IN_DIR] / protocol.PLAN).write_text(json.dumps(plan))
    if inputs is not None:
        inputs.replace(folders[protocol.IN_DIR] / protocol.INPUTS)
    done = subprocess.run(
        [sys.executable, "-m", "autograde.runner", "--in", str(folders[protocol.IN_DIR]),
         "--out", str(folders[protocol.OUT_DIR]), "--work", str(folders[protocol.WORK_DIR])],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    return folders[protocol.OUT_DIR]


def truncated_npy() -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": (10**6,)}
    )
    return buffer.getvalue() + b"\0" * 8


def test_a_probe_reads_only_the_inputs_it_names(tmp_path):
    """Another check's array (a hidden set) is never loaded: corrupt, it costs this probe nothing."""
    whole = tmp_path / "whole.npz"
    np.savez(whole, x=np.arange(4.0), hidden=np.zeros(3))
    inputs = tmp_path / "inputs.npz"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(inputs, "w") as target:
        target.writestr("x.npy", source.read("x.npy"))
        # a header for 10**6 floats, then 8 bytes: reading this member fails
        target.writestr("hidden.npy", truncated_npy())
    probe = {"id": "p0", "op": "call", "target": "double", "args": [{"array": "x"}], "timeout": 20}
    out = run_runner(tmp_path, "def double(x):\n    return 2 * x\n", [probe], inputs)
    record = json.loads(protocol.probe_record(out, "p0").read_text())
    assert record["status"] == protocol.ProbeStatus.OK, record
    with np.load(protocol.probe_arrays(out, "p0")) as arrays:
        np.testing.assert_array_equal(arrays[record["results"][0]["array"]], [0.0, 2.0, 4.0, 6.0])


def test_the_runner_refuses_a_plan_of_another_version_before_running_anything(tmp_path):
    marker = tmp_path / "ran"
    out = run_runner(tmp_path, f"open({str(marker)!r}, 'w').close()\n", [], None, version="1")
    summary = json.loads((out / protocol.RUN_SUMMARY).read_text())
    assert "format version '1'" in summary["fatal"]
    assert f"reads version {protocol.PLAN_VERSION}" in summary["fatal"]
    assert not marker.exists()


def test_the_runner_runs_a_plan_of_its_own_version(tmp_path):
    marker = tmp_path / "ran"
    out = run_runner(tmp_path, f"open({str(marker)!r}, 'w').close()\n", [], None)
    assert "fatal" not in json.loads((out / protocol.RUN_SUMMARY).read_text())
    assert marker.exists()


MALFORMED = """ip = get_ipython()
ip.kernel.session.send(ip.kernel.iopub_socket, "display_data", content={"data": 5, "metadata": {}},
                       parent=ip.kernel.get_parent())
"""


def test_a_malformed_message_from_the_notebook_costs_its_cell_not_the_grading(tmp_path):
    """What a hostile notebook makes its kernel send is the notebook's fault: that cell is lost
    and the notebook replayed without it, the runner goes on (no grader error)."""
    out = run_runner(tmp_path, MALFORMED, [], None)
    (cell,) = json.loads((out / protocol.CELLS).read_text())
    assert cell["status"] == "crashed" and cell["ename"] == "KernelMessageError"
