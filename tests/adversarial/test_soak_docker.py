"""Soak: 200 uploads, 20% of them hostile (drawn from the attack catalogue), graded in one
batch on the docker backend with two workers and warm containers. Every verdict as
expected, no container or temp folder left, and the host's free memory and process count
back where they started."""

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


def _free_memory() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no MemAvailable in /proc/meminfo")


def _process_count() -> int:
    return sum(entry.isdigit() for entry in os.listdir("/proc"))


def _settled(baseline: int, measure, slack: int, seconds: float = 30) -> int:
    """The measure once it is back within `slack` of the baseline (or the last one seen)."""
    deadline = time.monotonic() + seconds
    value = measure()
    while abs(value - baseline) > slack and time.monotonic() < deadline:
        time.sleep(1)
        value = measure()
    return value


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
    memory, processes = _free_memory(), _process_count()
    env = {**os.environ, "TMPDIR": str(tmpdir), "ADV_SECRET": SECRET}
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
    after_processes = _settled(processes, _process_count, slack=5)
    assert after_processes <= processes + 5, f"processes: {processes} before, {after_processes} after"
    after_memory = _settled(memory, _free_memory, slack=256 * 2**20)
    assert after_memory >= memory - 256 * 2**20, (
        f"free memory {memory / 2**20:.0f} MiB before, {after_memory / 2**20:.0f} MiB after"
    )
    print(f"soak: {TOTAL} uploads in {seconds:.0f} s, {seconds / TOTAL:.2f} s each")
