"""Every assignment of the library grades its own notebooks as declared:
solution = full points, template = 0 with no grader error, each mutant loses exactly
the points its rubric entry names (task by task)."""

from __future__ import annotations

import pytest

from autograde.rubric import discover, load_rubric_file
from autograde.selftest import cases, run_case

pytestmark = pytest.mark.integration

ASSIGNMENTS = {path.parent.name: load_rubric_file(path) for path in discover()}
CASES = [(name, case) for name, assignment in ASSIGNMENTS.items() for case in cases(assignment)]


def test_library_has_the_course_assignments():
    assert {"ex02_gradient_descent", "ex08_open_set"} <= set(ASSIGNMENTS)
    for assignment in ASSIGNMENTS.values():
        assert assignment.rubric.mutants, f"{assignment.id} has no mutants"


@pytest.mark.parametrize(("name", "case"), CASES, ids=[f"{n}:{c.notebook}" for n, c in CASES])
def test_notebook_scores_as_declared(name, case):
    result = run_case(ASSIGNMENTS[name], case, seed=3)
    assert result.report is not None
    assert result.ok, "\n".join(result.problems)
    assert not result.report.grader_errors
    for task in result.report.tasks:
        assert task.points == pytest.approx(case.expected[task.id])
