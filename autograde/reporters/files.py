"""Files in RESULTS_DIR: grades.csv, and per student report.json + feedback.md."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from autograde.pipeline.wire import write_json_atomic
from autograde.reporters.markdown import feedback_markdown
from autograde.results import GradeReport


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def gradebook_csv(reports: list[GradeReport], task_ids: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *task_ids, "total", "max", "status"])
    for report in sorted(reports, key=lambda r: r.student):
        points = {task.id: task.points for task in report.tasks}
        writer.writerow(
            [
                _cell(report.student),
                *[f"{points.get(t, 0.0):g}" for t in task_ids],
                f"{report.score:g}",
                f"{report.max_score:g}",
                _cell(report.status),
            ]
        )
    return buffer.getvalue()


def _cell(text: str) -> str:
    """Spreadsheets execute cells starting with = + - @: neutralise them."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_gradebook(out_dir: Path, reports: list[GradeReport], task_ids: list[str]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "grades.csv"
    _write_text_atomic(path, gradebook_csv(reports, task_ids))
    return path


def write_student(out_dir: Path, report: GradeReport) -> Path:
    folder = out_dir / "students" / report.student
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / "report.json", report.to_json())
    _write_text_atomic(folder / "feedback.md", feedback_markdown(report))
    return folder
