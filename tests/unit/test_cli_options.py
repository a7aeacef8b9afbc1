"""Bad command-line values fail before any grading starts, naming the option."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from autograde.cli.main import main


def run(tmp_path, *extra: str):
    uploads = tmp_path / "uploads"
    uploads.mkdir(exist_ok=True)
    args = ["grade", str(uploads), "-a", "ex02_gradient_descent", "--out", str(tmp_path / "out"), *extra]
    return CliRunner().invoke(main, args)


def test_bad_memory_value_names_the_option(tmp_path):
    result = run(tmp_path, "--memory", "2 parsecs")
    assert result.exit_code == 2
    assert "--memory" in result.output and "parsecs" in result.output
    assert not (tmp_path / "out").exists()


def test_workers_must_be_positive(tmp_path):
    result = run(tmp_path, "-j", "0")
    assert result.exit_code == 2 and "--workers" in result.output


def test_bad_id_pattern_and_missing_roster(tmp_path):
    bad = run(tmp_path, "--id-pattern", "(?P<id>[")
    assert bad.exit_code == 2 and "--id-pattern" in bad.output
    assert not (tmp_path / "out").exists()  # refused before anything was written
    missing = run(tmp_path, "--roster", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "nope.csv" in missing.output


def test_unknown_backend_is_refused(tmp_path):
    result = run(tmp_path, "--backend", "kubernetes")
    assert result.exit_code == 2 and "kubernetes" in result.output


@pytest.mark.parametrize(
    ("status", "checks", "code"),
    [
        ("graded", ["pass", "pass"], 0),
        ("graded", ["pass", "manual"], 0),  # a manual check waits for a person: not a failure
        ("graded", ["pass", "fail"], 1),
        ("graded", ["pass", "error"], 1),
        ("graded", ["pass", "grader-error"], 1),
        ("invalid notebook", [], 1),
        ("grader error", ["pass"], 1),
    ],
)
def test_check_exit_code_follows_the_statuses(monkeypatch, tmp_path, status, checks, code):
    from autograde import backends
    from autograde.pipeline import grade as pipeline
    from autograde.results import CheckResult, GradeReport, TaskResult

    class NoSandbox:
        def preflight(self) -> None:
            pass

    def fake_grade(path, assignment, opts, student=None):
        assert opts.public_only
        task = TaskResult("loss", None, 0.0, 1.0, "public")
        task.checks = [CheckResult("value", f"c{i}", s, "", 1.0, "public") for i, s in enumerate(checks)]
        return GradeReport("me", path.name, assignment.id, status, 0.0, 1.0, tasks=[task])

    monkeypatch.setattr(backends, "get_backend", lambda name, options: NoSandbox())
    monkeypatch.setattr(pipeline, "grade_submission", fake_grade)
    notebook = tmp_path / "mine.ipynb"
    notebook.write_text("{}")
    result = CliRunner().invoke(main, ["check", str(notebook), "-a", "ex02_gradient_descent"])
    assert result.exit_code == code, result.output
