"""Tasks of 0 points and all-or-nothing tasks: the schema takes them, scoring, every report and
export and `rubric test` handle them (no division by zero anywhere)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from autograde.errors import RubricError
from autograde.pipeline.scoring import score_task
from autograde.reporters.class_report import class_html, class_stats
from autograde.reporters.files import gradebook_csv
from autograde.reporters.gradescope import gradescope_results
from autograde.reporters.html import feedback_html
from autograde.reporters.lms import lms_csv
from autograde.reporters.markdown import feedback_markdown
from autograde.results import CheckResult, GradeReport, TaskResult
from autograde.rubric import Assignment, load_rubric_file, selftest
from autograde.rubric.selftest import Case, automatic_points, cases, run_case


def check(status: str, weight: float = 1.0, kind: str = "value", name: str = "c") -> CheckResult:
    return CheckResult(kind, name, status, "m", weight, "public", 1.0 if status == "pass" else 0.0)


def scored(points: float, *checks: CheckResult, all_or_nothing: bool = False) -> float:
    return score_task(TaskResult("t", None, 0.0, points, "public", list(checks), all_or_nothing))


def test_all_or_nothing_gives_full_points_only_when_every_weighted_check_passes() -> None:
    assert scored(4, check("pass"), check("pass", 3), all_or_nothing=True) == 4.0
    assert scored(4, check("pass"), check("fail", 3), all_or_nothing=True) == 0.0
    assert scored(4, check("fail"), check("pass", 3), all_or_nothing=True) == 0.0
    assert scored(4, check("fail"), check("pass", 3)) == 3.0  # in proportion, without it
    # a gate of weight 0 does not count either way
    assert scored(4, check("fail", 0), check("pass"), all_or_nothing=True) == 4.0
    partly = CheckResult("manual", "m", "graded-by-hand", "", 1.0, "public", 0.5)
    assert scored(2, partly, all_or_nothing=True) == 0.0


def test_zero_points_and_zero_weights_score_zero() -> None:
    assert scored(0, check("pass")) == 0.0
    assert scored(0, check("pass"), all_or_nothing=True) == 0.0
    assert scored(0, check("pass", 0), check("fail", 0)) == 0.0
    assert scored(2, check("pass", 0)) == 0.0


def write(tmp_path: Path, tasks: list[dict[str, Any]]) -> Path:
    folder = tmp_path / "z"
    folder.mkdir(exist_ok=True)
    data = {"schema": 1, "assignment": "z", "title": "Z", "tasks": tasks}
    (folder / "rubric.yaml").write_text(yaml.safe_dump(data))
    return folder / "rubric.yaml"


EXISTS = {"kind": "exists", "target": "f"}  # weight 0 by default
VALUE = {"kind": "value", "variable": "x", "expect": 1}


def test_schema_takes_zero_and_float_points_and_all_or_nothing(tmp_path: Path) -> None:
    rubric = load_rubric_file(
        write(
            tmp_path,
            [
                {"id": "a", "points": 0, "checks": [EXISTS]},  # only weightless checks: fine at 0 points
                {"id": "b", "points": 1.5, "all_or_nothing": True, "checks": [VALUE]},
            ],
        )
    ).rubric
    assert [t.points for t in rubric.tasks] == [0, 1.5]
    assert rubric.tasks[1].all_or_nothing and not rubric.tasks[0].all_or_nothing
    assert rubric.max_points == 1.5


def test_schema_still_refuses_negative_points_and_points_without_a_weighted_check(tmp_path: Path) -> None:
    with pytest.raises(RubricError, match=r"tasks\.0\.points"):
        load_rubric_file(write(tmp_path, [{"id": "a", "points": -1, "checks": [VALUE]}]))
    with pytest.raises(RubricError, match="weight > 0"):
        load_rubric_file(write(tmp_path, [{"id": "a", "points": 1, "checks": [EXISTS]}]))


@pytest.fixture
def zero(tmp_path: Path) -> Assignment:
    return load_rubric_file(write(tmp_path, [{"id": "a", "points": 0, "checks": [EXISTS, VALUE]}]))


def zero_report(student: str, status: str = "pass") -> GradeReport:
    task = TaskResult("a", None, 0.0, 0.0, "public", [check("pass", 0, "exists"), check(status)])
    return GradeReport(student, f"{student}.ipynb", "z", "graded", 0.0, 0.0, [task])


def test_every_report_and_export_of_a_zero_point_rubric(zero: Assignment) -> None:
    reports = [zero_report("ann"), zero_report("bob", "fail")]
    stats = class_stats(reports, zero)
    assert stats.tasks[0].mean_lost == 0.0 and stats.tasks[0].full_marks == 1.0
    assert "Maximum</dt><dd>0 points" in class_html(reports, zero)
    assert "ann,0,0" in lms_csv(reports).replace("\r", "")
    assert gradebook_csv(reports, ["a"]).count("\n") >= 3
    assert "**0 / 0**" in feedback_markdown(reports[1])
    assert "0 / 0" in feedback_html(reports[1])
    results = gradescope_results(reports[1], zero)
    assert results["score"] == 0 and results["tests"][0]["max_score"] == 0
    assert results["tests"][0]["status"] == "failed"  # a failed check of a 0-point task
    assert gradescope_results(reports[0], zero)["tests"][0]["status"] == "passed"


def test_automatic_points_all_or_nothing_with_a_manual_check(tmp_path: Path) -> None:
    manual = {"kind": "manual", "cell_tag": "why", "weight": 1}
    rubric = load_rubric_file(
        write(
            tmp_path,
            [
                {"id": "a", "points": 2, "all_or_nothing": True, "checks": [VALUE, manual]},
                {"id": "b", "points": 2, "checks": [VALUE, manual]},
                {"id": "c", "points": 0, "checks": [VALUE]},
            ],
        )
    ).rubric
    assert [automatic_points(t) for t in rubric.tasks] == [0.0, 1.0, 0.0]


def test_rubric_test_asks_a_zero_point_solution_to_pass_every_check(
    zero: Assignment, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    solution, template = cases(zero)
    assert solution.must_pass == ("a",) and template.must_pass == ()
    (zero.folder / "solution.ipynb").write_text("{}")
    monkeypatch.setattr(selftest, "grade_submission", lambda *args, **kwargs: zero_report("s", "fail"))
    run_case(zero, solution, seed=0)
    assert solution.problems == [
        "task a: 0 points, so the solution must pass each of its checks instead (c: fail: m)"
    ]
    again = Case("z", "solution.ipynb", {"a": 0.0}, must_pass=("a",))
    monkeypatch.setattr(selftest, "grade_submission", lambda *args, **kwargs: zero_report("s"))
    assert run_case(zero, again, seed=0).ok
