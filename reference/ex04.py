"""Exercise 4 reference: a multi-output two-layer network on batches, numpy only.

Conventions (shared with the notebook): inputs X (N, D), targets T (N, O). The bias is a
leading column of ones: Xb = [1, X] (N, D+1). W1 (D+1, K) maps Xb to the hidden
pre-activations A = Xb W1; the hidden activation is the logistic H = 1 / (1 + exp(-A));
Hb = [1, H] (N, K+1) and W2 (K+1, O) give the outputs Y = Hb W2 (N, O), linear.
Row 0 of each weight matrix holds the biases. The loss over a batch is the mean over the
samples of the squared Euclidean distance:

    J = 1/N sum_n ||y_n - t_n||^2

Everything is computed in float64.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["batches", "forward", "gradient", "hidden", "judge_init", "loss", "train"]

Array = NDArray[np.float64]


def _matrix(x: ArrayLike, name: str) -> Array:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a matrix, got shape {arr.shape}")
    return arr


def _with_bias(x: Array) -> Array:
    return np.concatenate([np.ones((x.shape[0], 1)), x], axis=1)


def hidden(X: ArrayLike, W1: ArrayLike) -> Array:
    """H = logistic([1, X] W1), shape (N, K)."""
    a = _with_bias(_matrix(X, "X")) @ _matrix(W1, "W1")
    return np.asarray(1.0 / (1.0 + np.exp(-a)))


def forward(X: ArrayLike, W1: ArrayLike, W2: ArrayLike) -> Array:
    """Y = [1, H] W2 for the batch X (N, D); returns (N, O)."""
    return _with_bias(hidden(X, W1)) @ _matrix(W2, "W2")


def loss(Y: ArrayLike, T: ArrayLike) -> float:
    """J = 1/N sum_n ||y_n - t_n||^2 for Y and T of shape (N, O)."""
    y, t = _matrix(Y, "Y"), _matrix(T, "T")
    if y.shape != t.shape:
        raise ValueError(f"Y and T differ in shape: {y.shape} vs {t.shape}")
    return float(np.sum((y - t) ** 2) / y.shape[0])


def gradient(X: ArrayLike, T: ArrayLike, W1: ArrayLike, W2: ArrayLike) -> tuple[Array, Array]:
    """(dJ/dW1, dJ/dW2) of J = loss(forward(X, W1, W2), T), shapes of W1 and W2.

    dJ/dW2 = 2/N Hb^T (Y - T);  dJ/dW1 = 2/N Xb^T [((Y - T) W2[1:]^T) * H (1 - H)].
    """
    x, t = _matrix(X, "X"), _matrix(T, "T")
    w2 = _matrix(W2, "W2")
    n = x.shape[0]
    h = hidden(x, W1)
    hb = _with_bias(h)
    delta = 2.0 / n * (hb @ w2 - t)  # dJ/dY, (N, O)
    g2 = hb.T @ delta
    back = (delta @ w2[1:].T) * h * (1.0 - h)  # dJ/dA, (N, K)
    g1 = _with_bias(x).T @ back
    return g1, g2


def batches(
    X: ArrayLike, T: ArrayLike, batch_size: int, seed: int | np.random.Generator
) -> list[tuple[Array, Array]]:
    """Shuffle the samples and cut them into batches, in order.

    The order is `np.random.default_rng(seed).permutation(N)` (`seed` an int or a
    Generator, which is then advanced); consecutive runs of `batch_size` samples of that
    order form the batches, and the last batch holds the remaining samples (it may be
    smaller). Returns a list of (X_batch, T_batch) pairs.
    """
    x, t = np.asarray(X), np.asarray(T)
    if len(x) != len(t):
        raise ValueError(f"X and T have {len(x)} and {len(t)} samples")
    size = int(batch_size)
    if size < 1:
        raise ValueError("batch_size must be at least 1")
    order = np.random.default_rng(seed).permutation(len(x))
    return [(x[order[i : i + size]], t[order[i : i + size]]) for i in range(0, len(x), size)]


def train(
    X: ArrayLike,
    T: ArrayLike,
    W1: ArrayLike,
    W2: ArrayLike,
    eta: float,
    epochs: int,
    batch_size: int,
    seed: int,
) -> tuple[Array, Array]:
    """Stochastic gradient descent from (W1, W2); returns the final (W1, W2).

    `rng = np.random.default_rng(seed)` is made once; every epoch walks through
    `batches(X, T, batch_size, rng)` (a new order each epoch) and, for each batch, takes the
    step W <- W - eta dJ/dW for both matrices (gradients of the batch's loss, both computed
    before either matrix changes). The arrays passed in are not modified.
    """
    w1 = _matrix(W1, "W1").copy()
    w2 = _matrix(W2, "W2").copy()
    rng = np.random.default_rng(seed)
    for _ in range(int(epochs)):
        for xb, tb in batches(X, T, batch_size, rng):
            g1, g2 = gradient(xb, tb, w1, w2)
            w1 = w1 - eta * g1
            w2 = w2 - eta * g2
    return w1, w2


def judge_init(W: ArrayLike) -> str | None:
    """Property judge of an initial weight matrix (rows = the layer's inputs with the bias):
    random, with a standard deviation of about one over the square root of the number of rows
    (within a factor of 2). None when it is; else what is wrong."""
    w = np.asarray(W, dtype=np.float64)
    if w.ndim != 2 or w.size < 2:
        return f"expected a 2-d weight matrix, got shape {w.shape}"
    want = 1.0 / np.sqrt(w.shape[0])
    spread = float(w.std())
    if not 0.5 * want <= spread <= 2.0 * want:
        return (
            f"the initial weights have standard deviation {spread:.3g}; scaled by one over the "
            f"square root of the layer's {w.shape[0]} inputs it would be about {want:.3g}"
        )
    return None
