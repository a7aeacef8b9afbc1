"""A real batch with a deadline: one student on time, one late by 1.5 days, one with an
extension; reruns with another deadline re-penalise from the journal without regrading."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.integration.test_batch import EXAMPLES, grade, gradebook, journal_students

pytestmark = pytest.mark.integration

DUE = datetime(2026, 12, 1, 23, 59, tzinfo=timezone(timedelta(hours=1)))


def test_late_penalty_extension_and_a_rerun_with_another_deadline(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    times = {"ontime": DUE - timedelta(hours=2), "late": DUE + timedelta(hours=36),
             "extended": DUE + timedelta(hours=36)}
    for student, when in times.items():
        shutil.copy(EXAMPLES / "alice.ipynb", uploads / f"{student}.ipynb")  # alice's earns 10 of 10
        os.utime(uploads / f"{student}.ipynb", (when.timestamp(), when.timestamp()))
    extensions = tmp_path / "extensions.csv"
    extensions.write_text("student,extension\nextended,2d\n")
    out = tmp_path / "out"
    base = [str(uploads), "-a", "ex02_gradient_descent", "--out", str(out), "-j", "1", "--seed", "5"]
    first = grade(*base, "--deadline", "2026-12-01T23:59+01:00", "--late-policy", "10%/day,max=50%",
                  "--extensions", str(extensions))
    assert "deadline 2026-12-01T23:59:00+01:00" in first.stdout and "1 extension(s)" in first.stdout
    book = gradebook(out)
    # late by 1d 12h: two days started at 10% each, 20% of 10 points
    assert {s: (r["total"], r["raw_total"], r["late_by"], r["late_penalty"]) for s, r in book.items()} == {
        "ontime": ("10", "10", "on time", "0"),
        "late": ("8", "10", "1d 12h", "2"),
        "extended": ("10", "10", "on time", "0"),  # 12h before its deadline, two days later
    }
    feedback = (out / "students" / "late" / "feedback.md").read_text()
    assert "Score: **8 / 10**" in feedback
    assert "(submission time from the file's modification time)" in feedback
    report = json.loads((out / "students" / "late" / "report.json").read_text())
    assert (report["score"], report["raw_score"], report["late"]["source"]) == (8, 10, "mtime")
    assert json.loads((out / "students" / "late" / "gradescope.json").read_text())["score"] == 8
    assert "late,8,10,10,2" in (out / "lms.csv").read_text()
    assert 'id="late-table"' in (out / "class.html").read_text()
    graded = journal_students(out)
    assert sorted(graded) == ["extended", "late", "ontime"]

    # a day later: the policy and the extensions are kept; nothing is graded again
    moved = grade(*base, "--deadline", "2026-12-02T23:59+01:00")
    assert "3 already graded" in moved.stdout
    assert journal_students(out) == graded
    book = gradebook(out)
    assert (book["late"]["total"], book["late"]["late_by"]) == ("9", "12h")  # one day started: 10%
    assert book["extended"]["total"] == "10"
    # the run history names the moved deadline as the reason, and only for the late student
    assert "1 score(s) changed, 2 unchanged" in moved.stdout
    from autograde.batch.results_folder import ResultsFolder

    changes = ResultsFolder(out).last_changes()
    assert changes is not None
    assert [(c.student, c.before, c.after) for c in changes.changes] == [("late", 8, 9)]
    [reason] = changes.changes[0].reasons
    assert reason.startswith("late penalty changed (late by 1d 12h") and "2026-12-02T23:59:00+01:00" in reason

    # no deadline options: the folder's settings again, said so
    kept = grade(*base)
    assert "kept from the results folder's batch.json" in kept.stdout
    assert gradebook(out)["late"]["total"] == "9" and journal_students(out) == graded

    # the deadline removed: raw scores, no late columns
    grade(*base, "--deadline", "none")
    book = gradebook(out)
    assert book["late"]["total"] == "10" and "raw_total" not in book["late"]
    assert "deadline" not in json.loads((out / "batch.json").read_text())
    assert json.loads((out / "batch.json").read_text())["seed"] == 5
    assert journal_students(out) == graded


def test_bad_deadline_input_is_a_clear_error_before_grading(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    shutil.copy(EXAMPLES / "alice.ipynb", uploads / "alice.ipynb")
    out = tmp_path / "out"
    base = [str(uploads), "-a", "ex02_gradient_descent", "--out", str(out)]
    naive = grade(*base, "--deadline", "2026-12-01T23:59", check=False)
    assert naive.returncode == 2 and "--timezone" in naive.stderr + naive.stdout
    extensions = tmp_path / "extensions.csv"
    extensions.write_text("student,extension\nalcie,2d\n")
    due = "2026-12-01T23:59+01:00"
    unknown = grade(*base, "--deadline", due, "--extensions", str(extensions), check=False)
    assert unknown.returncode == 2
    assert "line 2: 'alcie' (did you mean 'alice'?)" in unknown.stderr + unknown.stdout
    assert not (out / "journal.jsonl").exists() or not (out / "journal.jsonl").read_text()
