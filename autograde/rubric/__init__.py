"""Rubrics: the schema (typed, versioned) and loading with errors that name file and field.

The names below are imported on first use (PEP 562), so that a light submodule (the summary
cache of `autograde list`) can be imported without pydantic and the check kinds.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autograde.library import default_library
    from autograde.rubric.loader import Assignment, discover, load_assignment, load_rubric_file
    from autograde.rubric.schema import Rubric, Task

_WHERE = {
    "Assignment": "autograde.rubric.loader",
    "Rubric": "autograde.rubric.schema",
    "Task": "autograde.rubric.schema",
    "default_library": "autograde.library",
    "discover": "autograde.rubric.loader",
    "load_assignment": "autograde.rubric.loader",
    "load_rubric_file": "autograde.rubric.loader",
}

__all__ = [
    "Assignment",
    "Rubric",
    "Task",
    "default_library",
    "discover",
    "load_assignment",
    "load_rubric_file",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
