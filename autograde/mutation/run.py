"""Making the mutants of an assignment's solution and grading each one by the real pipeline.

A mutant is the solution notebook with exactly one mutation in one answer cell. It is killed
when it does not earn the full automatic points (a task loses points, or the run fails); it
survives when it earns them all. Grading goes through `rubric test`'s own case runner.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograde.backends.warm import close_pools
from autograde.errors import AutogradeError
from autograde.mutation.answers import answer_cells, read
from autograde.mutation.operators import mutations
from autograde.rubric import Assignment
from autograde.rubric.selftest import TOL, Case, automatic_points, run_case
from autograde.status import SubmissionStatus

# a mutant may run this many times as long as the solution did (an endless loop ends sooner)
TIMEOUT_FACTOR = 5.0
MIN_TIMEOUT = 60.0


@dataclass
class Mutant:
    id: str  # <cell tag>-<operator>-<n>: the same solution gives the same ids every run
    cell: str  # the answer cell's tag
    cell_index: int
    task: str | None
    operator: str
    line: int  # 1-based, in the cell
    changed: str  # the mutated line as it reads in the mutant
    source: str  # the mutated cell's whole source
    graded: bool = False
    killed: bool = False
    loses: dict[str, float] = field(default_factory=dict)  # task -> points lost
    note: str = ""  # why a run failed (a timeout, an error), if it did
    seconds: float = 0.0


@dataclass
class AssignmentRun:
    assignment: str
    tasks: list[str]
    mutants: list[Mutant]
    generated: int  # before --max
    seconds: float = 0.0


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_") or "cell"


def generate(assignment: Assignment) -> list[Mutant]:
    """Every mutant of the assignment's answer cells, in notebook and source order."""
    found = []
    for cell in answer_cells(assignment):
        counts: dict[str, int] = {}
        for mutation in mutations(cell.source):
            counts[mutation.operator] = counts.get(mutation.operator, 0) + 1
            found.append(
                Mutant(
                    id=f"{_safe(cell.tag)}-{mutation.operator}-{counts[mutation.operator]}",
                    cell=cell.tag,
                    cell_index=cell.index,
                    task=cell.task,
                    operator=mutation.operator,
                    line=mutation.line,
                    changed=mutation.changed_line(cell.source),
                    source=mutation.source,
                )
            )
    return found


def spread(mutants: list[Mutant], most: int | None) -> list[Mutant]:
    """At most `most` mutants, evenly spread over the list (so over cells and operators)."""
    if most is None or len(mutants) <= most:
        return list(mutants)
    step = len(mutants) / most
    return [mutants[int(i * step)] for i in range(most)]


def select(mutants: list[Mutant], ids: list[str], assignment: str) -> list[Mutant]:
    by_id = {m.id: m for m in mutants}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise AutogradeError(
            f"{assignment}: no mutant {', '.join(unknown)} (run `autograde rubric mutate {assignment}` "
            "to list them)"
        )
    return [by_id[i] for i in ids]


def mutant_notebook(assignment: Assignment, mutant: Mutant) -> nbformat.NotebookNode:
    nb = read(assignment.path(assignment.rubric.solution))
    nb.cells[mutant.cell_index].source = mutant.source
    return nb


def _full(assignment: Assignment) -> dict[str, float]:
    return {task.id: automatic_points(task) for task in assignment.rubric.tasks}


def _measure(case: Case, mutant: Mutant, full: dict[str, float]) -> Mutant:
    report = case.report
    mutant.graded, mutant.seconds = True, case.seconds
    mutant.killed = bool(case.problems)
    if report is not None:
        got = {task.id: task.points for task in report.tasks}
        mutant.loses = {t: pts - got.get(t, 0.0) for t, pts in full.items() if pts - got.get(t, 0.0) > TOL}
        if report.status != SubmissionStatus.GRADED or report.grader_errors:
            mutant.note = f"{report.status}: {'; '.join([*report.notes, *report.grader_errors])[:200]}"
    return mutant


def grade(
    assignment: Assignment,
    mutants: list[Mutant],
    *,
    seed: int = 0,
    backend: str = "local",
    jobs: int = 1,
    generated: int | None = None,
    done: Callable[[Mutant], None] | None = None,
) -> AssignmentRun:
    """Grade the solution (it must earn full points), then every mutant, `jobs` at a time."""
    started = time.monotonic()
    full = _full(assignment)
    # a task of 0 points (a self-check exercise) kills a mutant when one of its checks fails
    unscored = tuple(task.id for task in assignment.rubric.tasks if task.points == 0)
    solution = Case(assignment.id, assignment.rubric.solution, full, must_pass=unscored)
    baseline = run_case(assignment, solution, seed, backend)
    if baseline.problems:
        raise AutogradeError(
            f"{assignment.id}: the solution does not earn full points, nothing to mutate against: "
            + "; ".join(baseline.problems)
        )
    timeout = min(assignment.rubric.limits.total_timeout, max(MIN_TIMEOUT, TIMEOUT_FACTOR * baseline.seconds))
    with tempfile.TemporaryDirectory(prefix="autograde-mutants-") as tmp:
        cases = []
        for mutant in mutants:
            path = Path(tmp) / f"{mutant.id}.ipynb"
            nbformat.write(mutant_notebook(assignment, mutant), path)
            cases.append(Case(assignment.id, str(path), full, must_pass=unscored))
        limits = {"total_timeout": timeout}
        try:  # every mutant in a warm sandbox of its own
            with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="autograde-mutate") as pool:
                futures = {
                    pool.submit(run_case, assignment, case, seed, backend, limits, True): mutant
                    for case, mutant in zip(cases, mutants, strict=True)
                }
                for future in as_completed(futures):
                    mutant = _measure(future.result(), futures[future], full)
                    if done is not None:
                        done(mutant)
        finally:
            close_pools()
    return AssignmentRun(
        assignment.id,
        list(full),
        mutants,
        generated if generated is not None else len(mutants),
        time.monotonic() - started,
    )
