"""The rows of a batch: one report per upload, each written and journaled on its own.

Whatever goes wrong for one upload (reading it, grading it, writing its files, journaling
it) ends as that upload's row: a grader error with the reason, graded again on the next
run. The other rows, and what the batch has written for them, are never touched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from autograde.batch.journal import GradeKey, Journal
from autograde.batch.results_folder import ResultsFolder
from autograde.pipeline.grade import GradeOptions, empty_report
from autograde.results import GradeReport
from autograde.rubric import Assignment
from autograde.status import SubmissionStatus

AGAIN = "graded again on the next run"


def fault(report: GradeReport, reason: str) -> None:
    """The grader failed on this row: it says why, and the journal grades it again."""
    report.status = SubmissionStatus.GRADER_ERROR
    report.notes.append(reason)


def fault_report(
    student: str, origin: str, assignment: Assignment, opts: GradeOptions, reason: str
) -> GradeReport:
    """The row of an upload the grader failed on before it had a report."""
    status = SubmissionStatus.GRADER_ERROR
    try:
        report = empty_report(Path(origin), student, assignment, status, reason, opts)
    except Exception:  # even the rubric's empty report failed: a row without tasks
        report = GradeReport(student=student, file=origin, assignment=assignment.id, status=status,
                             score=0.0, max_score=assignment.rubric.max_points, notes=[reason])
    report.file = origin
    return report


class Rows:
    """The reports of one batch by student, and the writes that keep each of them on its own."""

    def __init__(
        self,
        folder: ResultsFolder,
        journal: Journal,
        assignment: Assignment,
        settle: Callable[[GradeReport], None] | None = None,
    ) -> None:
        self.folder = folder
        # what every row gets before it is written: the run's late block (`autograde.lateness`)
        self.settle = settle or (lambda report: None)
        self.journal = journal
        self.assignment = assignment
        self.task_ids = [task.id for task in assignment.rubric.tasks]
        self.results: dict[str, GradeReport] = {}
        self.graded_now: set[str] = set()  # the students graded in this run (`save`)

    def write_files(self, report: GradeReport) -> None:
        """students/<id>/: report.json, feedback.md, feedback.html, gradescope.json."""
        problems = []
        try:
            self.folder.write_student(report)
        except Exception as exc:
            problems.append(f"report.json and feedback.md: {exc!r}")
        try:
            self.folder.write_student_pages(report, self.assignment)
        except Exception as exc:
            problems.append(f"feedback.html and gradescope.json: {exc!r}")
        if problems:
            fault(report, f"its files could not be written ({'; '.join(problems)}); {AGAIN}")
            with contextlib.suppress(Exception):  # report.json says so, when it can be written at all
                self.folder.write_report(report)

    def save(self, key: GradeKey, report: GradeReport) -> None:
        """A graded upload: its late block, its files, then its journal line, then its row."""
        self.settle(report)
        self.write_files(report)
        try:
            self.journal.append(key, report)
        except Exception as exc:
            fault(report, f"its grade could not be journaled ({exc!r}); {AGAIN}")
            with contextlib.suppress(Exception):
                self.folder.write_report(report)
        self.results[report.student] = report
        self.graded_now.add(report.student)

    def digests(self) -> dict[str, str]:
        """The sha256 of each row's graded upload, as journaled (rejected rows have none)."""
        found = {}
        for student, report in self.results.items():
            entry = self.journal.entries.get(student)
            if entry is not None and entry[1] is report:
                found[student] = entry[0].file_sha256
        return found

    def write_gradebook(self, strict: bool = True) -> None:
        """grades.csv of every row so far; while grading (not `strict`) a failed write waits
        for the next one (the last one raises)."""
        try:
            self.folder.write_gradebook(list(self.results.values()), self.task_ids)
        except Exception:
            if strict:
                raise
