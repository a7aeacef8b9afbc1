"""Submission times from real zips and folders, extensions, the late block and `rescore`,
the settings kept in batch.json, the reporters and a hand-grade merge of a late report."""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from autograde.batch.results_folder import ResultsFolder
from autograde.batch.uploads import IdRule, Roster, Upload, collect
from autograde.errors import AutogradeError
from autograde.lateness.apply import Lateness
from autograde.lateness.settings import DeadlineOptions, resolve
from autograde.lateness.times import shared_zip_times, submission_time
from autograde.reporters.files import gradebook_csv
from autograde.reporters.html import feedback_html
from autograde.reporters.lms import lms_csv
from autograde.reporters.markdown import feedback_markdown
from autograde.results import GradeReport, LateBlock, TaskResult
from autograde.status import SubmissionStatus

PLUS_ONE = timezone(timedelta(hours=1))
DEADLINE = "2026-12-01T23:59+01:00"
DUE = datetime(2026, 12, 1, 23, 59, tzinfo=PLUS_ONE)
NB = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def zip_with(path: Path, members: dict[str, tuple[int, int, int, int, int, int]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, when in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=when), NB)
    return path


def folder_with(path: Path, files: dict[str, datetime]) -> Path:
    path.mkdir()
    for name, when in files.items():
        (path / name).write_bytes(NB)
        os.utime(path / name, (when.timestamp(), when.timestamp()))
    return path


def uploads_of(tmp_path: Path, sources: list[Path], pattern: str | None = None) -> list[Upload]:
    return collect(sources, tmp_path / "staging", IdRule(pattern))


def deadline(**options: object) -> object:
    found, _ = resolve(None, DeadlineOptions(deadline=DEADLINE, **options))  # type: ignore[arg-type]
    assert found is not None
    return found


def report(student: str, points: list[float], max_points: float = 10) -> GradeReport:
    tasks = [TaskResult(f"t{i}", None, p, max_points / len(points), "visible") for i, p in enumerate(points)]
    return GradeReport(student, f"{student}.ipynb", "a", "graded", sum(points), max_points, tasks)


# ---------------------------------------------------------------- submission times


def test_moodle_zip_member_times_are_read_in_the_deadline_zone(tmp_path: Path) -> None:
    archive = zip_with(tmp_path / "export.zip", {
        "Alice Adams_1001_assignsubmission_file_/ex02.ipynb": (2026, 12, 1, 23, 0, 0),
        "Bob Brown_1002_assignsubmission_file_/ex02.ipynb": (2026, 12, 2, 11, 59, 0),
    })
    alice, bob = uploads_of(tmp_path, [archive], "moodle")
    berlin = deadline(timezone="Europe/Berlin")
    found = submission_time(bob, berlin.zone, berlin.zone_name, None, {})
    assert found.source == "zip"
    assert found.at == datetime(2026, 12, 2, 11, 59, tzinfo=PLUS_ONE)  # Berlin is at +01:00 in December
    assert "zip stores no time zone: read in Europe/Berlin" in found.text
    own = deadline()  # no --timezone: the deadline's own offset
    assert submission_time(alice, own.zone, own.zone_name, None, {}).at == datetime(2026, 12, 1, 23, 0,
                                                                                     tzinfo=PLUS_ONE)


def test_canvas_late_flag_without_a_time_and_a_time_in_the_name(tmp_path: Path) -> None:
    archive = zip_with(tmp_path / "submissions.zip", {
        "doejane_LATE_123456_7890123_ex02.ipynb": (1980, 1, 1, 0, 0, 0),  # the zip default: no time
        "roejohn_LATE_123457_7890124_ex02.ipynb": (2026, 12, 1, 20, 0, 0),
        "poezoe_123458_7890125_ex02_2026-12-02T08-15-00.ipynb": (2026, 12, 9, 9, 0, 0),
    })
    jane, john, zoe = uploads_of(tmp_path, [archive], "canvas")
    d = deadline(late_policy="10%/day")
    late = Lateness(d, [jane, john, zoe], None)
    assert late.blocks[jane.student].source == "lms-late-flag"
    assert late.blocks[jane.student].late_seconds is None and late.blocks[jane.student].fraction == 0
    assert "late according to Canvas, by an unknown time: no deduction" in late.blocks[jane.student].verdict
    assert "zip default" in late.blocks[jane.student].notes[0]
    # a time wins over the flag; Canvas's due date may differ from ours: a note, no penalty
    assert late.blocks[john.student].source == "zip" and late.blocks[john.student].fraction == 0
    assert "Canvas marks it late" in late.blocks[john.student].notes[0]
    # the name's time comes before the zip member's
    assert late.blocks[zoe.student].source == "file-name"
    assert late.blocks[zoe.student].submitted_at == "2026-12-02T08:15:00+01:00"
    assert late.blocks[zoe.student].fraction == pytest.approx(0.1)  # 8h16m late: one day started
    maximum = Lateness(deadline(late_policy="10%/day,max=30%,unknown=max"), [jane], None)
    assert maximum.blocks[jane.student].fraction == pytest.approx(0.3)


