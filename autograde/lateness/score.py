"""The one function that turns task points and a late block into the final score: idempotent,
so a rerun, a report reused from the journal or a hand-grade merge never loses a penalty or
applies it twice. `autograde.lateness.apply` (every batch run) and `autograde.manual` (a
merge, hand grades carried to a regraded report) score through it."""

from __future__ import annotations

from autograde.results import GradeReport


def rescore(report: GradeReport) -> None:
    """score = the task points, less the late block's deduction (of the raw score or of the
    maximum, never below 0); `raw_score` keeps the task points. Without a late block the score
    is the task points and `raw_score` is None."""
    raw = round(sum(task.points for task in report.tasks), 6)
    late = report.late
    if late is None:
        report.raw_score = None
        report.score = raw
        return
    base = raw if late.base == "score" else report.max_score
    late.points = round(min(raw, max(0.0, late.fraction * base)), 6)
    report.raw_score = raw
    report.score = round(raw - late.points, 6)
