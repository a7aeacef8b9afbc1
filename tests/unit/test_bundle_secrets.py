"""No bundle of the library holds an answer: not the source of any reference function, not
an answer cell's own lines of any solution, not an input of a hidden check or hidden data
set, not a choice's correct options."""

from __future__ import annotations

import ast
import io
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograde.pipeline.plan import build_plan, is_hidden, published_seed
from autograde.rubric import discover, load_rubric_file
from autograde.rubric.datasets import hidden_set
from autograde.selfcheck.build import build_bundle

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = [load_rubric_file(path) for path in discover()]
MODEL_KINDS = {"accuracy", "confidence", "error"}  # their hidden sets are scanned below


def significant(lines: list[str]) -> set[str]:
    """Lines that say something of their own (not a bracket, an import or a short name)."""
    kept = {line.strip() for line in lines}
    return {line for line in kept if len(line) >= 24 and not line.startswith(("#", "import ", "from "))}


def reference_lines() -> set[str]:
    found: set[str] = set()
    for path in sorted((ROOT / "reference").glob("*.py")):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                found |= significant((ast.get_source_segment(source, node) or "").splitlines())
    return found


def answer_lines(assignment) -> set[str]:
    """Lines of the solution's tagged cells that the template does not have."""
    solution = nbformat.read(assignment.path(assignment.rubric.solution), as_version=4)
    template = nbformat.read(assignment.path(assignment.rubric.template), as_version=4)
    given = {line.strip() for cell in template.cells for line in cell.source.splitlines()}
    lines = [
        line
        for cell in solution.cells
        if set(cell.metadata.get("tags", [])) - {"parameters"}
        for line in cell.source.splitlines()
        if line.strip() not in given
    ]
    return significant(lines)


def bundle_contents(path: Path) -> tuple[str, list[np.ndarray]]:
    with zipfile.ZipFile(path) as archive:
        text = "\n".join(archive.read(n).decode("latin-1") for n in archive.namelist())
        arrays = []
        for name in ("inputs.npz", "arrays.npz"):
            with np.load(io.BytesIO(archive.read(name)), allow_pickle=False) as npz:
                arrays += [npz[k] for k in npz.files]
    return text, arrays


def hidden_arrays(assignment) -> list[np.ndarray]:
    """The inputs hidden checks draw at the published seed, and every hidden set's inputs."""
    rubric = assignment.rubric
    plan = build_plan(
        assignment,
        published_seed(assignment.id),
        public_only=False,
        probe_timeout=1.0,
        with_published=False,
        select=lambda check, task: (
            is_hidden(check, task) and check.kind not in {"accuracy", "confidence", "error"}
        ),
    )
    found = list(plan.store.arrays.values())
    for name, source in rubric.hidden_data.items():
        for seed in (0, published_seed(assignment.id)):
            inputs, labels = hidden_set(name, source, seed)
            found += [inputs, labels]
    return [a for a in found if a.size >= 4]


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("bundles")
    return {a.id: build_bundle(a, out).bundle for a in ASSIGNMENTS}


def leaks(path: Path, assignment) -> list[str]:
    """What of the instructor's a bundle file holds."""
    text, arrays = bundle_contents(path)
    found = sorted(line for line in reference_lines() | answer_lines(assignment) if line in text)
    for secret in hidden_arrays(assignment):
        if any(a.shape == secret.shape and np.array_equal(a, secret) for a in arrays):
            found.append(f"a hidden input of shape {secret.shape}")
    for task in assignment.rubric.tasks:
        for check in task.checks:
            if check.kind == "choice" and '"correct"' in text:
                found.append(f"the correct options of {check.variable}")
    return found


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=[a.id for a in ASSIGNMENTS])
def test_the_bundle_holds_no_answer(assignment, bundles):
    assert not leaks(bundles[assignment.id], assignment)


def test_the_scan_finds_a_reference_line_and_a_hidden_input(bundles, tmp_path):
    ex02 = next(a for a in ASSIGNMENTS if a.id == "ex02_gradient_descent")
    forged = tmp_path / "forged.check"
    with zipfile.ZipFile(bundles[ex02.id]) as source, zipfile.ZipFile(forged, "w") as dest:
        for name in source.namelist():
            body = source.read(name)
            if name == "bundle.json":
                body += ("\n" + sorted(reference_lines())[0]).encode()
            if name == "inputs.npz":
                buffer = io.BytesIO()
                with np.load(io.BytesIO(body)) as npz:
                    np.savez(buffer, **{k: npz[k] for k in npz.files}, leaked=hidden_arrays(ex02)[0])
                body = buffer.getvalue()
            dest.writestr(name, body)
    found = leaks(forged, ex02)
    assert len(found) == 2 and "hidden input" in found[-1]
