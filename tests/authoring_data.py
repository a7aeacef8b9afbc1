"""Where the third-party authoring corpus is: ../shared/authoring/ (nbgrader and otter
assignments, with SOURCES.md saying what a correct import gives), or $AUTOGRADE_AUTHORING
(a git worktree has no such sibling). Read from there, never copied into the project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AUTHORING = Path(os.environ.get("AUTOGRADE_AUTHORING", ROOT.parent / "shared" / "authoring"))


def authoring(relative: str) -> Path:
    """A file or folder of the corpus; the test is skipped where the corpus is absent."""
    path = AUTHORING / relative
    if not path.exists():
        pytest.skip(f"authoring corpus not found: {path} (set AUTOGRADE_AUTHORING)")
    return path
