"""`autograde rubric test`: the rubric library checks itself.

The solution must reach full points, the template must score 0 with no grader error, and
each mutant must lose exactly the points its rubric entry says, task by task. A task of 0
points (a self-check exercise) says nothing by its points: there the solution must pass
every check that is not graded by hand instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from autograde.backends.warm import close_pools
from autograde.checks.basic import ManualCheck
from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.results import GradeReport
from autograde.rubric import Assignment, Task
from autograde.status import CheckStatus, SubmissionStatus

TOL = 1e-6


@dataclass
class Case:
    assignment: str
    notebook: str
    expected: dict[str, float]
    must_pass: tuple[str, ...] = ()  # tasks of 0 points whose every automatic check must pass
    report: GradeReport | None = None
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the grading

    @property
    def ok(self) -> bool:
        return not self.problems


def automatic_points(task: Task) -> float:
    """What a perfect notebook earns before a human grades the manual checks (all or
    nothing: none, when a weighted check is graded by hand)."""
    total = sum(check.weight for check in task.checks)
    auto = sum(check.weight for check in task.checks if not isinstance(check, ManualCheck))
    if task.all_or_nothing:
        return task.points if total and auto == total else 0.0
    return task.points * auto / total if total else 0.0


def cases(assignment: Assignment) -> list[Case]:
    rubric = assignment.rubric
    full = {task.id: automatic_points(task) for task in rubric.tasks}
    unscored = tuple(task.id for task in rubric.tasks if task.points == 0)
    found = [
        Case(assignment.id, rubric.solution, full, must_pass=unscored),
        Case(assignment.id, rubric.template, dict.fromkeys(full, 0.0)),
    ]
    for mutant in rubric.mutants:
        expected = {tid: pts - mutant.loses.get(tid, 0.0) for tid, pts in full.items()}
        found.append(Case(assignment.id, mutant.notebook, expected))
    return found


def run_case(
    assignment: Assignment,
    case: Case,
    seed: int,
    backend: str = "local",
    limits: dict[str, Any] | None = None,
    warm: bool = False,
) -> Case:
    """Grade the case's notebook (a path relative to the assignment folder, or absolute);
    `limits` overrides the rubric's sandbox limits; `warm`: in a warm sandbox."""
    path = assignment.path(case.notebook)
    if not path.is_file():
        case.problems.append(f"{path}: notebook missing")
        return case
    started = time.monotonic()
    opts = GradeOptions(backend=backend, grading_seed=seed, limits=dict(limits or {}), warm=warm)
    report = grade_submission(path, assignment, opts)
    case.seconds = time.monotonic() - started
    case.report = report
    if report.status != SubmissionStatus.GRADED:
        case.problems.append(f"status {report.status!r}: {'; '.join(report.notes)[:500]}")
    for error in report.grader_errors:
        case.problems.append(f"grader error: {error[:300]}")
    for task in report.tasks:
        if task.id in case.must_pass:
            failed = [
                f"{c.name}: {c.status}: {c.message[:200]}"
                for c in task.checks
                if c.kind != "manual" and c.status != CheckStatus.PASS
            ]
            if failed:
                case.problems.append(
                    f"task {task.id}: 0 points, so the solution must pass each of its checks instead "
                    f"({'; '.join(failed[:2])})"
                )
        want = case.expected[task.id]
        if abs(task.points - want) > TOL:
            failing = [
                f"{c.name}: {c.status}: {c.message[:200]}"
                for c in task.checks
                if (c.status != CheckStatus.PASS) == (want == task.max_points)
            ]
            case.problems.append(
                f"task {task.id}: {task.points:g} points, expected {want:g}"
                + (f" ({'; '.join(failing[:2])})" if failing else "")
            )
    return case


def run_library(
    assignments: list[Assignment], seed: int = 0, backend: str = "local", jobs: int = 1, warm: bool = False
) -> Iterator[Case]:
    """Every case of every assignment, `jobs` at a time, yielded in library order (`warm`:
    each in a warm sandbox, the idle ones removed at the end)."""
    todo = [(assignment, case) for assignment in assignments for case in cases(assignment)]
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="autograde-selftest") as pool:
            futures = [pool.submit(run_case, a, case, seed, backend, None, warm) for a, case in todo]
            for future in futures:
                yield future.result()
    finally:
        if warm:
            close_pools()
