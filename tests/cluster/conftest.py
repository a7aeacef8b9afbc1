"""Fixtures for tests against a real SLURM: `slurm` makes sure a single-node SLURM answers
(tests/cluster/slurm/start-slurm.sh; root installs and starts it when missing).

Without one the tests skip with the script's output; when CI is set they fail instead (CI
runs as root and must have SLURM, see `make slurm-tests`).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

START = Path(__file__).parent / "slurm" / "start-slurm.sh"


@pytest.fixture(scope="session")
def slurm() -> None:
    try:
        done = subprocess.run([str(START)], capture_output=True, text=True, timeout=600, check=False)
        failed = f"exit {done.returncode}" if done.returncode else ""
        output = (done.stdout + done.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        failed, output = "did not run", str(exc)
    if not failed:
        return
    reason = f"no SLURM here: {START.name} failed ({failed}):\n{output}"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)
