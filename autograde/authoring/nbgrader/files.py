"""What an nbgrader notebook needs beside it: the other files of its folder (images, data,
pickles, helper modules), and the modules its tests import that nobody provides.

Support files are copied as bytes, never opened or unpickled. Notebooks, dotfiles and
dot-folders (`.ipynb_checkpoints`), `__pycache__` and nbgrader's own `nbgrader_config.py`
are left out; so is a file over the size cap, with a note.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import sys
from pathlib import Path

FILE_CAP = 20 * 2**20  # bytes per support file
TOTAL_CAP = 64 * 2**20  # bytes of support files per assignment
_SKIPPED_NAMES = {"__pycache__", "nbgrader_config.py"}


def support_files(folder: Path, notebook: str) -> tuple[dict[str, bytes], list[str]]:
    """The folder's support files (relative posix path -> content) and notes on what was left out."""
    files: dict[str, bytes] = {}
    notes: list[str] = []
    total = 0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") or part in _SKIPPED_NAMES for part in relative.parts):
            continue
        if path.is_symlink():
            notes.append(f"{notebook}: support file {relative.as_posix()} is a symbolic link; not copied")
            continue
        if not path.is_file() or path.suffix == ".ipynb":
            continue
        size = path.stat().st_size
        if size > FILE_CAP or total + size > TOTAL_CAP:
            notes.append(
                f"{notebook}: support file {relative.as_posix()} ({size} bytes) is over the size cap "
                f"({FILE_CAP} bytes a file, {TOTAL_CAP} in all); not copied, add it by hand"
            )
            continue
        files[relative.as_posix()] = path.read_bytes()
        total += size
    return files, notes


def imported_modules(code: str) -> list[str]:
    """The top-level modules a piece of code imports (absolute imports only), in order."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top not in found:
                found.append(top)
    return found


@functools.cache
def _installed() -> frozenset[str]:
    """Top-level import names of the distributions installed here (read once: it is slow)."""
    return frozenset(importlib.metadata.packages_distributions())


def provided(module: str, files: dict[str, bytes]) -> bool:
    """Whether a module comes with the assignment (a .py file or a package beside the notebook),
    with Python, or with a distribution installed here."""
    if f"{module}.py" in files or any(name.startswith(f"{module}/") for name in files):
        return True
    if module in sys.stdlib_module_names:
        return True
    return module in _installed()
