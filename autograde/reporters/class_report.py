"""The class report: how a whole batch did, for the instructor, as one self-contained page.

Scores (counts, mean, median, min, max, histogram) cover every submission, an ungraded one
counting with the score it got (0). Per-task numbers cover graded submissions only, so a
broken upload does not make every task look hard. Failure kinds count the checks of all
submissions whose status counts as a failure (`CheckStatus.is_failure`: not a pass, not a
manual check waiting for a person or graded by one).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

from autograde.history.diff import RunDiff
from autograde.reporters.charts import bar_chart_svg, histogram_svg
from autograde.reporters.html import esc, page, student_folder
from autograde.reporters.late import class_section as late_section
from autograde.reporters.run_changes import changes_html
from autograde.results import GradeReport
from autograde.rubric import Assignment
from autograde.status import CheckStatus, SubmissionStatus

MISSING = "missing function"
# the failure kinds always shown, in this order; statuses outside the vocabulary follow
FAILURE_KINDS = (MISSING, *(status.value for status in CheckStatus if status.is_failure))
_EPS = 1e-9


@dataclass
class TaskStats:
    id: str
    title: str | None
    max_points: float
    visible: str
    graded: int  # graded submissions the numbers are over
    mean_points: float = 0.0
    full_marks: float = 0.0  # fraction of graded submissions with all the task's points
    mean_lost: float = 0.0  # mean fraction of the task's points lost


@dataclass
class ClassStats:
    students: int
    statuses: dict[str, int]
    scores: list[float]
    graded_scores: list[float]
    tasks: list[TaskStats]
    failures: dict[str, int]
    other_rubric: list[str] = field(default_factory=list)  # graded with another rubric digest


def failure_kind(kind: str, status: str) -> str | None:
    """The failure-kind bucket of one check, or None when it is no failure (a pass, a manual
    check waiting for a person or graded by one)."""
    known = CheckStatus.known(status)
    if known is None:
        return status  # kept apart under its own name, never hidden
    if not known.is_failure:
        return None
    if kind == "exists" and known is CheckStatus.FAIL:
        return MISSING
    return known.value


def class_stats(reports: list[GradeReport], assignment: Assignment) -> ClassStats:
    statuses = Counter(report.status for report in reports)
    graded_status = SubmissionStatus.GRADED.value
    ordered = {graded_status: statuses.pop(graded_status, 0), **dict(sorted(statuses.items()))}
    graded = [report for report in reports if report.status == SubmissionStatus.GRADED]
    tasks: list[TaskStats] = []
    for spec in assignment.rubric.tasks:
        stats = TaskStats(spec.id, spec.title, spec.points, spec.visible, len(graded))
        if graded:
            points = []
            for report in graded:
                found = next((t for t in report.tasks if t.id == spec.id), None)
                points.append(found.points if found else 0.0)
            stats.mean_points = statistics.fmean(points)
            stats.full_marks = sum(p >= spec.points - _EPS for p in points) / len(points)
            if spec.points > 0:  # a task of 0 points loses nothing
                stats.mean_lost = 1.0 - statistics.fmean(min(p / spec.points, 1.0) for p in points)
        tasks.append(stats)
    failures = dict.fromkeys(FAILURE_KINDS, 0)
    for report in reports:
        for task in report.tasks:
            for check in task.checks:
                bucket = failure_kind(check.kind, check.status)
                if bucket is not None:
                    failures[bucket] = failures.get(bucket, 0) + 1
    other = sorted(
        r.student for r in reports if r.rubric_digest is not None and r.rubric_digest != assignment.digest
    )
    return ClassStats(
        students=len(reports),
        statuses=ordered,
        scores=[r.score for r in reports],
        graded_scores=[r.score for r in graded],
        tasks=tasks,
        failures=failures,
        other_rubric=other,
    )


def _two(value: float) -> str:
    return f"{value:.2f}"


def _summary_row(label: str, scores: list[float]) -> str:
    if not scores:
        cells = '<td class="num">&ndash;</td>' * 4
    else:
        cells = "".join(
            f'<td class="num">{_two(v)}</td>'
            for v in (statistics.fmean(scores), statistics.median(scores), min(scores), max(scores))
        )
    return f"<tr><th>{esc(label)}</th>{cells}</tr>\n"


def class_body(reports: list[GradeReport], assignment: Assignment, changes: RunDiff | None = None) -> str:
    stats = class_stats(reports, assignment)
    rubric = assignment.rubric
    max_points = rubric.max_points
    parts = [
        f"<h1>Class report: {esc(rubric.title)}</h1>\n",
        '<dl class="meta">\n',
        f"<dt>Assignment</dt><dd>{esc(assignment.id)}</dd>\n",
        f"<dt>Maximum</dt><dd>{max_points:g} points</dd>\n",
        f"<dt>Rubric</dt><dd>{esc(assignment.digest)}</dd>\n",
        "</dl>\n",
    ]
    if stats.other_rubric:
        parts.append(
            f'<div class="note">{len(stats.other_rubric)} report(s) were graded with another version of '
            f"the rubric: {esc(', '.join(stats.other_rubric))}</div>\n"
        )
    if changes is not None:
        parts.append(changes_html(changes))
    parts.append('<h2>Submissions</h2>\n<table id="counts">\n<tbody>\n')
    parts.append(f'<tr><th>students</th><td class="num" data-count="students">{stats.students}</td></tr>\n')
    for status, count in stats.statuses.items():
        parts.append(
            f'<tr><th>{esc(status)}</th><td class="num" data-count="{esc(status)}">{count}</td></tr>\n'
        )
    parts.append("</tbody>\n</table>\n")
    parts.append(
        '<h2>Scores</h2>\n<table id="score-summary">\n<thead><tr><th></th><th class="num">mean</th>'
        '<th class="num">median</th><th class="num">min</th><th class="num">max</th></tr></thead>\n<tbody>\n'
    )
    parts.append(_summary_row(f"all submissions ({len(stats.scores)})", stats.scores))
    parts.append(_summary_row(f"graded only ({len(stats.graded_scores)})", stats.graded_scores))
    parts.append("</tbody>\n</table>\n")
    parts.append(
        "<figure>\n"
        + histogram_svg(stats.scores, max_points, f"Score distribution ({len(stats.scores)} submissions)")
        + "\n<figcaption>Scores of all submissions in ten equal bins from 0 to "
        + f"{max_points:g} points.</figcaption>\n</figure>\n"
    )
    parts.append(
        f'<h2>Tasks</h2>\n<p class="muted">Over the {len(stats.graded_scores)} graded submission(s).</p>\n'
        '<table id="task-table">\n<thead><tr><th>Task</th><th>Title</th><th class="num">mean points</th>'
        '<th class="num">max</th><th class="num">mean %</th><th class="num">% full marks</th>'
        "</tr></thead>\n<tbody>\n"
    )
    for task in stats.tasks:
        hidden = ' <span class="tag">hidden</span>' if task.visible == "hidden" else ""
        parts.append(
            f'<tr data-task="{esc(task.id)}"><td>{esc(task.id)}{hidden}</td><td>{esc(task.title or "")}</td>'
            f'<td class="num">{_two(task.mean_points)}</td><td class="num">{task.max_points:g}</td>'
            f'<td class="num">{100 * (1 - task.mean_lost):.1f}</td>'
            f'<td class="num">{100 * task.full_marks:.1f}</td></tr>\n'
        )
    parts.append("</tbody>\n</table>\n")
    hardest = sorted(stats.tasks, key=lambda t: (-t.mean_lost, t.id))
    parts.append(
        "<figure>\n"
        + bar_chart_svg(
            [(t.id, t.mean_lost) for t in hardest],
            "Points lost per task (mean fraction of the task's points)",
            "chart-lost",
            scale=1.0,
            percent=True,
        )
        + "\n<figcaption>Tasks the class found hardest first.</figcaption>\n</figure>\n"
    )
    parts.append("<h2>Why checks did not pass</h2>\n")
    parts.append(
        "<figure>\n"
        + bar_chart_svg(list(stats.failures.items()), "Failure kinds (checks)", "chart-failures")
        + f"\n<figcaption>Checks that did not pass, by status; &ldquo;{MISSING}&rdquo; counts the "
        "<code>exists</code> checks that failed (a name the notebook does not define).</figcaption>\n"
        "</figure>\n"
    )
    parts.append(
        '<h2>Students</h2>\n<table id="students">\n<thead><tr><th>Student</th><th>Status</th>'
        '<th class="num">Score</th><th class="num">Max</th></tr></thead>\n<tbody>\n'
    )
    for report in sorted(reports, key=lambda r: r.student):
        href = f"students/{quote(student_folder(report.student))}/feedback.html"
        parts.append(
            f'<tr><td><a href="{esc(href)}">{esc(report.student)}</a></td><td>{esc(report.status)}</td>'
            f'<td class="num">{report.score:g}</td><td class="num">{report.max_score:g}</td></tr>\n'
        )
    parts.append("</tbody>\n</table>\n")
    parts.append(late_section(reports))  # the deadline, when one is in force (autograde.lateness)
    return "".join(parts)


def class_html(reports: list[GradeReport], assignment: Assignment, changes: RunDiff | None = None) -> str:
    """A self-contained class report page (inline CSS and SVG charts, no script); `changes`:
    what the last run changed, shown first."""
    return page(f"Class report: {assignment.id}", class_body(reports, assignment, changes))
