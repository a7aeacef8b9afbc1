"""Exercise 1 reference: numpy basics and the perceptron.

Conventions (the same as in the notebook):
- A data matrix `X` has shape (N, D), one sample per row.
- `add_bias(X)` puts a column of ones in FRONT: (N, D + 1); the weight vector `w` has
  shape (D + 1,) and `w[0]` is the bias.
- The perceptron predicts with the step function: y = 1 if w[0] + w[1:] . x >= 0 else 0
  (an activation of exactly 0 counts as class 1). Targets are 0 or 1.
- Learning rule, for the samples in the given order, `epochs` passes over the data:
  w <- w + eta * (t_n - y_n) * x~_n, with x~_n = (1, x_n) and y_n predicted with the
  current w. Correctly classified samples leave w unchanged.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "accuracy",
    "add_bias",
    "predict",
    "standardize",
    "train_perceptron",
]



def _matrix(X: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"expected a data matrix of shape (N, D), got {arr.shape}")
    return arr


def add_bias(X: ArrayLike) -> NDArray[np.float64]:
    """(N, D) -> (N, D + 1): a column of ones in front of the features."""
    arr = _matrix(X)
    return np.hstack([np.ones((arr.shape[0], 1)), arr])


def standardize(X: ArrayLike) -> NDArray[np.float64]:
    """Each column shifted to mean 0 and scaled to standard deviation 1 (np.std, ddof=0)."""
    arr = _matrix(X)
    return (arr - arr.mean(axis=0)) / arr.std(axis=0)


def predict(w: ArrayLike, X: ArrayLike) -> NDArray[np.int64]:
    """Step-function outputs (N,) int64 in {0, 1}: 1 where w[0] + X @ w[1:] >= 0."""
    weights = np.asarray(w, dtype=np.float64)
    activation = add_bias(X) @ weights
    return (activation >= 0).astype(np.int64)


def train_perceptron(
    X: ArrayLike, t: ArrayLike, w_init: ArrayLike, eta: float, epochs: int
) -> NDArray[np.float64]:
    """The perceptron learning rule over the samples in order, `epochs` passes, from w_init.

    Returns the final weights (D + 1,); `w_init` is not modified.
    """
    Xb = add_bias(X)
    targets = np.asarray(t).reshape(-1)
    w = np.array(w_init, dtype=np.float64)
    for _ in range(int(epochs)):
        for x_n, t_n in zip(Xb, targets, strict=True):
            y_n = 1 if x_n @ w >= 0 else 0
            w = w + eta * (t_n - y_n) * x_n
    return w


def accuracy(w: ArrayLike, X: ArrayLike, t: ArrayLike) -> float:
    """Fraction of samples whose prediction equals the target."""
    return float(np.mean(predict(w, X) == np.asarray(t).reshape(-1)))
