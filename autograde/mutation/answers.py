"""Which cells of a solution are answer code: the tagged code cells whose source differs from
the template's cell of the same tag (what a student writes), and the task each belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograde.checks.basic import ManualCheck
from autograde.errors import AutogradeError
from autograde.rubric import Assignment

SKIPPED_TAGS = {"parameters", "injected-parameters"}


@dataclass(frozen=True)
class AnswerCell:
    index: int  # position in the solution notebook
    tag: str
    source: str
    task: str | None  # the first task whose checks name this tag (None: no check does)


def cell_tags(cell: nbformat.NotebookNode) -> list[str]:
    """The cell's tags, and its nbgrader grade_id (which ingest turns into a tag)."""
    tags = [str(t) for t in cell.get("metadata", {}).get("tags", [])]
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    if grade_id and grade_id not in tags:
        tags.append(str(grade_id))
    return tags


def read(path: Path) -> nbformat.NotebookNode:
    try:
        nb: nbformat.NotebookNode = nbformat.read(path, as_version=4)
    except (OSError, ValueError) as exc:
        raise AutogradeError(f"{path}: cannot read the notebook: {exc}") from exc
    return nb


def _template_sources(template: nbformat.NotebookNode) -> dict[str, str]:
    sources: dict[str, str] = {}
    for cell in template.cells:
        for tag in cell_tags(cell):
            sources.setdefault(tag, cell.source)
    return sources


def task_of_tags(assignment: Assignment) -> tuple[dict[str, str], set[str]]:
    """tag -> the first task whose automatic checks name it; and the tags only manual checks name."""
    owner: dict[str, str] = {}
    manual: set[str] = set()
    for task in assignment.rubric.tasks:
        for check in task.checks:
            if isinstance(check, ManualCheck):
                manual.add(check.cell_tag)
            elif check.tag is not None:
                owner.setdefault(check.tag, task.id)
    return owner, manual - set(owner)


def answer_cells(assignment: Assignment) -> list[AnswerCell]:
    """The solution's answer cells in notebook order (cells only manual checks grade are left out:
    no automatic grade can tell their mutants apart)."""
    solution = read(assignment.path(assignment.rubric.solution))
    template = _template_sources(read(assignment.path(assignment.rubric.template)))
    owner, manual_only = task_of_tags(assignment)
    found = []
    for index, cell in enumerate(solution.cells):
        if cell.cell_type != "code":
            continue
        tags = [t for t in cell_tags(cell) if t not in SKIPPED_TAGS]
        answer = next((t for t in tags if template.get(t) != cell.source), None)
        if answer is None or answer in manual_only:
            continue
        task = next((owner[t] for t in tags if t in owner), None)
        found.append(AnswerCell(index, answer, cell.source, task))
    return found
