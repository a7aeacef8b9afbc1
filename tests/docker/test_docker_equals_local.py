"""Same submission, rubric and seed: the docker backend grades exactly like the local one."""

from __future__ import annotations

import pytest

from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.rubric import discover, load_assignment
from autograde.rubric.selftest import cases

pytestmark = pytest.mark.docker

SEED = 11
CASES = [
    (name, case.notebook)
    for name in ("ex02_gradient_descent", "ex08_open_set")
    for case in cases(load_assignment(name))
]


@pytest.mark.parametrize(("assignment_id", "notebook"), CASES)
def test_docker_grade_equals_local_grade(docker_client, sandbox_image, assignment_id, notebook):
    assignment = load_assignment(assignment_id)
    path = assignment.path(notebook)
    local = grade_submission(path, assignment, GradeOptions(backend="local", grading_seed=SEED))
    docker = grade_submission(path, assignment, GradeOptions(backend="docker", grading_seed=SEED))
    assert docker.backend == "docker" and local.backend == "local"
    assert docker.status == local.status == "graded", (docker.notes, local.notes)
    assert [(t.id, t.points) for t in docker.tasks] == [(t.id, t.points) for t in local.tasks]
    assert [(c.name, c.status) for t in docker.tasks for c in t.checks] == [
        (c.name, c.status) for t in local.tasks for c in t.checks
    ]
    assert docker.score == local.score
    # the expectations of the rubric's own self-test hold in the container too
    expected = next(c.expected for c in cases(assignment) if c.notebook == notebook)
    assert {t.id: t.points for t in docker.tasks} == pytest.approx(expected)


COMPARED = {"ex02_gradient_descent", "ex08_open_set"}
OTHERS = sorted(p.parent.name for p in discover() if p.parent.name not in COMPARED)


@pytest.mark.parametrize("assignment_id", OTHERS)
def test_every_solution_grades_full_points_in_the_container(docker_client, sandbox_image, assignment_id):
    """Each assignment's data folder, probes and check kinds work in the container as well:
    its solution earns every automatic point there."""
    assignment = load_assignment(assignment_id)
    solution = assignment.path(assignment.rubric.solution)
    report = grade_submission(solution, assignment, GradeOptions(backend="docker", grading_seed=SEED))
    assert report.backend == "docker" and report.status == "graded", report.notes
    assert not report.grader_errors
    expected = next(c.expected for c in cases(assignment) if c.notebook == assignment.rubric.solution)
    assert {t.id: t.points for t in report.tasks} == pytest.approx(expected), [
        (c.name, c.status, c.message) for t in report.tasks for c in t.checks if c.status != "pass"
    ]
