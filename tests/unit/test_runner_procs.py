"""The runner's sweep of what a notebook left (procs.kill_descendants): every process it
killed is gone and reaped when it returns, so that the slots they held in the sandbox's
process limit are free for the next kernel (a fork bomb's copies take a while to exit)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from autograde.runner import procs

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="/proc and subreapers are Linux's")


def test_a_sweep_returns_when_every_process_it_killed_is_gone() -> None:
    children = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) for _ in range(8)]
    pids = {child.pid for child in children}
    assert pids <= set(procs.descendants())
    assert procs.kill_descendants() >= len(pids)
    assert not any(procs.alive(pid) for pid in pids)  # exited and reaped, not zombies
    for child in children:
        child.returncode = 0  # reaped by the sweep: Popen must not wait for them again


def test_the_wait_for_killed_processes_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(procs, "alive", lambda pid: True)  # one that never goes
    procs._reap_gone({os.getpid()}, seconds=0.05)  # returns all the same
