"""Jittered template images and the raw IDX files torchvision's MNIST-style datasets read.

Shared by the data generators of the exercises on MNIST-like digits (`ex08_data`) and
FashionMNIST-like clothes (`ex06_data`): a sample is its class template shifted by a random
integer offset, scaled by a random intensity, plus Gaussian noise, clipped to [0, 1] and
quantised to uint8.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["IDX_FILES", "jittered_samples", "write_idx"]

_IMAGE_MAGIC = 2051
_LABEL_MAGIC = 2049
IDX_FILES = {  # train? -> (images, labels), as torchvision's MNIST and FashionMNIST name them
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def jittered_samples(
    rng: np.random.Generator,
    templates: NDArray[np.float64],
    classes: list[int],
    per_class: int,
    *,
    max_shift: int,
    intensity: tuple[float, float],
    noise_std: float,
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """uint8 images (N, H, W) and int64 labels (N,), `per_class` of each class, shuffled with rng."""
    classes = [int(c) for c in classes]
    for cls in classes:
        if not 0 <= cls < len(templates):
            raise ValueError(f"class {cls} is outside 0..{len(templates) - 1}")
    if per_class < 0:
        raise ValueError("per_class must be >= 0")
    height, width = templates.shape[1:]
    labels = np.repeat(np.asarray(classes, dtype=np.int64), per_class)
    n = labels.shape[0]
    shifts = rng.integers(-max_shift, max_shift + 1, size=(n, 2))
    scale = rng.uniform(*intensity, size=n)
    noise = rng.normal(0.0, noise_std, size=(n, height, width))
    images = np.empty((n, height, width), dtype=np.float64)
    for i in range(n):
        shifted = np.roll(templates[labels[i]], shift=tuple(shifts[i]), axis=(0, 1))
        images[i] = shifted * scale[i] + noise[i]
    order = rng.permutation(n)
    quantised = np.rint(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)
    return quantised[order], labels[order]


def write_idx(folder: Path, train: bool, images: NDArray[np.uint8], labels: NDArray[np.int64]) -> None:
    """The images and labels files of one split, big-endian IDX as torchvision reads them."""
    image_name, label_name = IDX_FILES[train]
    n, height, width = images.shape
    with open(folder / image_name, "wb") as fh:
        fh.write(struct.pack(">iiii", _IMAGE_MAGIC, n, height, width))
        fh.write(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
    with open(folder / label_name, "wb") as fh:
        fh.write(struct.pack(">ii", _LABEL_MAGIC, n))
        fh.write(labels.astype(np.uint8).tobytes())
