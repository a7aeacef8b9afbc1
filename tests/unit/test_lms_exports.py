"""The files an LMS imports as they are, read back the way the LMS reads them: Moodle's worksheet
importer finds `Identifier`, `Grade` and `Last modified (grade)` by their headers and strips
"Participant " from the identifier (mod/assign/feedback/offline/importgradeslib.php); its
feedback-zip importer splits each folder name on "_" into full name, participant number,
plugin type and plugin name (mod/assign/feedback/file/importziplib.php); Canvas's gradebook
import has the columns of its export and a "Points Possible" row."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from autograde.batch.results_folder import ResultsFolder
from autograde.errors import AutogradeError
from autograde.reporters import lms_exports as lms
from autograde.results import GradeReport, TaskResult
from autograde.rubric import load_assignment

# the column lists as the LMS documents them (typed from its documentation and sources)
MOODLE_WORKSHEET_DOC = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum grade",
                        "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                        "Feedback comments"]
CANVAS_IMPORT_DOC = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
GRADED_AT = datetime(2026, 12, 1, 22, 30, tzinfo=timezone.utc)


def _report(student: str, file: str, score: float, max_score: float = 10) -> GradeReport:
    task = TaskResult(id="loss", title=None, points=score, max_points=max_score, visible="public", checks=[])
    return GradeReport(student=student, file=file, assignment="ex02_gradient_descent", status="graded",
                       score=score, max_score=max_score, tasks=[task])


MOODLE = [_report("u1", "export.zip!Alice Adams_1001_assignsubmission_file_/ex02.ipynb", 10),
          _report("u2", "uploads/Bob Brown_1002_assignsubmission_file/ex02.ipynb", 7.5),
          _report("u3", "stray.ipynb", 4)]
CANVAS = [_report("a", "canvas.zip!adamsalice_4711_99001_ex02.ipynb", 9),
          _report("b", "canvas.zip!brownbob_LATE_4712_99002_ex02-1.ipynb", 2.25),
          _report("c", "mail/ex02.ipynb", 1)]


def test_moodle_worksheet_is_read_as_moodles_importer_reads_it() -> None:
    made = lms.moodle_worksheet(MOODLE, GRADED_AT)
    rows = list(csv.reader(io.StringIO(str(made.content))))
    assert rows[0] == MOODLE_WORKSHEET_DOC
    header = rows[0]
    ident, grade, modified = (header.index(c) for c in ("Identifier", "Grade", "Last modified (grade)"))
    feedback = header.index("Feedback comments")
    found = {}
    for row in rows[1:]:
        assert row[ident].startswith("Participant ")
        participant = int(row[ident][len("Participant "):])
        assert datetime.strptime(row[modified], "%Y-%m-%d %H:%M:%S %z") == GRADED_AT
        found[participant] = (float(row[grade]), row[feedback])
    assert set(found) == {1001, 1002}
    assert found[1001][0] == 10 and found[1002][0] == 7.5
    assert found[1002][1].startswith("autograde: 7.5/10") and "loss 7.5/10" in found[1002][1]
    assert made.rows == 2
    assert made.left_out == ["u3 (stray.ipynb): the upload's name carries no Moodle identifier"]


def _moodle_zip_participant(path: str) -> tuple[int, str] | None:
    """Moodle's feedback-zip importer on one member: (participant number, file) or None."""
    parts = path.split("/")
    while parts:
        info = parts.pop(0).split("_", 4)
        if len(info) < 4 or not info[1].isdigit() or (info[2], info[3]) != ("assignsubmission", "file"):
            continue
        rest = info[4] if len(info) == 5 else ""
        return int(info[1]), "/".join([rest, *parts]).lstrip("/")
    return None


def test_moodle_feedback_zip_folders_match_each_participant() -> None:
    pages = {"u1": "<html>alice</html>", "u2": "<html>bob</html>", "u3": "<html>stray</html>"}
    made = lms.moodle_feedback_zip(MOODLE, pages)
    with zipfile.ZipFile(io.BytesIO(bytes(made.content))) as archive:
        members = {name: archive.read(name).decode() for name in archive.namelist()}
    matched = {_moodle_zip_participant(name): text for name, text in members.items()}
    assert matched == {(1001, "feedback.html"): "<html>alice</html>",
                       (1002, "feedback.html"): "<html>bob</html>"}
    assert set(members) == {"Alice Adams_1001_assignsubmission_file_/feedback.html",
                            "Bob Brown_1002_assignsubmission_file/feedback.html"}
    assert [note.split(" ")[0] for note in made.left_out] == ["u3"]


def test_canvas_import_has_the_export_columns_and_the_canvas_user_ids() -> None:
    made = lms.canvas_import(CANVAS, "Exercise 2 (4242)")
    rows = list(csv.reader(io.StringIO(str(made.content))))
    assert rows[0] == [*CANVAS_IMPORT_DOC, "Exercise 2 (4242)"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5] == "10"
    by_id = {row[1]: row for row in rows[2:]}
    assert set(by_id) == {"4711", "4712"}  # the LATE_ marker is not an id
    assert by_id["4711"][5] == "9" and by_id["4712"][5] == "2.25"
    assert [note.split(" ")[0] for note in made.left_out] == ["c"]


