"""Exercise 12 reference: a radial basis function (RBF) layer and an RBF bottleneck network.

An RBF unit k has a centre c_k (D,) and a width sigma_k > 0; its activation on an input x
is exp(-||x - c_k||^2 / (2 sigma_k^2)). `RBFLayer` holds the centres (K, D) and the
log-widths (K,) as trainable parameters (the log keeps every width positive). The
initialisation: centres are K distinct rows of the data, chosen at random
(`init_centers`); all widths are d_max / sqrt(2K), d_max the largest distance between two
centres (`init_widths`, the rule of Haykin's "Neural Networks"). `RBFNet` is
input -> RBF (K) -> linear bottleneck (2) -> linear output (C); `plot_bottleneck_data`
is the data of the scatter plot of the 2-D bottleneck, one scatter per class.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

__all__ = [
    "RBFLayer",
    "RBFNet",
    "bottleneck_features",
    "init_centers",
    "init_widths",
    "judge_centers",
    "plot_bottleneck_data",
    "rbf_activation",
]


def rbf_activation(X: torch.Tensor, centers: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
    """A (N, K) with A[n, k] = exp(-||X[n] - centers[k]||^2 / (2 widths[k]^2)), batched."""
    diff = X[:, None, :] - centers[None, :, :]
    return torch.exp(-(diff**2).sum(dim=2) / (2 * widths[None, :] ** 2))


def init_centers(X: torch.Tensor, K: int, seed: int) -> torch.Tensor:
    """K distinct rows of X chosen at random (a seeded permutation); shape (K, D)."""
    generator = torch.Generator().manual_seed(int(seed))
    index = torch.randperm(X.shape[0], generator=generator)[: int(K)]
    return X[index].clone()


def judge_centers(result: Any, X: Any, K: Any, seed: Any = None) -> str | None:
    """Judge `init_centers`: None when the result is K distinct rows of X, else the problem."""
    x = np.asarray(X)
    k = int(K)
    if not isinstance(result, np.ndarray) or result.dtype.kind not in "fiu":
        return f"expected a tensor of shape ({k}, {x.shape[1]}), got {type(result).__name__}"
    if result.shape != (k, x.shape[1]):
        return f"shape {tuple(result.shape)}, expected ({k}, {x.shape[1]})"
    rows = []
    for index, centre in enumerate(result.astype(x.dtype)):
        match = np.flatnonzero((x == centre).all(axis=1))
        if match.size == 0:
            return f"centre {index} is not a row of X: choose the centres among the data points"
        rows.append(int(match[0]))
    if len(set(rows)) != k:
        return f"only {len(set(rows))} distinct rows of X among the {k} centres: draw without replacement"
    if rows == list(range(k)):
        return "the centres are the first K rows of X: choose them at random (seeded)"
    return None


def init_widths(centers: torch.Tensor) -> torch.Tensor:
    """All K widths equal to d_max / sqrt(2K); d_max the largest distance between two centres."""
    K = centers.shape[0]
    d_max = (centers[:, None, :] - centers[None, :, :]).pow(2).sum(dim=2).max().sqrt()
    return torch.full((K,), 1.0, dtype=centers.dtype) * d_max / math.sqrt(2 * K)


class RBFLayer(torch.nn.Module):
    """K Gaussian units on D inputs: parameters `centers` (K, D) and `log_widths` (K,)."""

    def __init__(self, centers: torch.Tensor, widths: torch.Tensor) -> None:
        super().__init__()
        self.centers = torch.nn.Parameter(torch.as_tensor(centers).detach().clone())
        self.log_widths = torch.nn.Parameter(torch.as_tensor(widths).detach().log())

    def widths(self) -> torch.Tensor:
        return self.log_widths.exp()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return rbf_activation(X, self.centers, self.widths())


class RBFNet(torch.nn.Module):
    """input (D) -> RBFLayer (K) -> Linear bottleneck (2) -> Linear output (num_classes)."""

    def __init__(self, centers: torch.Tensor, widths: torch.Tensor, num_classes: int) -> None:
        super().__init__()
        K = torch.as_tensor(centers).shape[0]
        self.rbf = RBFLayer(centers, widths)
        self.bottleneck = torch.nn.Linear(K, 2)
        self.out = torch.nn.Linear(2, int(num_classes))

    def features(self, X: torch.Tensor) -> torch.Tensor:
        return self.bottleneck(self.rbf(X))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(X))


def bottleneck_features(
    X: torch.Tensor, centers: torch.Tensor, widths: torch.Tensor, W: torch.Tensor, b: torch.Tensor
) -> torch.Tensor:
    """The 2-D bottleneck: rbf_activation(X, centers, widths) W^T + b, shape (N, 2)."""
    return rbf_activation(X, centers, widths) @ W.T + b


def plot_bottleneck_data(
    X: torch.Tensor,
    y: torch.Tensor,
    centers: torch.Tensor,
    widths: torch.Tensor,
    W: torch.Tensor,
    b: torch.Tensor,
) -> list[NDArray[np.float64]]:
    """What `plot_bottleneck` scatters: one (n_c, 2) array per class present in y, in
    increasing class order, rows in the order of the samples."""
    Z = bottleneck_features(X, centers, widths, W, b).detach().cpu().numpy().astype(np.float64)
    labels = np.asarray(y)
    return [Z[labels == c] for c in np.unique(labels)]
