"""Exercise 3 reference: a two-layer network for nonlinear regression, in numpy.

Shapes (the same as in the notebook):
- inputs X (N, D), targets T (N, O);
- hidden layer: W1 (K, D + 1), column 0 the biases; A = X~ W1^T with X~ = [1, X] (N, D + 1);
  H = tanh(A) (N, K);
- output layer: W2 (O, K + 1), column 0 the biases; Y = H~ W2^T with H~ = [1, H] (N, O).
- loss: J = (1/N) sum_n sum_o (Y_no - T_no)^2 (the mean over samples of the squared error).
Everything is computed in float64.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["forward", "gradients", "hidden", "loss", "target_function", "train"]

Array = NDArray[np.float64]


def _with_ones(A: Array) -> Array:
    return np.hstack([np.ones((A.shape[0], 1)), A])


def _as_2d(X: ArrayLike) -> Array:
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"expected a matrix (N, columns), got shape {arr.shape}")
    return arr


def hidden(X: ArrayLike, W1: ArrayLike) -> Array:
    """Hidden activations H = tanh([1, X] W1^T), shape (N, K)."""
    return np.tanh(_with_ones(_as_2d(X)) @ _as_2d(W1).T)


def forward(X: ArrayLike, W1: ArrayLike, W2: ArrayLike) -> Array:
    """Network outputs Y = [1, tanh([1, X] W1^T)] W2^T, shape (N, O)."""
    return _with_ones(hidden(X, W1)) @ _as_2d(W2).T


def loss(X: ArrayLike, T: ArrayLike, W1: ArrayLike, W2: ArrayLike) -> float:
    """J = (1/N) sum over samples and outputs of (Y - T)^2."""
    Y = forward(X, W1, W2)
    targets = _as_2d(T)
    return float(np.sum((Y - targets) ** 2) / Y.shape[0])


def gradients(X: ArrayLike, T: ArrayLike, W1: ArrayLike, W2: ArrayLike) -> tuple[Array, Array]:
    """(dJ/dW1 (K, D + 1), dJ/dW2 (O, K + 1)) by backpropagation."""
    Xb = _with_ones(_as_2d(X))
    W1a, W2a = _as_2d(W1), _as_2d(W2)
    H = np.tanh(Xb @ W1a.T)
    Hb = _with_ones(H)
    Y = Hb @ W2a.T
    dY = 2.0 * (Y - _as_2d(T)) / Xb.shape[0]  # (N, O)
    dW2 = dY.T @ Hb  # (O, K + 1)
    dA = (dY @ W2a[:, 1:]) * (1.0 - H**2)  # (N, K); the bias column gets no gradient back
    dW1 = dA.T @ Xb  # (K, D + 1)
    return dW1, dW2


def train(
    X: ArrayLike, T: ArrayLike, W1: ArrayLike, W2: ArrayLike, eta: float, epochs: int
) -> tuple[Array, Array]:
    """`epochs` full-batch gradient descent steps on both layers at once from (W1, W2);
    the arrays passed in are not modified. Returns (W1, W2)."""
    W1c = np.array(W1, dtype=np.float64)
    W2c = np.array(W2, dtype=np.float64)
    for _ in range(int(epochs)):
        dW1, dW2 = gradients(X, T, W1c, W2c)
        W1c = W1c - eta * dW1
        W2c = W2c - eta * dW2
    return W1c, W2c


def target_function(x: ArrayLike) -> Array:
    """The function the notebook approximates: f(x) = sin(pi x) on [-1, 1]."""
    return np.sin(np.pi * np.asarray(x, dtype=np.float64))
