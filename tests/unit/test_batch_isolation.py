"""One upload never stops a batch: a failure for one upload is that upload's row, with why.

Grading is faked (the batch's own code runs: staging, journal, results folder, reporters);
each test makes one step fail for one student and checks that the batch completes, that the
student's row says why, and that every other row is as it would be without the failure.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from autograde.batch import results_folder, rows, run, uploads
from autograde.batch.journal import Journal
from autograde.errors import AutogradeError
from autograde.pipeline.grade import GradeOptions
from autograde.results import GradeReport
from autograde.rubric import Assignment, load_assignment

STUDENTS = ["alice", "bob", "carol"]


@pytest.fixture(scope="module")
def ex02() -> Assignment:
    return load_assignment("ex02_gradient_descent")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    found = tmp_path / "uploads"
    found.mkdir()
    for student in STUDENTS:
        (found / f"{student}.ipynb").write_text("{}")
    return found


@pytest.fixture
def graded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every upload "graded" at 7 points without a sandbox; returns who was graded, in order."""
    seen: list[str] = []

    def fake_grade(path: Path, assignment: Assignment, opts: GradeOptions, student: str | None = None
                   ) -> GradeReport:
        assert student is not None
        seen.append(student)
        report = run.empty_report(path, student, assignment, "graded", "", opts)
        report.score = 7.0
        return report

    monkeypatch.setattr(run, "grade_submission", fake_grade)
    return seen


def batch(folder: Path, out: Path, assignment: Assignment) -> dict[str, GradeReport]:
    found = run.grade_batch([folder], assignment, out, GradeOptions(), run.BatchOptions(workers=2))
    return {report.student: report for report in found}


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    return {r["student"]: r for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}


def on_disk(out: Path, student: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "students" / student / "report.json").read_text())
    return data


def assert_others_graded(out: Path, reports: dict[str, GradeReport], broken: str) -> None:
    book = gradebook(out)
    assert set(book) == set(STUDENTS) == set(reports)
    for student in STUDENTS:
        if student == broken:
            continue
        assert reports[student].status == "graded" and reports[student].score == 7
        assert book[student]["status"] == "graded" and book[student]["total"] == "7"
        for name in ("report.json", "feedback.md", "feedback.html", "gradescope.json"):
            assert (out / "students" / student / name).is_file()
    class_page = (out / "class.html").read_text()
    assert all(student in class_page for student in STUDENTS)
    assert {s["student"] for s in json.loads((out / "results.json").read_text())["students"]} == set(STUDENTS)


def test_a_reporter_that_raises_for_one_student(monkeypatch, tmp_path, folder, graded, ex02) -> None:
    real = results_folder.feedback_markdown

    def broken(report: GradeReport, include_hidden: bool = True) -> str:
        if report.student == "bob":
            raise RuntimeError("markdown exploded")
        return real(report, include_hidden)

    monkeypatch.setattr(results_folder, "feedback_markdown", broken)
    out = tmp_path / "out"
    reports = batch(folder, out, ex02)
    assert_others_graded(out, reports, "bob")
    bob = reports["bob"]
    assert bob.status == "grader error"
    assert any("could not be written" in note and "markdown exploded" in note for note in bob.notes)
    assert gradebook(out)["bob"]["status"] == "grader error"
    # report.json still says why; the journal holds the fault, so a rerun grades bob again
    assert any("markdown exploded" in note for note in on_disk(out, "bob")["notes"])
    monkeypatch.setattr(results_folder, "feedback_markdown", real)
    graded.clear()
    again = batch(folder, out, ex02)
    assert graded == ["bob"] and again["bob"].status == "graded"
    assert gradebook(out)["bob"]["status"] == "graded"


def test_a_feedback_page_that_raises_for_one_student(monkeypatch, tmp_path, folder, graded, ex02) -> None:
    real = results_folder.feedback_html

    def broken(report: GradeReport, include_hidden: bool = True) -> str:
        if report.student == "carol":
            raise ValueError("html exploded")
        return real(report, include_hidden)

    monkeypatch.setattr(results_folder, "feedback_html", broken)
    out = tmp_path / "out"
    reports = batch(folder, out, ex02)
    assert_others_graded(out, reports, "carol")
    assert reports["carol"].status == "grader error"
    assert any("html exploded" in note for note in reports["carol"].notes)
    assert any("html exploded" in note for note in on_disk(out, "carol")["notes"])


def test_grading_that_raises_for_one_student(monkeypatch, tmp_path, folder, graded, ex02) -> None:
    fake = run.grade_submission

    def broken(path: Path, assignment: Assignment, opts: GradeOptions, student: str | None = None
               ) -> GradeReport:
        if student == "alice":
            raise KeyError("the engine fell over")
        return fake(path, assignment, opts, student=student)

    monkeypatch.setattr(run, "grade_submission", broken)
    out = tmp_path / "out"
    reports = batch(folder, out, ex02)
    assert_others_graded(out, reports, "alice")
    alice = reports["alice"]
    assert alice.status == "grader error" and alice.score == 0
    assert alice.file == "uploads/alice.ipynb"
    assert any("grading failed" in note and "the engine fell over" in note for note in alice.notes)
    assert gradebook(out)["alice"]["status"] == "grader error"
    assert Journal(out).entries["alice"][1].status == "grader error"