def test_a_name_that_looks_like_a_formula_is_defused() -> None:
    hostile = [_report("x", "export.zip!=HYPERLINK(1)_1003_assignsubmission_file_/ex02.ipynb", 1)]
    rows = list(csv.reader(io.StringIO(str(lms.moodle_worksheet(hostile, GRADED_AT).content))))
    assert not rows[1][1].startswith("=")


def test_the_results_folder_writes_the_files_of_the_lms_the_uploads_came_from(tmp_path: Path) -> None:
    ex02 = load_assignment("ex02_gradient_descent")
    folder = ResultsFolder(tmp_path / "moodle")
    written = folder.write_lms_files(MOODLE, ex02)
    assert set(written) == {"lms/moodle_grading_worksheet.csv", "lms/moodle_feedback_files.zip",
                            "lms/left_out.txt"}
    assert "u3 (stray.ipynb)" in (tmp_path / "moodle" / "lms" / "left_out.txt").read_text(encoding="utf-8")
    canvas = ResultsFolder(tmp_path / "canvas").write_lms_files(CANVAS, ex02)
    assert set(canvas) == {"lms/canvas_gradebook_import.csv", "lms/left_out.txt"}
    text = (tmp_path / "canvas" / "lms" / "canvas_gradebook_import.csv").read_text(encoding="utf-8")
    header = next(csv.reader(io.StringIO(text)))
    assert header[-1] == ex02.rubric.title
    plain = ResultsFolder(tmp_path / "plain").write_lms_files([MOODLE[2], CANVAS[2]], ex02)
    assert plain == {} and not (tmp_path / "plain" / "lms").exists()


def test_the_roster_gives_the_lms_columns_the_uploads_do_not_carry(tmp_path: Path) -> None:
    from autograde.batch.uploads import Roster

    # Canvas's own export headers, in any case; a row without them gets none
    roster_file = tmp_path / "roster.csv"
    roster_file.write_text("id,name,SIS User ID,sis login id,Section,Email Address\n"
                           "a,Alice Adams,S-100,aadams,Tue 10:00,alice@uni.example\n"
                           "b,Bob Brown,,,,\n", encoding="utf-8")
    roster = Roster.read(roster_file)
    assert roster.details == {"a": {"sis_user_id": "S-100", "sis_login_id": "aadams", "section": "Tue 10:00",
                                    "email": "alice@uni.example"}}
    canvas = list(csv.reader(io.StringIO(str(lms.canvas_import(CANVAS, "Exercise 2 (4242)",
                                                               roster.details).content))))
    by_id = {row[1]: row for row in canvas[2:]}
    assert by_id["4711"][:5] == ["adamsalice", "4711", "S-100", "aadams", "Tue 10:00"]
    assert by_id["4712"][2:5] == ["", "", ""]
    people = {"u1": {"email": "alice@uni.example"}, "u2": {"email": "=cmd()"}}
    moodle = list(csv.reader(io.StringIO(str(lms.moodle_worksheet(MOODLE, GRADED_AT, people).content))))
    emails = {row[0]: row[MOODLE_WORKSHEET_DOC.index("Email address")] for row in moodle[1:]}
    assert emails == {"Participant 1001": "alice@uni.example", "Participant 1002": "'=cmd()"}


def test_a_canvas_column_without_an_assignment_id_is_named_in_a_note() -> None:
    assert lms.canvas_column_note("Exercise 2 (4242)") is None
    note = lms.canvas_column_note("Exercise 2")
    assert note is not None and "makes a new assignment" in note and "--canvas-assignment" in note
    made = lms.canvas_import(CANVAS, "Exercise 2")
    assert made.left_out[0] == note
    # a formula-like column name is defused too
    header = next(csv.reader(io.StringIO(str(lms.canvas_import(CANVAS, "=1+1 (5)").content))))
    assert header[-1] == "'=1+1 (5)"


def test_the_folder_keeps_the_canvas_column_and_the_roster_for_later_writes(tmp_path: Path) -> None:
    ex02 = load_assignment("ex02_gradient_descent")
    folder = ResultsFolder(tmp_path)
    folder.write_lms_settings("Exercise 2 (4242)", {"a": {"sis_user_id": "S-100"}})
    folder.write_lms_settings(None, None)  # a rerun without the options keeps them
    folder.write_lms_files(CANVAS, ex02)  # as a hand-grade merge does, with no options at all
    rows = list(csv.reader(io.StringIO((tmp_path / "lms" / "canvas_gradebook_import.csv").read_text())))
    assert rows[0][-1] == "Exercise 2 (4242)"
    assert {row[1]: row[2] for row in rows[2:]} == {"4711": "S-100", "4712": ""}
    (tmp_path / "lms" / "settings.json").write_text("{not json")
    with pytest.raises(AutogradeError, match=r"settings\.json: not readable"):
        folder.write_lms_files(CANVAS, ex02)
