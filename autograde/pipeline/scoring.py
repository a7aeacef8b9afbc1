"""Points: a task earns its points in proportion to the weights of the checks it passes, or,
all or nothing, its full points only when every weighted check passes."""

from __future__ import annotations

from autograde.results import TaskResult

_EPS = 1e-9


def score_task(task: TaskResult) -> float:
    """points * sum(weight * earned) / sum(weight), over the checks that were graded; 0 for a
    task of 0 points or without weighted checks. All or nothing: the points, or 0."""
    weighted = [check for check in task.checks if check.weight > 0]
    total = sum(check.weight for check in weighted)
    if total <= 0 or task.max_points <= 0:
        return 0.0
    if task.all_or_nothing:
        return float(task.max_points) if all(check.earned >= 1 - _EPS for check in weighted) else 0.0
    earned = sum(check.weight * check.earned for check in weighted)
    return round(task.max_points * earned / total, 6)
