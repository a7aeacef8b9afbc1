"""Exercise 5 reference: binary and categorical classification with numpy.

Binary: the logistic output y = 1 / (1 + exp(-z)) and the binary cross-entropy
J = -1/N sum_n [t_n log y_n + (1 - t_n) log(1 - y_n)].

Categorical: the softmax y_{n,c} = exp(z_{n,c}) / sum_k exp(z_{n,k}) (computed with the
row maximum subtracted, so large logits do not overflow), the categorical cross-entropy
J = -1/N sum_n sum_c t_{n,c} log y_{n,c} for one-hot targets T (N, O), and the accuracy.

The network is the two-layer network of exercise 4 with O logit outputs: Xb = [1, X],
H = logistic(Xb W1), Z = [1, H] W2, with W1 (D+1, K) and W2 (K+1, O) (row 0: biases).
Everything is computed in float64.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from reference.ex04 import judge_init  # one rule for the initial weights of both networks

__all__ = [
    "accuracy",
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "gradient",
    "judge_init",
    "logistic",
    "network",
    "predict",
    "softmax",
    "train",
]

Array = NDArray[np.float64]


def _float(x: ArrayLike) -> Array:
    return np.asarray(x, dtype=np.float64)


def _matrix(x: ArrayLike, name: str) -> Array:
    arr = _float(x)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a matrix, got shape {arr.shape}")
    return arr


def _with_bias(x: Array) -> Array:
    return np.concatenate([np.ones((x.shape[0], 1)), x], axis=1)


def logistic(Z: ArrayLike) -> Array:
    """1 / (1 + exp(-z)) elementwise, without overflow for large |z|."""
    z = _float(Z)
    e = np.exp(-np.abs(z))  # in (0, 1]
    return np.asarray(np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)))


def binary_cross_entropy(Y: ArrayLike, T: ArrayLike) -> float:
    """-1/N sum_n [t log y + (1 - t) log(1 - y)] for probabilities Y and targets T in {0, 1}."""
    y, t = _float(Y).reshape(-1), _float(T).reshape(-1)
    if y.shape != t.shape:
        raise ValueError(f"Y and T differ in size: {y.shape} vs {t.shape}")
    return float(-np.mean(t * np.log(y) + (1.0 - t) * np.log(1.0 - y)))


def softmax(Z: ArrayLike) -> Array:
    """Row-wise softmax of logits Z (N, O), stable for large logits."""
    z = _matrix(Z, "Z")
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def categorical_cross_entropy(Y: ArrayLike, T: ArrayLike) -> float:
    """-1/N sum_n sum_c t_{n,c} log y_{n,c} for probabilities Y and one-hot targets T (N, O)."""
    y, t = _matrix(Y, "Y"), _matrix(T, "T")
    if y.shape != t.shape:
        raise ValueError(f"Y and T differ in shape: {y.shape} vs {t.shape}")
    return float(-np.sum(t * np.log(y)) / y.shape[0])


def accuracy(Y: ArrayLike, T: ArrayLike) -> float:
    """Share of samples whose most probable class (argmax of Y) is the one-hot target's class."""
    y, t = _matrix(Y, "Y"), _matrix(T, "T")
    if y.shape != t.shape:
        raise ValueError(f"Y and T differ in shape: {y.shape} vs {t.shape}")
    return float(np.mean(np.argmax(y, axis=1) == np.argmax(t, axis=1)))


def network(X: ArrayLike, W1: ArrayLike, W2: ArrayLike) -> Array:
    """The logits Z = [1, logistic([1, X] W1)] W2, shape (N, O)."""
    h = logistic(_with_bias(_matrix(X, "X")) @ _matrix(W1, "W1"))
    return _with_bias(h) @ _matrix(W2, "W2")


def predict(X: ArrayLike, W1: ArrayLike, W2: ArrayLike) -> Array:
    """Class probabilities softmax(network(X, W1, W2)), shape (N, O)."""
    return softmax(network(X, W1, W2))


def gradient(X: ArrayLike, T: ArrayLike, W1: ArrayLike, W2: ArrayLike) -> tuple[Array, Array]:
    """(dJ/dW1, dJ/dW2) of J = categorical_cross_entropy(predict(X, W1, W2), T).

    For one-hot rows of T, dJ/dZ = (Y - T) / N; then dJ/dW2 = Hb^T dJ/dZ and
    dJ/dW1 = Xb^T [(dJ/dZ W2[1:]^T) * H (1 - H)].
    """
    x, t, w2 = _matrix(X, "X"), _matrix(T, "T"), _matrix(W2, "W2")
    xb = _with_bias(x)
    h = logistic(xb @ _matrix(W1, "W1"))
    hb = _with_bias(h)
    delta = (softmax(hb @ w2) - t) / x.shape[0]
    return xb.T @ ((delta @ w2[1:].T) * h * (1.0 - h)), hb.T @ delta


def train(
    X: ArrayLike, T: ArrayLike, W1: ArrayLike, W2: ArrayLike, eta: float, epochs: int
) -> tuple[Array, Array]:
    """`epochs` steps of full-batch gradient descent W <- W - eta dJ/dW from (W1, W2).

    Both gradients are computed before either matrix changes; the inputs are not modified.
    """
    w1, w2 = _matrix(W1, "W1").copy(), _matrix(W2, "W2").copy()
    for _ in range(int(epochs)):
        g1, g2 = gradient(X, T, w1, w2)
        w1, w2 = w1 - eta * g1, w2 - eta * g2
    return w1, w2
