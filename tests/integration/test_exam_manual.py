"""The exam end to end: grade uploads with the real CLI, hand-grade the theory answers
through `autograde manual export` / `merge`, and check what lands in the gradebook."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAM = ROOT / "rubrics" / "exam"
MAX = 24  # 19 automatic + 5 graded by hand
THEORY = {"theory_1": ("theory-1", 2.0), "theory_2": ("theory-2", 2.0), "theory_3": ("theory-3", 1.0)}

# student: (notebook the upload is built from, automatic points it must earn, own theory answers)
UPLOADS = {
    "alice": ("solution.ipynb", 19.0, {}),
    "bob": (  # softmax without the max subtracted: loses 1 + 1 on the hidden large logits
        "mutants/softmax_overflow.ipynb",
        17.0,
        {"theory-2": "The softmax is invariant to a shift, so it does not matter.",
         "theory-3": "To tune the learning rate; the test set is only for the final number."},
    ),
    "carol": (  # q2 wrong: loses 1 point of the single choice
        "mutants/single_wrong.ipynb",
        18.0,
        {"theory-1": "Sigmoid saturates; ReLU does not saturate for positive inputs.",
         "theory-3": "Hyperparameters picked on the test set overfit it."},
    ),
}

# what a grader enters, per student and task (0 is a grade too)
POINTS = {
    "alice": {"theory_1": "2", "theory_2": "1.5", "theory_3": "1"},
    "bob": {"theory_1": "1", "theory_2": "0", "theory_3": "0.5"},
    "carol": {"theory_1": "0.5", "theory_2": "2", "theory_3": "0"},
}


def autograde(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("autograde")
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={"PATH": f"{exe.parent}:/usr/bin:/bin", "HOME": str(cwd),
                               "COLUMNS": "250", "AUTOGRADE_RUBRICS": str(ROOT / "rubrics")})


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    return {row["student"]: row for row in read_csv(out / "grades.csv")}


def snapshot(out: Path) -> dict[Path, bytes]:
    """Every file `merge` may write: the gradebook, batch reports and each student's reports."""
    return {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and "manual" not in p.parts}


def answer_of(nb: nbformat.NotebookNode, tag: str) -> str:
    return next(str(c.source) for c in nb.cells if tag in c.metadata.get("tags", []))


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uploads = tmp_path_factory.mktemp("uploads")
    for student, (notebook, _, answers) in UPLOADS.items():
        nb = nbformat.read(EXAM / notebook, as_version=4)
        for cell in nb.cells:
            for tag, text in answers.items():
                if tag in cell.metadata.get("tags", []):
                    cell.source = text
        nbformat.write(nb, uploads / f"{student}.ipynb")
    out = tmp_path_factory.mktemp("results")
    result = autograde("grade", str(uploads), "--assignment", "exam", "--out", str(out),
                       "--backend", "local", "--seed", "5", cwd=out)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_automatic_grades_leave_the_theory_at_zero(graded: Path) -> None:
    book = gradebook(graded)
    assert sorted(book) == sorted(UPLOADS)
    for student, (_, automatic, _) in UPLOADS.items():
        row = book[student]
        assert row["status"] == "graded", row
        assert float(row["total"]) == automatic, (student, row)
        assert float(row["max"]) == MAX
        assert all(float(row[task]) == 0 for task in THEORY), row


