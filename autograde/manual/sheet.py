"""Manual grading of free-text answers: export a sheet, merge the points a human gave.

A rubric check ``{kind: manual, cell_tag: ...}`` is graded in two steps. `autograde grade`
exports the tagged cell's text into each report (``GradeReport.manual``) and leaves the check
at status ``manual`` with nothing earned. Then:

1. `export_sheet` writes ``RESULTS_DIR/manual/sheet.csv`` (one row per student per manual
   check: ``student,task,check,max_points,points,comment,answer``) and ``sheet.html`` (each
   question beside every student's answer, for reading).
2. A human fills in ``points`` (0..max_points; empty = not graded yet) and ``comment``.
3. `merge_sheet` validates every row, refuses the whole sheet on any problem (nothing is
   written), then sets each graded check to status ``graded-by-hand`` with
   ``earned = points / max_points`` and the message ``"1.5 / 2 points, graded by hand. Comment:
   ..."`` (shown in feedback.md), rescores the task with `score_task`, and rewrites the changed
   students' report.json + feedback.md and grades.csv.

Merging is idempotent: a report whose merged result equals what is on disk is not rewritten.
An exported sheet carries the grades already merged, so export -> merge round-trips. A row
with empty points leaves its check as it is (a grade merged earlier is kept).
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograde.batch.journal import JOURNAL, Journal
from autograde.checks.base import display_name
from autograde.checks.basic import ManualCheck
from autograde.errors import AutogradeError
from autograde.pipeline.scoring import score_task
from autograde.reporters.batch_reports import write_batch_reports
from autograde.reporters.files import _cell, _write_text_atomic, write_gradebook, write_student
from autograde.reporters.html import page
from autograde.results import CheckResult, GradeReport, TaskResult
from autograde.rubric import Assignment

MANUAL = "manual"  # status of a manual check nobody has graded yet (set by `autograde grade`)
HAND_GRADED = "graded-by-hand"  # status after a merge gave it points
COMMENT_SEP = ". Comment: "
COLUMNS = ["student", "task", "check", "max_points", "points", "comment", "answer"]
REQUIRED = ["student", "task", "check", "points"]  # comment, max_points and answer may be dropped
MAX_CELL = 32_000  # spreadsheets cap a cell at 32767 characters
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")  # no "1_5", "nan", "inf"


@dataclass
class MergeResult:
    reports: list[GradeReport]  # every report of the results folder, after the merge
    changed: list[str]  # students whose report.json was rewritten
    merged: int  # rows with points
    ungraded: int  # manual checks, over all reports, still without a hand grade
    gradebook: Path
    skipped: list[str] = field(default_factory=list)  # rows with a comment but no points


@dataclass(frozen=True)
class _Spot:
    """One manual check of the rubric, with the share of the task's points it carries."""

    task_id: str
    task_title: str | None
    check_name: str
    cell_tag: str
    max_points: float


# ---------------------------------------------------------------- reading the results folder


def _manual_spots(assignment: Assignment) -> list[_Spot]:
    spots = []
    for task in assignment.rubric.tasks:
        total = sum(check.weight for check in task.checks)
        for check in task.checks:
            if isinstance(check, ManualCheck):
                share = task.points * check.weight / total if total else 0.0
                spots.append(_Spot(task.id, task.title, _check_name(check), check.cell_tag, share))
    return spots


def _check_name(check: Any) -> str:
    """The name `autograde grade` gives the check's result (rubric `name`, else a default)."""
    return display_name(check)


