"""Hand-grading the theory answer of a really graded ex08 notebook, through the CLI."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograde.batch.run import grade_folder
from autograde.pipeline.grade import GradeOptions
from autograde.rubric import load_assignment

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "rubrics" / "ex08_open_set" / "solution.ipynb"
AUTOMATIC = 11  # ex08: 13 points, of which the 2 of `theory` are graded by hand


def manual_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The `manual` click group as a user runs it (before `autograde manual` is wired in)."""
    return subprocess.run(
        [sys.executable, "-c", "from autograde.cli.manual import manual; manual()", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "COLUMNS": "200",
             "AUTOGRADE_RUBRICS": str(ROOT / "rubrics")},
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uploads = tmp_path_factory.mktemp("uploads")
    shutil.copy(SOLUTION, uploads / "alice.ipynb")
    out = tmp_path_factory.mktemp("results")
    reports = grade_folder(uploads, load_assignment("ex08_open_set"), out, GradeOptions(grading_seed=1))
    assert [(r.student, r.status, r.score) for r in reports] == [("alice", "graded", AUTOMATIC)], [
        r.notes for r in reports
    ]
    return out


def test_export_fill_in_and_merge(graded: Path) -> None:
    out = graded
    exported = manual_cli("export", str(out), "--assignment", "ex08_open_set", cwd=out)
    assert exported.returncode == 0, exported.stderr
    sheet = out / "manual" / "sheet.csv"
    rows = read_csv(sheet)
    assert [(r["student"], r["task"], r["check"], r["max_points"], r["points"]) for r in rows] == [
        ("alice", "theory", "manual theory-1", "2", "")
    ]
    assert rows[0]["answer"].startswith("The softmax normalises the logits of the known classes")
    page = (out / "manual" / "sheet.html").read_text()
    assert "Why does a network trained with the plain softmax" in page  # from the template
    assert "The softmax normalises the logits" in page

    rows[0]["points"] = "1.5"
    rows[0]["comment"] = "Right idea; say why the margin stays large far from the data."
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    merged = manual_cli("merge", str(out), str(sheet), "--assignment", "ex08_open_set", cwd=out)
    assert merged.returncode == 0, merged.stderr
    assert "merged 1 answer(s); 1 report(s) changed; 0 answer(s) still ungraded" in merged.stdout

    grades = {r["student"]: r for r in read_csv(out / "grades.csv")}
    assert grades["alice"]["theory"] == "1.5"
    assert float(grades["alice"]["total"]) == AUTOMATIC + 1.5
    assert grades["alice"]["max"] == "13"
    report = json.loads((out / "students" / "alice" / "report.json").read_text())
    assert report["score"] == AUTOMATIC + 1.5
    theory = next(t for t in report["tasks"] if t["id"] == "theory")
    assert theory["points"] == 1.5
    assert theory["checks"][0]["status"] == "graded-by-hand"
    feedback = (out / "students" / "alice" / "feedback.md").read_text()
    assert "Score: **12.5 / 13**" in feedback
    assert "1.5 / 2 points, graded by hand. Comment: Right idea" in feedback

    # the merge is the folder's run 2, and the diff names the hand grade as the reason
    from autograde.batch.results_folder import ResultsFolder
    from autograde.history.diff import HAND_GRADE, diff_runs

    folder = ResultsFolder(out)
    assert folder.run_numbers() == [1, 2]
    assert [folder.read_run(n).kind for n in (1, 2)] == ["grade", "hand grades merged"]
    merge_diff = diff_runs(folder.read_run(1), folder.read_run(2))
    [change] = merge_diff.changes
    assert (change.student, change.before, change.after, change.reasons) == (
        "alice", AUTOMATIC, AUTOMATIC + 1.5, [HAND_GRADE])
    assert [(c.check, c.before, c.after) for c in change.checks] == [
        ("theory/manual theory-1", "manual", "graded-by-hand")]
    assert 'id="changes"' in (out / "class.html").read_text()  # the class page shows the change

    # the same sheet again: nothing changes
    files = {p: p.read_bytes() for p in (out / "students" / "alice").iterdir()}
    gradebook = (out / "grades.csv").read_bytes()
    again = manual_cli("merge", str(out), str(sheet), "--assignment", "ex08_open_set", cwd=out)
    assert again.returncode == 0, again.stderr
    assert "0 report(s) changed" in again.stdout
    assert {p: p.read_bytes() for p in files} == files
    assert (out / "grades.csv").read_bytes() == gradebook
    assert folder.run_numbers() == [1, 2]  # a merge that changes nothing is no run

    # the hand grade reaches the batch reports and survives a rerun of `grade` (journal)
    lms = {r["student_id"]: r for r in read_csv(out / "lms.csv")}
    assert float(lms["alice"]["total"]) == AUTOMATIC + 1.5
    uploads = out.parent / (out.name + "-uploads")
    uploads.mkdir()
    shutil.copy(SOLUTION, uploads / "alice.ipynb")
    rerun = grade_folder(uploads, load_assignment("ex08_open_set"), out, GradeOptions(grading_seed=1))
    assert rerun[0].score == AUTOMATIC + 1.5
    from autograde.batch.run import BatchOptions, grade_batch

    regraded = grade_batch([uploads], load_assignment("ex08_open_set"), out, GradeOptions(grading_seed=1),
                           BatchOptions(regrade=True))
    assert regraded[0].score == AUTOMATIC + 1.5  # graded again, the unchanged answer keeps its grade
    assert any("hand grade of theory was kept" in note for note in regraded[0].notes)
    assert {r["student"]: r for r in read_csv(out / "grades.csv")}["alice"]["theory"] == "1.5"
    # runs 3 (resumed from the journal) and 4 (regraded) change nothing of run 2
    assert folder.run_numbers() == [1, 2, 3, 4]
    assert folder.read_run(3).graded_now == 0 and folder.read_run(4).graded_now == 1
    assert diff_runs(folder.read_run(2), folder.read_run(4)).changes == []


def test_merge_refuses_points_above_the_maximum(graded: Path) -> None:
    out = graded
    sheet = out.parent / "too_many.csv"
    sheet.write_text("student,task,check,points\nalice,theory,manual theory-1,3\n", encoding="utf-8")
    before = (out / "grades.csv").read_bytes()
    refused = manual_cli("merge", str(out), str(sheet), "--assignment", "ex08_open_set", cwd=out)
    assert refused.returncode == 2
    assert f"{sheet}: refused, nothing was merged" in refused.stderr
    assert "row 2" in refused.stderr and "above the maximum 2" in refused.stderr
    assert (out / "grades.csv").read_bytes() == before
