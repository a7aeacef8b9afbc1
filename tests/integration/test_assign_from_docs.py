"""A master notebook written from rubrics/README.md ("Writing an assignment as one notebook")
alone, by someone who had not read the code of `autograde assign`: assigned into a temporary
library and graded by `autograde rubric test` (solution full points, template 0, the mutant
loses what it declares), then bundled for students.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("autograde"))

CONFIG = """# autograde
title: "Mini: logistic regression by hand"
limits: {cell_timeout: 30s, probe_timeout: 10s, total_timeout: 120s, memory: 1GiB}
mutants:
  no_sigmoid:
    description: "predict thresholds the raw scores, without the sigmoid"
    loses: {predict: 2}
"""

SIGMOID = '''# autograde:
#   task: sigmoid
#   points: 2
#   title: "the logistic function"
#   inputs: [{draw: normal, std: 3, shape: [6]}]
def sigmoid(z):
    """1 / (1 + exp(-z)), elementwise."""
    ### BEGIN SOLUTION
    return 1.0 / (1.0 + np.exp(-z))
    ### END SOLUTION
'''

BCE = '''# autograde:
#   task: loss
#   points: 3
#   checks:
#     - {kind: exists, target: bce, type: callable}
#     - kind: value
#       call: bce
#       args:
#         - {draw: uniform, low: 0.05, high: 0.95, shape: [8]}
#         - {draw: integers, low: 0, high: 2, shape: [8]}
#       repeat: 4
#       weight: 2
def bce(p, t):
    """Mean binary cross-entropy of probabilities p against 0/1 targets t."""
    eps = 1e-12  # SOLUTION
    # BEGIN SOLUTION
    return float(-np.mean(t * np.log(p + eps) + (1 - t) * np.log(1 - p + eps)))
    # END SOLUTION
'''

PREDICT = '''# autograde:
#   task: predict
#   points: 2
#   checks:
#     - kind: value
#       call: predict
#       args: [{draw: normal, shape: [5, 3]}, {draw: normal, shape: [3]}, {draw: normal, shape: []}]
def predict(X, w, b):
    """Class 1 where sigmoid(X @ w + b) >= 0.5, else 0 (an int array)."""
    ### BEGIN SOLUTION
    return (sigmoid(X @ w + b) >= 0.5).astype(int)
    ### END SOLUTION
'''

PREDICT_MUTANT = """# autograde:
#   mutant: no_sigmoid
def predict(X, w, b):
    return ((X @ w + b) >= 0.5).astype(int)
"""

PREDICT_TESTS = """# autograde:
#   task: predict
#   test: true
out = predict(np.zeros((2, 1)), np.ones(1), 0.0)
assert out.shape == (2,)
### BEGIN HIDDEN TESTS
assert list(out) == [1, 1], "sigmoid(0) = 0.5 belongs to class 1"
### END HIDDEN TESTS
"""


ONLY = "solution-only"


def master() -> object:
    return v4.new_notebook(
        cells=[
            v4.new_raw_cell(CONFIG),
            v4.new_markdown_cell("# Logistic regression by hand\n\nFill in the three functions."),
            v4.new_code_cell("import numpy as np"),
            v4.new_code_cell("seed = 0", metadata={"tags": ["parameters"]}),
            v4.new_code_cell(SIGMOID),
            v4.new_code_cell(BCE),
            v4.new_code_cell(PREDICT),
            v4.new_code_cell(PREDICT_MUTANT),
            v4.new_code_cell(PREDICT_TESTS),
            v4.new_code_cell("print(predict(np.eye(3), np.ones(3), -0.5))", metadata={"tags": [ONLY]}),
        ]
    )


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=600)


def test_a_master_written_from_the_docs_is_assigned_graded_and_bundled(tmp_path: Path) -> None:
    source = tmp_path / "masters" / "logistic.ipynb"
    source.parent.mkdir()
    nbformat.write(master(), source)
    library = tmp_path / "library"
    made = run("assign", str(source), "--out", str(library / "logistic"))
    assert made.returncode == 0, made.stderr

    template = nbformat.read(library / "logistic" / "template.ipynb", as_version=4)
    code = "\n".join(c.source for c in template.cells if c.cell_type == "code")
    # the signature and docstring stay, the solution goes
    assert "def sigmoid(z):" in code and '"""1 / (1 + exp(-z)), elementwise."""' in code
    assert "np.exp(-z)" not in code and "np.log" not in code and "return (sigmoid(" not in code
    assert "eps = ..." in code
    assert "sigmoid(0) = 0.5" not in code and "# autograde" not in code  # hidden test, settings blocks
    assert "print(predict(np.eye(3)" not in code  # solution-only cell
    assert all(not c.get("outputs") for c in template.cells if c.cell_type == "code")

    tested = run("rubric", "test", "--library", str(library), "logistic")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    lines = tested.stdout
    assert "solution.ipynb: 7/7" in lines and "template.ipynb: 0/7" in lines, lines
    assert "no_sigmoid.ipynb: 5/7" in lines, lines

    published = run("bundle", "logistic", "--library", str(library), "--out", str(tmp_path / "pub"))
    assert published.returncode == 0, published.stderr
    with zipfile.ZipFile(tmp_path / "pub" / "logistic.check") as archive:
        text = b"".join(archive.read(name) for name in archive.namelist())
    assert b"np.exp(-z)" not in text and b"sigmoid(0) = 0.5" not in text
