"""An LMS-ready grade import: `student_id,total,max`, one row per student."""

from __future__ import annotations

import csv
import io

from autograde.reporters import late
from autograde.reporters.files import csv_cell
from autograde.results import GradeReport


def points(value: float) -> str:
    """Up to 2 decimals, no trailing zeros: 7 -> '7', 2.5 -> '2.5', 1/3 -> '0.33'."""
    text = f"{round(float(value), 2) + 0.0:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def lms_csv(reports: list[GradeReport]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    deadline = late.any_late(reports)  # then the raw total and the penalty follow
    writer.writerow(["student_id", "total", "max", *(["raw_total", "late_penalty"] if deadline else [])])
    for report in sorted(reports, key=lambda r: r.student):
        row = [csv_cell(report.student), points(report.score), points(report.max_score)]
        if deadline:
            raw = report.raw_score if report.raw_score is not None else report.score
            row += [points(raw), points(report.late.points if report.late else 0.0)]
        writer.writerow(row)
    return buffer.getvalue()
