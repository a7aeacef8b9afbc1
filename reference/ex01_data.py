"""Linearly separable 2-D data for exercise 1 (numpy only, deterministic from a seed).

Points are uniform in [-1, 1]^2 and labelled by the FIXED line
-0.4 + 1.0 x1 + 2.0 x2 = 0 (t = 1 on the side where the expression is >= 0, else 0);
points closer than `margin` to the line are rejected, so the classes are separated by a
gap of 2 * margin. The public training file and the hidden test set come from this same
distribution; the line itself is never shown to the notebook.

`write_perceptron_folder` writes `root/train.csv` (header `x1,x2,t`, one sample a row,
readable with `np.loadtxt(path, delimiter=",", skiprows=1)`); `hidden_separable` returns
`(X (n, 2) float64, t (n,) float64)` for a hidden data set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["TRUE_WEIGHTS", "hidden_separable", "separable_data", "write_perceptron_folder"]

TRUE_WEIGHTS = np.array([-0.4, 1.0, 2.0])  # bias first


def separable_data(
    rng: np.random.Generator, n: int, margin: float = 0.1
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """`n` points at distance >= `margin` from the line, and their 0/1 labels (float64)."""
    norm = float(np.linalg.norm(TRUE_WEIGHTS[1:]))
    kept: list[NDArray[np.float64]] = []
    count = 0
    while count < n:
        points = rng.uniform(-1.0, 1.0, size=(2 * n, 2))
        distance = (TRUE_WEIGHTS[0] + points @ TRUE_WEIGHTS[1:]) / norm
        points = points[np.abs(distance) >= margin]
        kept.append(points)
        count += len(points)
    X = np.concatenate(kept)[:n]
    t = (TRUE_WEIGHTS[0] + X @ TRUE_WEIGHTS[1:] >= 0).astype(np.float64)
    return X, t


def write_perceptron_folder(root: str | Path, n: int = 100, margin: float = 0.1, seed: int = 8) -> None:
    """Write `root/train.csv`: `n` samples, columns x1, x2, t (t written as 0 or 1)."""
    X, t = separable_data(np.random.default_rng(seed), n, margin)
    rows = np.column_stack([X, t])
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    np.savetxt(
        path / "train.csv", rows, delimiter=",", header="x1,x2,t", comments="", fmt=["%.17g", "%.17g", "%d"]
    )


def hidden_separable(
    rng: np.random.Generator, n: int = 2000, margin: float = 0.1
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A hidden test set from the training distribution: inputs (n, 2), labels (n,) in {0, 1}."""
    return separable_data(rng, n, margin)
