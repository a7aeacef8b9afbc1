"""Exercise 2 reference: gradient descent on a 2-D test function and on a line fit.

The loss is J(w) = w1^2 + w2^2 + 30 sin(w1) sin(w2) with w = (w1, w2) = (w[0], w[1]).
Everything is computed in float64.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["fit_line", "gradient", "gradient_descent", "loss"]


def _vector(w: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(w, dtype=np.float64)
    if arr.shape != (2,):
        raise ValueError(f"expected a weight vector of shape (2,), got {arr.shape}")
    return arr


def loss(w: ArrayLike) -> float:
    """J(w) = w1^2 + w2^2 + 30 sin(w1) sin(w2)."""
    w1, w2 = _vector(w)
    return float(w1**2 + w2**2 + 30.0 * np.sin(w1) * np.sin(w2))


def gradient(w: ArrayLike) -> NDArray[np.float64]:
    """dJ/dw = (2 w1 + 30 cos(w1) sin(w2), 2 w2 + 30 sin(w1) cos(w2))."""
    w1, w2 = _vector(w)
    return np.array(
        [
            2.0 * w1 + 30.0 * np.cos(w1) * np.sin(w2),
            2.0 * w2 + 30.0 * np.sin(w1) * np.cos(w2),
        ],
        dtype=np.float64,
    )


def gradient_descent(w: ArrayLike, eta: float, epochs: int) -> NDArray[np.float64]:
    """`epochs` steps of w <- w - eta * gradient(w); the input is not modified."""
    current = _vector(w).copy()
    for _ in range(int(epochs)):
        current = current - eta * gradient(current)
    return current


def fit_line(x: ArrayLike, t: ArrayLike, eta: float, epochs: int) -> NDArray[np.float64]:
    """Fit t ~ w0 + w1 x by batch gradient descent on J = mean((w0 + w1 x - t)^2).

    Starts from w = (0, 0) and takes `epochs` steps with learning rate `eta`, using
    dJ/dw0 = 2 mean(y - t) and dJ/dw1 = 2 mean((y - t) x). Returns np.array([w0, w1]).
    """
    xs = np.asarray(x, dtype=np.float64).reshape(-1)
    ts = np.asarray(t, dtype=np.float64).reshape(-1)
    if xs.shape != ts.shape:
        raise ValueError(f"x and t must have the same length, got {xs.shape} and {ts.shape}")
    w = np.zeros(2, dtype=np.float64)
    for _ in range(int(epochs)):
        residual = w[0] + w[1] * xs - ts
        grad = np.array([2.0 * residual.mean(), 2.0 * (residual * xs).mean()])
        w = w - eta * grad
    return w
