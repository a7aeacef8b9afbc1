"""Every assignment of the library grades its own notebooks as declared:
solution = full points, template = 0 with no grader error, each mutant loses exactly
the points its rubric entry names (task by task).

All notebooks are graded once, two at a time (as `autograde rubric test -j 2` does); each
test then reads its own case.
"""

from __future__ import annotations

import pytest

from autograde.rubric import discover, load_rubric_file
from autograde.rubric.selftest import Case, cases

pytestmark = [pytest.mark.integration, pytest.mark.library]

ASSIGNMENTS = {path.parent.name: load_rubric_file(path) for path in discover()}
CASES = [(name, case) for name, assignment in ASSIGNMENTS.items() for case in cases(assignment)]
COURSE = {
    "ex01_perceptron",
    "ex02_gradient_descent",
    "ex03_nonlinear_regression",
    "ex04_multi_output",
    "ex05_classification",
    "ex06_pytorch_cnn",
    "ex07_transfer_learning",
    "ex08_open_set",
    "ex09_autoencoder",
    "ex10_rnn",
    "ex11_adversarial",
    "ex12_rbf",
    "exam",
}


@pytest.fixture(scope="module")
def graded(library_grades: dict[tuple[str, str], Case]) -> dict[tuple[str, str], Case]:
    return library_grades


def test_library_has_the_course_assignments():
    assert set(ASSIGNMENTS) == COURSE
    for assignment in ASSIGNMENTS.values():
        assert len(assignment.rubric.mutants) >= 3, f"{assignment.id} has fewer than three mutants"
        tasks = assignment.rubric.tasks
        visibility = {check.visible or task.visible for task in tasks for check in task.checks}
        assert visibility == {"public", "hidden"}, f"{assignment.id} needs public and hidden checks"


@pytest.mark.parametrize(("name", "case"), CASES, ids=[f"{n}:{c.notebook}" for n, c in CASES])
def test_notebook_scores_as_declared(graded, name, case):
    result = graded[(name, case.notebook)]
    assert result.report is not None
    assert result.ok, "\n".join(result.problems)
    assert not result.report.grader_errors
    for task in result.report.tasks:
        assert task.points == pytest.approx(case.expected[task.id])

