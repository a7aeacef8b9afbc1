"""Self-contained HTML pages: the per-student feedback page and the shared page frame.

Pages carry their CSS inline, run no script and load nothing: a strict Content-Security-Policy
says so to the browser as well. Everything that comes from a notebook or a student (ids,
file names, messages, notes, cell errors, answers) goes through `esc` before it reaches the
page, so it can only ever show up as text.
"""

from __future__ import annotations

import hashlib
import html
import re

from autograde.reporters import late as late_text
from autograde.results import GradeReport
from autograde.runner.protocol import CellStatus
from autograde.status import NEUTRAL_BADGE, CheckStatus

# a trusted constant without double quotes: it goes into the meta tag as it is
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

STYLE = """
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #1d2329; background: #fff; max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 .4em; }
h2 { font-size: 1.25em; margin: 1.6em 0 .5em; border-bottom: 1px solid #d8dee4; padding-bottom: .2em; }
h3 { font-size: 1.05em; margin: 1.2em 0 .4em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f3f5f7; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 1em; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.score { font-size: 1.2em; font-weight: 700; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 6px 10px; margin: 6px 0;
        white-space: pre-wrap; overflow-wrap: anywhere; }
ul.checks { list-style: none; padding: 0; margin: 0; }
ul.checks li { padding: 4px 0; border-bottom: 1px dotted #e1e4e8; }
.badge { display: inline-block; min-width: 5.5em; text-align: center; font-size: .8em; font-weight: 700;
         border-radius: 4px; padding: 1px 6px; margin-right: 6px; color: #fff; }
.check-name { font-weight: 600; }
.message { white-space: pre-wrap; overflow-wrap: anywhere; }
.tag { font-size: .8em; color: #57606a; border: 1px solid #d0d7de; border-radius: 10px; padding: 0 6px; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 10px; overflow-x: auto;
      white-space: pre-wrap; overflow-wrap: anywhere; }
.muted { color: #57606a; }
ul.plain { margin: 0; padding-left: 1.1em; }
figure { margin: 1em 0 2em; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #57606a; font-size: .9em; }
footer { margin-top: 3em; color: #57606a; font-size: .85em; }
"""
# a badge's colour comes from the status vocabulary; an unknown status gets the neutral one
STYLE += f".badge {{ background: {NEUTRAL_BADGE}; }}\n" + "".join(
    f".{status.css_class} .badge {{ background: {status.badge_colour}; }}\n" for status in CheckStatus
)


def esc(text: object) -> str:
    """Text for an HTML element or a quoted attribute: < > & " ' all become entities."""
    return html.escape(str(text), quote=True)


def num(value: float) -> str:
    return f"{value:g}"


def status_class(status: str) -> str:
    """A CSS class for a check status; never built from an unknown (untrusted) string."""
    known = CheckStatus.known(status)
    return known.css_class if known is not None else "st-other"

