"""The self-check cells of a student template: after the last answer cell of each public
task, a cell that runs that task's public checks with `autograde.student` (when installed).

Shared by `autograde assign` and the library's notebook builder (rubrics/_nbtools.py), so
both give templates the same cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SELF_CHECK = """
# Optional self-check of this task: the public checks, run on what this notebook defines.
# It needs `pip install autograde-notebooks` and the assignment's .check file beside the notebook.
try:
    from autograde import student
except ImportError:
    print("to check this task here: pip install autograde-notebooks")
else:
    student.check({task!r})
"""


def self_check_source(task: str) -> str:
    """The source of the self-check cell of `task` (no leading or trailing newline)."""
    return SELF_CHECK.format(task=task).strip("\n")


def public_tasks(rubric: dict[str, Any]) -> list[tuple[str, set[str]]]:
    """(task id, the tags of its public checks) for every task a self-check can check, from
    the rubric's plain data."""
    found = []
    for task in rubric["tasks"]:
        if task.get("visible", "public") == "hidden":
            continue
        tags = {c["tag"] for c in task["checks"] if c.get("tag") and c.get("visible", "public") != "hidden"}
        if tags:
            found.append((task["id"], tags))
    return found


def self_check_places(
    cell_tags: Sequence[Sequence[str]], tasks: Sequence[tuple[str, set[str]]]
) -> dict[int, str]:
    """Cell index -> the task whose self-check cell follows it: the last cell carrying one of
    the task's tags."""
    last: dict[int, str] = {}
    for task_id, tags in tasks:
        found = [index for index, cell in enumerate(cell_tags) if tags & set(cell)]
        if found:
            last[max(found)] = task_id
    return last
