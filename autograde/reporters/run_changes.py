"""A diff of two runs (`autograde.history.diff.RunDiff`) as text: the class page's section,
the console's table and the JSON of `autograde diff --json`."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from autograde.history.diff import RunDiff, StudentChange
from autograde.reporters.html import esc


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _delta(change: StudentChange) -> str:
    if change.before is None or change.after is None:
        return ""
    return f"{change.delta:+g}"


def _status_text(before: str | None, after: str | None) -> str:
    return f"{before or 'absent'} -> {after or 'absent'}"


def run_title(diff: RunDiff) -> str:
    return (f"run {diff.before.number} ({diff.before.kind}, {diff.before.finished:%Y-%m-%d %H:%M} UTC) -> "
            f"run {diff.after.number} ({diff.after.kind}, {diff.after.finished:%Y-%m-%d %H:%M} UTC)")


def changes_summary(diff: RunDiff) -> str:
    """One line: how many scores and results changed."""
    scores = len(diff.scores_changed)
    others = len(diff.changes) - scores
    line = f"{scores} score(s) changed"
    if others:
        line += f", {others} other result(s) changed with the same score"
    return f"{line}, {diff.unchanged} unchanged ({run_title(diff)})"


def changes_table(diff: RunDiff, limit: int | None = None) -> Table:
    """Per student: the scores, the change, the checks whose status changed and why."""
    table = Table(title=f"Changes: {run_title(diff)}", title_justify="left")
    for name, justify in (("student", "left"), ("before", "right"), ("after", "right"), ("change", "right"),
                          ("checks changed", "left"), ("why", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    shown = diff.changes if limit is None else diff.changes[:limit]
    for change in shown:
        checks = "\n".join(f"{c.check}: {_status_text(c.before, c.after)}" for c in change.checks)
        if change.status_before != change.status_after:
            checks = f"upload: {_status_text(change.status_before, change.status_after)}\n{checks}".strip()
        table.add_row(Text(change.student), _score(change.before), _score(change.after), _delta(change),
                      Text(checks), Text("; ".join(change.reasons)))
    if limit is not None and len(diff.changes) > limit:
        table.caption = f"{len(diff.changes) - limit} more: autograde diff"
    return table


def changes_json(diff: RunDiff) -> dict[str, Any]:
    return {
        "from": diff.before.number,
        "to": diff.after.number,
        "unchanged": diff.unchanged,
        "changes": [
            {
                "student": c.student,
                "before": c.before,
                "after": c.after,
                "change": None if c.before is None or c.after is None else round(c.delta, 6),
                "max_score": c.max_score,
                "status_before": c.status_before,
                "status_after": c.status_after,
                "reasons": c.reasons,
                "checks": [{"check": k.check, "before": k.before, "after": k.after, "message": k.message}
                           for k in c.checks],
            }
            for c in diff.changes
        ],
    }


def changes_html(diff: RunDiff) -> str:
    """The class page's section on what the last run changed (every value escaped)."""
    parts = [
        '<h2>Changes in the last run</h2>\n',
        f'<p class="muted" id="changes-summary">{esc(changes_summary(diff))}</p>\n',
    ]
    if not diff.changes:
        return "".join(parts)
    parts.append(
        '<table id="changes">\n<thead><tr><th>Student</th><th class="num">before</th>'
        '<th class="num">after</th><th class="num">change</th><th>checks changed</th><th>why</th>'
        "</tr></thead>\n<tbody>\n"
    )
    for change in diff.changes:
        checks = "".join(
            f"<li>{esc(c.check)}: {esc(_status_text(c.before, c.after))}</li>" for c in change.checks
        )
        if change.status_before != change.status_after:
            upload = _status_text(change.status_before, change.status_after)
            checks = f"<li>upload: {esc(upload)}</li>{checks}"
        parts.append(
            f'<tr data-student="{esc(change.student)}"><td>{esc(change.student)}</td>'
            f'<td class="num">{esc(_score(change.before))}</td>'
            f'<td class="num">{esc(_score(change.after))}</td>'
            f'<td class="num">{esc(_delta(change))}</td><td><ul class="plain">{checks}</ul></td>'
            f"<td>{esc('; '.join(change.reasons))}</td></tr>\n"
        )
    parts.append("</tbody>\n</table>\n")
    return "".join(parts)
