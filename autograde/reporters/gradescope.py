"""Gradescope autograder output: the `results.json` a Gradescope autograder writes.

One test per rubric task, with the task's checks as its output. Hidden tasks are visible to
students only once the grades are published (`after_published`). All text is plain text
(Gradescope's default `output_format`), so nothing a student wrote is rendered as markup.
"""

from __future__ import annotations

from typing import Any

from autograde.reporters import late as late_text
from autograde.results import GradeReport, TaskResult
from autograde.rubric import Assignment
from autograde.status import CheckStatus

_EPS = 1e-9


def _points(value: float) -> float:
    return round(float(value), 4)


def _test_output(task: TaskResult) -> str:
    lines = []
    for check in task.checks:
        hidden = " (hidden)" if check.visible == "hidden" else ""
        lines.append(f"{CheckStatus.label_of(check.status)} {check.name}{hidden}: {check.message}")
    return "\n".join(lines)


def _passed(task: TaskResult) -> bool:
    """All the task's points; for a task of 0 points (a self-check exercise), every check passed."""
    if task.max_points > 0:
        return task.points >= task.max_points - _EPS
    return bool(task.checks) and all(check.status == CheckStatus.PASS for check in task.checks)


def _test(task: TaskResult, number: int, output: str) -> dict[str, Any]:
    return {
        "name": f"{task.id}: {task.title}" if task.title else task.id,
        "number": str(number),
        "score": _points(task.points),
        "max_score": _points(task.max_points),
        "status": "passed" if _passed(task) else "failed",
        "output": output,
        "visibility": "after_published" if task.visible == "hidden" else "visible",
    }


def gradescope_results(report: GradeReport, assignment: Assignment) -> dict[str, Any]:
    """Gradescope's results.json for one report: every rubric task is a test, graded or not."""
    by_id = {task.id: task for task in report.tasks}
    tests: list[dict[str, Any]] = []
    for spec in assignment.rubric.tasks:
        result = by_id.pop(spec.id, None)
        if result is None:  # not graded (an invalid notebook, say): the task scores nothing
            result = TaskResult(spec.id, spec.title, 0.0, spec.points, spec.visible)
            output = f"not graded: {report.status}"
        else:
            output = _test_output(result) or f"not graded: {report.status}"
        tests.append(_test(result, len(tests) + 1, output))
    for result in by_id.values():  # tasks the rubric no longer has: still shown, never dropped
        tests.append(_test(result, len(tests) + 1, _test_output(result)))
    summary = [f"Status: {report.status}", f"Score: {report.score:g} / {report.max_score:g}"]
    summary.extend(f"{label}: {text}" for label, text in late_text.lines(report))
    summary.extend(f"Note: {note}" for note in report.notes)
    return {
        "score": _points(report.score),
        "max_score": _points(report.max_score),
        "execution_time": round(report.seconds),
        "output": "\n".join(summary),
        "tests": tests,
    }
