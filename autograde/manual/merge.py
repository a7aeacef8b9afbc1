"""Manual grading, step 3: merge the points a person gave (`autograde.manual.sheet` exports).

`merge_sheet` validates every row, refuses the whole sheet on any problem (nothing is
written), then sets each graded check to status ``graded-by-hand`` with
``earned = points / max_points`` and the message ``"1.5 / 2 points, graded by hand. Comment:
..."`` (shown in feedback.md), rescores the task with `score_task`, and rewrites, through the
results folder, the changed students' files, the gradebooks, the batch reports and their
journal lines.

Merging is idempotent: a report whose merged result equals what is on disk is not rewritten.
A row with empty points leaves its check as it is (a grade merged earlier is kept).
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograde.batch.results_folder import ResultsFolder
from autograde.errors import AutogradeError
from autograde.history.record import HAND_GRADES, now, run_record
from autograde.lateness.score import rescore
from autograde.manual.sheet import COLUMNS
from autograde.manual.spots import COMMENT_SEP, Spot, check_result, manual_spots, num, share, ungraded
from autograde.pipeline.scoring import score_task
from autograde.reporters.files import uncell
from autograde.results import GradeReport
from autograde.rubric import Assignment
from autograde.status import CheckStatus

REQUIRED = ["student", "task", "check", "points"]  # comment, max_points and answer may be dropped
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")  # no "1_5", "nan", "inf"


@dataclass
class MergeResult:
    reports: list[GradeReport]  # every report of the results folder, after the merge
    changed: list[str]  # students whose report.json was rewritten
    merged: int  # rows with points
    ungraded: int  # manual checks, over all reports, still without a hand grade
    gradebook: Path
    skipped: list[str] = field(default_factory=list)  # rows with a comment but no points



@dataclass
class _Grade:
    row: int
    student: str
    spot: Spot
    points: float
    comment: str


def _read_sheet(sheet: Path) -> list[list[str]]:
    try:
        text = sheet.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise AutogradeError(f"{sheet}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise AutogradeError(f"{sheet}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise AutogradeError(f"{sheet}: not a readable CSV file ({exc})") from None


def _parse_sheet(
    sheet: Path, reports: dict[str, GradeReport], assignment: Assignment
) -> tuple[list[_Grade], list[str]]:
    """Every row checked; (grades, rows with a comment but no points) or AutogradeError."""
    records = _read_sheet(sheet)
    if not records or not any(cell.strip() for cell in records[0]):
        raise AutogradeError(f"{sheet}: empty, expected a header row with {', '.join(REQUIRED)}")
    header = [uncell(cell.strip()) for cell in records[0]]
    missing = [col for col in REQUIRED if col not in header]
    if missing:
        raise AutogradeError(
            f"{sheet}: row 1 (header): missing column(s) {', '.join(missing)} "
            f"(the sheet needs {', '.join(REQUIRED)}; got {', '.join(header) or 'none'})"
        )
    index = {col: header.index(col) for col in header if col in COLUMNS}
    tasks = {task.id: task for task in assignment.rubric.tasks}
    spots = {(s.task_id, s.check_name): s for s in manual_spots(assignment)}
    problems: list[str] = []
    grades: list[_Grade] = []
    skipped: list[str] = []
    seen: dict[tuple[str, str, str], int] = {}
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # a blank line, as spreadsheets leave at the end

        def get(col: str, record: list[str] = record) -> str:
            at = index.get(col)
            return record[at].strip() if at is not None and at < len(record) else ""

        student, task_id, check_name = (uncell(get(col)) for col in ("student", "task", "check"))
        where = f"row {number} (student {student!r}, task {task_id!r}, check {check_name!r})"
        key = (student, task_id, check_name)
        if key in seen:
            problems.append(f"{where}: duplicates row {seen[key]}")
            continue
        seen[key] = number
        if student not in reports:
            problems.append(f"row {number}: unknown student {student!r} (no students/{student}/report.json)")
            continue
        task = tasks.get(task_id)
        if task is None:
            problems.append(f"{where}: unknown task {task_id!r} (tasks: {', '.join(tasks)})")
            continue
        manual_names = [s.check_name for s in spots.values() if s.task_id == task_id]
        if not manual_names:
            problems.append(f"{where}: task {task_id!r} has no manual check")
            continue
        spot = spots.get((task_id, check_name))
        if spot is None:
            known = [c.display_name() for c in task.checks]
            what = "is not a manual check" if check_name in known else "is an unknown check"
            problems.append(
                f"{where}: {check_name!r} {what} of task {task_id!r} "
                f"(its manual checks: {', '.join(repr(n) for n in manual_names)})"
            )
            continue
        raw_points, comment = get("points"), uncell(get("comment"))
        if not raw_points:
            if comment:
                skipped.append(f"row {number}")
            continue
        points = float(raw_points) if NUMBER.fullmatch(raw_points) else None
        if points is None or not math.isfinite(points):
            problems.append(f"{where}: points {raw_points!r} are not a number")
            continue
        found = check_result(reports[student], spot)
        if found is None:
            problems.append(
                f"{where}: the student's report has no answer to grade for this check "
                f"(report status {reports[student].status!r})"
            )
            continue
        maximum = share(*found)
        if points < 0:
            problems.append(f"{where}: points {raw_points} are negative")
        elif points > maximum + 1e-9:
            problems.append(f"{where}: points {raw_points} are above the maximum {num(maximum)}")
        else:
            grades.append(_Grade(number, student, spot, points, comment))
    if problems:
        shown = problems[:50] + ([f"... and {len(problems) - 50} more"] if len(problems) > 50 else [])
        raise AutogradeError(
            f"{sheet}: refused, nothing was merged ({len(problems)} problem(s)):\n"
            + "\n".join(f"  - {p}" for p in shown)
        )
    return grades, skipped


def _apply(report: GradeReport, grade: _Grade) -> None:
    found = check_result(report, grade.spot)
    assert found is not None  # _parse_sheet checked it
    task, check = found
    maximum = share(task, check)
    check.status = CheckStatus.GRADED_BY_HAND
    check.earned = min(1.0, grade.points / maximum) if maximum > 0 else 0.0
    check.message = f"{num(grade.points)} / {num(maximum)} points, graded by hand" + (
        f"{COMMENT_SEP}{grade.comment}" if grade.comment else ""
    )
    task.points = score_task(task)
    rescore(report)  # the task points, less a late penalty when the report has one


def _record_merge(
    folder: ResultsFolder, reports: dict[str, GradeReport], changed: set[str], assignment: Assignment
) -> None:
    """A merge that changed grades is the folder's next numbered run (`autograde.history`); the
    upload digests, seed and parameters are the last run's."""
    numbers = folder.run_numbers()
    try:
        last = folder.read_run(numbers[-1]) if numbers else None
    except AutogradeError:  # a damaged record: this run is kept without what it would give
        last = None
    kept = last.students.items() if last else ()
    digests = {student: state.file_sha256 for student, state in kept if state.file_sha256}
    started = now()
    folder.write_run(run_record(
        kind=HAND_GRADES,
        started=started,
        assignment=assignment.id,
        rubric_digest=assignment.digest,
        reports=reports,
        digests=digests,
        graded_now=changed,
        seed=last.seed if last else None,
        parameters=last.parameters if last else None,
        backend=last.backend if last else None,
    ))


def merge_sheet(results_dir: Path, sheet: Path, assignment: Assignment) -> MergeResult:
    """Merge the points of a filled-in sheet into the reports; all rows valid, or nothing written."""
    folder = ResultsFolder(results_dir)
    reports = folder.read_reports(assignment)
    grades, skipped = _parse_sheet(sheet, reports, assignment)
    before = {student: report.to_json() for student, report in reports.items()}
    for grade in grades:
        _apply(reports[grade.student], grade)
    changed = [student for student, report in reports.items() if report.to_json() != before[student]]
    for student in changed:
        folder.write_student(reports[student])
    # the hand grade becomes the journaled result: a resumed `grade` run keeps it
    folder.journal_hand_grades(reports[student] for student in changed)
    if changed:
        _record_merge(folder, reports, set(changed), assignment)
    task_ids = [task.id for task in assignment.rubric.tasks]
    gradebook = folder.write_gradebook(list(reports.values()), task_ids)
    folder.write_batch_reports(list(reports.values()), assignment)
    left = ungraded(reports, manual_spots(assignment))
    return MergeResult(list(reports.values()), changed, len(grades), left, gradebook, skipped)
