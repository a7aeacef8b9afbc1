"""Read-only cells (the rubric's top-level `locked`), restored before grading as nbgrader
restores its locked cells: a submission's cell with a locked tag gets the template's source
back when it was edited, and a deleted one is put back where the template has it.

Cells match by tag; an nbgrader cell's `grade_id` counts as its tag (`tag_grade_ids`, at
ingest and on the template).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import nbformat

from autograde.errors import RubricError
from autograde.pipeline.ingest import Submission, tag_grade_ids
from autograde.rubric import Assignment


def _tags(cell: Any) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def read_template(assignment: Assignment) -> Any:
    path = assignment.path(assignment.rubric.template)
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError) as exc:
        raise RubricError(f"{path}: cannot read the template for its locked cells: {exc}") from exc
    tag_grade_ids(nb)
    return nb


def locked_cells(assignment: Assignment, template: Any | None = None) -> dict[str, int]:
    """Each locked tag -> the index of its cell in the template; a RubricError names the rubric
    and a tag no template cell carries."""
    nb = template if template is not None else read_template(assignment)
    found: dict[str, int] = {}
    for tag in assignment.rubric.locked:
        index = next((i for i, cell in enumerate(nb.cells) if tag in _tags(cell)), None)
        if index is None:
            raise RubricError(
                f"{assignment.folder / 'rubric.yaml'}: locked: tag {tag!r} is on no cell of "
                f"{assignment.rubric.template}"
            )
        found[tag] = index
    return found


def _same_cell(template_cell: Any, cell: Any) -> bool:
    """Whether a submission's cell is that template cell: the same cell id or a shared tag."""
    cell_id = template_cell.get("id")
    if cell_id and cell.get("id") == cell_id:
        return True
    return bool((set(_tags(template_cell)) - {"parameters"}) & set(_tags(cell)))


def restore_locked(sub: Submission, assignment: Assignment) -> None:
    """Put the template's locked cells back into the submission, each with a note."""
    if not assignment.rubric.locked:
        return
    template = read_template(assignment)
    cells = sub.nb.cells
    for tag, t_index in locked_cells(assignment, template).items():
        original = template.cells[t_index]
        mine = [cell for cell in cells if tag in _tags(cell)]
        if mine:
            for cell in mine:
                if cell.source != original.source or cell.cell_type != original.cell_type:
                    cell.source = original.source
                    cell.cell_type = original.cell_type
                    sub.notes.append(f"cell '{tag}' is read-only; your edits were undone before grading")
            continue
        restored = copy.deepcopy(original)
        restored.pop("id", None)
        if any("id" in cell for cell in cells):  # nbformat 4.5: every cell has a unique id
            restored["id"] = uuid.uuid4().hex[:8]
        if restored.cell_type == "code":
            restored.outputs, restored.execution_count = [], None
        at = min(t_index, len(cells))
        for before in reversed(template.cells[:t_index]):
            where = next((i for i, cell in enumerate(cells) if _same_cell(before, cell)), None)
            if where is not None:
                at = where + 1
                break
        cells.insert(at, restored)
        sub.notes.append(f"cell '{tag}' is read-only and was missing; the template's cell was put back")
