"""Hidden adversarial digits for exercise 11 (host only, deterministic).

The images are the synthetic MNIST-like digits of `reference.ex08_data` (the exercise's
data folder is written by its `write_mnist_folder`). The adversarial set perturbs them by
FGSM against a fixed *surrogate* network the notebook never sees: a two-layer perceptron
(`reference.ex11.MLP`, 64 hidden units) trained full-batch on digits drawn from a FIXED
seed, so it is the same network for every grading run. Such transferred perturbations
fool a network trained on clean digits only, far less one trained adversarially.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from reference.ex08_data import NUM_CLASSES, hidden_samples
from reference.ex11 import MLP, fgsm

__all__ = ["adversarial_samples", "surrogate_weights"]

SURROGATE_SEED = 1111  # fixed on purpose: the surrogate never depends on the grading seed
SURROGATE_PER_CLASS = 100
SURROGATE_HIDDEN = 64
SURROGATE_STEPS = 60
SURROGATE_LR = 1e-2


@functools.lru_cache(maxsize=1)
def surrogate_weights() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Weights (W1, b1, W2, b2) of the surrogate network, float32, detached (cached)."""
    rng = np.random.default_rng(SURROGATE_SEED)
    x, y = hidden_samples(rng, classes=list(range(NUM_CLASSES)), per_class=SURROGATE_PER_CLASS)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(SURROGATE_SEED)
        model = MLP(SURROGATE_HIDDEN)
    finally:
        torch.random.set_rng_state(state)  # the host's global generator is left as it was
    optimizer = torch.optim.Adam(model.parameters(), lr=SURROGATE_LR)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: one thread is fastest and deterministic
    try:
        for _ in range(SURROGATE_STEPS):
            optimizer.zero_grad()
            F.cross_entropy(model(X), Y).backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    W1, b1, W2, b2 = (w.detach().clone() for w in model.weights())
    return W1, b1, W2, b2


def adversarial_samples(
    rng: np.random.Generator, *, classes: list[int], per_class: int, eps: float
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Digits as `ex08_data.hidden_samples` draws them, moved by FGSM (step `eps`) against
    the surrogate and clipped to [0, 1]. Returns X float32 (N, 1, 28, 28), y int64 (N,)."""
    x, y = hidden_samples(rng, classes=list(classes), per_class=per_class)
    x_adv = fgsm(torch.from_numpy(x), torch.from_numpy(y), float(eps), *surrogate_weights())
    return x_adv.numpy().astype(np.float32), y