def page(title: str, body: str, css: str = "") -> str:
    """A whole document around `body` (already escaped HTML); `title` is escaped here;
    `css` (trusted, from this package) is added to the shared style."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n'
        '<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n"
        f"<style>{STYLE}{css}</style>\n"
        "</head>\n<body>\n"
        f"{body}"
        "</body>\n</html>\n"
    )


_SAFE_FOLDER = re.compile(r"[A-Za-z0-9_@~-][A-Za-z0-9_.@~-]{0,119}")


def student_folder(student: str) -> str:
    """The folder name under `students/` for a student id.

    Ids made by `ingest.student_id` (and `~2` for a collision) are kept as they are, so these
    pages sit beside report.json and feedback.md; anything else (a path separator, `..`,
    markup) becomes a safe name with a hash of the id, which stays distinct.
    """
    if _SAFE_FOLDER.fullmatch(student):
        return student
    safe = re.sub(r"[^A-Za-z0-9_@-]+", "_", student).strip("_")[:80] or "student"
    return f"{safe}-{hashlib.sha256(student.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}"


def _cell_detail(cell: dict[str, object]) -> str:
    return " ".join(
        str(x) for x in (cell.get("ename"), cell.get("evalue"), cell.get("line"), cell.get("note")) if x
    )


def _anchor(task_id: str) -> str:
    """A fragment id for a task section (task ids come from the rubric; kept to safe chars anyway)."""
    return "task-" + re.sub(r"[^A-Za-z0-9_-]", "_", task_id)


def feedback_body(report: GradeReport, include_hidden: bool = True) -> str:
    """The same content as `feedback_markdown`, as HTML: hidden checks are labelled (or left out)."""
    parts = [
        "<header>\n",
        f"<h1>Feedback: {esc(report.assignment)}</h1>\n",
        '<dl class="meta">\n',
        f'<dt>Student</dt><dd id="student">{esc(report.student)}</dd>\n',
        f'<dt>File</dt><dd id="file">{esc(report.file)}</dd>\n',
        f'<dt>Status</dt><dd id="status">{esc(report.status)}</dd>\n',
        f'<dt>Score</dt><dd id="score" class="score">{num(report.score)} / {num(report.max_score)}</dd>\n',
    ]
    if report.late is not None:
        parts.append(f'<dt>Late</dt><dd id="late-summary">{esc(late_text.late_by(report.late))}; '
                     f"penalty {esc(late_text.penalty(report))}</dd>\n")
    parts.extend(["</dl>\n", "</header>\n"])
    if report.late is not None:
        parts.append('<section id="late">\n<h2>Deadline</h2>\n<dl class="meta">\n')
        for label, text in late_text.lines(report):
            parts.append(f"<dt>{esc(label)}</dt><dd>{esc(text)}</dd>\n")
        parts.append("</dl>\n</section>\n")
    if report.notes:
        parts.append('<section id="notes">\n')
        parts.extend(f'<div class="note">Note: {esc(note)}</div>\n' for note in report.notes)
        parts.append("</section>\n")
    if report.tasks:
        parts.append('<h2>Summary</h2>\n<table id="task-table">\n<thead><tr><th>Task</th><th>Title</th>'
                     '<th class="num">Points</th><th class="num">Max</th></tr></thead>\n<tbody>\n')
        for task in report.tasks:
            parts.append(
                f'<tr data-task="{esc(task.id)}">'
                f'<td><a href="#{esc(_anchor(task.id))}">{esc(task.id)}</a></td>'
                f"<td>{esc(task.title or '')}</td>"
                f'<td class="num">{num(task.points)}</td><td class="num">{num(task.max_points)}</td></tr>\n'
            )
        parts.append(
            f'<tr><th colspan="2">Total</th><th class="num">{num(report.score)}</th>'
            f'<th class="num">{num(report.max_score)}</th></tr>\n</tbody>\n</table>\n'
        )
    for task in report.tasks:
        title = f" ({esc(task.title)})" if task.title else ""
        hidden_task = ' <span class="tag">hidden task</span>' if task.visible == "hidden" else ""
        parts.append(
            f'<section class="task" id="{esc(_anchor(task.id))}">\n'
            f"<h2>{esc(task.id)}: {num(task.points)} / {num(task.max_points)}{title}{hidden_task}</h2>\n"
        )
        shown = [c for c in task.checks if include_hidden or c.visible != "hidden"]
        if shown:
            parts.append('<ul class="checks">\n')
            for check in shown:
                label = CheckStatus.label_of(check.status)
                hidden = ' <span class="tag">hidden</span>' if check.visible == "hidden" else ""
                parts.append(
                    f'<li class="check {status_class(check.status)}"><span class="badge">{esc(label)}</span> '
                    f'<span class="check-name">{esc(check.name)}</span>{hidden}: '
                    f'<span class="message">{esc(check.message)}</span></li>\n'
                )
            parts.append("</ul>\n")
        parts.append("</section>\n")
    problems = [c for c in report.cells if c.get("status") not in (CellStatus.OK, None)]
    if problems:
        parts.append(
            '<section id="cells">\n<h2>Cells that did not run cleanly</h2>\n<table>\n'
            "<thead><tr><th>Cell</th><th>Status</th><th>Detail</th></tr></thead>\n<tbody>\n"
        )
        for cell in problems:
            parts.append(
                f'<tr><td class="num">{esc(cell.get("number"))}</td><td>{esc(cell.get("status"))}</td>'
                f'<td class="message">{esc(_cell_detail(cell))}</td></tr>\n'
            )
        parts.append("</tbody>\n</table>\n</section>\n")
    if report.manual:
        parts.append('<section id="manual">\n<h2>Answers for manual grading</h2>\n')
        for answer in report.manual:
            parts.append(
                f"<h3>{esc(answer.task)} <span class=\"muted\">(cell tagged <code>{esc(answer.cell_tag)}"
                "</code>)</span></h3>\n"
            )
            if answer.source is None:
                parts.append('<p class="muted"><em>No cell carries this tag.</em></p>\n')
            else:
                # shown verbatim and inert: escaped text inside <pre>
                parts.append(f'<pre class="answer">{esc(answer.source)}</pre>\n')
        parts.append("</section>\n")
    footer = f"rubric {esc(report.rubric_digest)}" if report.rubric_digest else ""
    if footer:
        parts.append(f'<footer>{footer}</footer>\n')
    return "".join(parts)


def feedback_html(report: GradeReport, include_hidden: bool = True) -> str:
    """A self-contained feedback page for one student (no script, no external resource)."""
    return page(f"Feedback: {report.assignment}: {report.student}", feedback_body(report, include_hidden))
