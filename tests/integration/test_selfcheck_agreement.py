"""The self-check agrees with the grade: for every notebook of the library (solution,
template, mutants), every public check that a bundle judges ends the same three ways: in
`autograde check --bundle` (a fresh run; as the student's check server runs them, in a
sandbox warmed while the notebook before it was checked, the first of each assignment cold),
in the notebook (`autograde.student` under
nbclient) and in the grader's own verdict of that check at the published inputs.

The grader runs the rubric at a fresh secret seed and, for these checks, at the published
inputs as well; a notebook that hard-codes the published answers therefore earns nothing
(see test_selfcheck.py)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograde.backends.warm import close_pools
from autograde.checks.base import SelfCheck
from autograde.pipeline.grade import GradeOptions
from autograde.results import GradeReport
from autograde.rubric import Assignment, discover, load_rubric_file
from autograde.rubric.datasets import prepare_data_dir
from autograde.rubric.selftest import Case, cases
from autograde.selfcheck.build import build_bundle
from autograde.selfcheck.bundle import Bundle, read_bundle
from autograde.selfcheck.local import check_notebook
from tests.selfcheck_tools import run_live

pytestmark = [pytest.mark.integration, pytest.mark.library]

ASSIGNMENTS = {path.parent.name: load_rubric_file(path) for path in discover()}
ONLY = [a for a in os.environ.get("AUTOGRADE_AGREEMENT", "").split(",") if a]
JOBS = int(os.environ.get("AUTOGRADE_LIBRARY_JOBS", "2"))


@dataclass
class Agreement:
    assignment: str
    notebook: str
    compared: int = 0
    answered_or_later: int = 0
    problems: list[str] = field(default_factory=list)


def _judged(bundle: Bundle) -> dict[tuple[str, int], str]:
    """(task id, check index) -> mode, for every check of the bundle in order."""
    return {(task.id, entry.index): entry.mode for task in bundle.manifest.tasks for entry in task.checks}


def _agreement(
    assignment: Assignment, notebook: str, bundle: Bundle, scratch: Path, grade: GradeReport
) -> Agreement:
    found = Agreement(assignment.id, notebook)
    path = assignment.path(notebook)
    rubric = assignment.rubric
    grader = {}
    for t_index, task in enumerate(grade.tasks):
        for c_index, result in enumerate(task.checks):
            grader[(rubric.tasks[t_index].id, c_index)] = result.published
    modes = _judged(bundle)
    order = list(modes)
    data_dir = prepare_data_dir(assignment.id, rubric.data_dir) if rubric.data_dir else None
    # a data folder too large for the bundle is the one the student passes with --data
    data = None if bundle.manifest.data else data_dir
    cli = check_notebook(path, bundle, GradeOptions(warm=True), data=data, data_cache=scratch / "data")
    cli_rows = [(t.id, c.status) for t in cli.tasks for c in t.checks]
    live_rows, _ = run_live(path, bundle, scratch / notebook.replace("/", "_"), data_dir)
    if len(cli_rows) != len(order) or len(live_rows) != len(order):
        found.problems.append(
            f"{len(order)} checks, the CLI gave {len(cli_rows)}, the notebook {len(live_rows)}"
        )
        return found
    for key, (_, cli_status), (_, name, live_status) in zip(order, cli_rows, live_rows, strict=True):
        if modes[key] not in (SelfCheck.FULL, SelfCheck.PUBLISHED):
            found.answered_or_later += 1
            continue
        found.compared += 1
        if not (cli_status == live_status == grader[key]):
            found.problems.append(
                f"{key[0]} / {name}: grader at the published inputs {grader[key]}, CLI {cli_status}, "
                f"notebook {live_status}"
            )
    return found


@pytest.fixture(scope="module")
def agreements(
    tmp_path_factory: pytest.TempPathFactory, library_grades: dict[tuple[str, str], Case]
) -> list[Agreement]:
    out = tmp_path_factory.mktemp("bundles")
    chosen = [a for name, a in sorted(ASSIGNMENTS.items()) if not ONLY or name in ONLY]
    todo = []
    for assignment in chosen:
        bundle = read_bundle(build_bundle(assignment, out).bundle)
        todo += [(assignment, case.notebook, bundle) for case in cases(assignment)]
    scratch = tmp_path_factory.mktemp("live")
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        futures = [
            pool.submit(_agreement, a, nb, b, scratch / a.id, library_grades[(a.id, nb)].report)
            for a, nb, b in todo
        ]
        try:
            return [f.result() for f in futures]
        finally:
            close_pools()


def test_self_check_agrees_with_the_grade_at_the_published_inputs(agreements):
    compared = sum(a.compared for a in agreements)
    agree = compared - sum(len(a.problems) for a in agreements)
    print(
        f"\nself-check agreement: {agree} of {compared} check verdicts agree over "
        f"{len(agreements)} notebooks ({sum(a.answered_or_later for a in agreements)} answered "
        "or after-submission checks not compared)"
    )
    problems = [f"{a.assignment}/{a.notebook}: {p}" for a in agreements for p in a.problems]
    assert compared > 0
    assert not problems, "\n".join(problems)
