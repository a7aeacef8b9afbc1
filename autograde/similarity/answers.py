"""A task's answer: the code of the cells carrying the tags of its checks, as the grader reads
the notebook (format repairs included), IPython's magic and shell lines left out. Kept per
upload in the results folder (students/<id>/answers.json) when it is graded, so that a
similarity check needs no uploads."""

from __future__ import annotations

from pathlib import Path

from autograde.rubric import Assignment


def task_tags(assignment: Assignment) -> dict[str, list[str]]:
    """Task id -> the cell tags of its checks, in order, each once (tasks without tags left out)."""
    found: dict[str, list[str]] = {}
    for task in assignment.rubric.tasks:
        tags = list(dict.fromkeys(check.tag for check in task.checks if check.tag))
        if tags:
            found[task.id] = tags
    return found


def answers_of(path: Path, assignment: Assignment) -> dict[str, str]:
    """Task id -> the code of its answer cells in the notebook at `path` ({} for a file that
    is no readable notebook: the grader's report already says why)."""
    from autograde.errors import AutogradeError
    from autograde.pipeline.ingest import read_notebook
    from autograde.pipeline.preload import without_magics

    try:
        nb = read_notebook(path).nb
    except AutogradeError:
        return {}
    found = {}
    for task, tags in task_tags(assignment).items():
        cells = [cell.source for cell in nb.cells if cell.cell_type == "code"
                 and any(tag in cell.metadata.get("tags", []) for tag in tags)]
        if cells:
            found[task] = "\n\n".join(without_magics(source) for source in cells)
    return found
