"""Synthetic FashionMNIST-like garments for exercise 6 (numpy only, deterministic).

Ten fixed class silhouettes (28x28, values in [0, 1]), one per FashionMNIST class
(t-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle boot), each
drawn from filled rectangles and a class texture (stripes of a class-specific direction
and period). They depend on no seed, so the public training folder and the hidden test
sets come from the same distribution. A sample is its class silhouette shifted by a random
integer offset (up to 2 px each way), scaled by a random intensity in [0.7, 1.0], plus
Gaussian noise (std 0.15), clipped to [0, 1] and quantised to uint8.

`write_fashion_mnist_folder` writes the four raw IDX files that
`torchvision.datasets.FashionMNIST` reads (`root/FashionMNIST/raw/...`, uncompressed, the
IDX writer of exercise 8); `hidden_samples` returns float32 arrays exactly as the
exercise's transform (`ToTensor()` then `Normalize((MEAN,), (STD,))`) presents the images.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from reference.idx_images import jittered_samples, write_idx

__all__ = [
    "CLASSES",
    "MEAN",
    "NUM_CLASSES",
    "SIZE",
    "STD",
    "class_templates",
    "hidden_samples",
    "samples",
    "write_fashion_mnist_folder",
]

NUM_CLASSES = 10
SIZE = 28
CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
MEAN = 0.2860  # the normalisation constants of the exercise (those of the real FashionMNIST)
STD = 0.3530
MAX_SHIFT = 2
INTENSITY = (0.7, 1.0)
NOISE_STD = 0.15

# each silhouette: filled boxes (row0, row1, col0, col1), end-exclusive
_BOXES: dict[int, list[tuple[int, int, int, int]]] = {
    0: [(8, 24, 9, 19), (8, 13, 4, 24)],  # t-shirt: body and short sleeves
    1: [(4, 8, 8, 20), (4, 26, 8, 12), (4, 26, 16, 20)],  # trouser: waist and two legs
    2: [(6, 24, 9, 19), (6, 23, 4, 8), (6, 23, 20, 24)],  # pullover: body and long sleeves
    3: [(4, 10, 11, 17), (10, 17, 9, 19), (17, 26, 7, 21)],  # dress: widening steps
    4: [(4, 26, 7, 13), (4, 26, 15, 21), (4, 20, 3, 6), (4, 20, 22, 25)],  # coat: open front
    5: [(12, 14, 3, 25), (16, 18, 3, 25), (20, 22, 3, 25), (12, 22, 3, 5)],  # sandal: straps
    6: [(5, 8, 11, 17), (8, 25, 8, 20), (8, 18, 4, 8)],  # shirt: collar, body, one sleeve
    7: [(16, 22, 3, 25), (12, 16, 12, 25)],  # sneaker: sole and heel
    8: [(12, 25, 5, 23), (5, 12, 9, 11), (5, 12, 17, 19), (5, 7, 9, 19)],  # bag: body, handle
    9: [(5, 22, 13, 20), (17, 23, 4, 20)],  # ankle boot: shaft and foot
}
# texture per class: stripes cos(2 pi (r cos a + c sin a) / period), period in px
_TEXTURE: dict[int, tuple[float, float]] = {
    0: (0.0, 4.0),
    1: (90.0, 3.0),
    2: (45.0, 5.0),
    3: (135.0, 4.0),
    4: (0.0, 6.0),
    5: (90.0, 8.0),
    6: (60.0, 3.0),
    7: (120.0, 5.0),
    8: (30.0, 7.0),
    9: (150.0, 3.0),
}


@functools.lru_cache(maxsize=1)
def class_templates() -> NDArray[np.float64]:
    """The ten class silhouettes, shape (10, 28, 28), float64 in [0, 1] (read-only)."""
    grid_r, grid_c = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    templates = np.zeros((NUM_CLASSES, SIZE, SIZE), dtype=np.float64)
    for cls in range(NUM_CLASSES):
        mask = np.zeros((SIZE, SIZE), dtype=np.float64)
        for r0, r1, c0, c1 in _BOXES[cls]:
            mask[r0:r1, c0:c1] = 1.0
        angle, period = _TEXTURE[cls]
        a = np.deg2rad(angle)
        stripes = np.cos(2.0 * np.pi * (grid_r * np.cos(a) + grid_c * np.sin(a)) / period)
        templates[cls] = mask * (0.75 + 0.25 * stripes)
    templates.setflags(write=False)
    return templates


def samples(
    rng: np.random.Generator, classes: list[int], per_class: int
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """uint8 images (N, 28, 28) and int64 labels (N,), `per_class` of each class, shuffled."""
    return jittered_samples(
        rng, class_templates(), classes, per_class,
        max_shift=MAX_SHIFT, intensity=INTENSITY, noise_std=NOISE_STD,
    )


def write_fashion_mnist_folder(
    path: str | os.PathLike[str],
    *,
    train_per_class: int = 100,
    test_per_class: int = 20,
    seed: int = 0,
) -> None:
    """Write `path/FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte` (overwriting).

    All ten classes, shuffled; loadable with
    `torchvision.datasets.FashionMNIST(root=path, train=..., download=False)`.
    """
    raw = Path(path) / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    everything = list(range(NUM_CLASSES))
    for train, per_class in ((True, train_per_class), (False, test_per_class)):
        images, labels = samples(rng, everything, per_class)
        write_idx(raw, train, images, labels)


def hidden_samples(
    rng: np.random.Generator, *, per_class: int, classes: list[int] | None = None
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """`per_class` samples of each class (all ten by default), shuffled with rng.

    Returns X float32 (N, 1, 28, 28), normalised as the exercise's transform does
    ((uint8 / 255 - MEAN) / STD, in float32), and y int64 (N,).
    """
    images, labels = samples(rng, list(range(NUM_CLASSES)) if classes is None else classes, per_class)
    x = images.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return x[:, None, :, :].astype(np.float32), labels
