"""A course library outside the checkout, laid out as an instructor keeps one beside an
installed autograde: listed and graded through $AUTOGRADE_LIBRARY and --library, with the
`reference` package of that library (never the checkout's)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "ex02_gradient_descent"


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """rubrics/ex02_gradient_descent and reference/ copied out of the checkout."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "rubrics" / ASSIGNMENT, root / "rubrics" / ASSIGNMENT)
    shutil.copytree(ROOT / "reference", root / "reference", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def autograde(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("autograde")
    env = {"PATH": f"{exe.parent}:/usr/bin:/bin", "HOME": str(cwd), "COLUMNS": "200", **env}
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


def test_list_through_the_environment_and_the_option(course, tmp_path):
    by_env = autograde("list", "--markdown", cwd=tmp_path, AUTOGRADE_LIBRARY=str(course))
    assert by_env.returncode == 0, by_env.stderr
    by_option = autograde("list", "--markdown", "--library", str(course), cwd=tmp_path)
    assert by_option.stdout == by_env.stdout
    assert ASSIGNMENT in by_env.stdout and "ex01_perceptron" not in by_env.stdout


def score(out: Path) -> dict[str, dict[str, str]]:
    report = json.loads(next(out.glob("students/*/report.json")).read_text())
    return {t["id"]: {c["name"]: c["status"] for c in t["checks"]} for t in report["tasks"]} | {
        "": {"score": str(report["score"]), "max": str(report["max_score"])}
    }


def test_grade_with_the_library_of_another_folder(course, tmp_path):
    solution = course / "rubrics" / ASSIGNMENT / "solution.ipynb"
    out = tmp_path / "out"
    done = autograde("grade", str(solution), "-a", ASSIGNMENT, "--out", str(out), cwd=tmp_path,
                     AUTOGRADE_LIBRARY=str(course))
    assert done.returncode == 0, done.stderr
    assert score(out)[""]["score"] == score(out)[""]["max"]


def test_the_reference_of_that_library_judges(course, tmp_path):
    """A reference `loss` changed in the copied library fails the solution's loss values, and
    only those: the checkout's reference (which agrees with the solution) was not used."""
    tampered = tmp_path / "tampered"
    shutil.copytree(course, tampered)
    # ex02's rubric names the module `autograde assign` made beside it (solution_code.py:loss)
    with open(tampered / "rubrics" / ASSIGNMENT / "solution_code.py", "a") as handle:
        handle.write("\n\ndef loss(w):\n    return 12345.0\n")
    out = tmp_path / "out"
    done = autograde("grade", str(tampered / "rubrics" / ASSIGNMENT / "solution.ipynb"), "-a", ASSIGNMENT,
                     "--out", str(out), "--library", str(tampered), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    statuses = score(out)
    assert "fail" in statuses["loss"].values(), statuses
    assert set(statuses["gradient"].values()) == {"pass"}, statuses
