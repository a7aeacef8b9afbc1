"""Scoring, the gradebook CSV and the Markdown feedback."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from autograde.batch.results_folder import ResultsFolder
from autograde.pipeline.scoring import score_task
from autograde.reporters.files import gradebook_csv
from autograde.reporters.markdown import feedback_markdown
from autograde.results import CheckResult, GradeReport, ManualAnswer, TaskResult


def check(status: str, weight: float, earned: float | None = None, message: str = "m",
          name: str = "c", visible: str = "public") -> CheckResult:
    if earned is None:
        earned = 1.0 if status == "pass" else 0.0
    return CheckResult("value", name, status, message, weight, visible, earned)


def task(task_id: str, max_points: float, *checks: CheckResult, title: str | None = None) -> TaskResult:
    result = TaskResult(task_id, title, 0.0, max_points, "public", list(checks))
    result.points = score_task(result)
    return result


def report(student: str = "alice", status: str = "graded", tasks: list[TaskResult] | None = None,
           notes: list[str] | None = None) -> GradeReport:
    tasks = tasks or []
    return GradeReport(
        student=student, file=f"{student}.ipynb", assignment="ex02", status=status,
        score=sum(t.points for t in tasks), max_score=sum(t.max_points for t in tasks),
        tasks=tasks, notes=notes or [],
    )


# ---------------------------------------------------------------- scoring


def test_weighted_score() -> None:
    # weights 1 and 3, only the second passes: 3 / (1 + 3) of 4 points = 3
    assert task("t", 4, check("fail", 1), check("pass", 3)).points == pytest.approx(3.0)
    assert task("t", 4, check("pass", 1), check("fail", 3)).points == pytest.approx(1.0)
    assert task("t", 2, check("pass", 1), check("pass", 3)).points == pytest.approx(2.0)
    assert task("t", 2, check("fail", 1), check("error", 3)).points == 0.0


def test_weight_zero_gate_does_not_change_the_score() -> None:
    without = task("t", 4, check("fail", 1), check("pass", 3)).points
    with_failing_gate = task("t", 4, check("fail", 0), check("fail", 1), check("pass", 3)).points
    with_passing_gate = task("t", 4, check("pass", 0), check("fail", 1), check("pass", 3)).points
    assert without == with_failing_gate == with_passing_gate == pytest.approx(3.0)


def test_partial_credit_fraction() -> None:
    # one check of weight 2 earning half its weight, one of weight 2 failing: 1/4 of 8 points
    assert task("t", 8, check("fail", 2, earned=0.5), check("fail", 2)).points == pytest.approx(2.0)


def test_thirds_are_rounded_not_truncated() -> None:
    points = task("t", 1, check("pass", 1), check("fail", 1), check("fail", 1)).points
    assert points == pytest.approx(1 / 3, abs=1e-6)


def test_task_without_graded_checks_scores_zero() -> None:
    assert task("t", 5).points == 0.0
    assert task("t", 5, check("pass", 0)).points == 0.0


# ---------------------------------------------------------------- gradebook


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_gradebook_columns_and_rows() -> None:
    reports = [
        report("bob", tasks=[task("loss", 2, check("pass", 1)), task("gradient", 3, check("fail", 1))]),
        report("alice", tasks=[task("loss", 2, check("pass", 1)), task("gradient", 3, check("pass", 1))]),
        report("carol", status="invalid notebook"),
    ]
    rows = parse(gradebook_csv(reports, ["loss", "gradient"]))
    assert rows[0] == ["student", "loss", "gradient", "total", "max", "status"]
    assert len(rows) == 1 + 3
    by_student = {row[0]: row for row in rows[1:]}
    assert by_student["alice"] == ["alice", "2", "3", "5", "5", "graded"]
    assert by_student["bob"] == ["bob", "2", "0", "2", "5", "graded"]
    assert by_student["carol"][1:3] == ["0", "0"]
    assert by_student["carol"][-1] == "invalid notebook"


def test_gradebook_task_order_follows_the_rubric() -> None:
    r = report(tasks=[task("b", 1, check("pass", 1)), task("a", 2, check("fail", 1))])
    rows = parse(gradebook_csv([r], ["a", "b"]))
    assert rows[0][1:3] == ["a", "b"]
    assert rows[1][1:3] == ["0", "1"]


def test_gradebook_fractional_points() -> None:
    r = report(tasks=[task("t", 3, check("pass", 1), check("fail", 1))])
    rows = parse(gradebook_csv([r], ["t"]))
    assert float(rows[1][1]) == pytest.approx(1.5)


@pytest.mark.parametrize("evil", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)"])
def test_formula_like_cells_are_neutralised(evil: str) -> None:
    rows = parse(gradebook_csv([report(evil, status=evil)], []))
    student, status = rows[1][0], rows[1][-1]
    for cell in (student, status):
        assert not cell.startswith(("=", "+", "-", "@"))
        assert evil in cell


def test_gradebook_quotes_commas_and_newlines() -> None:
    rows = parse(gradebook_csv([report("a,b", status="grader error: x\ny")], []))
    assert rows[1][0] == "a,b"
    assert rows[1][-1] == "grader error: x\ny"
    assert len(rows) == 2


def test_write_gradebook_and_student(tmp_path: Path) -> None:
    r = report("alice", tasks=[task("loss", 2, check("pass", 1))])
    path = ResultsFolder(tmp_path / "out").write_gradebook([r], ["loss"])
    assert parse(path.read_text())[1] == ["alice", "2", "2", "2", "graded"]
    folder = ResultsFolder(tmp_path / "out").write_student(r)
    assert folder == tmp_path / "out" / "students" / "alice"
    assert (folder / "report.json").is_file()
    assert "Feedback" in (folder / "feedback.md").read_text()


# ---------------------------------------------------------------- feedback


def test_feedback_includes_the_score_line() -> None:
    r = report(tasks=[task("loss", 2, check("pass", 1)), task("gradient", 3, check("fail", 2),
                                                               check("pass", 1))])
    text = feedback_markdown(r)
    assert "Score: **3 / 5**" in text
    assert "## loss: 2 / 2" in text
    assert "## gradient: 1 / 3" in text
    assert "PASS" in text and "FAIL" in text


def test_feedback_escapes_script_in_messages_and_notes() -> None:
    payload = "<script>alert(1)</script>"
    r = report(
        tasks=[task("loss", 1, check("fail", 1, message=f"got {payload}", name=payload),
                    title=payload)],
        notes=[f"note {payload}"],
    )
    r.cells = [{"number": 3, "status": "error", "ename": "ValueError", "evalue": payload}]
    text = feedback_markdown(r)
    assert "<script" not in text.lower()
    assert "&lt;script&gt;" in text
    assert text.count("&lt;script&gt;") >= 5


def test_feedback_message_cannot_forge_structure() -> None:
    r = report(tasks=[task("loss", 1, check("fail", 1, message="x\n# Score: 100 / 100\n[a](b)"))])
    text = feedback_markdown(r)
    assert "\n# Score" not in text
    assert "[a](b)" not in text


def test_feedback_hides_hidden_checks_on_request() -> None:
    r = report(tasks=[task("loss", 1, check("pass", 1, name="public one"),
                           check("fail", 1, name="secret one", visible="hidden"))])
    assert "secret one" in feedback_markdown(r, include_hidden=True)
    hidden_text = feedback_markdown(r, include_hidden=False)
    assert "secret one" not in hidden_text
    assert "public one" in hidden_text


def test_feedback_apostrophes_are_not_mangled() -> None:
    r = report(notes=["the notebook asks for kernel 'ir' (R)"])
    text = feedback_markdown(r)
    assert "&\\#" not in text


def test_manual_answer_code_block_is_verbatim() -> None:
    r = report()
    r.manual = [ManualAnswer("essay", "essay", "x = 'a' if n < 3 else \"b\"")]
    text = feedback_markdown(r)
    assert "    x = 'a' if n < 3 else \"b\"" in text


def test_report_json_round_trip():
    from autograde.results import CheckResult, GradeReport, ManualAnswer, TaskResult

    report = GradeReport(
        student="s1", file="s1.ipynb", assignment="a", status="graded", score=1.5, max_score=3,
        tasks=[TaskResult("t", "T", 1.5, 3, "public",
                          [CheckResult("value", "f", "fail", "worst <b>", 1.0, "hidden", 0.5)])],
        cells=[{"index": 0, "status": "ok"}], notes=["n"],
        manual=[ManualAnswer("theory", "theory-1", "because")], backend="local", seconds=1.0,
        rubric_digest="d", grading_seed=3, parameters={"epochs": 2}, versions={"python": "3.11"},
    )
    import json

    again = GradeReport.from_json(json.loads(json.dumps(report.to_json())))
    assert again == report