def load_reports(results_dir: Path, assignment: Assignment) -> dict[str, GradeReport]:
    """Every students/<id>/report.json of a results folder, by student id."""
    students = results_dir / "students"
    if not students.is_dir():
        raise AutogradeError(
            f"{results_dir}: not a results folder of `autograde grade` (no students/ folder)"
        )
    reports: dict[str, GradeReport] = {}
    for path in sorted(students.glob("*/report.json")):
        try:
            report = GradeReport.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
            raise AutogradeError(f"{path}: not a readable grade report ({exc})") from exc
        if report.assignment != assignment.id:
            raise AutogradeError(
                f"{path}: graded for assignment {report.assignment!r}, not {assignment.id!r}"
            )
        if report.student != path.parent.name:
            raise AutogradeError(
                f"{path}: the report is of student {report.student!r}, not {path.parent.name!r}"
            )
        reports[report.student] = report
    if not reports:
        raise AutogradeError(
            f"{results_dir}: no students/*/report.json (was it written by `autograde grade`?)"
        )
    return reports


def _check_result(report: GradeReport, spot: _Spot) -> tuple[TaskResult, CheckResult] | None:
    """The report's result of this manual check, if it has one that a human can grade."""
    for task in report.tasks:
        if task.id != spot.task_id:
            continue
        for check in task.checks:
            gradable = check.status in (MANUAL, HAND_GRADED)
            if check.kind == "manual" and check.name == spot.check_name and gradable:
                return task, check
    return None


def _share(task: TaskResult, check: CheckResult) -> float:
    """The part of the task's points the check carries, by the weights `score_task` uses."""
    total = sum(c.weight for c in task.checks)
    return task.max_points * check.weight / total if total > 0 else 0.0


def _merged(task: TaskResult, check: CheckResult) -> tuple[str, str]:
    """(points, comment) a hand grade merged earlier left in the check; empty when none."""
    if check.status != HAND_GRADED:
        return "", ""
    points = check.earned * _share(task, check)
    return _num(points), check.message.partition(COMMENT_SEP)[2]


def _num(value: float) -> str:
    return f"{round(value, 6):.15g}"


def _answer(report: GradeReport, spot: _Spot) -> str:
    for answer in report.manual:
        if answer.task == spot.task_id and answer.cell_tag == spot.cell_tag:
            if answer.source is None:
                return f"[no answer: the notebook has no cell tagged {spot.cell_tag!r}]"
            return answer.source
    return f"[no answer: the report holds no answer for the cell tagged {spot.cell_tag!r}]"


def _question(assignment: Assignment, cell_tag: str) -> str | None:
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


# ---------------------------------------------------------------- export


def _uncell(text: str) -> str:
    """Undo `_cell`: a quote it put before a formula-like cell is not part of the value."""
    return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_START else text


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CELL else text[:MAX_CELL] + "\n[... cut: see sheet.html]"


def sheet_rows(reports: dict[str, GradeReport], assignment: Assignment) -> list[list[str]]:
    rows = []
    for spot in _manual_spots(assignment):
        for student in sorted(reports):
            found = _check_result(reports[student], spot)
            if found is None:
                continue  # an upload that was not graded at all: nothing to read
            points, comment = _merged(*found)
            rows.append(
                [
                    _cell(student),
                    _cell(spot.task_id),
                    _cell(spot.check_name),
                    _num(_share(*found)),
                    points,
                    _cell(comment),
                    _cell(_clip(_answer(reports[student], spot))),
                ]
            )
    return rows


