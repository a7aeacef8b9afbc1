"""After a batch: results.json, lms.csv, class.html, and per student feedback.html + gradescope.json.

Every file is written next to its final place and renamed into it, so a reader (or a batch
interrupted half-way) never sees half a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autograde.pipeline.wire import write_json_atomic
from autograde.reporters.class_report import class_html
from autograde.reporters.files import _write_text_atomic
from autograde.reporters.gradescope import gradescope_results
from autograde.reporters.html import feedback_html, student_folder
from autograde.reporters.lms import lms_csv
from autograde.results import GradeReport
from autograde.rubric import Assignment


def results_json(reports: list[GradeReport], assignment: Assignment) -> dict[str, Any]:
    rubric = assignment.rubric
    return {
        "assignment": assignment.id,
        "title": rubric.title,
        "max_points": rubric.max_points,
        "rubric_digest": assignment.digest,
        "tasks": [
            {"id": task.id, "title": task.title, "points": task.points, "visible": task.visible}
            for task in rubric.tasks
        ],
        "students": [report.to_json() for report in sorted(reports, key=lambda r: r.student)],
    }


def write_batch_reports(out_dir: Path, reports: list[GradeReport], assignment: Assignment) -> dict[str, Path]:
    """Write the batch's reports under `out_dir`; returns {path relative to out_dir: path}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    def text(name: str, content: str) -> None:
        path = out_dir / name
        _write_text_atomic(path, content)
        written[name] = path

    def write_json(name: str, data: Any) -> None:
        path = out_dir / name
        write_json_atomic(path, data)
        written[name] = path

    for report in sorted(reports, key=lambda r: r.student):
        folder = f"students/{student_folder(report.student)}"
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
        text(f"{folder}/feedback.html", feedback_html(report))
        write_json(f"{folder}/gradescope.json", gradescope_results(report, assignment))
    write_json("results.json", results_json(reports, assignment))
    text("lms.csv", lms_csv(reports))
    text("class.html", class_html(reports, assignment))
    return written
