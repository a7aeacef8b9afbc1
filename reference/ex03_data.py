"""Hidden data for exercise 3: points of the target function, without noise.

`hidden_function_samples(rng, n, low, high)` returns inputs x (n, 1) uniform in
[low, high] and the true values f(x) = sin(pi x) (n, 1), float64: the error of the
student's trained network against them measures how well it approximates f, not the
noise of its training samples.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from reference.ex03 import target_function

__all__ = ["hidden_function_samples"]


def hidden_function_samples(
    rng: np.random.Generator, n: int = 500, low: float = -1.0, high: float = 1.0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(x (n, 1), f(x) (n, 1)) with x uniform in [low, high]."""
    x = rng.uniform(low, high, size=(n, 1))
    return x, target_function(x)
