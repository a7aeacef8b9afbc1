"""Helpers of the batch tests (this machine's threads or a cluster): the `grade` command, and
what a results folder and the machine show afterwards."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

CLI = str(Path(sys.executable).with_name("autograde"))


def grade(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([CLI, "grade", *args], capture_output=True, text=True, timeout=600)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    students = [row["student"] for row in rows]
    assert len(students) == len(set(students)), f"a student appears twice: {students}"
    return {row["student"]: row for row in rows}


def journal_students(out: Path) -> list[str]:
    found = []
    for line in (out / "journal.jsonl").read_text().splitlines():
        try:
            found.append(json.loads(line)["key"]["student"])
        except (ValueError, KeyError):
            continue
    return found


def kernels_of(graders: set[int]) -> int:
    """Jupyter kernels of grading jobs run by these grader processes, running now (a kernel's
    environment carries the job marker and its grader's pid; kernels of other graders on the
    machine do not count). A kernel forked from its runner keeps the runner's command line and
    names itself."""
    owners = {f"AUTOGRADE_GRADER={pid}".encode() for pid in graders}
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read()
            with open(f"/proc/{entry}/comm", "rb") as handle:
                if b"ipykernel" not in command and handle.read().strip() != b"ipykernel":
                    continue
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = set(handle.read().split(b"\0"))
            count += any(v.startswith(b"AUTOGRADE_JOB=") for v in environ) and bool(environ & owners)
        except OSError:
            continue
    return count
