"""Where the third-party authoring corpus is: ../shared/authoring/ (nbgrader and otter
assignments, with SOURCES.md saying what a correct import gives), or $AUTOGRADE_AUTHORING
(a git worktree has no such sibling). Read from there, never copied into the project."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
AUTHORING = Path(os.environ.get("AUTOGRADE_AUTHORING", ROOT.parent / "shared" / "authoring"))


def authoring(relative: str) -> Path:
    """A file or folder of the corpus; the test is skipped where the corpus is absent."""
    path = AUTHORING / relative
    if not path.exists():
        pytest.skip(f"authoring corpus not found: {path} (set AUTOGRADE_AUTHORING)")
    return path


def nbgrader_notebook(*cells: tuple[str, str, dict[str, Any] | None]) -> Any:
    """A notebook of (kind, source, metadata.nbgrader or None) cells: code or markdown."""
    nb = nbformat.v4.new_notebook()
    for kind, source, meta in cells:
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        cell = make(source)
        if meta is not None:
            cell.metadata["nbgrader"] = meta
        nb.cells.append(cell)
    return nb
