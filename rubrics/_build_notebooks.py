"""Build the course notebooks (solutions, templates, mutants) and the bundled example uploads.

Run from the repository root:

    .venv/bin/python rubrics/_build_notebooks.py

Each assignment folder holds a `cells.py` with `CELLS`, `TEMPLATE` and `MUTANTS`; every
notebook of the folder is generated from it, so a fix in one place reaches the solution,
the template and the mutants alike. Cell tags: `parameters` marks the cell papermill
injects after; every task's code cell carries the tag its rubric names (field `tag:`).
An assignment written as one master notebook (ex02: `master.ipynb`, no `cells.py`) is made
by `autograde assign` instead; the example uploads take its cells from the master.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _nbtools import Cell, assignment_notebooks, build, replace, text

from autograde.authoring.master.parse import parse_master
from autograde.authoring.master.rubric import answer_tag
from autograde.authoring.master.selfcheck_cells import public_tasks as rubric_public_tasks

ROOT = Path(__file__).resolve().parent.parent
RUBRICS = ROOT / "rubrics"
EXAMPLES = ROOT / "examples"


def load_cells(folder: Path) -> ModuleType:
    path = folder / "cells.py"
    spec = importlib.util.spec_from_file_location(f"_cells_{folder.name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def public_tasks(rubric: Path) -> list[tuple[str, set[str]]]:
    """(task id, the tags of its public checks) for every task a self-check can check."""
    return rubric_public_tasks(yaml.safe_load(rubric.read_text(encoding="utf-8")))


def library() -> dict[Path, str]:
    """Every generated notebook of the rubric library: path -> file text."""
    files: dict[Path, str] = {}
    for cells_file in sorted(RUBRICS.glob("*/cells.py")):
        module = load_cells(cells_file.parent)
        tasks = public_tasks(cells_file.parent / "rubric.yaml")
        for name, nb in assignment_notebooks(module.CELLS, module.TEMPLATE, module.MUTANTS, tasks).items():
            files[cells_file.parent / name] = text(nb)
    files.update(examples())
    return files


# ====================================================================== example uploads (ex02)


def master_cells(master: Path) -> tuple[list[Cell], dict[str, str]]:
    """A master notebook's solution cells as `(kind, source, tag)`, and the template's
    sources of the tagged cells that differ (what `TEMPLATE` of a cells.py holds)."""
    cells: list[Cell] = []
    template: dict[str, str] = {}
    for cell in parse_master(master).cells:
        tag = answer_tag(cell) or (cell.tags[0] if cell.tags else None)
        if cell.in_solution:
            cells.append(("md" if cell.kind == "markdown" else "code", cell.solution, tag))
        if tag and cell.in_template and cell.student != cell.solution:
            template[tag] = cell.student
    return cells, template


def examples() -> dict[Path, str]:
    cells, template = master_cells(RUBRICS / "ex02_gradient_descent" / "master.ipynb")
    uploads = EXAMPLES / "ex02_gradient_descent"
    files = {
        uploads / "alice.ipynb": text(build(replace(cells, ALICE))),
        uploads / "bob.ipynb": text(build(replace(cells, BOB))),
        uploads / "carol.ipynb": text(build(replace(cells, CAROL))),
        uploads / "dave.ipynb": text(build(replace(cells, template))),
        uploads / "frank.ipynb": text(build(cells, metadata=False)),
    }
    truncated = nbformat.writes(build(cells))[:200]
    try:  # make sure it really is broken JSON
        json.loads(truncated)
    except ValueError:
        pass
    else:  # pragma: no cover - would mean the notebook is under 200 bytes
        raise AssertionError("the truncated notebook still parses")
    files[uploads / "erin.ipynb"] = truncated
    return files


ALICE = {  # correct, in her own style
    "loss": """
def loss(w):
    a, b = np.asarray(w, dtype=float)
    return a * a + b * b + 30.0 * np.sin(a) * np.sin(b)
""",
    "gradient": """
def gradient(w):
    a, b = np.asarray(w, dtype=float)
    # product rule on 30 sin(a) sin(b)
    return np.array([2.0 * a + 30.0 * np.cos(a) * np.sin(b),
                     2.0 * b + 30.0 * np.sin(a) * np.cos(b)])
""",
    "descent": """
def gradient_descent(w, eta, epochs):
    trajectory = [np.asarray(w, dtype=float)]
    for _ in range(epochs):
        trajectory.append(trajectory[-1] - eta * gradient(trajectory[-1]))
    return trajectory[-1]
""",
    "regression": """
def fit_line(x, t, eta, epochs):
    # design matrix with a column of ones for the intercept
    X = np.column_stack([np.ones_like(x, dtype=float), x])
    w = np.zeros(2)
    for _ in range(epochs):
        residual = X @ w - t
        w -= eta * 2.0 * X.T @ residual / len(t)
    return w
""",
}

BOB = {  # the sign of the sine term in the gradient is wrong
    "gradient": """
def gradient(w):
    # d/dw1 of sin(w1) sin(w2) ... I think the cos brings a minus sign?
    g1 = 2 * w[0] - 30 * np.cos(w[0]) * np.sin(w[1])
    g2 = 2 * w[1] - 30 * np.sin(w[0]) * np.cos(w[1])
    return np.array([g1, g2])
""",
}

CAROL = {  # the fit_line cell raises a NameError (a typo, caught by her own sanity check)
    "regression": """
def fit_line(x, t, eta, epochs):
    w = np.zeros(2)
    for _ in range(epochs):
        y = w[0] + w[1] * x
        grad = np.array([2 * np.mean(y - t), 2 * np.mean((y - t) * X)])
        w = w - eta * grad
    return w

# quick sanity check: a perfect line through (0, 1) with slope 2
print(fit_line(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0]), 0.1, 500))
""",
}


def main() -> list[Path]:
    files = library()
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return list(files)


if __name__ == "__main__":
    for written in main():
        print(written.relative_to(ROOT))
