"""Warm sandboxes on the local backend, with real kernels: the same grades as cold ones, one
upload per sandbox and nothing of one upload seen by the next, never a sandbox of another
assignment, and no idle sandbox left behind (closed pools, killed graders, no job coming)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest

from autograde.backends import priority, warm
from autograde.backends.base import BackendOptions
from autograde.backends.forking import FORK_ENV
from autograde.backends.local.orphans import reap_local_orphans
from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.rubric import Assignment, load_assignment
from autograde.runner import protocol

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

LEAVE = """
import os, sys, types
LEFT_BEHIND = 1
sys.modules["left_behind"] = types.ModuleType("left_behind")
open(os.path.join(os.path.expanduser("~"), "left-behind"), "w").write("x")
open("left-behind", "w").write("x")
os.environ["LEFT_BEHIND"] = "1"
"""
LOOK = """
import json, os, sys
print("SEEN " + json.dumps({
    "global": "LEFT_BEHIND" in globals(),
    "module": "left_behind" in sys.modules,
    "home": os.path.exists(os.path.join(os.path.expanduser("~"), "left-behind")),
    "work": os.path.exists("left-behind"),
    "environ": "LEFT_BEHIND" in os.environ,
    "nice": os.nice(0),
}))
"""


INTROSPECT = """
import json, os, sys, threading
_root = os.path.dirname(os.getcwd())
print("KERNEL " + json.dumps({
    "env": {k: v.replace(_root, "<job>") for k, v in os.environ.items()
            if k not in ("AUTOGRADE_JOB", "JPY_PARENT_PID")},
    "path": [p.replace(_root, "<job>") for p in sys.path],
    "argv": [os.path.basename(sys.argv[0]), sys.argv[1]],
    "cwd": os.path.basename(os.getcwd()),
    "main": type(sys.modules["__main__"]).__name__,
    "name": __name__,
    "nice": os.nice(0),
}))
"""


def _printed(keep: Path, student: str, marker: str) -> Any:
    executed = nbformat.read(keep / student / "out" / protocol.EXECUTED, as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    return json.loads(printed.split(marker, 1)[1].splitlines()[0])


def _pool() -> warm.WarmPool:
    return warm.pool_for("local", BackendOptions())


def _kept_summary(keep: Path, student: str) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((keep / student / "out" / protocol.RUN_SUMMARY).read_text())
    return summary


def _checks(report: Any) -> list[tuple[str, str, str, float]]:
    return [(t.id, c.name, c.status, t.points) for t in report.tasks for c in t.checks]


@pytest.fixture(autouse=True)
def _no_idle_sandboxes() -> Any:
    yield
    warm.close_pools()


def test_warm_sandboxes_grade_as_cold_ones(ex02: Assignment, tmp_path: Path) -> None:
    notebooks = [ex02.path(ex02.rubric.solution), ex02.path(ex02.rubric.mutants[0].notebook)]
    keep = tmp_path / "keep"
    cold = [grade_submission(p, ex02, GradeOptions(grading_seed=3), student=f"c{i}")
            for i, p in enumerate(notebooks)]
    opts = GradeOptions(grading_seed=3, warm=True, keep_job=keep)
    warmed = [grade_submission(p, ex02, opts, student=f"w{i}") for i, p in enumerate(notebooks * 2)]
    for index, report in enumerate(warmed):
        assert _checks(report) == _checks(cold[index % 2])
        assert report.score == cold[index % 2].score
    assert warmed[0].score == ex02.rubric.max_points > warmed[1].score
    # the first lease found nothing warm yet; every later upload ran in a warm sandbox
    assert "warm" not in _kept_summary(keep, "w0")
    later = [_kept_summary(keep, f"w{i}")["warm"] for i in (1, 2, 3)]
    assert all(record["assignment"] == ex02.id and record["problem"] is None for record in later)
    assert len({record["sandbox"] for record in later}) == 3  # one sandbox per upload


def test_nothing_of_one_upload_reaches_the_next(
    ex02: Assignment, make_nb: Callable[..., Path], tmp_path: Path
) -> None:
    leaving = make_nb("leaving.ipynb", insert_before={"descent": LEAVE})
    looking = make_nb("looking.ipynb", insert_before={"descent": LOOK})
    keep = tmp_path / "keep"
    opts = GradeOptions(grading_seed=1, warm=True, keep_job=keep)
    grade_submission(leaving, ex02, opts, student="first")  # cold: warms the next ones
    for student in ("leaver", "looker"):
        report = grade_submission(leaving if student == "leaver" else looking, ex02, opts, student=student)
        assert report.score == ex02.rubric.max_points
        assert _kept_summary(keep, student)["warm"]["sandbox"]
    seen = _printed(keep, "looker", "SEEN ")
    # the warm-up's lower priority is not the upload's
    assert seen == {"global": False, "module": False, "home": False, "work": False, "environ": False,
                    "nice": 0}
    sandboxes = {_kept_summary(keep, student)["warm"]["sandbox"] for student in ("leaver", "looker")}
    assert len(sandboxes) == 2


def test_a_forked_kernel_looks_to_the_notebook_as_a_started_one(
    ex02: Assignment, make_nb: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = make_nb("introspect.ipynb", insert_before={"descent": INTROSPECT})
    keep = tmp_path / "keep"
    grade_submission(notebook, ex02, GradeOptions(grading_seed=1, keep_job=keep), student="cold")
    opts = GradeOptions(grading_seed=1, warm=True, keep_job=keep)
    grade_submission(notebook, ex02, opts, student="first")
    grade_submission(notebook, ex02, opts, student="warm")
    with monkeypatch.context() as env:
        env.setenv(FORK_ENV, "off")
        grade_submission(notebook, ex02, GradeOptions(grading_seed=1, keep_job=keep), student="started")
    assert _kept_summary(keep, "cold")["kernels"] == ["forked"]  # from the runner
    assert _kept_summary(keep, "warm")["kernels"] == ["warm"]  # from the fork server's runner
    assert _kept_summary(keep, "warm")["warm"]["kernel"] == "forked"
    assert _kept_summary(keep, "started")["kernels"] == ["started"]  # a new interpreter, as Jupyter does
    started = _printed(keep, "started", "KERNEL ")
    assert _printed(keep, "cold", "KERNEL ") == started
    assert _printed(keep, "warm", "KERNEL ") == started
    assert started["argv"][0] == "ipykernel_launcher.py" and started["name"] == "__main__"


def test_a_warm_sandbox_runs_one_job_and_ends(ex02: Assignment, tmp_path: Path) -> None:
    opts = GradeOptions(grading_seed=2, warm=True)
    grade_submission(ex02.path(ex02.rubric.solution), ex02, opts)
    idle = _pool().idle()
    assert idle and all(w.key.assignment == ex02.id for w in idle)
    leased = idle[0]
    assert leased.wait_ready(120)
    runner = psutil.Process(leased.sandbox.process.pid)  # type: ignore[union-attr]
    grade_submission(ex02.path(ex02.rubric.solution), ex02, opts)
    assert leased.leased and leased not in _pool().idle()
    assert not runner.is_running() or runner.status() == psutil.STATUS_ZOMBIE
    assert not leased.root.exists()  # its job folder went with it: nothing to start again


def test_a_sandbox_warmed_for_one_assignment_never_runs_another(ex02: Assignment, tmp_path: Path) -> None:
    ex01 = load_assignment("ex01_perceptron")
    keep = tmp_path / "keep"
    grade_submission(ex02.path(ex02.rubric.solution), ex02, GradeOptions(grading_seed=1, warm=True))
    for_ex02 = _pool().idle()
    assert for_ex02 and all(w.key.assignment == ex02.id for w in for_ex02)
    report = grade_submission(ex01.path(ex01.rubric.solution), ex01,
                              GradeOptions(grading_seed=1, warm=True, keep_job=keep), student="ex01")
    assert report.score == ex01.rubric.max_points
    assert "warm" not in _kept_summary(keep, "ex01")  # a cold sandbox: none of ex01 was ready
    deadline = time.monotonic() + 60
    while any(w.root.exists() for w in for_ex02) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(w.root.exists() for w in for_ex02)  # the ex02 ones were discarded
    assert all(w.key.assignment == ex01.id for w in _pool().idle())
    again = grade_submission(ex01.path(ex01.rubric.solution), ex01,
                             GradeOptions(grading_seed=1, warm=True, keep_job=keep), student="ex01b")
    assert again.score == ex01.rubric.max_points
    assert _kept_summary(keep, "ex01b")["warm"]["assignment"] == ex01.id


def test_close_pools_removes_idle_sandboxes(ex02: Assignment) -> None:
    grade_submission(ex02.path(ex02.rubric.solution), ex02, GradeOptions(grading_seed=1, warm=True))
    idle = _pool().idle()
    assert idle
    for sandbox in idle:
        assert sandbox.wait_ready(120)
    runners = [psutil.Process(w.sandbox.process.pid) for w in idle]  # type: ignore[union-attr]
    kernels = [child for runner in runners for child in runner.children(recursive=True)]
    assert kernels  # each idle sandbox has its kernel up already
    if priority.warm_nice():  # warming at a low priority, where the grader can restore it
        assert {process.nice() for process in kernels} == {priority.WARM_NICE}
    warm.close_pools()
    assert not _pool().idle()
    for process in [*runners, *kernels]:
        assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    assert not any(w.root.exists() for w in idle)


GRADE_THEN_DIE = """
import json, os, signal, sys
from autograde.backends import priority, warm
from autograde.backends.base import BackendOptions
from autograde.backends.forking import FORK_ENV
from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.rubric import load_assignment
a = load_assignment("ex02_gradient_descent")
grade_submission(a.path(a.rubric.solution), a, GradeOptions(grading_seed=1, warm=True))
idle = warm.pool_for("local", BackendOptions()).idle()
for w in idle:
    w.wait_ready(120)