def test_export_fill_in_merge(graded: Path) -> None:
    out = graded
    automatic = {student: float(row["total"]) for student, row in gradebook(out).items()}

    exported = autograde("manual", "export", str(out), "--assignment", "exam", cwd=out)
    assert exported.returncode == 0, exported.stderr
    sheet = out / "manual" / "sheet.csv"
    with sheet.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header == ["student", "task", "check", "max_points", "points", "comment", "answer"]
    rows = read_csv(sheet)
    assert [(r["task"], r["student"]) for r in rows] == [
        (task, student) for task in THEORY for student in sorted(UPLOADS)
    ]
    for row in rows:
        tag, maximum = THEORY[row["task"]]
        assert row["check"] == f"manual {tag}"
        assert float(row["max_points"]) == maximum
        assert row["points"] == "" and row["comment"] == ""
        notebook, _, own = UPLOADS[row["student"]]
        expected = own.get(tag) or answer_of(nbformat.read(EXAM / notebook, as_version=4), tag)
        assert row["answer"].strip() == expected.strip(), row
    page = (out / "manual" / "sheet.html").read_text(encoding="utf-8")
    assert "Why may we subtract the maximum logit" in page  # the question, from the template
    assert "Sigmoid saturates; ReLU does not saturate" in page

    # the grader fills in points and comments and saves the sheet in the same format
    for row in rows:
        row["points"] = POINTS[row["student"]][row["task"]]
        row["comment"] = f"read by hand, question {THEORY[row['task']][0]}"
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    merged = autograde("manual", "merge", str(out), str(sheet), "--assignment", "exam", cwd=out)
    assert merged.returncode == 0, merged.stderr
    assert "merged 9 answer(s); 3 report(s) changed; 0 answer(s) still ungraded" in merged.stdout

    book = gradebook(out)
    for student, entered in POINTS.items():
        hand = sum(float(p) for p in entered.values())
        row = book[student]
        assert float(row["total"]) == pytest.approx(automatic[student] + hand), (student, row)
        for task, points in entered.items():
            assert float(row[task]) == float(points), (student, task, row)
        report = json.loads((out / "students" / student / "report.json").read_text())
        assert report["score"] == pytest.approx(automatic[student] + hand)
        for task in report["tasks"]:
            if task["id"] in THEORY:
                assert task["checks"][0]["status"] == "graded-by-hand"
        feedback = (out / "students" / student / "feedback.md").read_text()
        said = f"{entered['theory_2']} / 2 points, graded by hand. Comment: read by hand, question theory-2"
        assert said in feedback
    assert float(book["alice"]["total"]) == 19 + 4.5
    assert float(book["bob"]["total"]) == 17 + 1.5
    assert float(book["carol"]["total"]) == 18 + 2.5

    # exported again, the sheet carries the merged grades; merging it changes nothing
    before = snapshot(out)
    again = autograde("manual", "export", str(out), "--assignment", "exam", cwd=out)
    assert again.returncode == 0, again.stderr
    assert {(r["student"], r["task"]): float(r["points"]) for r in read_csv(sheet)} == {
        (s, t): float(p) for s, entered in POINTS.items() for t, p in entered.items()
    }
    remerged = autograde("manual", "merge", str(out), str(sheet), "--assignment", "exam", cwd=out)
    assert remerged.returncode == 0, remerged.stderr
    assert "0 report(s) changed" in remerged.stdout
    assert snapshot(out) == before


BAD_SHEETS = {
    "above the maximum": (
        "student,task,check,points\n"
        "alice,theory_1,manual theory-1,0\n"  # a valid row: must not be merged either
        "bob,theory_3,manual theory-3,1.5\n",
        ["row 3", "'bob'", "'theory_3'", "points 1.5 are above the maximum 1"],
    ),
    "negative": (
        "student,task,check,points\nbob,theory_3,manual theory-3,-1\n",
        ["row 2", "points -1 are negative"],
    ),
    "not a number": (
        "student,task,check,points\ncarol,theory_2,manual theory-2,two\n",
        ["row 2", "points 'two' are not a number"],
    ),
    "unknown student": (
        "student,task,check,points\n"
        "alice,theory_2,manual theory-2,1\n"
        "mallory,theory_1,manual theory-1,2\n",
        ["row 3: unknown student 'mallory'"],
    ),
    "unknown task": (
        "student,task,check,points\nalice,theory_4,manual theory-4,1\n",
        ["row 2", "unknown task 'theory_4'"],
    ),
    "not a manual task": (
        "student,task,check,points\nalice,softmax,exists softmax,1\n",
        ["row 2", "task 'softmax' has no manual check"],
    ),
    "unknown check": (
        "student,task,check,points\nalice,theory_1,manual theory-2,1\n",
        ["row 2", "'manual theory-2' is an unknown check of task 'theory_1'"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_SHEETS))
def test_a_bad_sheet_is_refused_and_nothing_changes(graded: Path, case: str) -> None:
    out = graded
    text, expected = BAD_SHEETS[case]
    sheet = out.parent / f"bad-{case.replace(' ', '_')}.csv"
    sheet.write_text(text, encoding="utf-8")
    before = snapshot(out)
    refused = autograde("manual", "merge", str(out), str(sheet), "--assignment", "exam", cwd=out)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    message = " ".join(refused.stderr.split())  # however the console wrapped it
    assert f"{sheet}: refused, nothing was merged" in message, refused.stderr
    for part in expected:
        assert part in message, (part, refused.stderr)
    assert snapshot(out) == before
