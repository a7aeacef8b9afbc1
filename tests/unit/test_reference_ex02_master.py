"""ex02's reference module, made by `autograde assign` from the solution cells of its master,
against reference/ex02.py (written independently) on random inputs."""

from __future__ import annotations

import numpy as np

from autograde.checks.base import load_reference
from autograde.rubric import load_assignment
from reference import ex02


def _generated(name: str):
    specs = {
        check.reference
        for task in load_assignment("ex02_gradient_descent").rubric.tasks
        for check in task.checks
        if getattr(check, "reference", None)
    }
    (spec,) = [s for s in specs if s.endswith(f".solution_code:{name}")]
    return load_reference(spec)


def test_generated_functions_agree_with_the_independent_reference():
    rng = np.random.default_rng(2)
    loss, gradient = _generated("loss"), _generated("gradient")
    descent, fit_line = _generated("gradient_descent"), _generated("fit_line")
    for _ in range(20):
        w = rng.uniform(-10, 10, size=2)
        np.testing.assert_allclose(loss(w), ex02.loss(w), rtol=1e-12)
        np.testing.assert_allclose(gradient(w), ex02.gradient(w), rtol=1e-12, atol=1e-12)
        start = rng.uniform(-2, 2, size=2)
        kept = start.copy()
        np.testing.assert_allclose(
            descent(start, 0.01, 50), ex02.gradient_descent(start, 0.01, 50), rtol=1e-12
        )
        np.testing.assert_array_equal(start, kept)
        x, t = rng.uniform(-1, 1, size=40), rng.normal(0.5, 1.0, size=40)
        np.testing.assert_allclose(fit_line(x, t, 0.1, 200), ex02.fit_line(x, t, 0.1, 200), rtol=1e-10)