def _csv_text(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()


def _unmerged_edits(path: Path, rows: list[list[str]]) -> list[str]:
    """Rows of an existing sheet whose points or comment the new export would lose."""
    try:
        records = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    except (OSError, UnicodeDecodeError, csv.Error):
        return [f"{path} cannot be read back"]
    fresh = {(_uncell(r[0]), _uncell(r[1]), _uncell(r[2])): (r[4], _uncell(r[5])) for r in rows}
    lost = []
    for number, record in enumerate(records, start=2):
        student, task, check = (
            _uncell((record.get(col) or "").strip()) for col in ("student", "task", "check")
        )
        points = (record.get("points") or "").strip()
        comment = _uncell((record.get("comment") or "").strip())
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
    spots = _manual_spots(assignment)
    if not spots:
        raise AutogradeError(f"assignment {assignment.id!r} has no manual checks")
    reports = load_reports(results_dir, assignment)
    rows = sheet_rows(reports, assignment)
    folder = results_dir / "manual"
    csv_path, html_path = folder / "sheet.csv", folder / "sheet.html"
    if csv_path.exists() and not force:
        lost = _unmerged_edits(csv_path, rows)
        if lost:
            shown = ", ".join(lost[:10]) + (f" and {len(lost) - 10} more" if len(lost) > 10 else "")
            raise AutogradeError(
                f"{csv_path}: has points or comments that are not merged yet ({shown}); "
                "merge it first, or export with --force to overwrite it"
            )
    folder.mkdir(parents=True, exist_ok=True)
    _write_text_atomic(csv_path, _csv_text(rows))
    _write_text_atomic(html_path, sheet_html(reports, assignment))
    return csv_path, html_path


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


def sheet_html(reports: dict[str, GradeReport], assignment: Assignment) -> str:
    """A self-contained page: per manual check the question, then every student's answer."""
    e = html.escape
    title = f"Manual grading: {assignment.rubric.title}"
    out = [
        f"<h1>{e(title)}</h1>",
        f"<p>Assignment <code>{e(assignment.id)}</code>. Enter points and comments in "
        "<code>sheet.csv</code>, then run <code>autograde manual merge</code>.</p>",
    ]
    for spot in _manual_spots(assignment):
        heading = f"{spot.task_id}: {spot.task_title}" if spot.task_title else spot.task_id
        out.append(f"<section><h2>{e(heading)}</h2>")
        out.append(
            f"<p>Check <code>{e(spot.check_name)}</code>, cell tagged <code>{e(spot.cell_tag)}</code>, "
            f"{e(_num(spot.max_points))} points.</p>"
        )
        question = _question(assignment, spot.cell_tag)
        if question:
            out.append(f'<div class="question">{e(question)}</div>')
        out.append("<table><tr><th>student</th><th>answer</th><th>points</th><th>comment</th></tr>")
        not_graded = []
        for student in sorted(reports):
            report = reports[student]
            found = _check_result(report, spot)
            if found is None:
                not_graded.append(f"{student} ({report.status})")
                continue
            points, comment = _merged(*found)
            missing = not any(
                a.task == spot.task_id and a.cell_tag == spot.cell_tag and a.source is not None
                for a in report.manual
            )
            answer = _answer(report, spot)
            cls = "answer missing" if missing else "answer"
            out.append(
                f'<tr><td class="student">{e(student)}</td><td><pre class="{cls}">{e(answer)}</pre></td>'
                f'<td class="points">{e(points + " / " + _num(_share(*found)) if points else "")}</td>'
                f"<td>{e(comment)}</td></tr>"
            )
        out.append("</table>")
        if not_graded:
            out.append(f'<p class="missing">No answer to grade: {e(", ".join(not_graded))}</p>')
        out.append("</section>")
    return page(title, "\n".join(out) + "\n", CSS)


# ---------------------------------------------------------------- merge


@dataclass
class _Grade:
    row: int
    student: str
    spot: _Spot
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
    header = [_uncell(cell.strip()) for cell in records[0]]
    missing = [col for col in REQUIRED if col not in header]
    if missing:
        raise AutogradeError(
            f"{sheet}: row 1 (header): missing column(s) {', '.join(missing)} "
            f"(the sheet needs {', '.join(REQUIRED)}; got {', '.join(header) or 'none'})"
        )
    index = {col: header.index(col) for col in header if col in COLUMNS}
    tasks = {task.id: task for task in assignment.rubric.tasks}
    spots = {(s.task_id, s.check_name): s for s in _manual_spots(assignment)}
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

        student, task_id, check_name = (_uncell(get(col)) for col in ("student", "task", "check"))
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
            known = [_check_name(c) for c in task.checks]
            what = "is not a manual check" if check_name in known else "is an unknown check"
            problems.append(
                f"{where}: {check_name!r} {what} of task {task_id!r} "
                f"(its manual checks: {', '.join(repr(n) for n in manual_names)})"
            )
            continue
        raw_points, comment = get("points"), _uncell(get("comment"))
        if not raw_points:
            if comment:
                skipped.append(f"row {number}")
            continue
        points = float(raw_points) if NUMBER.fullmatch(raw_points) else None
        if points is None or not math.isfinite(points):
            problems.append(f"{where}: points {raw_points!r} are not a number")
            continue
        found = _check_result(reports[student], spot)
        if found is None:
            problems.append(
                f"{where}: the student's report has no answer to grade for this check "
                f"(report status {reports[student].status!r})"
            )
            continue
        maximum = _share(*found)
        if points < 0:
            problems.append(f"{where}: points {raw_points} are negative")
        elif points > maximum + 1e-9:
            problems.append(f"{where}: points {raw_points} are above the maximum {_num(maximum)}")
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
    found = _check_result(report, grade.spot)
    assert found is not None  # _parse_sheet checked it
    task, check = found
    maximum = _share(task, check)
    check.status = HAND_GRADED
    check.earned = min(1.0, grade.points / maximum) if maximum > 0 else 0.0
    check.message = f"{_num(grade.points)} / {_num(maximum)} points, graded by hand" + (
        f"{COMMENT_SEP}{grade.comment}" if grade.comment else ""
    )
    task.points = score_task(task)
    report.score = round(sum(t.points for t in report.tasks), 6)


def merge_sheet(results_dir: Path, sheet: Path, assignment: Assignment) -> MergeResult:
    """Merge the points of a filled-in sheet into the reports; all rows valid, or nothing written."""
    reports = load_reports(results_dir, assignment)
    grades, skipped = _parse_sheet(sheet, reports, assignment)
    before = {student: report.to_json() for student, report in reports.items()}
    for grade in grades:
        _apply(reports[grade.student], grade)
    changed = [student for student, report in reports.items() if report.to_json() != before[student]]
    journal = Journal(results_dir) if (results_dir / JOURNAL).is_file() else None
    for student in changed:
        write_student(results_dir, reports[student])
        if journal is not None and student in journal.entries:
            # the hand grade becomes the journaled result: a resumed `grade` run keeps it
            journal.append(journal.entries[student][0], reports[student])
    task_ids = [task.id for task in assignment.rubric.tasks]
    gradebook = write_gradebook(results_dir, list(reports.values()), task_ids)
    write_batch_reports(results_dir, list(reports.values()), assignment)
    spots = _manual_spots(assignment)
    ungraded = sum(
        1
        for report in reports.values()
        for spot in spots
        if (found := _check_result(report, spot)) is not None and found[1].status == MANUAL
    )
    return MergeResult(list(reports.values()), changed, len(grades), ungraded, gradebook, skipped)


def carry_hand_grades(previous: GradeReport, report: GradeReport) -> list[str]:
    """A regraded submission keeps the hand grades of answers that did not change.

    Returns notes: which grades were kept, and which answers changed and need grading again.
    """
    def answers(found: GradeReport) -> dict[tuple[str, str], str | None]:
        return {(m.task, m.cell_tag): m.source for m in found.manual}

    old_answers, new_answers = answers(previous), answers(report)
    old_checks = {(t.id, c.name): c for t in previous.tasks for c in t.checks}
    notes: list[str] = []
    for task in report.tasks:
        changed = False
        for check in task.checks:
            old = old_checks.get((task.id, check.name))
            if check.status != MANUAL or old is None or old.status != HAND_GRADED:
                continue
            key = next(((t, tag) for (t, tag) in new_answers if t == task.id), None)
            if key is None or old_answers.get(key) != new_answers.get(key):
                notes.append(f"the answer to {task.id} changed since it was graded by hand: grade it again")
                continue
            check.status, check.earned, check.message = old.status, old.earned, old.message
            changed = True
        if changed:
            task.points = score_task(task)
            notes.append(f"the hand grade of {task.id} was kept (the answer did not change)")
    report.score = round(sum(t.points for t in report.tasks), 6)
    return notes
