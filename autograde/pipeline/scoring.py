"""Points: a task earns its points in proportion to the weights of the checks it passes."""

from __future__ import annotations

from autograde.results import TaskResult


def score_task(task: TaskResult) -> float:
    """points * sum(weight * earned) / sum(weight), over the checks that were graded."""
    total = sum(check.weight for check in task.checks)
    if total <= 0:
        return 0.0
    earned = sum(check.weight * check.earned for check in task.checks)
    return round(task.max_points * earned / total, 6)
