"""Files an LMS imports as they are, for uploads that came from its own export.

Moodle (the assignment's "offline grading worksheet" and "upload multiple feedback files in a
zip", mod/assign): the worksheet has the columns of the one Moodle downloads, and Moodle's
importer reads `Identifier` ("Participant N"), `Grade`, `Last modified (grade)` and the
feedback column `Feedback comments`; N is the participant number in the export's folder name
(`Full Name_N_assignsubmission_file_/`). The feedback zip holds `feedback.html` under that same
folder name, the form Moodle's zip importer matches to the participant.

Canvas (Gradebook, Import): the columns of its gradebook export, `Student`, `ID`, `SIS User
ID`, `SIS Login ID`, `Section`, then one column per assignment, and a `Points Possible` row;
`ID` is the Canvas user id in the submission file names of its download
(`name_[LATE_]USERID_SUBMISSIONID_file.ipynb`). An assignment column named `Title (ID)`
updates that assignment; a name alone makes a new one.

The LMS's other columns (Moodle's `Email address`; Canvas's `SIS User ID`, `SIS Login ID` and
`Section`) come from the roster's columns of those names (`people`: student -> column -> value),
and stay empty without one. An upload whose name carries no such identifier is left out of the
file and named in a note.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from autograde.reporters.files import csv_cell
from autograde.reporters.late import summary as late_summary
from autograde.reporters.lms import points
from autograde.results import GradeReport
from autograde.status import SubmissionStatus

MOODLE_COLUMNS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                  "Feedback comments"]
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_PARTICIPANT = "Participant "
# the member or path after the export's name: "export.zip!Jane Doe_123_assignsubmission_file_/nb.ipynb"
_MOODLE = re.compile(
    r"(?:^|[!/])(?P<folder>(?P<name>[^/!_][^/!]*?)_(?P<id>\d+)_assignsubmission_file_?)/[^/]+$"
)
_CANVAS = re.compile(r"(?:^|[!/])(?P<name>[^/!_]+)_(?:LATE_|late_)?(?P<id>\d+)_\d+_[^/]+$")
_CANVAS_COLUMN = re.compile(r"^.*\S\s*\(\d+\)$")  # "Exercise 2 (4242)": an existing assignment
People = Mapping[str, Mapping[str, str]]


@dataclass
class LmsFile:
    """One LMS file's content and the uploads it had to leave out."""

    content: str | bytes
    rows: int
    left_out: list[str] = field(default_factory=list)


def moodle_identity(origin: str) -> tuple[str, str, str] | None:
    """(participant number, full name, the export's folder name) from an upload's origin."""
    match = _MOODLE.search(origin)
    return (match["id"], match["name"], match["folder"]) if match else None


def canvas_identity(origin: str) -> tuple[str, str] | None:
    """(Canvas user id, the name part) from an upload's origin."""
    match = _CANVAS.search(origin)
    return (match["id"], match["name"]) if match else None


def _comment(report: GradeReport) -> str:
    tasks = "; ".join(f"{t.id} {points(t.points)}/{points(t.max_points)}" for t in report.tasks)
    head = f"autograde: {points(report.score)}/{points(report.max_score)} ({report.status})"
    if report.late is not None:
        head += f", {late_summary(report)}"
    return f"{head}; {tasks}" if tasks else head


def _left_out(report: GradeReport, lms: str) -> str:
    if report.status == SubmissionStatus.NO_SUBMISSION:
        return f"{report.student}: no submission, so no row in the {lms} files"
    return f"{report.student} ({report.file}): the upload's name carries no {lms} identifier"


def canvas_column_note(column: str) -> str | None:
    """A note when a Canvas assignment column names no existing assignment ("Title (ID)")."""
    if _CANVAS_COLUMN.match(column):
        return None
    return (f"Canvas: the column {column!r} names no assignment id, so importing the file makes a new "
            "assignment; give --canvas-assignment 'Title (ID)' (the header of Canvas's gradebook export) "
            "to update the existing one")


def moodle_worksheet(
    reports: list[GradeReport], graded_at: datetime, people: People | None = None
) -> LmsFile:
    """The grading worksheet CSV Moodle's "Upload grading worksheet" reads."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MOODLE_COLUMNS)
    left_out, rows = [], 0
    stamp = graded_at.strftime("%Y-%m-%d %H:%M:%S %z").strip()
    for report in sorted(reports, key=lambda r: r.student):
        identity = moodle_identity(report.file)
        if identity is None:
            left_out.append(_left_out(report, "Moodle"))
            continue
        number, name, _ = identity
        email = (people or {}).get(report.student, {}).get("email", "")
        writer.writerow([f"{MOODLE_PARTICIPANT}{number}", csv_cell(name), csv_cell(email),
                         "Submitted for grading", points(report.score), points(report.max_score), "Yes", "-",
                         stamp, _comment(report)])
        rows += 1
    return LmsFile(buffer.getvalue(), rows, left_out)


def moodle_feedback_zip(reports: list[GradeReport], pages: dict[str, str]) -> LmsFile:
    """The zip for Moodle's "Upload multiple feedback files in a zip": each student's feedback
    page (`pages`: student -> HTML) under the folder name of their submission in the export."""
    buffer = io.BytesIO()
    left_out, rows = [], 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for report in sorted(reports, key=lambda r: r.student):
            identity = moodle_identity(report.file)
            if identity is None or report.student not in pages:
                left_out.append(_left_out(report, "Moodle"))
                continue
            archive.writestr(f"{identity[2]}/feedback.html", pages[report.student])
            rows += 1
    return LmsFile(buffer.getvalue(), rows, left_out)


def canvas_import(
    reports: list[GradeReport], assignment_column: str, people: People | None = None
) -> LmsFile:
    """The CSV Canvas's Gradebook import reads: one row per identified upload."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CANVAS_COLUMNS, csv_cell(assignment_column)])
    maximum = max((r.max_score for r in reports), default=0.0)
    writer.writerow(["Points Possible", "", "", "", "", points(maximum)])
    left_out, rows = [note] if (note := canvas_column_note(assignment_column)) else [], 0
    for report in sorted(reports, key=lambda r: r.student):
        identity = canvas_identity(report.file)
        if identity is None:
            left_out.append(_left_out(report, "Canvas"))
            continue
        known = (people or {}).get(report.student, {})
        sis = [csv_cell(known.get(column, "")) for column in ("sis_user_id", "sis_login_id", "section")]
        writer.writerow([csv_cell(identity[1]), identity[0], *sis, points(report.score)])
        rows += 1
    return LmsFile(buffer.getvalue(), rows, left_out)