def test_one_time_for_every_member_is_the_exports_not_the_submissions(tmp_path: Path) -> None:
    when = (2026, 12, 5, 10, 0, 0)
    archive = zip_with(tmp_path / "export.zip", {f"s{i}.ipynb": when for i in range(3)})
    uploads = uploads_of(tmp_path, [archive])
    assert shared_zip_times(uploads) == {"export.zip": 3}
    block = Lateness(deadline(late_policy="10%/day"), uploads, None).blocks["s0"]
    assert block.source == "unknown" and block.fraction == 0
    assert "carry the same zip time" in block.notes[0]
    assert "not judged late" in block.verdict


def test_folder_uploads_use_the_files_modification_time(tmp_path: Path) -> None:
    folder = folder_with(tmp_path / "uploads", {"carol.ipynb": DUE + timedelta(hours=30)})
    (carol,) = uploads_of(tmp_path, [folder])
    block = Lateness(deadline(late_policy="10%/day"), [carol], None).blocks["carol"]
    assert block.source == "mtime"
    assert block.source_text == "submission time from the file's modification time"
    assert block.late_seconds == 30 * 3600 and block.fraction == pytest.approx(0.2)
    assert block.submitted_at == "2026-12-03T05:59:00+01:00"


def test_a_submission_times_csv_overrides_the_uploads(tmp_path: Path) -> None:
    folder = folder_with(tmp_path / "uploads", {"carol.ipynb": DUE + timedelta(days=3)})
    (carol,) = uploads_of(tmp_path, [folder])
    times = tmp_path / "times.csv"
    times.write_text("student,submitted_at\ncarol,2026-12-01T23:00+01:00\n")
    block = Lateness(deadline(late_policy="10%/day", submission_times=times), [carol], None).blocks["carol"]
    assert block.source == "submission-times" and block.fraction == 0
    assert block.source_text == f"submission time from {times}, line 2"


# ---------------------------------------------------------------- extensions


def test_extensions_as_extra_time_or_a_new_deadline(tmp_path: Path) -> None:
    late = DUE + timedelta(hours=36)
    folder = folder_with(tmp_path / "uploads", {"ann.ipynb": late, "ben.ipynb": late, "cat.ipynb": late})
    uploads = uploads_of(tmp_path, [folder])
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nann,Ann Archer\nben,Ben Baker\ncat,Cat Cole\n")
    extensions = tmp_path / "extensions.csv"
    extensions.write_text("student,extension\nAnn Archer,2d\nben,2026-12-02T23:59+01:00\n")
    blocks = Lateness(deadline(late_policy="10%/day", extensions=extensions), uploads,
                      Roster.read(roster)).blocks
    assert blocks["ann"].deadline == "2026-12-03T23:59:00+01:00" and blocks["ann"].fraction == 0
    assert blocks["ann"].extension == f"+2d ({extensions}, line 2)"
    assert blocks["ben"].deadline == "2026-12-02T23:59:00+01:00"
    assert blocks["ben"].fraction == pytest.approx(0.1)  # 12h after the new deadline: one day
    assert blocks["cat"].fraction == pytest.approx(0.2) and blocks["cat"].extension is None


