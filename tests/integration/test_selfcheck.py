"""A student's self-check, as students run it: `autograde bundle` then `autograde check
--bundle` (real subprocesses, real kernels), the in-notebook check under nbclient, and the
bad inputs that each end with exit 2 and a message naming the file and what to do."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.rubric import load_assignment
from autograde.selfcheck.bundle import read_bundle
from autograde.selfcheck.judge import bundled_checks
from tests.selfcheck_tools import run_live

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EX02 = ROOT / "rubrics" / "ex02_gradient_descent"


def autograde(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("autograde")
    return subprocess.run(
        [str(exe), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            "PATH": f"{exe.parent}:/usr/bin:/bin",
            "HOME": str(cwd),
            "COLUMNS": "200",
            "AUTOGRADE_RUBRICS": str(ROOT / "rubrics"),
        },
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("published")
    home = tmp_path_factory.mktemp("home")
    done = autograde("bundle", "ex02_gradient_descent", "ex05_classification", "--out", str(out), cwd=home)
    assert done.returncode == 0, done.stderr
    assert "ex02_gradient_descent.check" in done.stdout
    return out


def test_bundle_writes_the_template_and_the_check_file(published):
    assert sorted(p.name for p in published.iterdir()) == [
        "ex02_gradient_descent.check",
        "ex02_gradient_descent.ipynb",
        "ex05_classification.check",
        "ex05_classification.ipynb",
    ]
    template = nbformat.read(published / "ex02_gradient_descent.ipynb", as_version=4)
    assert template.metadata["autograde"] == {"assignment": "ex02_gradient_descent"}


def test_check_passes_the_solution_and_names_what_waits(published, tmp_path):
    done = autograde(
        "check",
        str(EX02 / "solution.ipynb"),
        "--bundle",
        str(published / "ex02_gradient_descent.check"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "checks passed: 7/7" in done.stdout
    assert "regression: 3 points graded after submission" in done.stdout
    assert "gradient: 1 more checks run after submission" in done.stdout


def test_check_fails_a_mutant_with_the_graders_message(published, tmp_path):
    done = autograde(
        "check",
        str(EX02 / "mutants" / "gradient_sign.ipynb"),
        "--bundle",
        str(published / "ex02_gradient_descent.check"),
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "FAIL     gradient matches finite differences of your loss" in done.stdout
    assert "checks passed: 4/7" in done.stdout


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing bundle", "nothing.check: no such check bundle"),
        ("damaged bundle", "not a readable check bundle (truncated or damaged"),
        (
            "other assignment",
            "is the template of ex05_classification, but ex02_gradient_descent.check checks",
        ),
        ("no tags", "none of its cells carries a tag of the template"),
        ("no notebook", "absent.ipynb: no such notebook"),
        ("not a notebook", "notes.ipynb: not valid JSON"),
    ],
)
def test_bad_input_exits_2_with_what_to_do(published, tmp_path, case, message):
    bundle = published / "ex02_gradient_descent.check"
    notebook = EX02 / "solution.ipynb"
    if case == "missing bundle":
        bundle = tmp_path / "nothing.check"
    elif case == "damaged bundle":
        bundle = tmp_path / "damaged.check"
        bundle.write_bytes((published / "ex02_gradient_descent.check").read_bytes()[:-200])
    elif case == "other assignment":
        notebook = published / "ex05_classification.ipynb"
    elif case == "no tags":
        nb = nbformat.read(EX02 / "solution.ipynb", as_version=4)
        for cell in nb.cells:
            cell.metadata.pop("tags", None)
        notebook = tmp_path / "untagged.ipynb"
        nbformat.write(nb, notebook)
    elif case == "no notebook":
        notebook = tmp_path / "absent.ipynb"
    else:
        notebook = tmp_path / "notes.ipynb"
        notebook.write_text("these are my notes")
    done = autograde("check", str(notebook), "--bundle", str(bundle), cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr.replace("\n", " ")
    assert "Traceback" not in done.stderr


def _hard_coded_loss(bundle_path: Path) -> str:
    """A `loss` that returns the bundle's expected values at its published inputs, 0 elsewhere."""
    bundle = read_bundle(bundle_path)
    item = next(
        i for i in bundled_checks(bundle) if i.entry.kind == "value" and i.entry.name.endswith("loss")
    )
    table = {
        tuple(np.round(np.asarray(args[0], dtype=float), 9)): float(exp)
        for args, exp in zip(item.state.args, item.expected, strict=True)
    }
    return (
        "import numpy as np\n"
        f"_PUBLISHED = {table!r}\n"
        "def loss(w):\n"
        "    return _PUBLISHED.get(tuple(np.round(np.asarray(w, dtype=float), 9)), 0.0)\n"
    )


