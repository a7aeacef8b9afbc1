"""Faults of the engine under a running docker batch: the Docker daemon restarted
mid-batch, with warm containers (idle ones die with the engine) and with cold ones. The
affected uploads get a clear grader-error verdict naming the engine, the rest of the batch
is graded, and a rerun of the same command grades exactly the affected ones; no container
is left behind, by the batch itself or after the rerun."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograde.backends.docker import LABEL, OWNER_LABEL

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "ex02_gradient_descent"
CLI = str(Path(sys.executable).with_name("autograde"))
START = ROOT / "sandbox" / "start-docker.sh"


def _journal(out: Path) -> list[dict]:
    path = out / "journal.jsonl"
    entries = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries


def _stop_dockerd() -> None:
    pid = int(Path("/var/run/docker.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    raise AssertionError("dockerd did not stop")


@pytest.mark.parametrize("sandboxes", ["--warm", "--cold"])
def test_docker_daemon_restarted_mid_batch(docker_client, sandbox_image, tmp_path, sandboxes):
    if not Path("/var/run/docker.pid").is_file() or os.getuid() != 0:
        pytest.skip("restarting the engine needs root and a dockerd started by sandbox/start-docker.sh")
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    expected = {}
    for index in range(4):
        for name, total in (("alice", "10"), ("bob", "5")):
            shutil.copy(EXAMPLES / f"{name}.ipynb", uploads / f"{name}_{index}.ipynb")
            expected[f"{name}_{index}"] = total
    out = tmp_path / "out"
    command = [CLI, "grade", str(uploads), "-a", "ex02_gradient_descent", "--out", str(out), "-j", "2",
               "--backend", "docker", "--seed", "3", sandboxes]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while len(_journal(out)) < 2:
            assert process.poll() is None and time.monotonic() < deadline, "the batch ended too early"
            time.sleep(0.1)
        time.sleep(0.5)  # two sandboxes are running now
        _stop_dockerd()
        subprocess.run(["bash", str(START)], check=True, timeout=120)
        ended_without_engine = process.poll() is not None  # then its last removals failed too
        output = process.communicate(timeout=600)[0].decode()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    with open(out / "grades.csv", newline="") as handle:
        first = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(first) == set(expected)
    failed = {s for s, row in first.items() if row["status"] == "grader error"}
    assert failed, f"no upload was hit by the restart: {first}"
    for student in failed:
        report = json.loads((out / "students" / student / "report.json").read_text())
        said = " ".join(report["notes"])
        assert "Docker" in said and "graded again when the batch is rerun" in said, report["notes"]
    for student in set(first) - failed:
        assert first[student]["total"] == expected[student]

    import docker

    client = docker.from_env()  # the engine restarted: a new connection
    owner = f"{os.uname().nodename}:{process.pid}"
    left = [c.name for c in client.containers.list(all=True, filters={"label": LABEL})
            if c.labels.get(OWNER_LABEL) == owner]
    assert ended_without_engine or not left, f"the batch left containers behind: {left}"
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    with open(out / "grades.csv", newline="") as handle:
        final = {row["student"]: row for row in csv.DictReader(handle)}
    assert {s: row["total"] for s, row in final.items()} == expected
    assert all(row["status"] == "graded" for row in final.values())
    graded = [e["key"]["student"] for e in _journal(out) if e["report"]["status"] == "graded"]
    assert sorted(graded) == sorted(expected), "an upload was graded twice, or not at all"
    regraded = [e["key"]["student"] for e in _journal(out)][-len(failed):]
    assert sorted(regraded) == sorted(failed), "the rerun graded more than the affected uploads"
    left = client.containers.list(all=True, filters={"label": LABEL})
    assert not left, f"containers left behind: {[c.name for c in left]}"