def test_an_extension_for_an_unknown_student_is_an_error(tmp_path: Path) -> None:
    folder = folder_with(tmp_path / "uploads", {"alice.ipynb": DUE})
    uploads = uploads_of(tmp_path, [folder])
    extensions = tmp_path / "extensions.csv"
    extensions.write_text("student,extra\nalcie,2d\n")
    with pytest.raises(AutogradeError, match=r"line 2: 'alcie' \(did you mean 'alice'\?\)"):
        Lateness(deadline(extensions=extensions), uploads, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("student,extension\nalice,soon\n", "line 2: 'soon' is not an ISO 8601 time"),
        ("student,extension\nalice,2d\nalice,3d\n", "line 3: 'alice' appears twice (also line 2)"),
        ("student,extension\nalice,\n", "line 2: needs a student and a extension"),
        ("name,days\nalice,2\n", "line 1: needs a column student/id/student_id and a column extension"),
        ("", "empty"),
    ],
)
def test_unreadable_extension_rows_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    extensions = tmp_path / "extensions.csv"
    extensions.write_text(text)
    with pytest.raises(AutogradeError) as error:
        resolve(None, DeadlineOptions(deadline=DEADLINE, extensions=extensions))
    assert str(extensions) in str(error.value) and message in str(error.value)


# ---------------------------------------------------------------- the score


def test_rescore_keeps_the_raw_score_and_is_idempotent(tmp_path: Path) -> None:
    folder = folder_with(tmp_path / "uploads", {"dan.ipynb": DUE + timedelta(hours=36)})
    uploads = uploads_of(tmp_path, [folder])
    graded = report("dan", [6, 3])
    lateness = Lateness(deadline(late_policy="10%/day,max=50%"), uploads, None)
    lateness.apply(graded)
    assert (graded.raw_score, graded.score) == (9, pytest.approx(7.2))  # 9 less 20%
    assert graded.late is not None and graded.late.points == pytest.approx(1.8)
    lateness.apply(graded)  # a rerun reusing the journaled report
    assert graded.score == pytest.approx(7.2)
    of_max = Lateness(deadline(late_policy="10%/day,of=max"), uploads, None)
    of_max.apply(graded)
    assert graded.score == pytest.approx(7.0)  # 9 less 20% of the maximum 10
    low = report("dan", [1, 0.5])
    of_max.apply(low)
    assert low.score == 0 and low.late is not None and low.late.points == 1.5  # never below 0
    Lateness(None, uploads, None).apply(graded)  # the deadline removed: the raw score again
    assert (graded.score, graded.raw_score, graded.late) == (9, None, None)


def test_reports_without_the_new_fields_still_read() -> None:
    old = report("eve", [4]).to_json()
    del old["raw_score"], old["late"]
    back = GradeReport.from_json(old)
    assert back.late is None and back.raw_score is None and back.score == 4
    late = report("eve", [4])
    late.late = LateBlock("10%/day", DEADLINE, None, "unknown", "submission time unknown")
    assert GradeReport.from_json(json.loads(json.dumps(late.to_json()))) == late


# ---------------------------------------------------------------- settings kept in batch.json


def test_settings_are_kept_replaced_part_by_part_and_removed(tmp_path: Path) -> None:
    folder = ResultsFolder(tmp_path / "out")
    folder.batch_seed("a", 5)
    first, _ = resolve(None, DeadlineOptions(deadline=DEADLINE, late_policy="10%/day"))
    assert first is not None
    folder.keep_deadline(first.settings.to_json())
    assert folder.batch_seed("a", None) == 5  # the seed is kept beside it
    kept = folder.kept_deadline("a")
    again, from_folder = resolve(kept, DeadlineOptions())
    assert again is not None and from_folder and again.at == DUE and again.policy.text == "10%/day"
    moved, _ = resolve(kept, DeadlineOptions(deadline="2026-12-02T23:59+01:00"))
    assert moved is not None and moved.policy.text == "10%/day" and moved.at == DUE + timedelta(days=1)
    assert resolve(kept, DeadlineOptions(deadline="none"))[0] is None
    assert folder.kept_deadline("another") is None
    with pytest.raises(AutogradeError, match="--late-policy needs --deadline"):
        resolve(None, DeadlineOptions(late_policy="10%/day"))
    with pytest.raises(AutogradeError, match="--deadline none removes the deadline; --late-policy"):
        resolve(kept, DeadlineOptions(deadline="none", late_policy="10%/day"))
    folder.keep_deadline(None)
    assert folder.kept_deadline("a") is None and folder.batch_seed("a", None) == 5


# ---------------------------------------------------------------- reporters


