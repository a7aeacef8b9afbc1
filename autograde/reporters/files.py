"""The gradebook as CSV text (`grades.csv`), and the cell guard every CSV of the grader uses."""

from __future__ import annotations

import csv
import io

from autograde.reporters import late
from autograde.results import GradeReport

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def gradebook_csv(reports: list[GradeReport], task_ids: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    deadline = late.any_late(reports)  # then the raw total and the late columns follow
    writer.writerow(["student", *task_ids, "total", "max", "status", *(late.COLUMNS if deadline else [])])
    for report in sorted(reports, key=lambda r: r.student):
        points = {task.id: task.points for task in report.tasks}
        writer.writerow(
            [
                csv_cell(report.student),
                *[f"{points.get(t, 0.0):g}" for t in task_ids],
                f"{report.score:g}",
                f"{report.max_score:g}",
                csv_cell(report.status),
                *([csv_cell(cell) for cell in late.cells(report)] if deadline else []),
            ]
        )
    return buffer.getvalue()


def csv_cell(text: str) -> str:
    """Spreadsheets execute cells starting with = + - @: neutralise them."""
    return "'" + text if text[:1] in FORMULA_START else text


def uncell(text: str) -> str:
    """Undo `csv_cell`: a quote it put before a formula-like cell is not part of the value."""
    return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_START else text
