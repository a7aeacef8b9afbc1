"""The `autograde` console script, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "ex02_gradient_descent"
SOLUTION = ROOT / "rubrics" / "ex02_gradient_descent" / "solution.ipynb"
TEMPLATE = ROOT / "rubrics" / "ex02_gradient_descent" / "template.ipynb"


def autograde(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("autograde")
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={"PATH": f"{exe.parent}:/usr/bin:/bin", "HOME": str(cwd),
                               "COLUMNS": "200", "AUTOGRADE_RUBRICS": str(ROOT / "rubrics")})


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("results")
    result = autograde("grade", str(EXAMPLES), "--assignment", "ex02_gradient_descent",
                       "--out", str(out), "--seed", "11", cwd=out)
    return result, out


def test_grade_writes_a_row_for_every_upload(graded):
    result, out = graded
    assert result.returncode == 0, result.stderr
    with open(out / "grades.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["student", "loss", "gradient", "descent", "regression", "total", "max", "status"]
    by_student = {row[0]: row for row in rows[1:]}
    uploads = sorted(p.stem for p in EXAMPLES.iterdir() if not p.name.startswith("."))
    assert sorted(by_student) == uploads
    assert by_student["alice"][5:] == ["10", "10", "graded"]
    assert by_student["erin"][5:] == ["0", "10", "invalid notebook"]
    assert by_student["dave"][5] == "0"
    assert by_student["bob"][2:4] == ["0", "0"]  # gradient sign wrong: gradient and descent lost
    assert float(by_student["carol"][4]) == 0 and float(by_student["carol"][1]) == 2


def test_grade_writes_reports_and_feedback(graded):
    _, out = graded
    frank = json.loads((out / "students" / "frank" / "report.json").read_text())
    assert frank["score"] == 10
    assert any("declares no kernel" in note for note in frank["notes"])
    feedback = (out / "students" / "carol" / "feedback.md").read_text()
    assert "NameError" in feedback and "fit\\_line" in feedback
    assert (out / "students" / "erin" / "feedback.md").exists()


def test_grade_prints_a_summary(graded):
    result, _ = graded
    assert "alice" in result.stdout and "invalid notebook" in result.stdout
    assert "grades.csv" in result.stdout


def test_check_exit_codes():
    ok = autograde("check", str(SOLUTION), "--assignment", "ex02_gradient_descent")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "hidden checks" in ok.stdout
    assert "regression" not in ok.stdout  # a hidden task is not revealed
    bad = autograde("check", str(TEMPLATE), "--assignment", "ex02_gradient_descent")
    assert bad.returncode == 1
    assert "FAIL" in bad.stdout
    unknown = autograde("check", str(SOLUTION), "--assignment", "no_such_assignment")
    assert unknown.returncode == 2
    assert "no_such_assignment" in unknown.stderr


def test_rubric_validate_names_the_bad_field(tmp_path):
    folder = tmp_path / "lib" / "broken"
    folder.mkdir(parents=True)
    (folder / "rubric.yaml").write_text(
        "schema: 1\nassignment: broken\ntitle: t\ntasks:\n"
        "  - id: a\n    points: 1\n    checks:\n      - {kind: value, call: f, reference: 'm:f', rtol: -1}\n")
    result = autograde("rubric", "validate", str(tmp_path / "lib"))
    assert result.returncode == 2
    assert "rubric.yaml" in result.stdout and "tasks.0.checks.0.rtol" in result.stdout
    # the path is the YAML path the instructor edits, not pydantic's union-member label
    assert "value.rtol" not in result.stdout
    good = autograde("rubric", "validate")
    assert good.returncode == 0, good.stdout


def test_list_shows_assignments_and_points():
    result = autograde("list")
    assert result.returncode == 0
    assert "ex02_gradient_descent" in result.stdout and "ex08_open_set" in result.stdout
    assert "regression (3, hidden)" in result.stdout


def test_parameters_can_be_overridden(tmp_path):
    # epochs=0 makes the notebook's own loops no-ops; the graded functions are unaffected
    result = autograde("check", str(SOLUTION), "--assignment", "ex02_gradient_descent", "-p", "epochs=0")
    assert result.returncode == 0
    bad = autograde("check", str(SOLUTION), "--assignment", "ex02_gradient_descent", "-p", "nonsense")
    assert bad.returncode == 2


def test_rubric_test_reports_a_mutant_that_loses_other_points(tmp_path):
    """A rubric entry that is wrong about a mutant fails `rubric test` (exit 1), naming the
    task; the others pass; every line carries its grading time, and the slowest solution is named."""
    import shutil

    import yaml

    library = tmp_path / "rubrics"
    shutil.copytree(ROOT / "rubrics" / "ex02_gradient_descent", library / "ex02_gradient_descent")
    rubric_path = library / "ex02_gradient_descent" / "rubric.yaml"
    data = yaml.safe_load(rubric_path.read_text())
    wrong = next(m for m in data["mutants"] if m["notebook"].endswith("gradient_sign.ipynb"))
    wrong["loses"] = {"gradient": 3}  # it really loses 5: gradient 3 and descent 2
    rubric_path.write_text(yaml.safe_dump(data))
    result = autograde("rubric", "test", "--rubrics", str(library), "-j", "2", "--seed", "1")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    failing = [line for line in lines if line.startswith("FAIL")]
    assert len(failing) == 1 and "mutants/gradient_sign.ipynb: 5/10" in failing[0]
    assert any("task descent: 0 points, expected 2" in line for line in lines)
    assert sum(line.startswith("ok") for line in lines) == 5
    assert all(line.rstrip().endswith(" s)") for line in lines if line.startswith(("ok", "FAIL")))
    assert "slowest solution: ex02_gradient_descent" in lines[-1]
