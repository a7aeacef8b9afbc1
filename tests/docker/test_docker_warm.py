"""Warm sandboxes on the docker backend, against the real engine: containers started ahead
grade exactly as cold ones, each runs one upload and goes, none warmed for one assignment
runs another, and no idle one is left (closed pools, a grader killed hard)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import docker.errors
import nbformat
import pytest

from autograde.backends import warm
from autograde.backends.base import BackendOptions
from autograde.backends.docker import OWNER_LABEL, remove_orphans
from autograde.backends.docker_cleanup import REMOVAL
from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.rubric import Assignment, load_assignment
from autograde.runner import protocol

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
LOOK = "import os\nprint('NICE', os.nice(0), 'UID', os.getuid())"


def _pool() -> warm.WarmPool:
    return warm.pool_for("docker", BackendOptions())


def _summary(keep: Path, student: str) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((keep / student / "out" / protocol.RUN_SUMMARY).read_text())
    return summary


def _checks(report: Any) -> list[tuple[str, str, str, float]]:
    return [(t.id, c.name, c.status, t.points) for t in report.tasks for c in t.checks]


def _ready_containers() -> dict[str, str]:
    """The pool's idle sandboxes, once each is up: sandbox id -> container id."""
    idle = _pool().idle()
    for sandbox in idle:
        assert sandbox.wait_ready(120), sandbox.problem
    return {w.id: w.sandbox.container.id for w in idle}  # type: ignore[union-attr]


def _gone(client: Any, container_id: str) -> bool:
    try:
        client.containers.get(container_id)
    except docker.errors.NotFound:
        return True
    return False


def test_warm_containers_grade_as_cold_ones_one_upload_each(docker_client, sandbox_image, ex02, make_nb,
                                                           tmp_path):
    warm.close_pools()
    solution, mutant = ex02.path(ex02.rubric.solution), ex02.path(ex02.rubric.mutants[0].notebook)
    cold = [grade_submission(p, ex02, GradeOptions(backend="docker", grading_seed=3), student=f"c{i}")
            for i, p in enumerate((solution, mutant))]
    assert cold[0].score == ex02.rubric.max_points > cold[1].score
    keep = tmp_path / "keep"
    opts = GradeOptions(backend="docker", grading_seed=3, warm=True, keep_job=keep)
    first = grade_submission(solution, ex02, opts, student="w0")  # the pool was empty: cold
    assert "warm" not in _summary(keep, "w0") and _checks(first) == _checks(cold[0])
    used: dict[str, str] = {}
    for index, path in enumerate((mutant, solution, mutant), start=1):
        idle = _ready_containers()
        report = grade_submission(path, ex02, opts, student=f"w{index}")
        assert report.status == "graded" and report.backend == "docker", report.notes
        assert _checks(report) == _checks(cold[index % 2]) and report.score == cold[index % 2].score
        record = _summary(keep, f"w{index}")["warm"]
        assert record["assignment"] == ex02.id and record["problem"] is None
        assert record["sandbox"] in idle and record["sandbox"] not in used  # a container made ahead, once
        used[record["sandbox"]] = idle[record["sandbox"]]
    REMOVAL.drain()
    assert all(_gone(docker_client, container) for container in used.values())  # each went after its job
    # what the host wrote into in/ after the container started was seen; the upload ran at
    # the normal priority (the warm-up's lower one given back) and not as root
    look = grade_submission(make_nb("look.ipynb", insert_before={"loss": LOOK}), ex02, opts, student="look")
    assert look.score == ex02.rubric.max_points and "warm" in _summary(keep, "look")
    executed = nbformat.read(keep / "look" / "out" / protocol.EXECUTED, as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "NICE 0 UID" in printed and "UID 0\n" not in printed
    # the idle ones are removed by close_pools, at once
    idle = _ready_containers()
    assert idle and not any(_gone(docker_client, container) for container in idle.values())
    warm.close_pools()
    assert all(_gone(docker_client, container) for container in idle.values())


def test_a_container_warmed_for_one_assignment_never_runs_another(docker_client, sandbox_image, ex02,
                                                                  tmp_path):
    warm.close_pools()
    ex01 = load_assignment("ex01_perceptron")
    keep = tmp_path / "keep"
    grade_submission(ex02.path(ex02.rubric.solution), ex02, GradeOptions(backend="docker", grading_seed=1,
                                                                         warm=True))
    for_ex02 = _ready_containers()
    assert for_ex02 and all(w.key.assignment == ex02.id for w in _pool().idle())
    opts = GradeOptions(backend="docker", grading_seed=1, warm=True, keep_job=keep)
    report = grade_submission(ex01.path(ex01.rubric.solution), ex01, opts, student="ex01")
    assert report.score == ex01.rubric.max_points, report.notes
    assert "warm" not in _summary(keep, "ex01")  # a cold container: none of ex01 was ready
    deadline = time.monotonic() + 60
    while not all(_gone(docker_client, c) for c in for_ex02.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert all(_gone(docker_client, c) for c in for_ex02.values())  # the ex02 ones were discarded
    again = grade_submission(ex01.path(ex01.rubric.solution), ex01, opts, student="ex01b")
    assert again.score == ex01.rubric.max_points
    record = _summary(keep, "ex01b")["warm"]
    assert record["assignment"] == ex01.id and record["sandbox"] not in for_ex02


WARM_THEN_DIE = """
import json, os, signal
from autograde.backends import warm
from autograde.backends.base import BackendOptions, SandboxLimits
pool = warm.pool_for("docker", BackendOptions())
key = warm.WarmKey("ex02_gradient_descent", ("numpy",), "cpu", None, SandboxLimits(), None, ())
assert pool.lease(key) is None  # nothing warm yet: the pool starts warming one
pool.release()
for w in pool.idle():
    assert w.wait_ready(120), w.problem
print(json.dumps([w.sandbox.container.id for w in pool.idle()]), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_idle_containers_of_a_killed_grader_are_removed_as_orphans(docker_client, sandbox_image, tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-c", WARM_THEN_DIE], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    output, errors = process.communicate(timeout=300)
    assert process.returncode == -signal.SIGKILL, errors
    left = json.loads(output.strip().splitlines()[-1])
    assert left
    for container_id in left:  # an idle warm container outlived its grader...
        container = docker_client.containers.get(container_id)
        assert container.status == "running"
        assert container.labels[OWNER_LABEL] == f"{os.uname().nodename}:{process.pid}"
    assert remove_orphans(docker_client) >= len(left)  # ...until the next grader's clean-up
    assert all(_gone(docker_client, container_id) for container_id in left)


def test_a_warm_container_that_died_idle_is_not_leased(docker_client, sandbox_image, ex02: Assignment,
                                                       tmp_path):
    warm.close_pools()
    opts = GradeOptions(backend="docker", grading_seed=5, warm=True, keep_job=tmp_path / "keep")
    grade_submission(ex02.path(ex02.rubric.solution), ex02, opts, student="first")
    idle = _ready_containers()
    for container_id in idle.values():
        docker_client.containers.get(container_id).kill()
    started = time.monotonic()
    report = grade_submission(ex02.path(ex02.rubric.solution), ex02, opts, student="after")
    assert report.status == "graded" and report.score == ex02.rubric.max_points, report.notes
    assert time.monotonic() - started < 60  # not the pool's 120 s wait for a dead container
    record = _summary(tmp_path / "keep", "after").get("warm")
    assert record is None or record["sandbox"] not in idle
