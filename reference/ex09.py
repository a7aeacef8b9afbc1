"""Exercise 9 reference: a convolutional auto-encoder and its deep features.

The encoder maps a 1x28x28 image to a K-dimensional deep feature (two convolution + pooling
stages and a linear layer); the decoder maps a deep feature back to a 1x28x28 image (a linear
layer and two fractionally strided convolutions that double the size, 7 -> 14 -> 28, ending
in a sigmoid so that pixels lie in [0, 1]). Manipulating deep features (interpolating between
the features of two images) and decoding them shows what the deep feature space represents.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "AutoEncoder",
    "Decoder",
    "Encoder",
    "conv_transpose_output_size",
    "interpolate",
    "judge_interpolation_images",
]

CHANNELS = (16, 32)  # channels after the first and the second convolution
SMALL = 7  # spatial size after two 2x2 poolings of 28x28


def conv_transpose_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0
) -> int:
    """Spatial output size of a fractionally strided (transposed) convolution, dilation 1.

    `(size - 1) * stride - 2 * padding + kernel + output_padding`, as nn.ConvTranspose2d gives.
    """
    return int((size - 1) * stride - 2 * padding + kernel + output_padding)


class Encoder(nn.Module):
    """(N, 1, 28, 28) images -> (N, K) deep features.

    Conv2d(1, 16, 3, padding=1), ReLU, MaxPool2d(2) -> 16x14x14;
    Conv2d(16, 32, 3, padding=1), ReLU, MaxPool2d(2) -> 32x7x7; Flatten, Linear(1568, K).
    """

    def __init__(self, K: int) -> None:
        super().__init__()
        c1, c2 = CHANNELS
        self.conv1 = nn.Conv2d(1, c1, kernel_size=3, padding=1)
        self.act1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(c1, c2, kernel_size=3, padding=1)
        self.act2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(c2 * SMALL * SMALL, int(K))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.act1(self.conv1(x)))
        x = self.pool2(self.act2(self.conv2(x)))
        return self.fc(self.flatten(x))


class Decoder(nn.Module):
    """(N, K) deep features -> (N, 1, 28, 28) images in [0, 1].

    Linear(K, 1568), ReLU, Unflatten to 32x7x7;
    ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), ReLU -> 16x14x14;
    ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1), Sigmoid -> 1x28x28.
    """

    def __init__(self, K: int) -> None:
        super().__init__()
        c1, c2 = CHANNELS
        self.fc = nn.Linear(int(K), c2 * SMALL * SMALL)
        self.act1 = nn.ReLU()
        self.unflatten = nn.Unflatten(1, (c2, SMALL, SMALL))
        self.deconv1 = nn.ConvTranspose2d(
            c2, c1, kernel_size=3, stride=2, padding=1, output_padding=1
        )
        self.act2 = nn.ReLU()
        self.deconv2 = nn.ConvTranspose2d(c1, 1, kernel_size=3, stride=2, padding=1, output_padding=1)
        self.out = nn.Sigmoid()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.unflatten(self.act1(self.fc(z)))
        x = self.act2(self.deconv1(x))
        return self.out(self.deconv2(x))


class AutoEncoder(nn.Module):
    """`encoder` then `decoder`: (N, 1, 28, 28) -> (N, 1, 28, 28)."""

    def __init__(self, K: int) -> None:
        super().__init__()
        self.encoder = Encoder(K)
        self.decoder = Decoder(K)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def interpolate(z1: torch.Tensor, z2: torch.Tensor, alphas: torch.Tensor) -> torch.Tensor:
    """Deep features on the line from z1 (alpha 0) to z2 (alpha 1).

    z1, z2: (K,) features; alphas: (S,). Returns (S, K) with row s = (1 - a_s) z1 + a_s z2.
    """
    a = torch.as_tensor(alphas).reshape(-1, 1).to(torch.as_tensor(z1).dtype)
    return (1 - a) * torch.as_tensor(z1).reshape(1, -1) + a * torch.as_tensor(z2).reshape(1, -1)


def judge_interpolation_images(result: Any, z1: Any, z2: Any, steps: Any) -> str | None:
    """Decoded interpolation images: shape (steps, 1, 28, 28), finite, pixels in [0, 1].

    The images depend on the student's trained decoder, so only their form is judged.
    """
    array = np.asarray(result, dtype=np.float64) if isinstance(result, np.ndarray) else None
    if array is None:
        return f"expected a tensor of images, got {type(result).__name__}"
    expected = (int(steps), 1, 28, 28)
    if array.shape != expected:
        return f"shape {tuple(array.shape)}, expected {expected}"
    if not np.isfinite(array).all():
        return "the images contain NaN or inf"
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        return f"pixel values range over [{low:.3g}, {high:.3g}]; decoded images must lie in [0, 1]"
    return None
