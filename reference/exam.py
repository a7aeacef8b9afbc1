"""Exam reference: the practical tasks of the course exam.

* `softmax` and `cross_entropy`: numerically stable, in numpy (float64);
* `conv_output_size`: the output size of a convolution or pooling layer along one axis;
* `make_cnn`: the small convolutional network the exam describes, and `FLAT_FEATURES`,
  the number of features entering its Linear layer for a 1x28x28 input;
* `loss` and `gradient`: J(w) = log(1 + exp(w1 w2)) + (w1 - w2)^2 / 2 and its gradient;
* `ce_grad`: the mean cross-entropy of a batch of logits and its gradient with respect to
  the logits, in closed form (softmax - one-hot) / N (the students use torch.autograd).
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn

__all__ = [
    "FLAT_FEATURES",
    "ce_grad",
    "conv_output_size",
    "cross_entropy",
    "gradient",
    "loss",
    "make_cnn",
    "softmax",
]

FLAT_FEATURES = 16 * 6 * 6  # 28 -conv(3, pad 1)-> 28 -pool 2-> 14 -conv(3)-> 12 -pool 2-> 6


def _logits(z: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(z, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"expected logits of shape (N, C), got {arr.shape}")
    return arr


def _log_softmax(z: NDArray[np.float64]) -> NDArray[np.float64]:
    shifted = z - z.max(axis=1, keepdims=True)
    return np.asarray(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))


def softmax(z: ArrayLike) -> NDArray[np.float64]:
    """Row-wise softmax of logits (N, C), stable for any finite logits (max subtracted)."""
    return np.exp(_log_softmax(_logits(z)))


def cross_entropy(z: ArrayLike, t: ArrayLike) -> float:
    """Mean over the batch of -log softmax(z)[n, t_n] for integer labels t (N,), via log-sum-exp."""
    logits = _logits(z)
    labels = np.asarray(t).astype(np.int64).reshape(-1)
    if labels.shape[0] != logits.shape[0]:
        raise ValueError(f"{labels.shape[0]} labels for {logits.shape[0]} rows of logits")
    log_p = _log_softmax(logits)
    return float(-log_p[np.arange(len(labels)), labels].mean())


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """floor((size + 2 padding - kernel) / stride) + 1 (a pooling layer: kernel = stride)."""
    size, kernel, stride, padding = int(size), int(kernel), int(stride), int(padding)
    if stride < 1 or kernel < 1 or size + 2 * padding < kernel:
        raise ValueError("the kernel does not fit the padded input, or the stride is not positive")
    return (size + 2 * padding - kernel) // stride + 1


def make_cnn(num_classes: int = 10) -> nn.Module:
    """Conv(1->8, 3, pad 1), ReLU, MaxPool(2), Conv(8->16, 3), ReLU, MaxPool(2), Flatten, Linear."""
    return nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(FLAT_FEATURES, int(num_classes)),
    )


def _vector(w: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(w, dtype=np.float64)
    if arr.shape != (2,):
        raise ValueError(f"expected a weight vector of shape (2,), got {arr.shape}")
    return arr


def loss(w: ArrayLike) -> float:
    """J(w) = log(1 + exp(w1 w2)) + (w1 - w2)^2 / 2 with (w1, w2) = (w[0], w[1])."""
    w1, w2 = _vector(w)
    return float(np.logaddexp(0.0, w1 * w2) + 0.5 * (w1 - w2) ** 2)


def gradient(w: ArrayLike) -> NDArray[np.float64]:
    """dJ/dw = (s w2 + (w1 - w2), s w1 - (w1 - w2)) with s = sigmoid(w1 w2)."""
    w1, w2 = _vector(w)
    s = 0.5 * (1.0 + np.tanh(0.5 * w1 * w2))  # sigmoid, without overflow
    return np.array([s * w2 + (w1 - w2), s * w1 - (w1 - w2)], dtype=np.float64)


def ce_grad(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean cross-entropy, its gradient w.r.t. the logits) = (J, (softmax - one_hot) / N)."""
    z = torch.as_tensor(logits).detach()
    t = torch.as_tensor(targets).to(torch.int64)
    log_p = z - torch.logsumexp(z, dim=1, keepdim=True)
    n = z.shape[0]
    one_hot = torch.zeros_like(z)
    one_hot[torch.arange(n), t] = 1.0
    value = -(log_p * one_hot).sum() / n
    return value, (log_p.exp() - one_hot) / n
