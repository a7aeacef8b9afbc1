"""Which heavy modules a sandbox imports before the notebook's first cell, in the process its
kernel is forked from (a warm sandbox: before the job exists): those of the course stack that
the assignment's own notebooks (template and solution) import.

Importing them ahead changes nothing a notebook can observe (nothing is bound in its
namespace, and the modules are the ones it imports itself); it takes their import time off
the grading of each upload.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nbformat

from autograde.rubric import Assignment

# the packages worth importing ahead: slow to import, imported by most notebooks of a course
STACK = ("numpy", "scipy", "pandas", "matplotlib", "sklearn", "torch", "torchvision", "PIL")


def without_magics(source: str) -> str:
    """A cell's Python: its IPython `%magic` and `!shell` lines left out."""
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))


def _imports(source: str) -> list[str]:
    """The modules a cell imports (IPython magics and shell lines left out)."""
    try:
        tree = ast.parse(without_magics(source))
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
    return found


def notebook_imports(nb: Any) -> tuple[str, ...]:
    """Every module a notebook's code cells import."""
    return tuple(name for cell in nb.cells if cell.cell_type == "code" for name in _imports(cell.source))


def stack_modules(names: Iterable[str]) -> tuple[str, ...]:
    """Those of `names` that belong to the course stack, sorted, once each."""
    return tuple(sorted({name for name in names if name.split(".")[0] in STACK}))


@functools.lru_cache(maxsize=64)
def _notebook_imports(path: Path, mtime_ns: int) -> tuple[str, ...]:
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError, AttributeError):
        return ()
    return notebook_imports(nb)


def preload_modules(assignment: Assignment) -> tuple[str, ...]:
    """The stack modules the assignment's template and solution import, in a fixed order."""
    found: list[str] = []
    for relative in (assignment.rubric.template, assignment.rubric.solution):
        path = assignment.path(relative) if relative else None
        if path is not None and path.is_file():
            found += _notebook_imports(path, path.stat().st_mtime_ns)
    return stack_modules(found)
