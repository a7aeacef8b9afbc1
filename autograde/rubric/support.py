"""An assignment's support files (the rubric's top-level `files`): public files and folders of
the assignment folder that the notebook reads by a relative path. They are copied beside the
notebook in the sandbox, shipped in the student bundle and written beside the template by
`autograde bundle`, so only public files belong there: the rubric, the solution, the mutants
and host-side reference modules are refused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograde.errors import RubricError

if TYPE_CHECKING:
    from autograde.rubric.loader import Assignment



def strings_in(value: Any) -> list[str]:
    """Every string in a nest of dicts, lists and tuples (a rubric's `model_dump()`)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings_in(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in strings_in(item)]
    return []


def _secret_files(assignment: Assignment) -> set[Path]:
    """Files of the assignment folder that never leave the instructor's machine: the rubric,
    every notebook but the template (solution, mutants, a master), what made the folder.
    (A host-side module a reference spec names is refused when the rubric loads.)"""
    rubric = assignment.rubric
    folder = assignment.folder
    names = ["rubric.yaml", "made-by.txt", rubric.solution, *(m.notebook for m in rubric.mutants)]
    notebooks = {p.resolve() for p in _notebooks_below(folder)} - {(folder / rubric.template).resolve()}
    return {(folder / name).resolve() for name in names} | notebooks


def _notebooks_below(folder: Path) -> list[Path]:
    """The notebooks below `folder`. os.walk passes over a folder that goes while it looks
    (rglob raises): the assignment folder may hold the grader's temporary folder, whose job
    folders come and go during a batch."""
    return [Path(root, name) for root, _dirs, files in os.walk(folder) for name in files
            if name.endswith(".ipynb")]


def support_files(assignment: Assignment) -> dict[str, Path]:
    """Every file the rubric's `files` names, by its path relative to the assignment folder
    (posix), in order. A RubricError names the rubric and the entry: missing, a link or a
    path leaving the folder, not a regular file, or one of the folder's secret files."""
    if not assignment.rubric.files:
        return {}
    rubric_file = assignment.folder / "rubric.yaml"
    root = assignment.folder.resolve()
    secret = _secret_files(assignment)
    found: dict[str, Path] = {}
    for index, entry in enumerate(assignment.rubric.files):

        def problem(why: str, entry: str = entry, index: int = index) -> RubricError:
            return RubricError(f"{rubric_file}: files.{index} {entry!r}: {why}")

        path = assignment.folder / entry.rstrip("/")
        if not path.exists() and not path.is_symlink():
            raise problem(f"no such file or folder in {assignment.folder}")
        members = [path] if not path.is_dir() or path.is_symlink() else sorted(path.rglob("*"))
        for member in members:
            resolved = member.resolve()
            if not resolved.is_relative_to(root):
                raise problem(f"{member.relative_to(assignment.folder)} leads outside the assignment folder")
            if member.is_dir():
                continue
            if not member.is_file():
                raise problem(f"{member.relative_to(assignment.folder)} is not a regular file")
            if resolved in secret:
                raise problem(
                    f"{member.relative_to(assignment.folder)} is a file of the instructor (rubric, solution, "
                    "mutant or master notebook); `files` are handed to students"
                )
            found[member.relative_to(assignment.folder).as_posix()] = member
    return found
