"""Data for exercise 9 (auto-encoder): MNIST-format digits, reused from exercise 8.

The public folder is the real MNIST raw layout that `torchvision.datasets.MNIST(root,
download=False)` reads (written by `reference.ex08_data.write_mnist_folder`, all ten classes).
The hidden reconstruction set comes from the same distribution; its generator returns
`(images, images)`: for an auto-encoder the targets are the inputs themselves.
"""

from __future__ import annotations

import os

import numpy as np
from numpy.typing import NDArray

from reference.ex08_data import NUM_CLASSES, hidden_samples, write_mnist_folder

__all__ = ["reconstruction_set", "write_digits_folder"]


def write_digits_folder(
    path: str | os.PathLike[str],
    *,
    train_per_class: int = 100,
    test_per_class: int = 20,
    seed: int = 9,
) -> None:
    """Write `path/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte` (all ten classes)."""
    write_mnist_folder(path, train_per_class=train_per_class, test_per_class=test_per_class, seed=seed)


def reconstruction_set(
    rng: np.random.Generator, *, per_class: int = 20
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """`per_class` digits of every class as float32 (N, 1, 28, 28) in [0, 1], twice.

    The first item enters the sandbox as the auto-encoder's input, the second (the same
    images, a separate copy) stays on the host as the reconstruction target.
    """
    images, _ = hidden_samples(rng, classes=list(range(NUM_CLASSES)), per_class=per_class)
    return images, images.copy()
