"""A real run where the local backend has no confinement facility at all (as on a student's
macOS or Windows machine): the notebook is graded as usual, and the report says what was
left out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "rubrics" / "ex02_gradient_descent" / "solution.ipynb"


def test_graded_unconfined_with_the_notes(tmp_path):
    exe = Path(sys.executable).with_name("autograde")
    env = {"PATH": f"{exe.parent}:/usr/bin:/bin", "HOME": str(tmp_path), "AUTOGRADE_CONFINEMENT": "off"}
    done = subprocess.run(
        [str(exe), "grade", str(SOLUTION), "-a", "ex02_gradient_descent", "--out", str(tmp_path / "out")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(next((tmp_path / "out").glob("students/*/report.json")).read_text())
    assert report["status"] == "graded"
    assert report["score"] == report["max_score"] == 10
    why = "(AUTOGRADE_CONFINEMENT=off)"
    notes = report["notes"]
    for expected in (
        f"resource limits not set: rlimits are not available here {why}",
        f"network not isolated: namespaces are not available here {why}",
        f"file system not protected: namespaces are not available here {why}",
        f"memory not limited: cgroups are not available here {why}",
        f"number of processes not limited: cgroups are not available here {why}",
    ):
        assert expected in notes, notes
    prctl = f"the notebook runs unconfined: prctl is not available here {why}"
    assert any(n.startswith(prctl) for n in notes)