def test_every_reporter_shows_the_late_block(tmp_path: Path) -> None:
    folder = folder_with(tmp_path / "uploads", {"fay.ipynb": DUE + timedelta(hours=36),
                                                "gus.ipynb": DUE - timedelta(hours=1)})
    uploads = uploads_of(tmp_path, [folder])
    lateness = Lateness(deadline(late_policy="10%/day,max=50%"), uploads, None)
    fay, gus = report("fay", [10]), report("gus", [10])
    lateness.apply(fay)
    lateness.apply(gus)
    book = {row["student"]: row for row in csv.DictReader(io.StringIO(gradebook_csv([fay, gus], ["t0"])))}
    assert (book["fay"]["total"], book["fay"]["raw_total"], book["fay"]["late_by"],
            book["fay"]["late_penalty"], book["fay"]["time_source"]) == ("8", "10", "1d 12h", "2", "mtime")
    assert (book["gus"]["total"], book["gus"]["late_by"]) == ("10", "on time")
    lms = list(csv.reader(io.StringIO(lms_csv([fay, gus]))))
    assert lms[0] == ["student_id", "total", "max", "raw_total", "late_penalty"]
    assert lms[1] == ["fay", "8", "10", "10", "2"]
    page = feedback_markdown(fay)
    assert "Score: **8 / 10**" in page
    assert "- Late: 1d 12h; penalty -2 points (20% of the raw score 10)" in page
    assert "Submitted: 2026-12-03T11:59:00+01:00 (submission time from the file's modification time)" in page
    assert '<section id="late">' in feedback_html(fay) and "1d 12h" in feedback_html(fay)
    plain = report("hal", [3])
    assert "raw_total" not in gradebook_csv([plain], ["t0"]) and "Late" not in feedback_markdown(plain)


def test_a_rejected_upload_and_no_submission(tmp_path: Path) -> None:
    folder = folder_with(tmp_path / "uploads", {"ivy.txt": DUE + timedelta(days=2)})
    uploads = uploads_of(tmp_path, [folder])
    uploads.append(Upload("joe", "(no upload)", None, "no submission", status=SubmissionStatus.NO_SUBMISSION))
    blocks = Lateness(deadline(late_policy="10%/day"), uploads, None).blocks
    assert "joe" not in blocks  # nothing submitted: no lateness
    assert blocks[uploads[0].student].fraction == pytest.approx(0.2)  # not a notebook: 0 points, still 0


def test_a_hand_grade_merge_keeps_the_penalty(tmp_path: Path) -> None:
    from autograde.manual.merge import merge_sheet
    from autograde.pipeline.grade import GradeOptions, empty_report
    from autograde.rubric import load_assignment
    from autograde.status import CheckStatus

    ex08 = load_assignment("ex08_open_set")  # 13 points, 2 of them (task theory) graded by hand
    graded = empty_report(Path("alice.ipynb"), "alice", ex08, SubmissionStatus.GRADED, "", GradeOptions())
    for task in graded.tasks:
        for check in task.checks:
            check.status, check.earned = ((CheckStatus.MANUAL, 0.0) if check.kind == "manual"
                                          else (CheckStatus.PASS, 1.0))
        task.points = 0.0 if task.id == "theory" else task.max_points
    graded.late = LateBlock("10%/day", DEADLINE, "2026-12-03T11:59:00+01:00", "mtime", "mtime",
                            late_seconds=36 * 3600, fraction=0.2)
    from autograde.lateness.score import rescore

    rescore(graded)
    assert (graded.raw_score, graded.score) == (11, pytest.approx(8.8))
    folder = ResultsFolder(tmp_path / "out")
    folder.write_student(graded)
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("student,task,check,points\nalice,theory,manual theory-1,2\n")
    merged = merge_sheet(tmp_path / "out", sheet, ex08)
    (alice,) = merged.reports
    assert (alice.raw_score, alice.score) == (13, pytest.approx(10.4))  # 13 less the same 20%
    on_disk = json.loads((tmp_path / "out" / "students" / "alice" / "report.json").read_text())
    assert on_disk["score"] == pytest.approx(10.4) and on_disk["late"]["points"] == pytest.approx(2.6)
    again = merge_sheet(tmp_path / "out", sheet, ex08)  # merging again changes nothing
    assert again.changed == [] and again.reports[0].score == pytest.approx(10.4)
