"""Manual grading: export a sheet of free-text answers, merge the points a human gave."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from autograde.batch.results_folder import ResultsFolder
from autograde.cli.manual import manual
from autograde.errors import AutogradeError
from autograde.manual.merge import merge_sheet
from autograde.manual.sheet import export_sheet
from autograde.results import CheckResult, GradeReport, ManualAnswer, TaskResult
from autograde.rubric import Assignment, load_rubric_file
from autograde.status import CheckStatus

HAND_GRADED = CheckStatus.GRADED_BY_HAND

RUBRIC = """\
schema: 1
assignment: exam
title: "Exam with theory questions"
tasks:
  - id: code
    points: 3
    checks:
      - {kind: exists, target: f}
      - {kind: value, variable: x, expect: 1}
  - id: theory
    title: "why plain softmax is over-confident"
    points: 2
    checks:
      - {kind: manual, cell_tag: theory-1}
  - id: mixed
    points: 4
    checks:
      - {kind: value, variable: y, expect: 2, weight: 3}
      - {kind: manual, cell_tag: theory-2, name: explain, weight: 1}
"""
QUESTION = "## Task 2: theory\n\nWhy does the softmax assign a *high* probability to unknown inputs?"
TASK_IDS = ["code", "theory", "mixed"]
EVIL = "<script>alert('x')</script> & \"quotes\""


@pytest.fixture
def exam(tmp_path: Path) -> Assignment:
    folder = tmp_path / "rubrics" / "exam"
    folder.mkdir(parents=True)
    (folder / "rubric.yaml").write_text(RUBRIC)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Exam"),
        nbformat.v4.new_markdown_cell(QUESTION),
        nbformat.v4.new_markdown_cell("*Your answer here.*", metadata={"tags": ["theory-1"]}),
        nbformat.v4.new_code_cell("y = ...", metadata={"tags": ["mixed"]}),
        nbformat.v4.new_markdown_cell("*Explain.*", metadata={"tags": ["theory-2"]}),
    ]
    nbformat.write(nb, folder / "template.ipynb")
    return load_rubric_file(folder / "rubric.yaml")


def graded_report(student: str, x_ok: bool, y_ok: bool, theory: str | None,
                  explain: str | None) -> GradeReport:
    """A report as `autograde grade` writes it for this rubric."""

    def c(kind: str, name: str, ok: bool | None, weight: float) -> CheckResult:
        status = "manual" if ok is None else "pass" if ok else "fail"
        message = "awaiting manual grading" if ok is None else "m"
        return CheckResult(kind, name, status, message, weight, "public", 1.0 if ok else 0.0)

    code = TaskResult("code", None, 3.0 if x_ok else 0.0, 3, "public",
                      [c("exists", "exists f", True, 0), c("value", "value x", x_ok, 1)])
    theory_task = TaskResult("theory", "why plain softmax is over-confident", 0.0, 2, "public",
                             [c("manual", "manual theory-1", None, 1)])
    mixed = TaskResult("mixed", None, 3.0 if y_ok else 0.0, 4, "public",
                       [c("value", "value y", y_ok, 3), c("manual", "explain", None, 1)])
    tasks = [code, theory_task, mixed]
    return GradeReport(
        student=student, file=f"{student}.ipynb", assignment="exam", status="graded",
        score=sum(t.points for t in tasks), max_score=9, tasks=tasks,
        manual=[ManualAnswer("theory", "theory-1", theory), ManualAnswer("mixed", "theory-2", explain)],
    )


def invalid_report(student: str) -> GradeReport:
    """As `empty_report` writes it: every check not-run, no answers."""
    tasks = [
        TaskResult("code", None, 0.0, 3, "public", [
            CheckResult("exists", "exists", "not-run", "bad", 0, "public"),
            CheckResult("value", "value", "not-run", "bad", 1, "public")]),
        TaskResult("theory", None, 0.0, 2, "public", [
            CheckResult("manual", "manual", "not-run", "bad", 1, "public")]),
        TaskResult("mixed", None, 0.0, 4, "public", [
            CheckResult("value", "value", "not-run", "bad", 3, "public"),
            CheckResult("manual", "explain", "not-run", "bad", 1, "public")]),
    ]
    return GradeReport(student=student, file=f"{student}.ipynb", assignment="exam",
                       status="invalid notebook", score=0, max_score=9, tasks=tasks, notes=["bad"])


@pytest.fixture
def results(tmp_path: Path) -> Path:
    out = tmp_path / "results"
    reports = [
        graded_report("alice", True, True, "Softmax sums to one over known classes.", "Because."),
        graded_report("bob", False, False, EVIL, "=HYPERLINK(\"http://evil\", \"click\")"),
        graded_report("carol", True, False, None, ""),  # no cell tagged theory-1
        graded_report("-eve", True, True, "+1 obviously", "@sum"),
        invalid_report("dave"),
    ]
    folder = ResultsFolder(out)
    for report in reports:
        folder.write_student(report)
    folder.write_gradebook(reports, TASK_IDS)
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def write_sheet(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    columns = columns or ["student", "task", "check", "max_points", "points", "comment", "answer"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def row(student: str, task: str, check: str, points: str = "", comment: str = "") -> dict[str, str]:
    return {"student": student, "task": task, "check": check, "points": points, "comment": comment}


def gradebook(results: Path) -> dict[str, dict[str, str]]:
    return {r["student"]: r for r in read_csv(results / "grades.csv")}


def report_of(results: Path, student: str) -> GradeReport:
    return GradeReport.from_json(json.loads((results / "students" / student / "report.json").read_text()))


# ---------------------------------------------------------------- export


def test_export_writes_one_row_per_student_and_manual_check(results: Path, exam: Assignment) -> None:
    sheet, page = export_sheet(results, exam)
    assert sheet == results / "manual" / "sheet.csv" and page == results / "manual" / "sheet.html"
    header = sheet.read_text().splitlines()[0]
    assert header == "student,task,check,max_points,points,comment,answer"
    rows = read_csv(sheet)
    keys = [(r["student"], r["task"], r["check"]) for r in rows]
    # dave's notebook could not be graded at all: nothing to read, no row
    assert keys == [
        ("'-eve", "theory", "manual theory-1"),
        ("alice", "theory", "manual theory-1"),
        ("bob", "theory", "manual theory-1"),
        ("carol", "theory", "manual theory-1"),
        ("'-eve", "mixed", "explain"),
        ("alice", "mixed", "explain"),
        ("bob", "mixed", "explain"),
        ("carol", "mixed", "explain"),
    ]
    by_key = {(r["student"], r["check"]): r for r in rows}
    # the manual check carries all 2 points of `theory`, and 4 * 1 / (3 + 1) = 1 point of `mixed`
    assert {r["max_points"] for r in rows if r["task"] == "theory"} == {"2"}
    assert {r["max_points"] for r in rows if r["task"] == "mixed"} == {"1"}
    assert all(r["points"] == "" and r["comment"] == "" for r in rows)
    assert by_key["alice", "manual theory-1"]["answer"] == "Softmax sums to one over known classes."
    assert by_key["bob", "manual theory-1"]["answer"] == EVIL
    assert "no cell tagged 'theory-1'" in by_key["carol", "manual theory-1"]["answer"]
    assert by_key["carol", "explain"]["answer"] == ""


def test_export_neutralises_formulas(results: Path, exam: Assignment) -> None:
    sheet, _ = export_sheet(results, exam)
    by_key = {(r["student"], r["check"]): r for r in read_csv(sheet)}
    assert by_key["bob", "explain"]["answer"] == "'=HYPERLINK(\"http://evil\", \"click\")"
    assert by_key["'-eve", "manual theory-1"]["answer"] == "'+1 obviously"
    assert by_key["'-eve", "explain"]["answer"] == "'@sum"
    for record in by_key.values():
        for value in record.values():
            assert value[:1] not in ("=", "+", "-", "@")


def test_export_html_is_escaped_self_contained_and_shows_the_question(results: Path,
                                                                      exam: Assignment) -> None:
    _, page = export_sheet(results, exam)
    text = page.read_text()
    assert "<script" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in text
    assert "Content-Security-Policy" in text and "default-src 'none'; style-src 'unsafe-inline'" in text
    assert "why plain softmax is over-confident" in text
    assert "Why does the softmax assign a *high* probability to unknown inputs?" in text
    assert "src=" not in text and "href=" not in text  # nothing loaded from anywhere
    assert "dave (invalid notebook)" in text
    assert text.index("alice") < text.index("bob") < text.index("carol")


def test_export_without_template_still_works(results: Path, exam: Assignment) -> None:
    exam.path("template.ipynb").unlink()
    _, page = export_sheet(results, exam)
    assert "why plain softmax is over-confident" in page.read_text()


def test_export_refuses_an_assignment_without_manual_checks(results: Path, tmp_path: Path) -> None:
    path = tmp_path / "auto.yaml"
    path.write_text(RUBRIC.split("  - id: theory")[0])
    with pytest.raises(AutogradeError, match="no manual checks"):
        export_sheet(results, load_rubric_file(path))


def test_export_refuses_reports_of_another_assignment(results: Path, tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(RUBRIC.replace("assignment: exam", "assignment: other"))
    with pytest.raises(AutogradeError, match="graded for assignment 'exam', not 'other'"):
        export_sheet(results, load_rubric_file(path))


def test_export_refuses_a_folder_that_is_not_a_results_folder(tmp_path: Path, exam: Assignment) -> None:
    with pytest.raises(AutogradeError, match="not a results folder"):
        export_sheet(tmp_path, exam)


# ---------------------------------------------------------------- merge


def test_merge_sets_points_rescoring_task_and_total(results: Path, exam: Assignment) -> None:
    before = gradebook(results)
    sheet = write_sheet(results / "filled.csv", [
        row("alice", "theory", "manual theory-1", "1.5", "Good, but name the normalisation."),
        row("alice", "mixed", "explain", "0.5"),
        row("bob", "theory", "manual theory-1", "0"),
    ])
    result = merge_sheet(results, sheet, exam)
    assert result.merged == 3 and sorted(result.changed) == ["alice", "bob"]
    # 8 gradable manual answers (4 students x 2 checks), 3 graded now
    assert result.ungraded == 5
    after = gradebook(results)
    # alice: code 3 + theory 1.5 + mixed (3 of the value check + 0.5) = 8
    assert float(before["alice"]["total"]) == 6
    assert after["alice"]["theory"] == "1.5" and after["alice"]["mixed"] == "3.5"
    assert float(after["alice"]["total"]) == 6 + 1.5 + 0.5 == 8
    assert float(after["bob"]["total"]) == float(before["bob"]["total"]) == 0
    alice = report_of(results, "alice")
    assert alice.score == 8
    theory = alice.task("theory")
    assert theory.points == 1.5
    check = theory.checks[0]
    assert check.status == HAND_GRADED == "graded-by-hand"
    assert check.earned == 0.75
    assert "1.5 / 2 points" in check.message and "name the normalisation" in check.message
    feedback = (results / "students" / "alice" / "feedback.md").read_text()
    assert "Score: **8 / 9**" in feedback
    assert "## theory: 1.5 / 2" in feedback
    assert "1.5 / 2 points, graded by hand. Comment: Good, but name the normalisation." in feedback
    assert "0.5 / 1 points, graded by hand" in feedback
    bob = report_of(results, "bob")
    assert bob.task("theory").checks[0].status == HAND_GRADED
    assert bob.task("theory").checks[0].earned == 0


def test_merge_full_points(results: Path, exam: Assignment) -> None:
    sheet = write_sheet(results / "filled.csv", [row("alice", "theory", "manual theory-1", "2")])
    merge_sheet(results, sheet, exam)
    alice = report_of(results, "alice")
    assert alice.task("theory").points == 2 and alice.task("theory").checks[0].earned == 1
    assert alice.score == 8
    assert gradebook(results)["alice"]["total"] == "8"


def test_partial_merge_leaves_other_answers_and_reports_alone(results: Path, exam: Assignment) -> None:
    before = snapshot(results)
    sheet = write_sheet(results / "filled.csv", [
        row("alice", "theory", "manual theory-1", "1"),
        row("bob", "theory", "manual theory-1", "", "a comment without points"),
        row("carol", "theory", "manual theory-1"),
    ])
    result = merge_sheet(results, sheet, exam)
    assert result.merged == 1 and result.changed == ["alice"]
    assert result.skipped == ["row 3"]
    after = snapshot(results)
    for student in ("bob", "carol", "-eve", "dave"):
        assert after[f"students/{student}/report.json"] == before[f"students/{student}/report.json"]
        assert after[f"students/{student}/feedback.md"] == before[f"students/{student}/feedback.md"]
    assert report_of(results, "bob").task("theory").checks[0].status == "manual"
    # a later sheet that grades more keeps alice's earlier grade (empty points: left as is)
    later = write_sheet(results / "later.csv", [
        row("alice", "theory", "manual theory-1", ""),
        row("bob", "theory", "manual theory-1", "2"),
    ])
    result = merge_sheet(results, later, exam)
    assert result.changed == ["bob"]
    assert report_of(results, "alice").task("theory").points == 1
    assert report_of(results, "bob").task("theory").points == 2


def test_merge_is_idempotent(results: Path, exam: Assignment) -> None:
    sheet = write_sheet(results / "filled.csv", [
        row("alice", "theory", "manual theory-1", "1.5", "ok"),
        row("-eve", "mixed", "explain", "0.25", "=not a formula"),
    ])
    first = merge_sheet(results, sheet, exam)
    once = snapshot(results)
    second = merge_sheet(results, sheet, exam)
    assert snapshot(results) == once
    assert sorted(first.changed) == ["-eve", "alice"] and second.changed == []
    assert second.merged == 2 and second.ungraded == first.ungraded == 6


def test_export_after_merge_round_trips(results: Path, exam: Assignment) -> None:
    sheet, _ = export_sheet(results, exam)
    rows = read_csv(sheet)
    for record in rows:
        if record["student"] == "'-eve" and record["task"] == "mixed":
            record.update(points="0.75", comment="-5 for style")
        if record["student"] == "alice" and record["task"] == "theory":
            record.update(points="1.5", comment="fine")
    write_sheet(sheet, rows)
    merge_sheet(results, sheet, exam)
    merged = snapshot(results)
    assert report_of(results, "-eve").task("mixed").points == 3.75
    # a fresh export carries the merged grades (formula-like comment neutralised again)...
    sheet, _ = export_sheet(results, exam)
    again = {(r["student"], r["task"]): r for r in read_csv(sheet)}
    assert again["'-eve", "mixed"]["points"] == "0.75"
    assert again["'-eve", "mixed"]["comment"] == "'-5 for style"
    assert again["alice", "theory"]["points"] == "1.5" and again["alice", "theory"]["comment"] == "fine"
    assert again["bob", "theory"]["points"] == ""
    # ...and merging it back changes nothing
    result = merge_sheet(results, sheet, exam)
    assert result.changed == []
    after = snapshot(results)
    assert {k: v for k, v in after.items() if not k.startswith("manual/")} == {
        k: v for k, v in merged.items() if not k.startswith("manual/")
    }
    assert "-5 for style" in report_of(results, "-eve").task("mixed").checks[1].message
    assert "'-5" not in report_of(results, "-eve").task("mixed").checks[1].message


def test_export_does_not_overwrite_grades_not_merged_yet(results: Path, exam: Assignment) -> None:
    sheet, _ = export_sheet(results, exam)
    rows = read_csv(sheet)
    rows[1]["points"] = "1"
    write_sheet(sheet, rows)
    edited = sheet.read_bytes()
    with pytest.raises(AutogradeError, match=r"not merged yet \(row 3\).*--force"):
        export_sheet(results, exam)
    assert sheet.read_bytes() == edited
    merge_sheet(results, sheet, exam)
    export_sheet(results, exam)  # merged: nothing is lost any more
    rows = read_csv(sheet)
    rows[2]["comment"] = "unmerged"
    write_sheet(sheet, rows)
    export_sheet(results, exam, force=True)
    assert all(r["comment"] == "" for r in read_csv(sheet))


def test_merge_accepts_a_byte_order_mark_blank_rows_and_dropped_columns(results: Path,
                                                                         exam: Assignment) -> None:
    sheet = results / "excel.csv"
    sheet.write_text("\ufeffstudent,task,check,points\r\nalice,theory,manual theory-1,2\r\n,,,\r\n\r\n",
                     encoding="utf-8")
    result = merge_sheet(results, sheet, exam)
    assert result.merged == 1
    assert report_of(results, "alice").task("theory").points == 2


# ---------------------------------------------------------------- refusals

REFUSALS = [
    (row("zoe", "theory", "manual theory-1", "1"), "row 3: unknown student 'zoe'"),
    (row("../alice", "theory", "manual theory-1", "1"), "row 3: unknown student '../alice'"),
    (row("bob", "essay", "manual theory-1", "1"),
     r"row 3 \(student 'bob', task 'essay'.*unknown task 'essay'"),
    (row("bob", "theory", "manual theory-9", "1"), "row 3 .*'manual theory-9' is an unknown check"),
    (row("bob", "mixed", "value y", "1"), "row 3 .*'value y' is not a manual check of task 'mixed'"),
    (row("bob", "code", "value x", "1"), "row 3 .*task 'code' has no manual check"),
    (row("bob", "theory", "manual theory-1", "2.5"), "row 3 .*points 2.5 are above the maximum 2"),
    (row("bob", "mixed", "explain", "1.01"), "row 3 .*points 1.01 are above the maximum 1"),
    (row("bob", "theory", "manual theory-1", "-1"), "row 3 .*points -1 are negative"),
    (row("bob", "theory", "manual theory-1", "1,5"), "row 3 .*points '1,5' are not a number"),
    (row("bob", "theory", "manual theory-1", "nan"), "row 3 .*points 'nan' are not a number"),
    (row("bob", "theory", "manual theory-1", "full"), "row 3 .*points 'full' are not a number"),
    (row("bob", "theory", "manual theory-1", "0_5"), "row 3 .*points '0_5' are not a number"),
    (row("bob", "theory", "manual theory-1", "1e999"), "row 3 .*points '1e999' are not a number"),
    (row("alice", "theory", "manual theory-1", "2"), "row 3 .*duplicates row 2"),
    (row("dave", "theory", "manual theory-1", "1"), "row 3 .*no answer to grade.*'invalid notebook'"),
]


@pytest.mark.parametrize(("bad", "problem"), REFUSALS, ids=[p for _, p in REFUSALS])
def test_merge_refuses_the_whole_sheet(results: Path, exam: Assignment, bad: dict[str, str],
                                       problem: str) -> None:
    sheet = write_sheet(results.parent / "filled.csv", [row("alice", "theory", "manual theory-1", "1"), bad])
    before = snapshot(results)
    with pytest.raises(AutogradeError, match=problem) as info:
        merge_sheet(results, sheet, exam)
    assert str(info.value).startswith(f"{sheet}: refused, nothing was merged")
    assert snapshot(results) == before  # not even alice's valid row


@pytest.mark.parametrize("dropped", ["student", "task", "check", "points"])
def test_merge_refuses_a_sheet_with_a_missing_column(results: Path, exam: Assignment, dropped: str) -> None:
    columns = [c for c in ["student", "task", "check", "points", "comment"] if c != dropped]
    sheet = write_sheet(results.parent / "filled.csv", [row("alice", "theory", "manual theory-1", "1")],
                        columns)
    before = snapshot(results)
    problem = rf"filled\.csv: row 1 \(header\): missing column\(s\) {dropped}"
    with pytest.raises(AutogradeError, match=problem):
        merge_sheet(results, sheet, exam)
    assert snapshot(results) == before


def test_merge_refuses_an_empty_sheet(results: Path, exam: Assignment) -> None:
    sheet = results.parent / "empty.csv"
    sheet.write_text("")
    with pytest.raises(AutogradeError, match=r"empty\.csv: empty"):
        merge_sheet(results, sheet, exam)


def test_merge_names_every_bad_row(results: Path, exam: Assignment) -> None:
    sheet = write_sheet(results.parent / "filled.csv", [
        row("alice", "theory", "manual theory-1", "3"),
        row("bob", "theory", "manual theory-1", "1"),
        row("zoe", "theory", "manual theory-1", "1"),
        row("carol", "theory", "manual theory-1", "-0.5"),
    ])
    with pytest.raises(AutogradeError) as info:
        merge_sheet(results, sheet, exam)
    message = str(info.value)
    assert "(3 problem(s))" in message
    assert "row 2 " in message and "row 4: unknown student 'zoe'" in message and "row 5 " in message
    assert "row 3" not in message


def test_merge_row_numbers_count_spreadsheet_rows_not_lines(results: Path, exam: Assignment) -> None:
    sheet = write_sheet(results.parent / "filled.csv", [
        {**row("alice", "theory", "manual theory-1", "1"), "answer": "line 1\nline 2\nline 3"},
        row("bob", "theory", "manual theory-1", "9"),
    ])
    with pytest.raises(AutogradeError, match="row 3 "):
        merge_sheet(results, sheet, exam)


# ---------------------------------------------------------------- the click group


def test_cli_export_and_merge(results: Path, exam: Assignment) -> None:
    rubric = str(exam.path("rubric.yaml"))
    runner = CliRunner()
    exported = runner.invoke(manual, ["export", str(results), "--assignment", rubric])
    assert exported.exit_code == 0, exported.output
    assert str(results / "manual" / "sheet.csv") in exported.output
    assert str(results / "manual" / "sheet.html") in exported.output
    sheet = results / "manual" / "sheet.csv"
    rows = read_csv(sheet)
    rows[1]["points"] = "2"
    write_sheet(sheet, rows)
    merged = runner.invoke(manual, ["merge", str(results), str(sheet), "-a", rubric])
    assert merged.exit_code == 0, merged.output
    assert "merged 1 answer(s); 1 report(s) changed; 7 answer(s) still ungraded" in merged.output
    assert gradebook(results)["alice"]["total"] == "8"


def test_cli_merge_refusal_exits_2_and_writes_nothing(results: Path, exam: Assignment) -> None:
    sheet = write_sheet(results.parent / "bad.csv", [row("alice", "theory", "manual theory-1", "5")])
    before = snapshot(results)
    rubric = str(exam.path("rubric.yaml"))
    result = CliRunner().invoke(manual, ["merge", str(results), str(sheet), "-a", rubric])
    assert result.exit_code == 2
    assert f"{sheet}: refused, nothing was merged" in result.stderr
    assert "row 2 (student 'alice'" in result.stderr and "above the maximum 2" in result.stderr
    assert snapshot(results) == before


def test_cli_unknown_assignment_exits_2(results: Path, exam: Assignment, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        manual, ["export", str(results), "-a", "no_such_exam", "--rubrics", str(tmp_path / "rubrics")]
    )
    assert result.exit_code == 2
    assert "no_such_exam" in result.stderr


# ---------------------------------------------------------------- regrades keep hand grades


def _exam_report(answer: str, status: str, earned: float, points: float) -> GradeReport:
    from autograde.results import CheckResult, ManualAnswer, TaskResult

    check = CheckResult("manual", "manual theory-1", status, "1.5 / 2 points, graded by hand", 1.0,
                        "public", earned)
    return GradeReport(
        student="s", file="s.ipynb", assignment="a", status="graded", score=points, max_score=2,
        tasks=[TaskResult("theory", None, points, 2.0, "public", [check])],
        manual=[ManualAnswer("theory", "theory-1", answer)],
    )


def test_regrade_keeps_the_hand_grade_of_an_unchanged_answer() -> None:
    from autograde.manual.carry import carry_hand_grades

    before = _exam_report("because logits", "graded-by-hand", 0.75, 1.5)
    after = _exam_report("because logits", "manual", 0.0, 0.0)
    notes = carry_hand_grades(before, after)
    assert after.tasks[0].checks[0].status == "graded-by-hand"
    assert after.tasks[0].points == 1.5 and after.score == 1.5
    assert any("kept" in note for note in notes)


def test_regrade_asks_again_when_the_answer_changed() -> None:
    from autograde.manual.carry import carry_hand_grades

    before = _exam_report("because logits", "graded-by-hand", 0.75, 1.5)
    after = _exam_report("a different answer", "manual", 0.0, 0.0)
    notes = carry_hand_grades(before, after)
    assert after.tasks[0].checks[0].status == "manual" and after.score == 0
    assert any("changed since it was graded by hand" in note for note in notes)


def _two_essays(first: str, second: str, graded: bool) -> GradeReport:
    """A task with two manual checks (each half of its 4 points), as `autograde grade` writes it
    and, with `graded`, as a merge left it: 1.5 of 2 on the first, 0.5 of 2 on the second."""
    from autograde.results import CheckResult, ManualAnswer, TaskResult

    def essay(name: str, earned: float, points: str) -> CheckResult:
        if not graded:
            return CheckResult("manual", name, "manual", "awaiting manual grading", 1.0, "public", 0.0)
        return CheckResult("manual", name, "graded-by-hand", f"{points} / 2 points, graded by hand", 1.0,
                           "public", earned)

    checks = [essay("manual essay-1", 0.75, "1.5"), essay("manual essay-2", 0.25, "0.5")]
    points = 2.0 if graded else 0.0
    return GradeReport(
        student="s", file="s.ipynb", assignment="a", status="graded", score=points, max_score=4,
        tasks=[TaskResult("essays", None, points, 4.0, "public", checks)],
        manual=[ManualAnswer("essays", "essay-1", first), ManualAnswer("essays", "essay-2", second)],
    )


def test_regrade_keeps_each_manual_check_its_own_hand_grade() -> None:
    from autograde.manual.carry import carry_hand_grades

    after = _two_essays("first answer", "second answer", graded=False)
    carry_hand_grades(_two_essays("first answer", "second answer", graded=True), after)
    first, second = after.tasks[0].checks
    assert (first.status, first.earned) == ("graded-by-hand", 0.75)
    assert (second.status, second.earned) == ("graded-by-hand", 0.25)
    assert after.tasks[0].points == 2.0 and after.score == 2.0  # 1.5 + 0.5


def test_regrade_asks_again_only_for_the_manual_check_whose_answer_changed() -> None:
    from autograde.manual.carry import carry_hand_grades

    after = _two_essays("first answer", "a new second answer", graded=False)
    notes = carry_hand_grades(_two_essays("first answer", "second answer", graded=True), after)
    first, second = after.tasks[0].checks
    assert (first.status, first.earned) == ("graded-by-hand", 0.75)
    assert (second.status, second.earned) == ("manual", 0.0)
    assert after.score == 1.5
    assert [n for n in notes if "changed" in n] == [
        "the answer to essays (manual essay-2) changed since it was graded by hand: grade it again"
    ]


def test_regrade_keeps_the_second_hand_grade_when_only_the_first_answer_changed() -> None:
    from autograde.manual.carry import carry_hand_grades

    after = _two_essays("a new first answer", "second answer", graded=False)
    carry_hand_grades(_two_essays("first answer", "second answer", graded=True), after)
    first, second = after.tasks[0].checks
    assert (first.status, first.earned) == ("manual", 0.0)
    assert (second.status, second.earned) == ("graded-by-hand", 0.25)
    assert after.score == 0.5
