"""How a self-check shows in a notebook: HTML with every notebook-made text escaped, plain
text where no HTML front end exists, and the count leaving answered and later checks out."""

from __future__ import annotations

from autograde.results import CheckResult, GradeReport, TaskResult
from autograde.selfcheck.display import SelfCheckResult


def report() -> GradeReport:
    task = TaskResult("loss", None, 0.0, 2.0, "public")
    task.checks = [
        CheckResult("value", "value loss", "fail", "got <script>alert(1)</script>", 1.0, "public"),
        CheckResult("exists", "exists loss", "pass", "`loss` is defined", 0.0, "public"),
        CheckResult("choice", "choice q1", "answered", "you chose ['b']", 1.0, "public"),
        CheckResult("property", "property p", "after-submission", "checked after submission", 1.0, "public"),
    ]
    return GradeReport("self-check", "", "ex02", "graded", 0.0, 10.0, tasks=[task])


def test_html_escapes_messages_and_counts_only_checks_with_a_verdict():
    result = SelfCheckResult(report(), ["regression: 3 points graded after submission"])
    html = result._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "checks passed 1/2" in html and "ANSWERED" in html and "AFTER SUBMISSION" in html
    assert "regression: 3 points graded after submission" in html
    assert not result.passed


def test_plain_text_has_one_line_per_check():
    text = str(SelfCheckResult(report()))
    lines = text.splitlines()
    assert lines[0] == "ex02: checks passed 1/2"
    assert any(line.strip().startswith("FAIL") and "loss / value loss" in line for line in lines)
    assert len(lines) == 5
