"""Per-student feedback in Markdown. Everything a student controls is escaped."""

from __future__ import annotations

import html

from autograde.reporters import late as late_text
from autograde.results import GradeReport
from autograde.runner.protocol import CellStatus
from autograde.status import CheckStatus


def esc(text: object) -> str:
    """Escape HTML and the Markdown characters that could forge structure."""
    escaped = str(text)
    for char in "\\`*_[]|#":
        escaped = escaped.replace(char, "\\" + char)
    return html.escape(escaped, quote=False).replace("\n", " ")


def feedback_markdown(report: GradeReport, include_hidden: bool = True) -> str:
    lines = [
        f"# Feedback: {esc(report.assignment)}",
        "",
        f"- Student: {esc(report.student)} ({esc(report.file)})",
        f"- Status: {esc(report.status)}",
        f"- Score: **{report.score:g} / {report.max_score:g}**",
    ]
    if report.late is not None:
        lateness, penalty = late_text.late_by(report.late), late_text.penalty(report)
        lines.append(f"- Late: {esc(lateness)}; penalty {esc(penalty)}")
    lines.append("")
    if report.late is not None:
        lines.extend(["## Deadline", ""])
        lines.extend(f"- {label}: {esc(text)}" for label, text in late_text.lines(report))
        lines.append("")
    for note in report.notes:
        lines.append(f"> Note: {esc(note)}")
    if report.notes:
        lines.append("")
    for task in report.tasks:
        lines.append(
            f"## {esc(task.id)}: {task.points:g} / {task.max_points:g}"
            + (f" ({esc(task.title)})" if task.title else "")
        )
        lines.append("")
        for check in task.checks:
            if check.visible == "hidden" and not include_hidden:
                continue
            hidden = " (hidden)" if check.visible == "hidden" else ""
            lines.append(
                f"- {esc(CheckStatus.label_of(check.status))} {esc(check.name)}{hidden}: "
                f"{esc(check.message)}"
            )
        lines.append("")
    problems = [c for c in report.cells if c.get("status") not in (CellStatus.OK, None)]
    if problems:
        lines.append("## Cells that did not run cleanly")
        lines.append("")
        for cell in problems:
            detail = " ".join(
                str(x)
                for x in (cell.get("ename"), cell.get("evalue"), cell.get("line"), cell.get("note"))
                if x
            )
            lines.append(f"- cell {cell.get('number')}: {esc(cell.get('status'))} {esc(detail)}")
        lines.append("")
    if report.manual:
        lines.append("## Answers for manual grading")
        lines.append("")
        for answer in report.manual:
            lines.append(f"### {esc(answer.task)} (cell tagged `{esc(answer.cell_tag)}`)")
            lines.append("")
            if answer.source is None:
                lines.append("_No cell carries this tag._")
            else:
                # an indented code block: shown verbatim, inert, and no line can leave it
                lines.extend("    " + line for line in answer.source.splitlines())
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
