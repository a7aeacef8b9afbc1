"""The instructor's batch: parallel workers, journal and resume, LMS zips, interruptions."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.batch_tools import CLI, grade, gradebook, journal_students, kernels_of

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "ex02_gradient_descent"
EX02 = ROOT / "rubrics" / "ex02_gradient_descent"


def uploads_dir(tmp_path: Path, copies: int = 1) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir()
    for path in sorted(EXAMPLES.glob("*.ipynb")):
        for index in range(copies):
            suffix = "" if copies == 1 else f"_{index}"
            shutil.copy(path, folder / f"{path.stem}{suffix}.ipynb")
    return folder


def test_parallel_equals_sequential_and_rerun_grades_nothing(tmp_path):
    uploads = uploads_dir(tmp_path)
    one, two = tmp_path / "one", tmp_path / "two"
    grade(str(uploads), "-a", "ex02_gradient_descent", "--out", str(one), "-j", "1", "--seed", "5")
    grade(str(uploads), "-a", "ex02_gradient_descent", "--out", str(two), "-j", "2", "--seed", "5")
    assert gradebook(one) == gradebook(two)
    assert gradebook(one)["alice"]["total"] == "10" and gradebook(one)["erin"]["status"] == "invalid notebook"
    before = journal_students(two)
    again = grade(str(uploads), "-a", "ex02_gradient_descent", "--out", str(two), "-j", "2")
    assert "6 already graded" in again.stdout
    assert journal_students(two) == before  # nothing graded twice
    assert json.loads((two / "batch.json").read_text())["seed"] == 5  # the batch keeps its seed


def test_changed_upload_or_rubric_is_regraded_and_regrade_forces(tmp_path):
    uploads = uploads_dir(tmp_path)
    out = tmp_path / "out"
    rubric_dir = tmp_path / "rubric"
    shutil.copytree(EX02, rubric_dir)
    rubric = str(rubric_dir / "rubric.yaml")
    grade(str(uploads), "-a", rubric, "--out", str(out))
    assert gradebook(out)["dave"]["total"] == "0"
    shutil.copy(EXAMPLES / "alice.ipynb", uploads / "dave.ipynb")  # dave uploads a new version
    grade(str(uploads), "-a", rubric, "--out", str(out))
    assert gradebook(out)["dave"]["total"] == "10"
    assert journal_students(out).count("dave") == 2 and journal_students(out).count("alice") == 1
    data = yaml.safe_load((rubric_dir / "rubric.yaml").read_text())
    data["title"] = "Exercise 2 (revised)"
    (rubric_dir / "rubric.yaml").write_text(yaml.safe_dump(data))
    grade(str(uploads), "-a", rubric, "--out", str(out))
    assert journal_students(out).count("alice") == 2  # rubric changed: everything again
    grade(str(uploads), "-a", rubric, "--out", str(out), "--regrade")
    assert journal_students(out).count("alice") == 3


def _wait_for_journal(out: Path, lines: int, process: subprocess.Popen[bytes], limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        path = out / "journal.jsonl"
        if path.is_file() and len(path.read_text().splitlines()) >= lines:
            return
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
        time.sleep(0.2)
    raise AssertionError("the batch did not journal in time")


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_batch_resumes_and_grades_each_upload_once(tmp_path, how):
    uploads = uploads_dir(tmp_path, copies=2)  # 12 uploads
    out = tmp_path / "out"
    args = [str(uploads), "-a", "ex02_gradient_descent", "--out", str(out), "-j", "1"]
    process = subprocess.Popen([CLI, "grade", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _wait_for_journal(out, 3, process)
    process.send_signal(how)
    output = process.communicate(timeout=120)[0].decode()
    if how == signal.SIGINT:
        assert process.returncode == 130, output
        assert "run the same command again" in output
    first = journal_students(out)
    assert 3 <= len(first) < 12
    grade(*args)
    book = gradebook(out)
    assert len(book) == 12
    students = journal_students(out)
    assert sorted(students) == sorted(set(students)), "an upload was graded twice"
    assert students[: len(first)] == first
    assert book["alice_0"]["total"] == book["alice_1"]["total"] == "10"
    # an interrupted run is kept as such (SIGINT); one killed outright leaves no record of its own
    runs = [json.loads(p.read_text()) for p in sorted((out / "runs").glob("*.json"))]
    assert [r["interrupted"] for r in runs] == ([True, False] if how == signal.SIGINT else [False])
    assert len(runs[-1]["students"]) == 12
    assert sum(state["graded_now"] for state in runs[-1]["students"].values()) == 12 - len(first)


def test_lms_zip_export_with_moodle_names_and_roster(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(EXAMPLES / "alice.ipynb", "Alice Adams_1001_assignsubmission_file_/ex02.ipynb")
        zf.write(EXAMPLES / "bob.ipynb", "Bob Brown_1002_assignsubmission_file_/ex02.ipynb")
        zf.writestr("../../evil.ipynb", "{}")
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email\nu1,Alice Adams,alice@uni.example\nu2,Bob Brown,\nu3,Carl Cole,\n")
    out = tmp_path / "out"
    grade(str(archive), "-a", "ex02_gradient_descent", "--out", str(out), "--id-pattern", "moodle",
          "--roster", str(roster))
    book = gradebook(out)
    assert book["u1"]["total"] == "10" and book["u2"]["total"] == "5"
    assert book["u3"]["status"] == "no submission"
    evil = [row for sid, row in book.items() if sid not in {"u1", "u2", "u3"}]
    assert len(evil) == 1 and evil[0]["status"] == "rejected"
    assert not (tmp_path.parent / "evil.ipynb").exists()
    report = json.loads((out / "students" / "u1" / "report.json").read_text())
    assert report["file"] == "export.zip!Alice Adams_1001_assignsubmission_file_/ex02.ipynb"
    lms = (out / "lms.csv").read_text()
    assert "u1" in lms and "u3" in lms
    # Moodle's own files: the worksheet by participant number, the feedback zip by folder
    with (out / "lms" / "moodle_grading_worksheet.csv").open(encoding="utf-8") as handle:
        sheet = {row["Identifier"]: row for row in csv.DictReader(handle)}
    assert set(sheet) == {"Participant 1001", "Participant 1002"}
    assert (sheet["Participant 1001"]["Grade"], sheet["Participant 1002"]["Grade"]) == ("10", "5")
    # the email Moodle's worksheet carries comes from the roster
    assert [sheet[p]["Email address"] for p in ("Participant 1001", "Participant 1002")] == [
        "alice@uni.example", ""]
    with zipfile.ZipFile(out / "lms" / "moodle_feedback_files.zip") as zf:
        names = sorted(zf.namelist())
        assert names == ["Alice Adams_1001_assignsubmission_file_/feedback.html",
                         "Bob Brown_1002_assignsubmission_file_/feedback.html"]
        assert zf.read(names[0]) == (out / "students" / "u1" / "feedback.html").read_bytes()
    left_out = (out / "lms" / "left_out.txt").read_text()
    assert "u3: no submission, so no row in the Moodle files" in left_out and "u1" not in left_out


def test_canvas_download_gives_the_import_file_with_the_roster_and_the_assignment_column(tmp_path):
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(EXAMPLES / "alice.ipynb", "adamsalice_4711_99001_ex02.ipynb")
        zf.write(EXAMPLES / "bob.ipynb", "brownbob_LATE_4712_99002_ex02-1.ipynb")
    roster = tmp_path / "roster.csv"  # columns as Canvas's gradebook export names them
    roster.write_text("id,Student,SIS User ID,SIS Login ID,Section\n"
                      "adamsalice,\"Adams, Alice\",S-100,aadams,Tue\n"
                      "brownbob,\"Brown, Bob\",S-200,bbrown,Wed\n")
    out = tmp_path / "out"
    args = [str(archive), "-a", "ex02_gradient_descent", "--out", str(out), "--id-pattern", "canvas",
            "--roster", str(roster)]
    grade(*args, "--canvas-assignment", "Exercise 2 (4242)")
    path = out / "lms" / "canvas_gradebook_import.csv"

    def rows() -> list[list[str]]:
        return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))

    assert rows()[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Exercise 2 (4242)"]
    assert rows()[1][0] == "Points Possible" and rows()[1][5] == "10"
    assert sorted(rows()[2:]) == [["adamsalice", "4711", "S-100", "aadams", "Tue", "10"],
                                  ["brownbob", "4712", "S-200", "bbrown", "Wed", "5"]]
    grade(*args[:-2], "--regrade")  # a rerun without the options: the same file
    assert rows()[0][-1] == "Exercise 2 (4242)" and rows()[2][2] == "S-100"


def test_no_sandbox_outlives_an_interrupted_parallel_batch(tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    hang = json.loads((EXAMPLES / "alice.ipynb").read_text())
    hang["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                             "source": "import time\ntime.sleep(3600)  # autograde-hang-marker"})
    for name in ("a", "b", "c"):
        (uploads / f"{name}.ipynb").write_text(json.dumps(hang))
    out = tmp_path / "out"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    process = subprocess.Popen([CLI, "grade", str(uploads), "-a", "ex02_gradient_descent", "--out", str(out),
                                "-j", "2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 120
    while kernels_of({process.pid}) < 2:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode == 130
    time.sleep(1)
    assert kernels_of({process.pid}) == 0, "a sandbox kept running after Ctrl-C"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("autograde-")], "temp folders left"


