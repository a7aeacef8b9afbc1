"""A student's self-check in a student's own Python (3.10 and 3.13, the wheel with its
default dependencies only: no torch, no papermill, no course library): `autograde check
--bundle` on ex02 and ex05 solutions and mutants, and a template whose check cells run
under nbclient (`jupyter execute`), each with the verdicts asserted against the host's."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

from autograde.rubric import load_assignment
from autograde.selfcheck.build import build_bundle
from autograde.selfcheck.bundle import read_bundle
from autograde.selfcheck.local import check_notebook
from tests.student_env import ROOT, make_student_venv, student_python

pytestmark = [pytest.mark.integration, pytest.mark.student_env]

CASES = [
    ("ex02_gradient_descent", "solution.ipynb"),
    ("ex02_gradient_descent", "mutants/gradient_sign.ipynb"),
    ("ex05_classification", "solution.ipynb"),
    ("ex05_classification", "mutants/cce_sum.ipynb"),
]
LINE = re.compile(
    r"^  (PASS|FAIL|ERROR|TIMEOUT|CRASHED|NOT-RUN|GRADER-ERROR|ANSWERED|AFTER-SUBMISSION)\s+(.+?): "
)


@pytest.fixture(scope="module", params=["3.10", "3.13"])
def student_venv(request: pytest.FixtureRequest) -> Path:
    return make_student_venv(student_python(request.param))


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("handout")
    for assignment in ("ex02_gradient_descent", "ex05_classification"):
        build_bundle(load_assignment(assignment), out)
    return out


def run(venv: Path, *args: str, cwd: Path, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(home or cwd), "COLUMNS": "200"}
    return subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


@pytest.mark.parametrize(("assignment", "notebook"), CASES, ids=[f"{a}:{n}" for a, n in CASES])
def test_check_with_a_bundle_gives_the_hosts_verdicts(student_venv, bundles, tmp_path, assignment, notebook):
    path = ROOT / "rubrics" / assignment / notebook
    bundle = bundles / f"{assignment}.check"
    done = run(student_venv, "autograde", "check", str(path), "--bundle", str(bundle), cwd=tmp_path)
    shown = [m.groups() for m in map(LINE.match, done.stdout.splitlines()) if m]
    host = check_notebook(path, read_bundle(bundle))
    expected = [(c.status.upper(), c.name) for t in host.tasks for c in t.checks]
    assert shown == expected, done.stdout + done.stderr
    every_pass = all(status == "PASS" for status, _ in expected)
    assert done.returncode == (0 if every_pass else 1), done.stderr
    assert ("solution" in notebook) == every_pass


def _template_with_answers(assignment: str, answers: str) -> nbformat.NotebookNode:
    """The handed-out template (with its check cells), answered with another notebook's cells."""
    folder = ROOT / "rubrics" / assignment
    template = nbformat.read(folder / "template.ipynb", as_version=4)
    source = nbformat.read(folder / answers, as_version=4)
    by_tag = {tag: c.source for c in source.cells for tag in c.metadata.get("tags", [])}
    for cell in template.cells:
        for tag in cell.metadata.get("tags", []):
            if tag in by_tag:
                cell.source = by_tag[tag]
    return template


def _check_cells(nb: nbformat.NotebookNode) -> dict[str, str]:
    """task id -> the text its check cell showed."""
    shown = {}
    for cell in nb.cells:
        match = re.search(r"student\.check\(['\"]([^'\"]+)['\"]\)", cell.source)
        if match:
            texts = [o.get("data", {}).get("text/plain", o.get("text", "")) for o in cell.get("outputs", [])]
            shown[match.group(1)] = "\n".join(texts)
    return shown


def test_check_cells_in_the_template_run_under_nbclient(student_venv, bundles, tmp_path):
    nb = _template_with_answers("ex02_gradient_descent", "mutants/gradient_sign.ipynb")
    home, tmp_path = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    tmp_path.mkdir()
    (tmp_path / "ex02_gradient_descent.check").write_bytes(
        (bundles / "ex02_gradient_descent.check").read_bytes()
    )
    path = tmp_path / "my.ipynb"
    nbformat.write(nb, path)
    done = run(
        student_venv,
        "jupyter-execute",
        "--inplace",
        "--allow-errors",
        "--timeout=120",
        str(path),
        cwd=tmp_path,
        home=home,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    shown = _check_cells(nbformat.read(path, as_version=4))
    assert set(shown) == {"loss", "gradient", "descent"}  # regression is a hidden task
    assert "checks passed 3/3" in shown["loss"]
    assert "checks passed 1/2" in shown["gradient"] and "FAIL" in shown["gradient"]
    assert "gradient: 1 more checks run after submission" in shown["gradient"]
    assert "checks passed 0/2" in shown["descent"]  # its value and its unchanged-argument checks
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ex02_gradient_descent.check", "my.ipynb"]
    json.dumps(shown)