def test_staging_that_fails_for_one_upload(monkeypatch, tmp_path, folder, graded, ex02) -> None:
    real = uploads._stage

    def broken(entry: Any, staging: Path, number: int, student: str) -> Path:
        if student == "carol":
            raise PermissionError(13, "Permission denied")
        return real(entry, staging, number, student)

    monkeypatch.setattr(uploads, "_stage", broken)
    out = tmp_path / "out"
    reports = batch(folder, out, ex02)
    assert_others_graded(out, reports, "carol")
    assert "carol" not in graded
    carol = reports["carol"]
    assert carol.status == "grader error"
    assert any("could not be copied for grading" in note and "Permission denied" in note
               for note in carol.notes)
    assert gradebook(out)["carol"]["status"] == "grader error"


def test_reading_that_fails_for_one_staged_upload(monkeypatch, tmp_path, folder, graded, ex02) -> None:
    real = run.file_digest

    def broken(path: Path) -> str:
        if "bob" in path.name:
            raise OSError(5, "Input/output error")
        return real(path)

    monkeypatch.setattr(run, "file_digest", broken)
    out = tmp_path / "out"
    reports = batch(folder, out, ex02)
    assert_others_graded(out, reports, "bob")
    assert reports["bob"].status == "grader error"
    assert any("Input/output error" in note for note in reports["bob"].notes)


def test_journaling_that_fails_for_one_student(monkeypatch, tmp_path, folder, graded, ex02) -> None:
    real = Journal.append

    def broken(self: Journal, key: Any, report: GradeReport) -> None:
        if report.student == "alice":
            raise OSError(28, "No space left on device")
        real(self, key, report)

    monkeypatch.setattr(rows.Journal, "append", broken)
    out = tmp_path / "out"
    reports = batch(folder, out, ex02)
    assert_others_graded(out, reports, "alice")
    assert reports["alice"].status == "grader error"
    notes = reports["alice"].notes
    assert any("could not be journaled" in note and "No space left" in note for note in notes)
    assert any("No space left" in note for note in on_disk(out, "alice")["notes"])
    assert set(Journal(out).entries) == {"bob", "carol"}


def test_carrying_hand_grades_that_fails_keeps_the_grade(monkeypatch, tmp_path, folder, graded, ex02) -> None:
    out = tmp_path / "out"
    batch(folder, out, ex02)

    def broken(previous: GradeReport, report: GradeReport) -> list[str]:
        raise AttributeError("no manual answers")

    monkeypatch.setattr(run, "carry_hand_grades", broken)
    graded.clear()
    found = run.grade_batch([folder], ex02, out, GradeOptions(), run.BatchOptions(workers=1, regrade=True))
    reports = {report.student: report for report in found}
    assert graded == STUDENTS
    assert_others_graded(out, reports, "")
    assert all(any("could not be carried over" in note for note in r.notes) for r in reports.values())


def test_an_unreadable_zip_is_one_row(monkeypatch, tmp_path, folder, graded, ex02) -> None:
    archive = tmp_path / "export.zip"
    import zipfile

    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("dave/dave.ipynb", "{}")

    def broken(path: Path) -> list[Any]:
        raise NotImplementedError("that compression method is not supported")

    monkeypatch.setattr(uploads, "_zip_entries", broken)
    out = tmp_path / "out"
    found = run.grade_batch([folder, archive], ex02, out, GradeOptions(), run.BatchOptions(workers=1))
    reports = {report.student: report for report in found}
    assert set(reports) == {*STUDENTS, "export.zip"}
    assert reports["export.zip"].status == "rejected"
    assert any("not a readable zip archive" in note for note in reports["export.zip"].notes)
    assert all(reports[s].status == "graded" for s in STUDENTS)


def test_a_file_that_cannot_be_looked_at_is_one_row(monkeypatch, tmp_path, folder, graded, ex02) -> None:
    real = uploads._folder_entry

    def broken(path: Path, *args: Any) -> Any:
        if path.name == "bob.ipynb":
            raise PermissionError(13, "Permission denied")
        return real(path, *args)

    monkeypatch.setattr(uploads, "_folder_entry", broken)
    out = tmp_path / "out"
    reports = batch(folder, out, ex02)
    assert_others_graded(out, reports, "bob")
    assert reports["bob"].status == "rejected" and "bob" not in graded
    assert any("cannot be read (Permission denied)" in note for note in reports["bob"].notes)


def test_invalid_limit_overrides_fail_before_anything_is_written(tmp_path, folder, graded, ex02) -> None:
    # a bad --pids is the instructor's usage error, said once, and the results folder stays untouched
    out = tmp_path / "out"
    opts = GradeOptions(limits={"pids": 5})
    with pytest.raises(AutogradeError, match="invalid sandbox limits: pids"):
        run.grade_batch([folder], ex02, out, opts, run.BatchOptions(workers=2))
    assert not out.exists() and graded == []
