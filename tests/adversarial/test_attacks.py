"""Every attack of ../shared/ATTACKS.md graded in one batch per backend, each followed by a
clean submission that must grade exactly as the same notebook graded first, alone.

The batch runs through the real CLI with one worker (so "the next submission" is well
defined), a private TMPDIR and a secret in the grader's environment. Afterwards: each
attack's verdict and per-task points, and nothing left behind (no process, container, temp
folder, poisoned file or marker written on the host).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.adversarial.attacks import ATTACKS, FULL, SECRET, Attack, Targets, write_rubric

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("autograde"))
ALONE = "a00_alone"
IDS = [a.student for a in ATTACKS]


@dataclass
class Batch:
    backend: str
    out: Path
    tmpdir: Path
    targets: Targets
    reports: dict[str, dict[str, Any]]
    output: str
    grader: int  # the pid of the grading command


@pytest.fixture(scope="module", params=["local", "docker"])
def batch(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, solution_nb: Any
) -> Batch:
    backend = request.param
    if backend == "docker":
        request.getfixturevalue("sandbox_image")
    base = tmp_path_factory.mktemp(f"attacks-{backend}")
    uploads, marker, tmpdir, out = (base / n for n in ("uploads", "marker", "tmp", "out"))
    for folder in (uploads, marker, tmpdir):
        folder.mkdir()
    targets = Targets(marker, Path.home(), str(uuid.uuid4().int % 10**9))
    clean = uploads / f"{ALONE}.ipynb"
    Attack(0, "alone").write(solution_nb, uploads, targets)
    for attack in ATTACKS:
        attack.write(solution_nb, uploads, targets)
        shutil.copy(clean, uploads / f"{attack.student}_next.ipynb")
    env = {**os.environ, "TMPDIR": str(tmpdir), "ADV_SECRET": SECRET}
    process = subprocess.Popen(
        [CLI, "grade", str(uploads), "-a", str(write_rubric(base)), "--out", str(out), "-j", "1",
         "--seed", "7", "--backend", backend],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    output = process.communicate(timeout=1500)[0]
    assert process.returncode == 0, output
    reports = {
        folder.name: json.loads((folder / "report.json").read_text())
        for folder in (out / "students").iterdir()
    }
    return Batch(backend, out, tmpdir, targets, reports, output, process.pid)


def _points(report: dict[str, Any]) -> dict[str, float]:
    return {task["id"]: task["points"] for task in report["tasks"]}


def _checks(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["name"], c["status"], c["message"]) for t in report["tasks"] for c in t["checks"]]


@pytest.mark.parametrize("attack", ATTACKS, ids=IDS)
def test_verdict(batch: Batch, attack: Attack) -> None:
    report = batch.reports[attack.student]
    assert report["status"] == attack.status, report["notes"]
    assert _points(report) == attack.points(), json.dumps(report["tasks"], indent=1)[:4000]
    if attack.status != "graded":
        assert any(attack.student in note for note in report["notes"]), report["notes"]
    if attack.verify is not None:
        attack.verify(report)


@pytest.mark.parametrize("attack", ATTACKS, ids=IDS)
def test_the_next_submission_grades_as_if_alone(batch: Batch, attack: Attack) -> None:
    alone = batch.reports[ALONE]
    after = batch.reports[f"{attack.student}_next"]
    assert _points(alone) == FULL
    assert _points(after) == FULL, after["notes"]
    assert _checks(after) == _checks(alone)
    assert after["notes"] == alone["notes"]


def _job_processes(grader: int) -> list[str]:
    """Sandbox processes started by this grader (their environment names it)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if f"AUTOGRADE_GRADER={grader}".encode() in handle.read().split(b"\0"):
                    found.append(entry)
        except OSError:
            continue
    return found


def _tagged_processes(tag: str) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if tag.encode() in handle.read():
                    found.append(entry)
        except OSError:
            continue
    return found


def test_nothing_is_left_behind(batch: Batch) -> None:
    assert not _tagged_processes(batch.targets.tag), "a stray process of a submission survived"
    assert not _job_processes(batch.grader), "a sandbox process survived its job"
    assert not list(batch.tmpdir.iterdir()), "temp folders left"
    assert not list(batch.targets.marker_dir.iterdir()), "a notebook wrote on the host"
    poisoned = [p for p in batch.targets.poison_files() if p.exists()]
    assert not poisoned, f"a notebook wrote into the host's environment: {poisoned}"
    if batch.backend == "docker":
        from autograde.backends.docker import LABEL, OWNER_LABEL
        from autograde.backends.image import docker_client

        everything = docker_client().containers.list(all=True, filters={"label": LABEL})
        owner = f"{os.uname().nodename}:{batch.grader}"
        left = [c.name for c in everything if c.labels.get(OWNER_LABEL) == owner]
        assert not left, f"containers of this batch left behind: {left}"


def test_every_upload_has_exactly_one_row(batch: Batch) -> None:
    expected = {ALONE, *IDS, *(f"{i}_next" for i in IDS)}
    assert set(batch.reports) == expected
    rows = (batch.out / "grades.csv").read_text().splitlines()[1:]
    assert sorted(r.split(",")[0] for r in rows) == sorted(expected)


def test_the_secret_never_reaches_a_report(batch: Batch) -> None:
    for path in batch.out.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path


def test_unseeded_randomness_is_seeded_by_the_grader(batch: Batch) -> None:
    first, second = (batch.reports[f"a28_unseeded_{x}"] for x in "ab")
    assert _checks(first) == _checks(second)  # the same draws, so the same (wrong) numbers
