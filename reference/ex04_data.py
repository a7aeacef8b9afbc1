"""A small multi-target regression table for exercise 4 (numpy only, deterministic).

Four inputs x1..x4, drawn uniformly from [-2, 2], and three targets computed from a FIXED
smooth function of them (it never depends on a caller's seed) plus Gaussian noise:

    t1 = sin(x1) + 0.5 x2
    t2 = 0.5 x1 x3 + cos(x4)
    t3 = tanh(x2 - x4) + 0.2 x3^2 - 0.4

`write_regression_csv` writes `data_dir/regression.csv`: a header row
`x1,x2,x3,x4,t1,t2,t3` and one comma-separated row per sample (readable with
`numpy.loadtxt(path, delimiter=",", skiprows=1)` or the csv module). `hidden_samples`
draws fresh samples of the same distribution for the grader.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["COLUMNS", "FILE_NAME", "INPUTS", "OUTPUTS", "hidden_samples", "targets", "write_regression_csv"]

INPUTS = 4
OUTPUTS = 3
COLUMNS = ("x1", "x2", "x3", "x4", "t1", "t2", "t3")
FILE_NAME = "regression.csv"
INPUT_RANGE = (-2.0, 2.0)
NOISE_STD = 0.05


def targets(X: NDArray[np.float64]) -> NDArray[np.float64]:
    """The noise-free targets (N, 3) of inputs X (N, 4)."""
    x1, x2, x3, x4 = (X[:, i] for i in range(INPUTS))
    return np.stack(
        [
            np.sin(x1) + 0.5 * x2,
            0.5 * x1 * x3 + np.cos(x4),
            np.tanh(x2 - x4) + 0.2 * x3**2 - 0.4,
        ],
        axis=1,
    )


def _samples(rng: np.random.Generator, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if n < 0:
        raise ValueError("the number of samples must be >= 0")
    x = rng.uniform(*INPUT_RANGE, size=(n, INPUTS))
    t = targets(x) + rng.normal(0.0, NOISE_STD, size=(n, OUTPUTS))
    return x, t


def write_regression_csv(path: str | os.PathLike[str], *, samples: int = 400, seed: int = 0) -> None:
    """Write `path/regression.csv` (header row, then `samples` rows of 7 numbers)."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    x, t = _samples(np.random.default_rng(seed), samples)
    np.savetxt(
        folder / FILE_NAME,
        np.concatenate([x, t], axis=1),
        delimiter=",",
        header=",".join(COLUMNS),
        comments="",
        fmt="%.6f",
    )


def hidden_samples(
    rng: np.random.Generator, *, samples: int = 200
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fresh samples of the same distribution: inputs (N, 4) and targets (N, 3), float64."""
    return _samples(rng, samples)
