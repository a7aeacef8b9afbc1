"""A small three-class classification table for exercise 5 (numpy only, deterministic).

Four inputs; each class is a mixture of two Gaussian blobs (standard deviation 0.7) whose
centres are FIXED (drawn once from a fixed generator, independent of any caller's seed),
so no single straight line separates a class from the others. The classes are equally
likely.

`write_classification_csv` writes `data_dir/train.csv` and `data_dir/test.csv`: a header
row `x1,x2,x3,x4,label` and one row per sample with the class (0, 1 or 2) in the last
column (readable with `numpy.loadtxt(path, delimiter=",", skiprows=1)` or the csv module).
`hidden_samples` draws fresh samples for the grader, with one-hot targets.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CLASSES",
    "COLUMNS",
    "INPUTS",
    "centres",
    "hidden_samples",
    "samples",
    "write_classification_csv",
]

INPUTS = 4
CLASSES = 3
BLOBS_PER_CLASS = 2
BLOB_STD = 0.7
CENTRE_SEED = 5  # fixed on purpose: the distribution never depends on a caller's seed
COLUMNS = ("x1", "x2", "x3", "x4", "label")


@functools.lru_cache(maxsize=1)
def centres() -> NDArray[np.float64]:
    """Blob centres, shape (CLASSES, BLOBS_PER_CLASS, INPUTS) (read-only)."""
    rng = np.random.default_rng(CENTRE_SEED)
    c = rng.uniform(-2.5, 2.5, size=(CLASSES, BLOBS_PER_CLASS, INPUTS))
    c.setflags(write=False)
    return c


def samples(rng: np.random.Generator, n: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """n samples: inputs (n, 4) float64 and labels (n,) int64 in 0..2."""
    if n < 0:
        raise ValueError("the number of samples must be >= 0")
    labels = rng.integers(0, CLASSES, size=n)
    blobs = rng.integers(0, BLOBS_PER_CLASS, size=n)
    x = centres()[labels, blobs] + rng.normal(0.0, BLOB_STD, size=(n, INPUTS))
    return x, labels.astype(np.int64)


def _write(path: Path, x: NDArray[np.float64], labels: NDArray[np.int64]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(COLUMNS) + "\n")
        for row, label in zip(x, labels, strict=True):
            fh.write(",".join(f"{v:.6f}" for v in row) + f",{int(label)}\n")


def write_classification_csv(
    path: str | os.PathLike[str], *, train: int = 300, test: int = 150, seed: int = 0
) -> None:
    """Write `path/train.csv` and `path/test.csv` (header row, then one sample per row)."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name, n in (("train.csv", train), ("test.csv", test)):
        _write(folder / name, *samples(rng, n))


def hidden_samples(
    rng: np.random.Generator, *, samples_: int = 300
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fresh samples: inputs (N, 4) float64 and one-hot targets (N, 3) float64."""
    x, labels = samples(rng, samples_)
    return x, np.eye(CLASSES)[labels]
