"""The committed course notebooks are exactly what `rubrics/_build_notebooks.py` makes of
each assignment's `cells.py`: a hand edit of a solution, template or mutant (or a cells.py
edit without regenerating) fails here, naming the file."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _driver():
    sys.path.insert(0, str(ROOT / "rubrics"))
    path = ROOT / "rubrics" / "_build_notebooks.py"
    spec = importlib.util.spec_from_file_location("_build_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_assignment_folder_has_cells_and_notebooks():
    folders = sorted(p.parent for p in (ROOT / "rubrics").glob("*/rubric.yaml"))
    assert folders
    for folder in folders:
        assert (folder / "cells.py").is_file(), f"{folder.name} has no cells.py"


def test_committed_notebooks_match_their_source():
    stale = []
    for path, content in _driver().library().items():
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            stale.append(str(path.relative_to(ROOT)))
    assert not stale, f"regenerate with rubrics/_build_notebooks.py: {stale}"

