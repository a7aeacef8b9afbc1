"""Soak: 200 uploads, 20% of them hostile (drawn from the attack catalogue), graded in one
batch on the docker backend with two workers and warm containers. Every verdict as
expected, no container or temp folder left, and no process of the run left on the host.

The run's host processes are told by a marker in their environment, which every process the
grader starts inherits: the machine's free memory and process count say nothing while the
library tests run beside this one (their warm sandboxes come and go). A docker sandbox's
memory is its container's, and no container is left."""

from __future__ import annotations

import csv
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from autograde.backends.docker import LABEL
from tests.adversarial.attacks import ATTACKS, ROOT, SECRET, Attack, Targets, write_rubric

pytestmark = [pytest.mark.integration, pytest.mark.soak]

CLI = str(Path(sys.executable).with_name("autograde"))
EXAMPLES = ROOT / "examples" / "ex02_gradient_descent"
CLEAN = {"alice": 10.0, "bob": 5.0, "carol": 7.0, "frank": 10.0}
TOTAL, HOSTILE = 200, 40


RUN_MARKER = "AUTOGRADE_SOAK_RUN"


def _marked_processes(run: str) -> list[tuple[int, int]]:
    """(pid, RSS in bytes) of every host process whose environment carries this run's marker."""
    needle = f"{RUN_MARKER}={run}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            if needle not in environ.split(b"\0"):
                continue
            rss = int(Path(f"/proc/{entry}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):  # gone meanwhile
            continue
        found.append((int(entry), rss))
    return found


def _left_over(run: str, seconds: float = 30) -> list[tuple[int, int]]:
    """The run's processes still there once they had `seconds` to end."""
    deadline = time.monotonic() + seconds
    left = _marked_processes(run)
    while left and time.monotonic() < deadline:
        time.sleep(1)
        left = _marked_processes(run)
    return left


def test_soak_200_uploads_20_percent_hostile_on_docker(docker_client, sandbox_image, tmp_path, solution_nb):
    rng = random.Random(2026)
    hostile: list[Attack] = [a for a in ATTACKS if not a.slow] + [a for a in ATTACKS if a.slow][:2]
    hostile = (hostile * 2)[:HOSTILE]
    uploads, marker, tmpdir, out = (tmp_path / n for n in ("uploads", "marker", "tmp", "out"))
    for folder in (uploads, marker, tmpdir):
        folder.mkdir()
    targets = Targets(marker, Path.home(), str(uuid.uuid4().int % 10**9))
    expected: dict[str, dict[str, float] | float] = {}
    order = ["hostile"] * HOSTILE + ["clean"] * (TOTAL - HOSTILE)
    rng.shuffle(order)
    picked = iter(hostile)
    for index, kind in enumerate(order):
        if kind == "hostile":
            attack = next(picked)
            path = attack.write(solution_nb, uploads, targets)
            student = f"s{index:03d}_{attack.student}"
            path.rename(uploads / f"{student}.ipynb")
            expected[student] = attack.points()
        else:
            name = rng.choice(sorted(CLEAN))
            student = f"s{index:03d}_{name}"
            shutil.copy(EXAMPLES / f"{name}.ipynb", uploads / f"{student}.ipynb")
            expected[student] = CLEAN[name]
    run = uuid.uuid4().hex
    env = {**os.environ, "TMPDIR": str(tmpdir), "ADV_SECRET": SECRET, RUN_MARKER: run}
    probe = subprocess.Popen(["sleep", "60"], env=env)  # the marker finds a process that has it
    try:
        assert [pid for pid, _ in _marked_processes(run)] == [probe.pid]
    finally:
        probe.kill()
        probe.wait()
    started = time.monotonic()
    done = subprocess.run(
        [CLI, "grade", str(uploads), "-a", str(write_rubric(tmp_path)), "--out", str(out), "-j", "2",
         "--seed", "11", "--backend", "docker", "--warm"],
        capture_output=True, text=True, timeout=2400, env=env,
    )
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with open(out / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(expected), "an upload is missing from the gradebook, or doubled"
    wrong = {}
    for student, want in expected.items():
        row = rows[student]
        got = {task: float(row[task]) for task in want} if isinstance(want, dict) else float(row["total"])
        if got != want:
            wrong[student] = (got, want, row["status"])
    assert not wrong, f"verdicts not as expected: {wrong}"
    left = docker_client.containers.list(all=True, filters={"label": LABEL})
    assert not left, f"containers left behind: {[c.name for c in left]}"
    assert not list(tmpdir.iterdir()), "temp folders left"
    assert not list(marker.iterdir()), "a notebook wrote on the host"
    left_over = _left_over(run)
    assert not left_over, (
        f"processes of the run left on the host (pid, MiB): {[(p, r // 2**20) for p, r in left_over]}"
    )
    print(f"soak: {TOTAL} uploads in {seconds:.0f} s, {seconds / TOTAL:.2f} s each")
