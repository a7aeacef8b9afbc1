"""Synthetic MNIST-like digits for exercise 8 (numpy only, deterministic).

Ten fixed class templates (28x28, values in [0, 1]) are drawn once from a FIXED random
generator, independent of any seed given to the functions below, so the public training
folder and the hidden test sets come from the same distribution. A sample is its class
template shifted by a random integer offset (up to 2 px each way), scaled by a random
intensity in [0.7, 1.0], plus Gaussian noise (std 0.15), clipped to [0, 1].

`write_mnist_folder` writes the four raw IDX files that `torchvision.datasets.MNIST`
reads (`root/MNIST/raw/...`, uncompressed); `hidden_samples` returns float32 arrays
exactly as `ToTensor()` would present the uint8 images.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from reference.idx_images import jittered_samples, write_idx

__all__ = ["NUM_CLASSES", "SIZE", "class_templates", "hidden_samples", "write_mnist_folder"]

NUM_CLASSES = 10
SIZE = 28
TEMPLATE_SEED = 12345  # fixed on purpose: the distribution never depends on a caller's seed
STROKES_PER_CLASS = 5
STROKE_WIDTH = 1.2  # Gaussian sigma of a stroke, in pixels
TEMPLATE_RANGE = (5.0, 22.0)  # pen positions (row, col) stay inside this box
MAX_SHIFT = 2
INTENSITY = (0.7, 1.0)
NOISE_STD = 0.15



def _stroke(
    grid_r: NDArray[np.float64],
    grid_c: NDArray[np.float64],
    start: NDArray[np.float64],
    end: NDArray[np.float64],
) -> NDArray[np.float64]:
    """A line segment from start to end (row, col) with a Gaussian cross-section."""
    d = end - start
    length2 = float(d @ d) or 1.0
    u = ((grid_r - start[0]) * d[0] + (grid_c - start[1]) * d[1]) / length2
    u = np.clip(u, 0.0, 1.0)
    dist2 = (grid_r - (start[0] + u * d[0])) ** 2 + (grid_c - (start[1] + u * d[1])) ** 2
    profile: NDArray[np.float64] = np.exp(-dist2 / (2.0 * STROKE_WIDTH**2))
    return profile


@functools.lru_cache(maxsize=1)
def class_templates() -> NDArray[np.float64]:
    """The ten class templates, shape (10, 28, 28), float64 in [0, 1] (read-only)."""
    rng = np.random.default_rng(TEMPLATE_SEED)
    grid_r, grid_c = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    templates = np.zeros((NUM_CLASSES, SIZE, SIZE), dtype=np.float64)
    for cls in range(NUM_CLASSES):
        # a connected pen trace: each stroke starts where the previous one ended
        point = rng.uniform(*TEMPLATE_RANGE, size=2)
        image = np.zeros((SIZE, SIZE))
        for _ in range(STROKES_PER_CLASS):
            nxt = rng.uniform(*TEMPLATE_RANGE, size=2)
            image = np.maximum(image, _stroke(grid_r, grid_c, point, nxt))
            point = nxt
        templates[cls] = image / image.max()
    templates.setflags(write=False)
    return templates


def _samples(
    rng: np.random.Generator, classes: list[int], per_class: int
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """uint8 images (N, 28, 28) and int64 labels (N,), shuffled with rng."""
    return jittered_samples(
        rng, class_templates(), classes, per_class,
        max_shift=MAX_SHIFT, intensity=INTENSITY, noise_std=NOISE_STD,
    )


def write_mnist_folder(
    path: str | os.PathLike[str],
    *,
    train_per_class: int = 150,
    test_per_class: int = 30,
    seed: int = 0,
) -> None:
    """Write `path/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte` (overwriting).

    All ten classes, shuffled; loadable with
    `torchvision.datasets.MNIST(root=path, train=..., download=False, transform=ToTensor())`.
    """
    raw = Path(path) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    everything = list(range(NUM_CLASSES))
    for train, per_class in ((True, train_per_class), (False, test_per_class)):
        images, labels = _samples(rng, everything, per_class)
        write_idx(raw, train, images, labels)


def hidden_samples(
    rng: np.random.Generator, *, classes: list[int], per_class: int
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """`per_class` samples of each class in `classes`, shuffled with rng.

    Returns X float32 (N, 1, 28, 28) in [0, 1] (uint8 / 255, as ToTensor() gives) and
    y int64 (N,) with the original class numbers.
    """
    images, labels = _samples(rng, list(classes), per_class)
    x = (images.astype(np.float32) / np.float32(255.0))[:, None, :, :]
    return x, labels
