"""Fixtures for integration tests: real Jupyter kernels through the local backend."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograde.rubric import Assignment, load_assignment, load_rubric_file
from tests.ex02_variant import ex02_variant

ROOT = Path(__file__).resolve().parents[2]
EX02 = ROOT / "rubrics" / "ex02_gradient_descent"


@pytest.fixture(scope="session")
def ex02() -> Assignment:
    return load_assignment("ex02_gradient_descent")


@pytest.fixture(scope="session")
def ex02_fast(tmp_path_factory: pytest.TempPathFactory) -> Assignment:
    """ex02 with short limits, so hanging submissions cost seconds, not minutes."""
    limits = {"cell_timeout": "4s", "probe_timeout": "4s", "total_timeout": "150s"}
    return load_rubric_file(ex02_variant(tmp_path_factory.mktemp("ex02_fast"), limits))


@pytest.fixture(scope="session")
def solution_nb() -> Any:
    return nbformat.read(EX02 / "solution.ipynb", as_version=4)


def tagged(nb: Any, tag: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if tag in c.metadata.get("tags", []))


@pytest.fixture
def make_nb(tmp_path: Path, solution_nb: Any) -> Callable[..., Path]:
    """Write a variant of the ex02 solution: replace tagged cells, insert cells before a tag."""

    def build(name: str, replace: dict[str, str] | None = None,
              insert_before: dict[str, str] | None = None,
              mutate: Callable[[Any], None] | None = None) -> Path:
        nb = copy.deepcopy(solution_nb)
        for tag, source in (replace or {}).items():
            nb.cells[tagged(nb, tag)].source = source
        for tag, source in (insert_before or {}).items():
            nb.cells.insert(tagged(nb, tag), nbformat.v4.new_code_cell(source))
        if mutate:
            mutate(nb)
        path = tmp_path / name
        nbformat.write(nb, path)
        return path

    return build


@pytest.fixture(scope="session")
def library_grades() -> dict[tuple[str, str], Any]:
    """Every notebook of the library (solutions, templates, mutants) graded once per session,
    two at a time, at seed 3, each in a warm sandbox (as `rubric test` grades them): (assignment
    id, notebook) -> its `selftest.Case`. The rubric library test and the self-check agreement
    test read the same grades."""
    import os

    from autograde.rubric import discover
    from autograde.rubric.selftest import run_library

    jobs = int(os.environ.get("AUTOGRADE_LIBRARY_JOBS", "2"))
    assignments = [load_rubric_file(path) for path in discover()]
    return {(c.assignment, c.notebook): c for c in run_library(assignments, seed=3, jobs=jobs, warm=True)}
