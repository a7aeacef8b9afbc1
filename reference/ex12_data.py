"""Concentric rings in 2-D for exercise 12 (numpy only, deterministic from a seed).

Class c (0, 1, 2) lies on the circle of radius RADII[c] around the origin: a point has a
uniform angle and the radius RADII[c] + Gaussian noise (std NOISE). No linear model
separates the classes; a few Gaussian (RBF) units do. The public folder and the hidden
test set come from this same distribution.

`write_rings_folder` writes `root/train.csv` and `root/test.csv` (header `x1,x2,label`,
one sample a row, readable with `np.loadtxt(path, delimiter=",", skiprows=1)`);
`hidden_rings` returns `(X (n, 2) float32, y (n,) int64)` for a hidden data set.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["NOISE", "RADII", "hidden_rings", "rings", "write_rings_folder"]

RADII = (1.0, 2.0, 3.0)
NOISE = 0.15


def rings(rng: np.random.Generator, per_class: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """`per_class` points of every ring, shuffled: X float64 (n, 2), y int64 (n,)."""
    if per_class < 0:
        raise ValueError("per_class must be >= 0")
    labels = np.repeat(np.arange(len(RADII), dtype=np.int64), per_class)
    angle = rng.uniform(0.0, 2.0 * np.pi, size=labels.shape[0])
    radius = np.asarray(RADII)[labels] + rng.normal(0.0, NOISE, size=labels.shape[0])
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    order = rng.permutation(labels.shape[0])
    return points[order], labels[order]


def _write_csv(path: Path, X: NDArray[np.float64], y: NDArray[np.int64]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("x1,x2,label\n")
        for (x1, x2), label in zip(X, y, strict=True):
            fh.write(f"{x1:.6f},{x2:.6f},{int(label)}\n")


def write_rings_folder(
    path: str | os.PathLike[str], *, train_per_class: int = 100, test_per_class: int = 50, seed: int = 0
) -> None:
    """Write `path/train.csv` and `path/test.csv` (overwriting)."""
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    _write_csv(root / "train.csv", *rings(rng, train_per_class))
    _write_csv(root / "test.csv", *rings(rng, test_per_class))


def hidden_rings(
    rng: np.random.Generator, *, per_class: int
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """A hidden set: X float32 (n, 2), y int64 (n,), the true ring of every point."""
    X, y = rings(rng, per_class)
    return X.astype(np.float32), y
