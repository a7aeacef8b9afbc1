"""nbgrader's cell metadata (`metadata.nbgrader`), read, migrated and checked.

nbgrader keeps a cell's role in five flags: `solution` (the student edits it), `grade` (it is
graded: a test cell, or with `solution` a manually graded answer), `task` (a manually graded
task with no answer cell), `locked` (read-only), and `points`, `grade_id` (unique per
notebook). Schema 3 is today's; older files are migrated the way nbgrader's own validator
upgrades them: missing flags are false, an ordinary cell of the v0 format
(`{grade: false, solution: false}`, no grade id) stays ordinary, and points stored as strings
("1") are numbers. Every bad input is a `NbgraderError` naming the file and the cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from autograde.errors import AutogradeError

SCHEMA_VERSION = 3  # the newest nbgrader cell-metadata schema this reader knows


class NbgraderError(AutogradeError):
    """The source is not an nbgrader notebook we can import; the message names file and cell."""


@dataclass(frozen=True)
class NbgraderCell:
    """One cell's nbgrader role (after migration to schema 3)."""

    index: int  # 0-based position in the notebook
    cell_type: str
    grade_id: str | None
    solution: bool
    grade: bool
    task: bool
    locked: bool  # as stored; `read_only` is nbgrader's effective rule
    points: float | None

    @property
    def number(self) -> int:
        """The cell's 1-based number, as messages name it."""
        return self.index + 1

    @property
    def is_test(self) -> bool:
        """An autograded test cell: graded, not an answer."""
        return self.grade and not self.solution

    @property
    def is_manual(self) -> bool:
        """A manually graded answer: graded and an answer."""
        return self.grade and self.solution

    @property
    def read_only(self) -> bool:
        """nbgrader's `is_locked`: never an answer cell; always a test or task cell; else as stored."""
        if self.solution:
            return False
        return self.grade or self.task or self.locked

    @property
    def graded(self) -> bool:
        return self.grade or self.task


def where(notebook: str, cell: int, grade_id: str | None = None) -> str:
    """`file: cell N (grade_id)` for messages and notes."""
    named = f" ({grade_id})" if grade_id else ""
    return f"{notebook}: cell {cell}{named}"


def read_notebook(path: Path) -> Any:
    """The notebook at `path` as nbformat 4.5 (4.0-4.4 files are upgraded by nbformat)."""
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, UnicodeDecodeError) as exc:
        raise NbgraderError(f"{path}: cannot read it: {exc}") from None
    except Exception as exc:  # nbformat raises NotJSONError, ValidationError, KeyError, ...
        raise NbgraderError(f"{path}: not a Jupyter notebook: {exc}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NbgraderError(f"{path}: not a Jupyter notebook (no list of cells)")
    minor = int(nb.get("nbformat_minor", 0))
    if minor < 5:
        nb = nbformat.v4.upgrade(nb, from_version=4, from_minor=minor)
    return nb


def _flag(meta: dict[str, Any], key: str, place: str) -> bool:
    value = meta.get(key, False)
    if not isinstance(value, bool):
        raise NbgraderError(f"{place}: nbgrader `{key}` must be true or false, not {value!r}")
    return value


def _points(value: Any, place: str) -> float:
    """A graded cell's points: a number or a numeric string ("1", v0 files), finite and >= 0."""
    if isinstance(value, bool) or value is None:
        raise NbgraderError(f"{place}: a graded cell needs points (a number), not {value!r}")
    if isinstance(value, str):
        if not value.strip():
            raise NbgraderError(f"{place}: a graded cell's points are blank")
        try:
            number = float(value)
        except ValueError:
            raise NbgraderError(f"{place}: points {value!r} are not a number") from None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise NbgraderError(f"{place}: points {value!r} are not a number")
    if not math.isfinite(number) or number < 0:
        raise NbgraderError(f"{place}: points must be a number >= 0, not {value!r}")
    return number


def cell_role(cell: Any, index: int, notebook: str) -> NbgraderCell | None:
    """The cell's nbgrader role, or None for an ordinary cell (no metadata, or a v0 cell with
    every flag false and no grade id)."""
    meta = cell.get("metadata", {}).get("nbgrader")
    if meta is None:
        return None
    place = where(notebook, index + 1)
    if not isinstance(meta, dict):
        raise NbgraderError(f"{place}: metadata.nbgrader must be an object, not {type(meta).__name__}")
    version = meta.get("schema_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version <= SCHEMA_VERSION:
        raise NbgraderError(
            f"{place}: nbgrader schema_version {version!r} is not one this importer knows "
            f"(0 to {SCHEMA_VERSION})"
        )
    solution, grade = _flag(meta, "solution", place), _flag(meta, "grade", place)
    task, locked = _flag(meta, "task", place), _flag(meta, "locked", place)
    grade_id = meta.get("grade_id")
    if not (solution or grade or task or locked):
        return None  # ordinary: nbgrader's migration drops a grade id such a cell may carry
    if grade_id is not None and (not isinstance(grade_id, str) or not grade_id.strip()):
        raise NbgraderError(f"{place}: grade_id must be a non-empty string, not {grade_id!r}")
    place = where(notebook, index + 1, grade_id)
    if grade_id is None:
        raise NbgraderError(
            f"{place}: an nbgrader cell (solution, graded, task or read-only) has no grade_id"
        )
    if task and (solution or grade):
        raise NbgraderError(f"{place}: a task cell cannot also be a solution or graded cell")
    if task and cell.get("cell_type") != "markdown":
        raise NbgraderError(f"{place}: a task cell must be a markdown cell")
    if grade and not solution and cell.get("cell_type") != "code":
        raise NbgraderError(f"{place}: a test cell (graded, not a solution) must be a code cell")
    points = _points(meta.get("points"), place) if (grade or task) else None
    return NbgraderCell(
        index=index,
        cell_type=str(cell.get("cell_type")),
        grade_id=grade_id,
        solution=solution,
        grade=grade,
        task=task,
        locked=locked,
        points=points,
    )


def read_roles(nb: Any, notebook: str) -> list[NbgraderCell]:
    """Every nbgrader cell of the notebook, in order; duplicate grade ids are an error."""
    roles: list[NbgraderCell] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        role = cell_role(cell, index, notebook)
        if role is None:
            continue
        assert role.grade_id is not None
        if role.grade_id in seen:
            raise NbgraderError(
                f"{where(notebook, role.number, role.grade_id)}: grade_id {role.grade_id!r} is already "
                f"used by cell {seen[role.grade_id]}; grade ids must be unique"
            )
        seen[role.grade_id] = role.number
        roles.append(role)
    return roles
