"""A report's late block as text, for every reporter: the lines of the feedback pages and
Gradescope's output, the columns of the gradebooks, the table of the class page."""

from __future__ import annotations

from datetime import timedelta

from autograde.lateness.policy import duration_text
from autograde.results import GradeReport, LateBlock

# the columns grades.csv and lms.csv add when a deadline is in force
COLUMNS = ["raw_total", "late_by", "late_penalty", "submitted_at", "time_source"]


def num(value: float) -> str:
    return f"{value:g}"


def late_by(late: LateBlock) -> str:
    """`1d 12h`, `on time`, `unknown`."""
    if late.late_seconds is None:
        return "unknown"
    if late.late_seconds <= 0:
        return "on time"
    return duration_text(timedelta(seconds=late.late_seconds))


def penalty(report: GradeReport) -> str:
    """`-2 points (20% of the raw score 10)`, or `none`."""
    late = report.late
    if late is None or late.points <= 0:
        return "none"
    of = f"of the raw score {num(report.raw_score or 0)}" if late.base == "score" else "of the maximum"
    return f"-{num(late.points)} points ({num(round(late.fraction * 100, 4))}% {of})"


def lines(report: GradeReport) -> list[tuple[str, str]]:
    """(label, text) of the late block, in order; [] without one."""
    late = report.late
    if late is None:
        return []
    deadline = late.deadline + (f", extended: {late.extension}" if late.extension else "")
    found = [
        ("Submitted", f"{late.submitted_at or 'unknown'} ({late.source_text})"),
        ("Deadline in force", deadline),
        ("Lateness", late.verdict),
        ("Late policy", late.policy),
        ("Penalty", penalty(report)),
        ("Raw score", f"{num(report.raw_score or 0)} / {num(report.max_score)} (before the penalty)"),
    ]
    found.extend(("Note", note) for note in late.notes)
    return found


def summary(report: GradeReport) -> str:
    """One line: `late by 1d 12h: -2 points` (the Moodle comment, the console)."""
    late = report.late
    if late is None:
        return ""
    if late.points > 0:
        return f"late {late_by(late)}: -{num(late.points)} points (raw {num(report.raw_score or 0)})"
    return "on time" if late.late is False else f"lateness {late_by(late)}: no penalty"


def short(report: GradeReport) -> str:
    """A table cell: `-2 (1d 12h)`, `on time`, `unknown`."""
    late = report.late
    if late is None:
        return ""
    if late.points > 0:
        return f"-{num(late.points)} ({late_by(late)})"
    return late_by(late) if late.late is not True else f"0 ({late_by(late)})"


def any_late(reports: list[GradeReport]) -> bool:
    return any(report.late is not None for report in reports)


def cells(report: GradeReport) -> list[str]:
    """The values of `COLUMNS` for one report (empty for a report without a late block)."""
    late = report.late
    if late is None:
        return [num(report.score), "", "", "", ""]
    raw = report.raw_score if report.raw_score is not None else report.score
    return [num(raw), late_by(late), num(late.points), late.submitted_at or "", late.source]


def class_section(reports: list[GradeReport]) -> str:
    """The class page's "Deadline" section: every report with a late block, the late first
    (escaped HTML); "" when no deadline is in force."""
    import html
    from urllib.parse import quote

    from autograde.reporters.html import student_folder

    with_late = [r for r in reports if r.late is not None]
    if not with_late:
        return ""

    def esc(text: object) -> str:
        return html.escape(str(text), quote=True)

    policies = sorted({r.late.policy for r in with_late if r.late is not None})
    late = sum(bool(r.late and r.late.late) for r in with_late)
    unknown = sum(bool(r.late and r.late.late is None) for r in with_late)
    parts = [
        '<h2>Deadline</h2>\n',
        f'<p class="muted">Late policy {esc(", ".join(policies))}: {late} late, {unknown} with an unknown '
        f"submission time, of {len(with_late)} submission(s). Scores above are after the penalty.</p>\n",
        '<table id="late-table">\n<thead><tr><th>Student</th><th>Submitted</th><th>Time from</th>'
        '<th>Deadline in force</th><th>Late by</th><th class="num">Raw</th><th class="num">Penalty</th>'
        '<th class="num">Score</th></tr></thead>\n<tbody>\n',
    ]

    def order(report: GradeReport) -> tuple[float, str]:
        seconds = report.late.late_seconds if report.late else None
        return (-(seconds if seconds is not None else float("inf")), report.student)

    for report in sorted(with_late, key=order):
        block = report.late
        assert block is not None
        href = f"students/{quote(student_folder(report.student))}/feedback.html"
        raw = report.raw_score if report.raw_score is not None else report.score
        parts.append(
            f'<tr><td><a href="{esc(href)}">{esc(report.student)}</a></td>'
            f"<td>{esc(block.submitted_at or 'unknown')}</td><td>{esc(block.source)}</td>"
            f"<td>{esc(block.deadline)}{' (extended)' if block.extension else ''}</td>"
            f"<td>{esc(late_by(block))}</td><td class=\"num\">{num(raw)}</td>"
            f'<td class="num">{num(block.points)}</td><td class="num">{num(report.score)}</td></tr>\n'
        )
    parts.append("</tbody>\n</table>\n")
    return "".join(parts)
