"""The initial-weight judges of ex04 and ex05 (added after `rubric mutate` found that swapped
`rng.normal` arguments still trained well enough): random weights with standard deviation
about 1/sqrt(rows) pass; constant, far too large or far too small ones are named."""

from __future__ import annotations

import numpy as np
import pytest

from reference import ex04, ex05


@pytest.mark.parametrize("judge", [ex04.judge_init, ex05.judge_init])
def test_init_judge(judge):
    rng = np.random.default_rng(0)
    rows = 5  # 4 inputs and the bias: 1/sqrt(5) = 0.447
    assert judge(rng.normal(0.0, 1.0 / np.sqrt(rows), size=(rows, 10))) is None
    constant = np.full((rows, 10), 1.0 / np.sqrt(rows))  # mean and std swapped: std 0
    assert "would be about 0.447" in judge(constant)
    assert judge(rng.normal(0.0, np.sqrt(rows), size=(rows, 10))) is not None  # 5x too large
    assert judge(rng.normal(0.0, 0.1, size=(rows, 10))) is not None  # 4.5x too small
    assert "2-d" in judge(np.zeros(7))
