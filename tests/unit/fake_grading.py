"""A tiny assignment and submission graded through `grade_submission` on the fake backend:
no kernel runs, the test scripts what the sandbox leaves in out/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import yaml

from autograde.backends import fake
from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.results import CheckResult, GradeReport
from autograde.rubric import Assignment, load_rubric_file

RUBRIC: dict[str, Any] = {
    "schema": 1,
    "assignment": "fake_judge",
    "title": "judged from scripted sandbox files",
    "limits": {"total_timeout": "60s", "memory": "2GiB", "out_bytes": "1MiB"},
    "tasks": [
        {
            "id": "answer",
            "title": "the answer",
            "points": 2,
            "checks": [
                {"kind": "value", "variable": "answer", "expect": 42, "tag": "answer"},
                {"kind": "exists", "target": "helper", "type": "callable", "tag": "answer"},
            ],
        },
        {
            "id": "ratio",
            "title": "a ratio",
            "points": 1,
            "checks": [{"kind": "value", "variable": "ratio", "expect": 1.5, "tag": "ratio"}],
        },
    ],
}

# what a correct submission's probes leave, by the name each probe looks up
CORRECT = {"answer": fake.value(42), "helper": fake.defined("callable", "function"), "ratio": fake.value(1.5)}


def make_assignment(folder: Path, **limits: Any) -> Assignment:
    data = {**RUBRIC, "limits": {**RUBRIC["limits"], **limits}}
    (folder / "fake_judge").mkdir(parents=True, exist_ok=True)
    path = folder / "fake_judge" / "rubric.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_rubric_file(path)


def make_submission(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("seed = 0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("answer = 42\ndef helper(): pass", metadata={"tags": ["answer"]}),
        nbformat.v4.new_code_cell("ratio = 1.5", metadata={"tags": ["ratio"]}),
    ]
    path = folder / "student.ipynb"
    nbformat.write(nb, path)
    return path


def responder(**changes: fake.FakeProbe | None) -> Any:
    """The correct probes, with those of the names in `changes` replaced."""
    table = {**CORRECT, **changes}
    return lambda spec: table.get(spec["target"])


def grade(tmp_path: Path, script: fake.Script, **limits: Any) -> GradeReport:
    assignment = make_assignment(tmp_path / "library", **limits)
    with fake.scripted(script):
        return grade_submission(make_submission(tmp_path), assignment, GradeOptions(backend="fake"))


def checks(report: GradeReport) -> dict[str, CheckResult]:
    """Every check of the report by its display name."""
    return {check.name: check for task in report.tasks for check in task.checks}