print(json.dumps([[str(w.root), w.sandbox.process.pid] for w in idle]), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_idle_sandboxes_of_a_killed_grader_end_and_are_reaped(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", GRADE_THEN_DIE], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == -9, done.stderr
    left = json.loads(done.stdout.strip().splitlines()[-1])
    assert left
    processes = [psutil.Process(pid) for _, pid in left if psutil.pid_exists(pid)]
    # they were the fork server's children: it ends when its grader's socket closes, and they with it
    _gone, alive = psutil.wait_procs(processes, timeout=20)
    assert not alive
    reap_local_orphans()  # the next grader's clean-up removes what they left on disk
    assert not any(Path(root).exists() for root, _ in left)


def test_a_warm_runner_no_job_comes_to_ends_by_itself(tmp_path: Path) -> None:
    folders = {name: tmp_path / name for name in (protocol.IN_DIR, protocol.OUT_DIR, protocol.WORK_DIR)}
    for folder in folders.values():
        folder.mkdir()
    spec = {"version": protocol.PLAN_VERSION, "preload": ["numpy"], "idle_seconds": 2}
    (folders[protocol.IN_DIR] / protocol.WARM).write_text(json.dumps(spec))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "autograde.runner", "--warm",
         *[arg for key in ("in", "out", "work") for arg in (f"--{key}", str(folders[key]))]],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((folders[protocol.OUT_DIR] / protocol.WARM).read_text())["ready"] is True
    assert not (folders[protocol.OUT_DIR] / protocol.RUN_SUMMARY).exists()  # it graded nothing
    assert time.monotonic() - started >= 2


def test_a_dead_fork_server_costs_speed_only(ex02: Assignment, tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    opts = GradeOptions(grading_seed=1, warm=True, keep_job=keep)
    grade_submission(ex02.path(ex02.rubric.solution), ex02, opts, student="first")
    warm.close_pools()  # the idle ones go; the next ones are made by a fresh fork server...
    grade_submission(ex02.path(ex02.rubric.solution), ex02, opts, student="second")
    backend = _pool().backend
    servers = [s for s in backend._servers.values() if s is not None]  # type: ignore[attr-defined]
    assert servers
    for server in servers:  # ...which dies now
        psutil.Process(server.process.pid).kill()
        server.process.wait()
    for sandbox in _pool().idle():
        sandbox.discard()
    warm.close_pools()
    for student in ("third", "fourth"):
        report = grade_submission(ex02.path(ex02.rubric.solution), ex02, opts, student=student)
        assert report.score == ex02.rubric.max_points, report.notes
    assert _kept_summary(keep, "fourth")["warm"]["sandbox"]


@pytest.mark.parametrize("mode", ["cold", "warm"])
def test_the_notebooks_own_stack_is_imported_before_its_first_cell(
    tmp_path: Path, make_nb: Callable[..., Path], mode: str
) -> None:
    """torchvision takes seconds to import; ex02's rubric does not import it, the notebook
    does, in a cell with a 1 s limit: the import is made before the first cell, outside it."""
    from autograde.rubric import load_rubric_file
    from tests.ex02_variant import ex02_variant

    tight = load_rubric_file(ex02_variant(tmp_path / "ex02_tight", {"cell_timeout": "1s"}))
    cell = "import torchvision\nimport torch.nn as nn\n"
    notebook = make_nb("imports.ipynb", insert_before={"descent": cell})
    keep = tmp_path / "keep"
    opts = GradeOptions(grading_seed=1, warm=mode == "warm", keep_job=keep)
    if mode == "warm":
        grade_submission(notebook, tight, opts, student="first")
    report = grade_submission(notebook, tight, opts, student="graded")
    assert report.score == tight.rubric.max_points, report.notes
    cells = json.loads((keep / "graded" / "out" / protocol.CELLS).read_text())
    assert {cell["status"] for cell in cells} == {"ok"}, [c for c in cells if c["status"] != "ok"]
    summary = _kept_summary(keep, "graded")
    assert summary["kernels"] == (["warm"] if mode == "warm" else ["forked"])
