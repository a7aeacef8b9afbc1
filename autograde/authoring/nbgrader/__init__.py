"""`autograde import nbgrader`: one nbgrader source notebook -> one assignment folder (a `Draft`).

The template is nbgrader's release of the notebook (release.py); the rubric has one
task per graded cell, in notebook order, its id the cell's grade id, its points as stored:
- a test cell (graded, not an answer): a `test_code` check running the cell's code after the
  notebook; with hidden tests, a public check (the code the student sees) and a hidden one
  (the full code), all or nothing as nbgrader grades a test cell; its `tag` is the answer cell
  it follows;
- a manually graded answer, and a task cell: a `manual` check on that cell;
- `locked:` the read-only and test cells (nbgrader restores them before grading);
- `files:` the other files of the notebook's folder.
A test cell with nbgrader's `### AUTOTEST` directives (expanded by nbgrader from
autotests.yml at release; not implemented here) gives no task: its directive lines are
reported, never run, and its points are named in a note. A notebook with no graded cell
(a practice notebook) gets one 0-point task per answer cell, checking that the names its
solution assigns exist.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograde.authoring.draft import Draft
from autograde.authoring.markers import NBGRADER_STUB
from autograde.authoring.nbgrader.cells import NbgraderCell, NbgraderError, read_notebook, read_roles, where
from autograde.authoring.nbgrader.files import imported_modules, provided, support_files
from autograde.authoring.nbgrader.release import TEXT_STUB, ReleasedCell, compiles, release_cell, shaped


def task_id(grade_id: str, used: set[str]) -> str:
    """A grade id made a valid task id (letters, digits, underscores; unique in the rubric)."""
    base = re.sub(r"\W+", "_", grade_id, flags=re.ASCII).strip("_") or "cell"
    if base[0].isdigit():
        base = f"c_{base}"
    name, number = base, 2
    while name in used:
        name, number = f"{base}_{number}", number + 1
    used.add(name)
    return name


def _points(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _stub_lines(code_stub: str | Sequence[str] | None) -> tuple[str, ...]:
    if code_stub is None:
        return NBGRADER_STUB
    if isinstance(code_stub, str):
        return tuple(code_stub.replace("\r\n", "\n").split("\n"))
    return tuple(code_stub)


def _test_task(cell: ReleasedCell, ident: str, answer: str | None) -> dict[str, Any]:
    role, tests = cell.role, cell.tests
    assert tests is not None and role.grade_id is not None and role.points is not None
    extra = {"tag": answer} if answer else {}
    checks: list[dict[str, Any]] = []
    task: dict[str, Any] = {
        "id": ident,
        "title": f"test cell {role.grade_id}",
        "points": _points(role.points),
    }
    if tests.hidden_regions:
        task["all_or_nothing"] = True
        checks.append(
            {"kind": "test_code", "name": f"{role.grade_id} (public)", "code": tests.public, **extra}
        )
        checks.append(
            {
                "kind": "test_code",
                "name": f"{role.grade_id} (hidden)",
                "code": tests.full,
                "visible": "hidden",
                **extra,
            }
        )
    else:
        checks.append({"kind": "test_code", "name": role.grade_id, "code": tests.full, **extra})
    task["checks"] = checks
    return task


def _manual_task(role: NbgraderCell, ident: str) -> dict[str, Any]:
    assert role.grade_id is not None and role.points is not None
    what = "task" if role.task else f"manually graded {role.cell_type} answer"
    return {
        "id": ident,
        "title": f"{what} {role.grade_id}",
        "points": _points(role.points),
        "checks": [{"kind": "manual", "cell_tag": role.grade_id, "name": role.grade_id}],
    }


def _practice_tasks(released: list[ReleasedCell], used: set[str], notebook: str) -> list[dict[str, Any]]:
    tasks = []
    for cell in released:
        role = cell.role
        if not (role.solution and role.cell_type == "code" and cell.answer_names):
            continue
        assert role.grade_id is not None
        checks = [
            {"kind": "exists", "target": name, "weight": 1, "tag": role.grade_id}
            for name in cell.answer_names
        ]
        tasks.append(
            {
                "id": task_id(role.grade_id, used),
                "title": f"practice: answer cell {role.grade_id} (nbgrader grades nothing here)",
                "points": 0,
                "checks": checks,
            }
        )
    if not tasks:
        raise NbgraderError(
            f"{notebook}: nothing to grade: no graded, task or answer cell with a solution region"
        )
    return tasks


def _rubric_tasks(released: list[ReleasedCell], notebook: str, notes: list[str]) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    used: set[str] = set()
    answer: str | None = None
    for cell in released:
        role = cell.role
        place = where(notebook, role.number, role.grade_id)
        assert role.grade_id is not None
        if role.solution:
            answer = role.grade_id
        if role.is_test and cell.autotest_lines:
            lines = ", ".join(str(n) for n in cell.autotest_lines)
            plural = "s" if len(cell.autotest_lines) > 1 else ""
            worth = _points(role.points or 0)
            notes.append(
                f"{place}: line{plural} {lines}: nbgrader's `### AUTOTEST` / `### HASHED AUTOTEST` "
                "directives are not supported (nbgrader expands them from autotests.yml at release); "
                "they are comments here and never run, so this test cell gives no task "
                f"({worth} point{'' if worth == 1 else 's'} left out); write its asserts out and import again"
            )
            continue
        if role.is_test:
            tasks.append(_test_task(cell, task_id(role.grade_id, used), answer))
        elif role.is_manual or role.task:
            tasks.append(_manual_task(role, task_id(role.grade_id, used)))
    if not tasks:
        tasks = _practice_tasks(released, used, notebook)
        notes.append(
            f"{notebook}: no graded cell: each answer cell became a 0-point practice task checking "
            "that the names its solution assigns exist"
        )
    return tasks


def _notes_on_code(released: list[ReleasedCell], files: dict[str, bytes], notebook: str) -> list[str]:
    notes: list[str] = []
    for cell in released:
        role = cell.role
        place = where(notebook, role.number, role.grade_id)
        if (
            role.solution
            and role.cell_type == "code"
            and compiles(cell.solution)
            and not compiles(cell.student)
        ):
            notes.append(
                f"{place}: the student's version of this answer cell does not compile (the stub lands "
                "where Python expects other code, e.g. at column 0 inside a loop); nbgrader releases it "
                "the same way: indent its BEGIN SOLUTION line"
            )
        if role.is_test:
            missing = [m for m in imported_modules(cell.solution) if not provided(m, files)]
            for module in missing:
                notes.append(
                    f"{place}: the test imports `{module}`, which is neither beside the notebook nor "
                    "installed here; the test fails unless the grading environment has it"
                )
    return notes


def import_nbgrader(
    source: Path,
    assignment: str,
    code_stub: str | Sequence[str] | None = None,
    text_stub: str | None = None,
) -> Draft:
    """The assignment folder made from one nbgrader source notebook (see the module docstring).
    `code_stub` / `text_stub` are nbgrader's `ClearSolutions.code_stub` / `text_stub`."""
    if not source.is_file():
        raise NbgraderError(f"{source}: not a file")
    name = source.name
    nb = read_notebook(source)
    roles = {role.index: role for role in read_roles(nb, name)}
    stub = _stub_lines(code_stub)
    template, solution = copy.deepcopy(nb), copy.deepcopy(nb)
    template.cells, solution.cells = [], []
    released: list[ReleasedCell] = []
    for index, cell in enumerate(nb.cells):
        role = roles.get(index)
        made = release_cell(
            cell, index + 1, role, name, stub, text_stub if text_stub is not None else TEXT_STUB
        )
        if made is not None:
            released.append(made)
        template.cells.append(shaped(cell, role, made.student if made else None))
        solution.cells.append(shaped(cell, role, made.solution if made else None))
    for version in (template, solution):
        version.metadata.pop("widgets", None)
    notes: list[str] = []
    tasks = _rubric_tasks(released, name, notes)
    files, file_notes = support_files(source.parent, name)
    notes += file_notes + _notes_on_code(released, files, name)
    notes.append(
        f"{name}: nbgrader notebooks have no `parameters` cell; the grader injects its parameters at "
        "the top of the notebook (none are declared)"
    )
    rubric: dict[str, Any] = {
        "schema": 1,
        "assignment": assignment,
        "title": f"{source.stem} (imported from nbgrader)",
    }
    if files:
        rubric["files"] = sorted(files)
    locked = [r.role.grade_id for r in released if r.role.read_only and r.role.grade_id]
    if locked:
        rubric["locked"] = locked
    rubric["tasks"] = tasks
    return Draft(
        assignment=assignment,
        rubric=rubric,
        template=template,
        solution=solution,
        source=f"nbgrader notebook {name}",
        files=files,
        notes=notes,
    )
