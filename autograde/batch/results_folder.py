"""The results folder of a batch: the one place that reads and writes its files.

    RESULTS_DIR/
      students/<id>/report.json     the report (data; what manual grading reads back)
      students/<id>/feedback.md     for the student, Markdown
      students/<id>/feedback.html   for the student, a self-contained page
      students/<id>/gradescope.json Gradescope's results.json for the student
      students/<id>/answers.json    each task's answer code, as graded (`autograde.similarity`)
      grades.csv, lms.csv           the gradebooks
      results.json, class.html      every report as data, the class page
      batch.json, journal.jsonl     the batch's seed, deadline settings (`autograde.lateness`) and
                                    journal (`autograde.batch.journal`)
      manual/sheet.csv, sheet.html  the hand-grading sheet (`autograde.manual`)
      similarity/pairs.csv, similarity.html  answers alike across uploads (`autograde similarity`)
      lms/                          for uploads from a Moodle or Canvas export, the files that LMS
                                    imports as they are (`autograde.reporters.lms_exports`); its
                                    settings.json keeps the roster's LMS columns and the Canvas column
      runs/NNNN.json                every grading run and hand-grade merge, numbered (`autograde.history`)

The batch run and manual grading go through `ResultsFolder`; reporters only turn reports
into text. Every file is written beside its final place and renamed into it, so a reader
(or a batch interrupted half-way) never sees half a file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from autograde.batch.journal import JOURNAL, Journal, batch_seed, read_batch, update_batch
from autograde.errors import AutogradeError
from autograde.pipeline.wire import write_bytes_atomic, write_json_atomic, write_text_atomic
from autograde.reporters.batch_reports import results_json
from autograde.reporters.class_report import class_html
from autograde.reporters.files import gradebook_csv
from autograde.reporters.gradescope import gradescope_results
from autograde.reporters.html import feedback_html, student_folder
from autograde.reporters.lms import lms_csv
from autograde.reporters.markdown import feedback_markdown
from autograde.results import GradeReport
from autograde.rubric import Assignment

if TYPE_CHECKING:
    from autograde.history.diff import RunDiff
    from autograde.history.record import RunRecord

STUDENTS = "students"
REPORT = "report.json"
FEEDBACK_MD = "feedback.md"
FEEDBACK_HTML = "feedback.html"
GRADESCOPE = "gradescope.json"
GRADEBOOK = "grades.csv"
LMS = "lms.csv"
RESULTS = "results.json"
CLASS_PAGE = "class.html"
MANUAL_DIR = "manual"
SHEET_CSV = "sheet.csv"
SHEET_HTML = "sheet.html"
ANSWERS = "answers.json"
SIMILARITY_DIR = "similarity"
PAIRS_CSV = "pairs.csv"
SIMILARITY_HTML = "similarity.html"
LMS_DIR = "lms"
MOODLE_WORKSHEET = "moodle_grading_worksheet.csv"
MOODLE_FEEDBACK = "moodle_feedback_files.zip"
CANVAS_IMPORT = "canvas_gradebook_import.csv"
LMS_NOTES = "left_out.txt"
LMS_SETTINGS = "settings.json"
RUNS_DIR = "runs"
_RUN_FILE = re.compile(r"^(\d{4,})\.json$")


class KeptAnswers(NamedTuple):
    """What `ResultsFolder.read_answers` found: student -> task -> code, the assignments they
    were graded for, and notes on the answers.json files that could not be read (each such
    upload is left out, named)."""

    answers: dict[str, dict[str, str]]
    assignments: set[str]
    notes: list[str]


class ResultsFolder:
    """One batch's RESULTS_DIR (created on the first write)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # ------------------------------------------------------------ students/<id>/

    def student_dir(self, student: str) -> Path:
        """students/<id>: the id itself for every id a batch makes, a safe name for any other."""
        return self.root / STUDENTS / student_folder(student)

    def write_report(self, report: GradeReport) -> Path:
        """report.json of one student alone; returns its path."""
        folder = self.student_dir(report.student)
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder / REPORT, report.to_json())
        return folder / REPORT

    def write_student(self, report: GradeReport) -> Path:
        """report.json and feedback.md of one student; returns the student's folder."""
        feedback = feedback_markdown(report)  # rendered first: a failure leaves both as they were
        folder = self.write_report(report).parent
        write_text_atomic(folder / FEEDBACK_MD, feedback)
        return folder

    def write_student_pages(self, report: GradeReport, assignment: Assignment) -> dict[str, Path]:
        """feedback.html and gradescope.json of one student; {path relative to the folder: path}."""
        page = feedback_html(report)
        gradescope = gradescope_results(report, assignment)
        folder = self.student_dir(report.student)
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / FEEDBACK_HTML, page)
        write_json_atomic(folder / GRADESCOPE, gradescope)
        relative = f"{STUDENTS}/{folder.name}"
        return {f"{relative}/{FEEDBACK_HTML}": folder / FEEDBACK_HTML,
                f"{relative}/{GRADESCOPE}": folder / GRADESCOPE}

    def read_reports(self, assignment: Assignment) -> dict[str, GradeReport]:
        """Every students/<id>/report.json graded for `assignment`, by student id."""
        students = self.root / STUDENTS
        if not students.is_dir():
            raise AutogradeError(
                f"{self.root}: not a results folder of `autograde grade` (no students/ folder)"
            )
        reports: dict[str, GradeReport] = {}
        for path in sorted(students.glob(f"*/{REPORT}")):
            try:
                report = GradeReport.from_json(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
                raise AutogradeError(f"{path}: not a readable grade report ({exc})") from exc
            if report.assignment != assignment.id:
                raise AutogradeError(
                    f"{path}: graded for assignment {report.assignment!r}, not {assignment.id!r}"
                )
            if student_folder(report.student) != path.parent.name:
                raise AutogradeError(
                    f"{path}: the report is of student {report.student!r}, not {path.parent.name!r}"
                )
            reports[report.student] = report
        if not reports:
            raise AutogradeError(
                f"{self.root}: no students/*/report.json (was it written by `autograde grade`?)"
            )
        return reports

    def write_answers(self, student: str, assignment: str, answers: dict[str, str]) -> Path:
        """answers.json of one student: the code of each task's answer cells."""
        folder = self.student_dir(student)
        folder.mkdir(parents=True, exist_ok=True)
        kept = {"student": student, "assignment": assignment, "answers": answers}
        write_json_atomic(folder / ANSWERS, kept)
        return folder / ANSWERS

    def read_answers(self) -> KeptAnswers:
        """Every students/<id>/answers.json (see `KeptAnswers`)."""
        answers: dict[str, dict[str, str]] = {}
        assignments: set[str] = set()
        notes: list[str] = []
        students = self.root / STUDENTS
        if not students.is_dir():
            raise AutogradeError(
                f"{self.root}: not a results folder of `autograde grade` (no students/ folder)"
            )
        for path in sorted(students.glob(f"*/{ANSWERS}")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                student, by_task = str(data["student"]), data["answers"]
                if not isinstance(by_task, dict) or not all(isinstance(v, str) for v in by_task.values()):
                    raise TypeError("answers is not a mapping of task ids to code")
            except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
                notes.append(f"{path}: not readable, left out ({exc})")
                continue
            answers[student] = {str(task): code for task, code in by_task.items()}
            assignments.add(str(data.get("assignment")))
        return KeptAnswers(answers, assignments, notes)

    def write_similarity(self, csv_text: str, html_text: str) -> tuple[Path, Path]:
        folder = self.root / SIMILARITY_DIR
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / PAIRS_CSV, csv_text)
        write_text_atomic(folder / SIMILARITY_HTML, html_text)
        return folder / PAIRS_CSV, folder / SIMILARITY_HTML

    # ------------------------------------------------------------ gradebooks and batch reports

    def write_gradebook(self, reports: list[GradeReport], task_ids: list[str]) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / GRADEBOOK
        write_text_atomic(path, gradebook_csv(reports, task_ids))
        return path

    def write_class_files(self, reports: list[GradeReport], assignment: Assignment) -> dict[str, Path]:
        """results.json, lms.csv, class.html (with what the last run changed) and the LMS's own
        files (`write_lms_files`): each written even when another one fails (the first failure
        is raised once all are tried)."""
        self.root.mkdir(parents=True, exist_ok=True)
        makers: dict[str, Callable[[], str | dict[str, Any]]] = {
            RESULTS: lambda: results_json(reports, assignment),
            LMS: lambda: lms_csv(reports),
            CLASS_PAGE: lambda: class_html(reports, assignment, self.last_changes()),
        }
        written: dict[str, Path] = {}
        failure: Exception | None = None
        for name, make in makers.items():
            path = self.root / name
            try:
                content = make()
                if isinstance(content, str):
                    write_text_atomic(path, content)
                else:
                    write_json_atomic(path, content)
            except Exception as exc:  # the other files are still written
                failure = failure or exc
                continue
            written[name] = path
        try:
            written.update(self.write_lms_files(reports, assignment))
        except Exception as exc:  # the other files are still written
            failure = failure or exc
        if failure is not None:
            raise failure
        return written

    def write_batch_reports(self, reports: list[GradeReport], assignment: Assignment) -> dict[str, Path]:
        """Every student's pages, then the class files; returns {path relative to the folder: path}."""
        written: dict[str, Path] = {}
        for report in sorted(reports, key=lambda r: r.student):
            written.update(self.write_student_pages(report, assignment))
        written.update(self.write_class_files(reports, assignment))
        return written

    def write_lms_files(self, reports: list[GradeReport], assignment: Assignment) -> dict[str, Path]:
        """lms/: Moodle's worksheet and feedback zip when some upload came from a Moodle export,
        Canvas's import CSV when some came from a Canvas download; left_out.txt names the
        uploads those files could not identify."""
        from datetime import datetime, timezone

        from autograde.reporters import lms_exports as lms

        graded = [r for r in reports if r.file]
        settings = self.read_lms_settings()
        people = settings.get("people", {})
        files: dict[str, lms.LmsFile] = {}
        if any(lms.moodle_identity(r.file) for r in graded):
            files[MOODLE_WORKSHEET] = lms.moodle_worksheet(graded, datetime.now(timezone.utc), people)
            pages = {r.student: feedback_html(r) for r in graded if lms.moodle_identity(r.file)}
            files[MOODLE_FEEDBACK] = lms.moodle_feedback_zip(graded, pages)
        if any(lms.canvas_identity(r.file) for r in graded):
            column = settings.get("canvas_assignment") or assignment.rubric.title
            files[CANVAS_IMPORT] = lms.canvas_import(graded, column, people)
        written: dict[str, Path] = {}
        folder = self.root / LMS_DIR
        notes = sorted({note for made in files.values() for note in made.left_out})
        if files:
            folder.mkdir(parents=True, exist_ok=True)
        for name, made in files.items():
            if isinstance(made.content, bytes):
                write_bytes_atomic(folder / name, made.content)
            else:
                write_text_atomic(folder / name, made.content)
            written[f"{LMS_DIR}/{name}"] = folder / name
        if notes:
            write_text_atomic(folder / LMS_NOTES, "\n".join(notes) + "\n")
            written[f"{LMS_DIR}/{LMS_NOTES}"] = folder / LMS_NOTES
        return written

    def write_lms_settings(
        self, canvas_assignment: str | None, people: dict[str, dict[str, str]] | None
    ) -> None:
        """Keep what the LMS files take beyond the uploads (None: keep what the folder has), so
        that a rerun or a hand-grade merge writes the same files."""
        settings = self.read_lms_settings()
        if canvas_assignment is not None:
            settings["canvas_assignment"] = canvas_assignment
        if people is not None:
            settings["people"] = people
        if settings:
            (self.root / LMS_DIR).mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.root / LMS_DIR / LMS_SETTINGS, settings)

    def read_lms_settings(self) -> dict[str, Any]:
        """lms/settings.json ({} when there is none); a damaged one is an error naming it."""
        path = self.root / LMS_DIR / LMS_SETTINGS
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise AutogradeError(
                f"{path}: not readable ({exc}); remove it or grade with --roster again"
            ) from exc
        if not isinstance(data, dict):
            raise AutogradeError(f"{path}: not a JSON object; remove it or grade with --roster again")
        return data

    # ------------------------------------------------------------ batch.json and the journal

    def batch_seed(self, assignment_id: str, wanted: int | None) -> int:
        """The batch's grading seed, kept in batch.json (see `autograde.batch.journal.batch_seed`)."""
        return batch_seed(self.root, assignment_id, wanted)

    def kept_deadline(self, assignment_id: str) -> dict[str, Any] | None:
        """The deadline settings batch.json keeps for `assignment_id` (None: none)."""
        known = read_batch(self.root)
        found = known.get("deadline") if known.get("assignment") == assignment_id else None
        return found if isinstance(found, dict) else None

    def keep_deadline(self, settings: dict[str, Any] | None) -> None:
        """Keep (None: remove) the deadline settings in batch.json, beside the seed."""
        if settings is not None or "deadline" in read_batch(self.root):
            update_batch(self.root, "deadline", settings)

    def journal(self) -> Journal:
        return Journal(self.root)

    def journal_hand_grades(self, reports: Iterable[GradeReport]) -> None:
        """A merged hand grade becomes the journaled result of a journaled student, so a
        resumed `grade` run keeps it (a folder without a journal gets none)."""
        if not (self.root / JOURNAL).is_file():
            return
        journal = self.journal()
        for report in reports:
            entry = journal.entries.get(report.student)
            if entry is not None:
                journal.append(entry[0], report)

    # ------------------------------------------------------------ runs/

    def run_numbers(self) -> list[int]:
        """The numbers of the runs kept in runs/, oldest first."""
        folder = self.root / RUNS_DIR
        if not folder.is_dir():
            return []
        return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _RUN_FILE.match(p.name)))

    def _run_path(self, number: int) -> Path:
        return self.root / RUNS_DIR / f"{number:04d}.json"

    def read_run(self, number: int) -> RunRecord:
        from pydantic import ValidationError

        from autograde.history.record import RunRecord

        path = self._run_path(number)
        known = self.run_numbers()
        if number not in known:
            have = f"its runs are {', '.join(map(str, known))}" if known else "it has no runs yet"
            raise AutogradeError(f"{self.root}: no run {number} ({have}; see `autograde runs`)")
        try:
            return RunRecord.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else repr(exc)
            raise AutogradeError(f"{path}: not a readable run record ({first})") from exc

    def write_run(self, record: RunRecord) -> RunRecord:
        """Keep `record` as the next numbered run (its number is set here); never replaces a run."""
        folder = self.root / RUNS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        number = max(self.run_numbers(), default=0) + 1
        tmp = folder / f".run.tmp{os.getpid()}"
        while True:
            record = record.model_copy(update={"number": number})
            tmp.write_text(record.model_dump_json(indent=1), encoding="utf-8")
            try:
                os.link(tmp, self._run_path(number))  # atomic, and fails when another run took the number
            except FileExistsError:
                number += 1
                continue
            finally:
                tmp.unlink(missing_ok=True)
            return record

    def last_changes(self) -> RunDiff | None:
        """What the last run changed against the run before it; None with fewer than two
        readable runs."""
        from autograde.history.diff import diff_runs

        numbers = self.run_numbers()
        if len(numbers) < 2:
            return None
        try:
            return diff_runs(self.read_run(numbers[-2]), self.read_run(numbers[-1]))
        except AutogradeError:
            return None

    # ------------------------------------------------------------ manual/

    @property
    def sheet_csv(self) -> Path:
        return self.root / MANUAL_DIR / SHEET_CSV

    @property
    def sheet_html(self) -> Path:
        return self.root / MANUAL_DIR / SHEET_HTML

    def read_sheet(self) -> str | None:
        """The exported sheet.csv as text; None when there is none. OSError and
        UnicodeDecodeError when it cannot be read."""
        if not self.sheet_csv.exists():
            return None
        return self.sheet_csv.read_text(encoding="utf-8-sig")

    def write_sheet(self, csv_text: str, html_text: str) -> tuple[Path, Path]:
        self.sheet_csv.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.sheet_csv, csv_text)
        write_text_atomic(self.sheet_html, html_text)
        return self.sheet_csv, self.sheet_html
