"""Where the course library is: a folder holding rubrics/ and reference/ (the checkout root is
one). Never installed into site-packages: the instructor keeps it, the engine finds it.

Found, in this order: the command's `--library DIR` (or `--rubrics DIR`, the rubric folder
alone), $AUTOGRADE_LIBRARY, $AUTOGRADE_RUBRICS, the checkout the package is imported from.
Standard library only: the CLI's options name these without loading the grading stack.
"""

from __future__ import annotations

import os
from pathlib import Path

from autograde.errors import RubricError

LIBRARY_ENV = "AUTOGRADE_LIBRARY"  # a course library: a folder holding rubrics/ and reference/
RUBRICS_ENV = "AUTOGRADE_RUBRICS"  # its rubrics/ folder alone
RUBRICS_DIR = "rubrics"
NO_LIBRARY = (
    f"no course library: pass --library DIR or set {LIBRARY_ENV} (a folder holding rubrics/ and reference/)"
)


def library_rubrics(root: Path, named_by: str = "--library ") -> Path:
    """The rubrics/ folder of the course library `root`, or `root` itself when it directly
    holds assignment folders; `named_by` says where `root` came from."""
    rubrics = root / RUBRICS_DIR
    if not rubrics.is_dir() and any(root.glob("*/rubric.yaml")):
        return root  # a folder of assignment folders (what `autograde import` writes into)
    if not rubrics.is_dir():
        raise RubricError(f"{named_by}{root}: not a course library (it holds no {RUBRICS_DIR}/ folder)")
    return rubrics


def checkout_rubrics() -> Path | None:
    """The rubrics/ folder of the checkout this package is imported from (None when installed)."""
    rubrics = Path(__file__).resolve().parents[1] / RUBRICS_DIR
    return rubrics if rubrics.is_dir() else None


def default_library() -> Path:
    """The rubric folder of the course library, when no command-line option names one:
    $AUTOGRADE_LIBRARY/rubrics, else $AUTOGRADE_RUBRICS, else the checkout's rubrics/.
    A RubricError that says what to do when there is none (an installed package holds none)."""
    root = os.environ.get(LIBRARY_ENV)
    if root:
        return library_rubrics(Path(root), f"${LIBRARY_ENV}=")
    env = os.environ.get(RUBRICS_ENV)
    if env:
        return Path(env)
    found = checkout_rubrics()
    if found is None:
        raise RubricError(NO_LIBRARY)
    return found
