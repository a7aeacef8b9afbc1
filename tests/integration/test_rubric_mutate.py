"""`autograde rubric mutate` on a tiny two-task numpy assignment whose checks miss one mistake on
purpose (`mse` is only checked against targets that are all 0, so `y + t` for `y - t` passes):
the survivor is reported with the right score, a survivor cannot be saved, and a killed mutant
saved with --save is then accepted by `autograde rubric test`. Real kernels; about 30 s."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

pytestmark = pytest.mark.integration

RUBRIC = """\
schema: 1
assignment: tiny
title: "Tiny: two numpy functions"   # a comment that --save must keep
tasks:
  - id: q1
    points: 1
    checks:
      - kind: value
        call: double
        args: [{draw: normal, shape: [4]}]
        reference: reference.tiny:double
        tag: q1
  - id: q2
    points: 2
    checks:
      - kind: value
        call: mse
        args: [{draw: normal, shape: [6]}, {draw: normal, std: 0, shape: [6]}]   # targets all 0
        reference: reference.tiny:mse
        tag: q2
"""
REFERENCE = """\
import numpy as np


def double(x):
    return 2 * x


def mse(y, t):
    return np.mean((y - t) ** 2)
"""
Q1 = "def double(x):\n    return 2 * x"
Q2 = "def mse(y, t):\n    return np.mean((y - t) ** 2)"


def notebook(q1: str, q2: str) -> nbformat.NotebookNode:
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_code_cell("import numpy as np"),
        v4.new_code_cell(q1, metadata={"tags": ["q1"]}),
        v4.new_code_cell(q2, metadata={"tags": ["q2"]}),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture
def course(tmp_path: Path) -> Path:
    folder = tmp_path / "course" / "rubrics" / "tiny"
    folder.mkdir(parents=True)
    (folder / "rubric.yaml").write_text(RUBRIC)
    nbformat.write(notebook(Q1, Q2), folder / "solution.ipynb")
    nbformat.write(notebook("def double(x):\n    ...", "def mse(y, t):\n    ..."), folder / "template.ipynb")
    reference = tmp_path / "course" / "reference"
    reference.mkdir()
    (reference / "__init__.py").write_text("")
    (reference / "tiny.py").write_text(REFERENCE)
    return tmp_path / "course"


def autograde(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("autograde")
    env = {"PATH": f"{exe.parent}:/usr/bin:/bin", "HOME": str(cwd), "COLUMNS": "200"}
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def test_mutate_reports_the_survivor_and_saves_a_killed_mutant(course: Path, tmp_path: Path) -> None:
    out = tmp_path / "mutants.json"
    done = autograde(
        "rubric", "mutate", "tiny", "--library", str(course), "-j", "2", "--json", str(out), cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())["assignments"][0]
    # by hand: double -> x, 2 / x, 3 * x, 1 * x (4, all killed by a value check at normal x);
    # mse -> y, no mean, (y - t) * 2, (y + t) ** 2, ** 3, ** 1 (6; with t = 0 only y + t passes)
    assert {t["task"]: (t["generated"], t["killed"]) for t in result["tasks"]} == {"q1": (4, 4), "q2": (6, 5)}
    assert (result["generated"], result["killed"], result["survived"], result["score"]) == (10, 9, 1, 0.9)
    survivors = [m for m in result["mutants"] if not m["killed"]]
    assert [(m["id"], m["cell"], m["line"], m["mutated_line"]) for m in survivors] == [
        ("q2-arith-2", "q2", 2, "return np.mean((y + t) ** 2)")
    ]
    assert "q2-arith-2" in done.stdout and "90%" in done.stdout

    refused = autograde(
        "rubric", "mutate", "tiny", "--library", str(course), "--save", "q2-arith-2", cwd=tmp_path
    )
    assert refused.returncode == 2 and "strengthen the rubric" in refused.stderr + refused.stdout

    saved = autograde(
        "rubric", "mutate", "tiny", "--library", str(course), "--save", "q2-no-reduce-1", cwd=tmp_path
    )
    assert saved.returncode == 0, saved.stdout + saved.stderr
    folder = course / "rubrics" / "tiny"
    rubric = (folder / "rubric.yaml").read_text()
    assert rubric.startswith(RUBRIC)  # appended as text: the comments are still there
    assert "  - notebook: mutants/mut_q2_no_reduce_1.ipynb\n" in rubric and "loses: {q2: 2}" in rubric
    mutant = nbformat.read(folder / "mutants" / "mut_q2_no_reduce_1.ipynb", as_version=4)
    assert mutant.cells[2].source == "def mse(y, t):\n    return (y - t) ** 2"

    tested = autograde("rubric", "test", "tiny", "--library", str(course), cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "mut_q2_no_reduce_1.ipynb: 1/3" in tested.stdout
