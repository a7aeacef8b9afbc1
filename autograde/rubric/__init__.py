"""Rubrics: the schema (typed, versioned) and loading with errors that name file and field."""

from autograde.library import default_library
from autograde.rubric.loader import Assignment, discover, load_assignment, load_rubric_file
from autograde.rubric.schema import Rubric, Task

__all__ = [
    "Assignment",
    "Rubric",
    "Task",
    "default_library",
    "discover",
    "load_assignment",
    "load_rubric_file",
]
