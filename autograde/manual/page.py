"""manual/sheet.html: per manual check its question, then every student's answer, for reading."""

from __future__ import annotations

import html

from autograde.manual.spots import answer, check_result, has_answer, manual_spots, merged, num, share
from autograde.reporters.html import page
from autograde.results import GradeReport
from autograde.rubric import Assignment

CSS = """
body { font-family: sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
section { margin-bottom: 3em; }
.question { background: #f4f4f4; border-left: 4px solid #888; padding: .5em 1em; white-space: pre-wrap; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: .4em; vertical-align: top; text-align: left; }
td.student { width: 12em; font-weight: bold; }
td.points { width: 8em; }
pre.answer { white-space: pre-wrap; margin: 0; font-family: inherit; }
.missing { color: #a00; font-style: italic; }
"""


def question(assignment: Assignment, cell_tag: str) -> str | None:
    """The template's markdown cell right before the cell tagged `cell_tag`, if there is one."""
    import nbformat

    try:
        nb = nbformat.read(assignment.path(assignment.rubric.template), as_version=4)
    except Exception:  # no template, or a broken one: the task title has to do
        return None
    for index, cell in enumerate(nb.cells):
        if cell_tag in cell.get("metadata", {}).get("tags", []):
            before = nb.cells[index - 1] if index > 0 else None
            if before is not None and before.cell_type == "markdown" and str(before.source).strip():
                return str(before.source).strip()
            return None
    return None


def sheet_html(reports: dict[str, GradeReport], assignment: Assignment) -> str:
    """A self-contained page: per manual check the question, then every student's answer."""
    e = html.escape
    title = f"Manual grading: {assignment.rubric.title}"
    out = [
        f"<h1>{e(title)}</h1>",
        f"<p>Assignment <code>{e(assignment.id)}</code>. Enter points and comments in "
        "<code>sheet.csv</code>, then run <code>autograde manual merge</code>.</p>",
    ]
    for spot in manual_spots(assignment):
        heading = f"{spot.task_id}: {spot.task_title}" if spot.task_title else spot.task_id
        out.append(f"<section><h2>{e(heading)}</h2>")
        out.append(
            f"<p>Check <code>{e(spot.check_name)}</code>, cell tagged <code>{e(spot.cell_tag)}</code>, "
            f"{e(num(spot.max_points))} points.</p>"
        )
        asked = question(assignment, spot.cell_tag)
        if asked:
            out.append(f'<div class="question">{e(asked)}</div>')
        out.append("<table><tr><th>student</th><th>answer</th><th>points</th><th>comment</th></tr>")
        not_graded = []
        for student in sorted(reports):
            report = reports[student]
            found = check_result(report, spot)
            if found is None:
                not_graded.append(f"{student} ({report.status})")
                continue
            points, comment = merged(*found)
            cls = "answer" if has_answer(report, spot) else "answer missing"
            out.append(
                f'<tr><td class="student">{e(student)}</td>'
                f'<td><pre class="{cls}">{e(answer(report, spot))}</pre></td>'
                f'<td class="points">{e(points + " / " + num(share(*found)) if points else "")}</td>'
                f"<td>{e(comment)}</td></tr>"
            )
        out.append("</table>")
        if not_graded:
            out.append(f'<p class="missing">No answer to grade: {e(", ".join(not_graded))}</p>')
        out.append("</section>")
    return page(title, "\n".join(out) + "\n", CSS)
