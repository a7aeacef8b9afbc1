"""A regraded submission keeps the hand grades of the answers that did not change."""

from __future__ import annotations

from autograde.lateness.score import rescore
from autograde.pipeline.scoring import score_task
from autograde.results import CheckResult, GradeReport, TaskResult
from autograde.status import CheckStatus


def _manual_checks(task: TaskResult) -> list[CheckResult]:
    return [check for check in task.checks if check.kind == "manual"]


def answers_by_check(report: GradeReport) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(task id, check name) -> (cell tag, answer) of every manual check of the report.

    The judge records a task's answers in the order of its manual checks, so the i-th answer
    of a task belongs to its i-th manual check; a task whose counts differ (a report of
    another grader version) pairs nothing, and its hand grades are asked for again.
    """
    found: dict[tuple[str, str], tuple[str, str | None]] = {}
    for task in report.tasks:
        checks = _manual_checks(task)
        answers = [answer for answer in report.manual if answer.task == task.id]
        if len(checks) != len(answers):
            continue
        for check, answer in zip(checks, answers, strict=True):
            found[(task.id, check.name)] = (answer.cell_tag, answer.source)
    return found


def carry_hand_grades(previous: GradeReport, report: GradeReport) -> list[str]:
    """Give `report` the hand grades of `previous` whose answers did not change.

    Returns notes: which grades were kept, and which answers changed and need grading again.
    """
    old_answers, new_answers = answers_by_check(previous), answers_by_check(report)
    old_checks = {(t.id, c.name): c for t in previous.tasks for c in t.checks}
    notes: list[str] = []
    for task in report.tasks:
        several = len(_manual_checks(task)) > 1
        changed = False
        for check in task.checks:
            key = (task.id, check.name)
            old = old_checks.get(key)
            if check.status != CheckStatus.MANUAL or old is None or old.status != CheckStatus.GRADED_BY_HAND:
                continue
            which = f"{task.id} ({check.name})" if several else task.id
            if key not in new_answers or old_answers.get(key) != new_answers[key]:
                notes.append(f"the answer to {which} changed since it was graded by hand: grade it again")
                continue
            check.status, check.earned, check.message = old.status, old.earned, old.message
            changed = True
            notes.append(f"the hand grade of {which} was kept (the answer did not change)")
        if changed:
            task.points = score_task(task)
    rescore(report)  # the task points, less a late penalty when the report has one
    return notes