def test_hard_coded_published_answers_pass_the_self_check_and_earn_nothing(published, tmp_path):
    bundle_path = published / "ex02_gradient_descent.check"
    nb = nbformat.read(EX02 / "solution.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "loss" in c.metadata.get("tags", []))
    cell.source = _hard_coded_loss(bundle_path)
    cheat = tmp_path / "cheat.ipynb"
    nbformat.write(nb, cheat)
    done = autograde("check", str(cheat), "--bundle", str(bundle_path), cwd=tmp_path)
    assert "PASS     value loss: all 5 inputs" in done.stdout, done.stdout
    report = grade_submission(cheat, load_assignment("ex02_gradient_descent"), GradeOptions(grading_seed=5))
    value = next(c for c in report.task("loss").checks if c.kind == "value")
    assert value.status == "fail" and value.published == "pass"
    assert "passes at the self-check's published inputs, not at fresh ones" in value.message
    assert report.task("loss").points < 2


def test_in_notebook_check_shows_an_html_table_and_keeps_the_notebooks_random_state(published, tmp_path):
    bundle = read_bundle(published / "ex02_gradient_descent.check")
    rows, executed = run_live(EX02 / "mutants" / "gradient_sign.ipynb", bundle, tmp_path / "live")
    statuses = {name: status for _, name, status in rows}
    assert statuses["exists loss"] == "pass"
    assert statuses["gradient matches finite differences of your loss"] == "fail"
    html = [o["data"]["text/html"] for o in executed.cells[-1].outputs if "text/html" in o.get("data", {})]
    assert html and "autograde-self-check" in html[0] and "checks passed 4/7" in html[0]


def test_student_run_keeps_generator_states_and_writes_nothing(published, tmp_path, monkeypatch):
    from autograde import student

    monkeypatch.chdir(tmp_path)
    (tmp_path / "ex02_gradient_descent.check").write_bytes(
        (published / "ex02_gradient_descent.check").read_bytes()
    )
    namespace: dict[str, object] = {}
    nb = nbformat.read(EX02 / "solution.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, "cell", "exec"), namespace)
    np.random.seed(123)
    before = np.random.random(3)
    np.random.seed(123)
    result = student.run(namespace=namespace)  # finds the one bundle in the folder
    assert np.array_equal(np.random.random(3), before)
    assert result.passed and "checks passed 7/7" in result.summary()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ex02_gradient_descent.check"]
    assert json.loads(json.dumps(result.rows))  # plain data


def test_free_text_and_choice_answers_say_only_whether_they_are_answered(tmp_path):
    """The exam: a written answer is 'answered' (or still the template's text), a chosen
    option is 'answered' whatever it is; neither says whether it is right."""
    from autograde.selfcheck.build import build_bundle
    from autograde.selfcheck.local import check_notebook

    exam = load_assignment("exam")
    bundle = read_bundle(build_bundle(exam, tmp_path).bundle)
    by_kind: dict[str, dict[str, set[str]]] = {}
    for notebook in ("solution.ipynb", "template.ipynb"):
        report = check_notebook(exam.path(notebook), bundle)
        for check in (c for t in report.tasks for c in t.checks if c.kind in ("manual", "choice")):
            by_kind.setdefault(notebook, {}).setdefault(check.kind, set()).add(check.status)
            assert "correct" not in check.message
    assert by_kind["solution.ipynb"] == {"manual": {"answered"}, "choice": {"answered"}}
    assert by_kind["template.ipynb"]["manual"] == {"fail"}
    assert "answered" not in by_kind["template.ipynb"]["choice"]
