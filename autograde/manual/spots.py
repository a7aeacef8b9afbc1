"""Where a hand grade goes: the rubric's manual checks, and their results and answers in a report.

A rubric check ``{kind: manual, cell_tag: ...}`` is a *spot*: `autograde grade` leaves its
result at status `manual` with nothing earned and exports the tagged cell's text into the
report (``GradeReport.manual``); a merged sheet turns it into `graded-by-hand`.
"""

from __future__ import annotations

from dataclasses import dataclass

from autograde.checks.basic import ManualCheck
from autograde.results import CheckResult, GradeReport, TaskResult
from autograde.rubric import Assignment
from autograde.status import CheckStatus

COMMENT_SEP = ". Comment: "  # between the points and the grader's comment in a check's message


@dataclass(frozen=True)
class Spot:
    """One manual check of the rubric, with the share of the task's points it carries."""

    task_id: str
    task_title: str | None
    check_name: str
    cell_tag: str
    max_points: float


def manual_spots(assignment: Assignment) -> list[Spot]:
    spots = []
    for task in assignment.rubric.tasks:
        total = sum(check.weight for check in task.checks)
        for check in task.checks:
            if isinstance(check, ManualCheck):
                share = task.points * check.weight / total if total else 0.0
                spots.append(Spot(task.id, task.title, check.display_name(), check.cell_tag, share))
    return spots


def check_result(report: GradeReport, spot: Spot) -> tuple[TaskResult, CheckResult] | None:
    """The report's result of this manual check, if it has one that a human can grade."""
    for task in report.tasks:
        if task.id != spot.task_id:
            continue
        for check in task.checks:
            status = CheckStatus.known(check.status)
            gradable = status is not None and status.gradable_by_hand
            if check.kind == "manual" and check.name == spot.check_name and gradable:
                return task, check
    return None


def share(task: TaskResult, check: CheckResult) -> float:
    """The part of the task's points the check carries, by the weights `score_task` uses."""
    total = sum(c.weight for c in task.checks)
    return task.max_points * check.weight / total if total > 0 else 0.0


def merged(task: TaskResult, check: CheckResult) -> tuple[str, str]:
    """(points, comment) a hand grade merged earlier left in the check; empty when none."""
    if check.status != CheckStatus.GRADED_BY_HAND:
        return "", ""
    points = check.earned * share(task, check)
    return num(points), check.message.partition(COMMENT_SEP)[2]


def num(value: float) -> str:
    return f"{round(value, 6):.15g}"


def has_answer(report: GradeReport, spot: Spot) -> bool:
    return any(
        a.task == spot.task_id and a.cell_tag == spot.cell_tag and a.source is not None for a in report.manual
    )


def answer(report: GradeReport, spot: Spot) -> str:
    for found in report.manual:
        if found.task == spot.task_id and found.cell_tag == spot.cell_tag:
            if found.source is None:
                return f"[no answer: the notebook has no cell tagged {spot.cell_tag!r}]"
            return found.source
    return f"[no answer: the report holds no answer for the cell tagged {spot.cell_tag!r}]"


def ungraded(reports: dict[str, GradeReport], spots: list[Spot]) -> int:
    """Manual checks, over all reports, that still wait for a hand grade."""
    return sum(
        1
        for report in reports.values()
        for spot in spots
        if (found := check_result(report, spot)) is not None and found[1].status == CheckStatus.MANUAL
    )
