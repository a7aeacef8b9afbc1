"""Exercise 11 reference: adversarial examples by back-propagation to the input.

The network is a two-layer perceptron given by its weight tensors (`mlp`), so a grader can
pass any weights as plain arrays. `input_gradient` is the gradient of the mean
cross-entropy w.r.t. the input images, `fgsm` the fast gradient sign method (one step of
size eps along the sign of that gradient, clipped to the valid pixel range [0, 1]), and
`random_sign_noise` the baseline of the same magnitude with random signs. `judge_noise`
is the host-side judge of a student's noise baseline (it has no single right value).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "MLP",
    "fgsm",
    "input_gradient",
    "judge_noise",
    "mlp",
    "random_sign_noise",
    "train_adversarial",
]


def mlp(
    X: torch.Tensor, W1: torch.Tensor, b1: torch.Tensor, W2: torch.Tensor, b2: torch.Tensor
) -> torch.Tensor:
    """Logits (N, C) of flatten -> X W1^T + b1 -> ReLU -> H W2^T + b2."""
    return torch.relu(X.flatten(1) @ W1.T + b1) @ W2.T + b2


class MLP(torch.nn.Module):
    """The exercise's network as a module: `hidden` (784 -> H) and `out` (H -> 10)."""

    def __init__(self, hidden: int = 64, inputs: int = 28 * 28, classes: int = 10) -> None:
        super().__init__()
        self.hidden = torch.nn.Linear(inputs, hidden)
        self.out = torch.nn.Linear(hidden, classes)

    def weights(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.hidden.weight, self.hidden.bias, self.out.weight, self.out.bias

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return mlp(X, *self.weights())


def input_gradient(
    X: torch.Tensor,
    y: torch.Tensor,
    W1: torch.Tensor,
    b1: torch.Tensor,
    W2: torch.Tensor,
    b2: torch.Tensor,
) -> torch.Tensor:
    """dJ/dX for J = mean over the batch of cross_entropy(mlp(X), y); same shape as X.

    Neither X nor the weights are changed, and no gradient is left on them.
    """
    x = torch.as_tensor(X).detach().clone().requires_grad_(True)
    weights = [torch.as_tensor(w).detach() for w in (W1, b1, W2, b2)]
    loss = F.cross_entropy(mlp(x, *weights), torch.as_tensor(y).long())
    (grad,) = torch.autograd.grad(loss, x)
    return grad


def fgsm(
    X: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    W1: torch.Tensor,
    b1: torch.Tensor,
    W2: torch.Tensor,
    b2: torch.Tensor,
) -> torch.Tensor:
    """clip(X + eps * sign(dJ/dX), 0, 1): one ascent step on the loss (a detached tensor)."""
    grad = input_gradient(X, y, W1, b1, W2, b2)
    x = torch.as_tensor(X).detach()
    return (x + eps * grad.sign()).clamp(0.0, 1.0)


def random_sign_noise(X: torch.Tensor, eps: float, seed: int) -> torch.Tensor:
    """clip(X + eps * s, 0, 1) with independent random signs s in {-1, +1} (seeded)."""
    x = torch.as_tensor(X).detach()
    generator = torch.Generator().manual_seed(int(seed))
    signs = torch.randint(0, 2, x.shape, generator=generator).to(x.dtype) * 2 - 1
    return (x + eps * signs).clamp(0.0, 1.0)


def judge_noise(result: Any, X: Any, eps: Any, seed: Any = None) -> str | None:
    """Judge a random sign-noise baseline: None when right, else what is wrong.

    Required: X's shape; values in [0, 1]; |result - X| <= eps everywhere and == eps on
    every pixel the clipping cannot reach (eps <= X <= 1 - eps); about half of those
    steps positive; different images get different noise (not one pattern broadcast).
    """
    x = np.asarray(X, dtype=np.float64)
    eps = float(np.asarray(eps))
    if not isinstance(result, np.ndarray) or result.dtype.kind not in "fiu":
        return f"expected a tensor of shape {tuple(x.shape)}, got {type(result).__name__}"
    if result.shape != x.shape:
        return f"shape {tuple(result.shape)}, expected {tuple(x.shape)} (the shape of X)"
    r = result.astype(np.float64)
    if not np.isfinite(r).all():
        return "the result contains NaN or inf"
    if r.min() < -1e-6 or r.max() > 1 + 1e-6:
        return f"values in [{r.min():.4g}, {r.max():.4g}]: images must stay in [0, 1] (clip)"
    delta = r - x
    tol = 1e-5 + 1e-5 * eps
    if np.abs(delta).max() > eps + tol:
        return f"a pixel moved by {np.abs(delta).max():.4g}, more than eps = {eps:g}"
    inner = (x >= eps + 1e-4) & (x <= 1 - eps - 1e-4)
    if inner.sum() < 100:
        return None  # too few unclipped pixels to say more (the grader draws larger inputs)
    steps = delta[inner]
    off = np.abs(np.abs(steps) - eps) > tol
    if off.any():
        return (
            f"{int(off.sum())} of {off.size} unclipped pixels moved by a step other than eps "
            f"(e.g. {abs(steps[np.argmax(off)]):.4g}); sign noise moves every pixel by exactly eps"
        )
    positive = float((steps > 0).mean())
    if not 0.45 <= positive <= 0.55:
        return f"{positive:.1%} of the steps are positive; random signs give about 50%"
    if x.shape[0] >= 2:
        both = inner[0] & inner[1]
        if both.sum() >= 100:
            same = float((np.sign(delta[0][both]) == np.sign(delta[1][both])).mean())
            if same > 0.6:
                return f"images 1 and 2 got the same sign on {same:.1%} of their pixels: draw noise per pixel"
    return None


def train_adversarial(
    model: MLP,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    eps: float,
    epochs: int,
    clean_epochs: int = 1,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
) -> list[float]:
    """The exercise's schedule: `clean_epochs` epochs on clean batches, then each batch's
    loss is 0.5 * J(clean) + 0.5 * J(fgsm of the batch against the current weights).

    Trains `model` in place (Adam) and returns the mean loss of every epoch.
    """
    torch.manual_seed(seed)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X, y), batch_size=batch_size, shuffle=True
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(epochs):
        total = 0.0
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            if epoch >= clean_epochs:
                x_adv = fgsm(xb, yb, eps, *model.weights())
                loss = 0.5 * loss + 0.5 * F.cross_entropy(model(x_adv), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        history.append(total / len(X))
    return history
