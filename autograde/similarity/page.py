"""The similarity check's files: a CSV of the pairs and an HTML page with each pair's answers
side by side, the matching code marked (the report pages' frame: escaped, no script, the same
Content-Security-Policy)."""

from __future__ import annotations

import csv
import io

from autograde.reporters.files import csv_cell
from autograde.reporters.html import esc, page
from autograde.similarity.compare import Match

COLUMNS = ["task", "student_a", "student_b", "similarity", "share_a", "share_b"]

CSS = """
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; margin-bottom: 1.4em; }
.pair pre { margin: 0; padding: 8px; background: #f6f8fa; border: 1px solid #d0d7de;
            overflow-x: auto; font-size: 13px; }
mark { background: #ffe08a; }
"""


def _share(value: float) -> str:
    return f"{value:.2f}"


def pairs_csv(matches: list[Match]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for m in matches:
        writer.writerow([csv_cell(m.task), csv_cell(m.first), csv_cell(m.second), _share(m.score),
                         _share(m.similarity[0]), _share(m.similarity[1])])
    return buffer.getvalue()


def marked(code: str, spans: list[tuple[int, int]]) -> str:
    """`code` escaped, each of `spans` (character ranges, possibly overlapping) in <mark>."""
    parts, at = [], 0
    for start, end in sorted(spans):
        start, end = max(start, at), min(end, len(code))
        if start >= end:
            continue
        parts += [esc(code[at:start]), f"<mark>{esc(code[start:end])}</mark>"]
        at = end
    parts.append(esc(code[at:]))
    return "".join(parts)


def similarity_html(assignment: str, matches: list[Match], threshold: float, compared: int) -> str:
    title = f"Similarity: {assignment}"
    body = [f"<h1>{esc(title)}</h1>",
            f"<p>{len(matches)} pair(s) of answers at least {esc(_share(threshold))} alike, over "
            f"{compared} upload(s); the template's code is left out, names, comments and "
            "whitespace do not count. A pair is a reason to look, not a verdict.</p>"]
    if matches:
        body.append("<table><tr>" + "".join(f"<th>{esc(c)}</th>" for c in COLUMNS[:4]) + "</tr>")
        for index, m in enumerate(matches):
            body.append(f'<tr><td><a href="#pair-{index}">{esc(m.task)}</a></td><td>{esc(m.first)}</td>'
                        f"<td>{esc(m.second)}</td><td>{esc(_share(m.score))}</td></tr>")
        body.append("</table>")
    for index, m in enumerate(matches):
        body.append(f'<h2 id="pair-{index}">{esc(m.task)}: {esc(m.first)} and {esc(m.second)} '
                    f"({esc(_share(m.similarity[0]))} / {esc(_share(m.similarity[1]))})</h2>")
        body.append('<div class="pair">'
                    f"<div><h3>{esc(m.first)}</h3><pre>{marked(m.code[0], m.spans[0])}</pre></div>"
                    f"<div><h3>{esc(m.second)}</h3><pre>{marked(m.code[1], m.spans[1])}</pre></div>"
                    "</div>")
    return page(title, "\n".join(body) + "\n", CSS)
