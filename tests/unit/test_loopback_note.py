"""A network namespace whose loopback could not be brought up says so in a note, with why
(127.0.0.1 does not work inside: a notebook's local server or DataLoader fails)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autograde.backends.base import Job, SandboxLimits
from autograde.backends.local import isolation
from autograde.backends.local.backend import isolation_notes
from autograde.backends.local.cgroups import CgroupResult, JobCgroup

CODE = (
    "import socket\n"
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
    "try:\n"
    "    socket.create_connection(s.getsockname(), timeout=2); print('connected')\n"
    "except OSError as exc:\n"
    "    print('refused', exc)\n"
)


def test_a_loopback_that_stays_down_is_reported_with_the_reason(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(isolation, "SIOCSIFFLAGS", 0)  # an ioctl the kernel does not know: lo stays down
    setup = isolation.ChildSetup({}, [], True)
    child = subprocess.run([sys.executable, "-c", CODE], preexec_fn=setup, capture_output=True, text=True)
    report = setup.collect()
    if report.get("network"):
        pytest.skip(f"no network namespaces here: {report['network'][0]}")
    assert not child.stdout.startswith("connected"), child.stdout  # lo is really down
    assert report.get("loopback") and report["loopback"][0], report
    limits = SandboxLimits(total_timeout=60, memory=2**30)
    group = JobCgroup(1, {"memory": tmp_path, "pids": tmp_path})
    notes = isolation_notes(Job(tmp_path, None, limits), {}, CgroupResult(group), report)
    assert notes == [f"the loopback interface could not be brought up: {report['loopback'][0]}"]


def test_a_loopback_brought_up_leaves_no_note():
    setup = isolation.ChildSetup({}, [], True)
    child = subprocess.run([sys.executable, "-c", CODE], preexec_fn=setup, capture_output=True, text=True)
    report = setup.collect()
    if report.get("network"):
        pytest.skip(f"no network namespaces here: {report['network'][0]}")
    assert child.stdout.startswith("connected"), child.stdout + child.stderr
    assert "loopback" not in report
