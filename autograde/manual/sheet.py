"""Manual grading, step 1: export the sheet a person fills in.

A rubric check ``{kind: manual, cell_tag: ...}`` is graded in two steps. `autograde grade`
exports the tagged cell's text into each report (``GradeReport.manual``) and leaves the check
at status ``manual`` with nothing earned. Then:

1. `export_sheet` writes ``RESULTS_DIR/manual/sheet.csv`` (one row per student per manual
   check: ``student,task,check,max_points,points,comment,answer``) and ``sheet.html`` (each
   question beside every student's answer, for reading; `autograde.manual.page`).
2. A human fills in ``points`` (0..max_points; empty = not graded yet) and ``comment``.
3. `autograde.manual.merge.merge_sheet` merges it back.

An exported sheet carries the grades already merged, so export -> merge round-trips.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from autograde.batch.results_folder import ResultsFolder
from autograde.errors import AutogradeError
from autograde.manual.page import sheet_html
from autograde.manual.spots import answer, check_result, manual_spots, merged, num, share
from autograde.reporters.files import csv_cell, uncell
from autograde.results import GradeReport
from autograde.rubric import Assignment

COLUMNS = ["student", "task", "check", "max_points", "points", "comment", "answer"]
MAX_CELL = 32_000  # spreadsheets cap a cell at 32767 characters


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CELL else text[:MAX_CELL] + "\n[... cut: see sheet.html]"


def sheet_rows(reports: dict[str, GradeReport], assignment: Assignment) -> list[list[str]]:
    rows = []
    for spot in manual_spots(assignment):
        for student in sorted(reports):
            found = check_result(reports[student], spot)
            if found is None:
                continue  # an upload that was not graded at all: nothing to read
            points, comment = merged(*found)
            rows.append(
                [
                    csv_cell(student),
                    csv_cell(spot.task_id),
                    csv_cell(spot.check_name),
                    num(share(*found)),
                    points,
                    csv_cell(comment),
                    csv_cell(_clip(answer(reports[student], spot))),
                ]
            )
    return rows


def _csv_text(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()


def _unmerged_edits(folder: ResultsFolder, rows: list[list[str]]) -> list[str]:
    """Rows of the existing sheet whose points or comment the new export would lose."""
    try:
        text = folder.read_sheet() or ""
        records = list(csv.DictReader(io.StringIO(text)))
    except (OSError, UnicodeDecodeError, csv.Error):
        return [f"{folder.sheet_csv} cannot be read back"]
    fresh = {(uncell(r[0]), uncell(r[1]), uncell(r[2])): (r[4], uncell(r[5])) for r in rows}
    lost = []
    for number, record in enumerate(records, start=2):
        student, task, check = (
            uncell((record.get(col) or "").strip()) for col in ("student", "task", "check")
        )
        points = (record.get("points") or "").strip()
        comment = uncell((record.get("comment") or "").strip())
        if not points and not comment:
            continue
        new_points, new_comment = fresh.get((student, task, check), ("", ""))
        same_points = points == new_points or (
            _float(points) is not None and _float(points) == _float(new_points)
        )
        if not same_points or comment != new_comment.strip():
            lost.append(f"row {number}")
    return lost


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def export_sheet(results_dir: Path, assignment: Assignment, force: bool = False) -> tuple[Path, Path]:
    """Write manual/sheet.csv and manual/sheet.html; return their paths.

    An existing sheet.csv with points or comments that are not merged yet is not overwritten
    unless `force` (so re-exporting never throws a grader's work away).
    """
    if not manual_spots(assignment):
        raise AutogradeError(f"assignment {assignment.id!r} has no manual checks")
    folder = ResultsFolder(results_dir)
    reports = folder.read_reports(assignment)
    rows = sheet_rows(reports, assignment)
    if folder.sheet_csv.exists() and not force:
        lost = _unmerged_edits(folder, rows)
        if lost:
            shown = ", ".join(lost[:10]) + (f" and {len(lost) - 10} more" if len(lost) > 10 else "")
            raise AutogradeError(
                f"{folder.sheet_csv}: has points or comments that are not merged yet ({shown}); "
                "merge it first, or export with --force to overwrite it"
            )
    return folder.write_sheet(_csv_text(rows), sheet_html(reports, assignment))
