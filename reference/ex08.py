"""Exercise 8 reference: open-set learning with an adapted softmax loss.

Known classes get one-hot targets; samples of unknown classes (label -1) get the uniform
target 1/C, which teaches the network to be unsure on anything it does not know.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

__all__ = ["AdaptedSoftMax", "adapted_softmax_forward", "filter_dataset", "targets_matrix"]


def filter_dataset(
    X: torch.Tensor, y: torch.Tensor, known: Sequence[int], unknown: Sequence[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep samples of `known` and `unknown` classes (original order) and relabel them.

    A known class becomes its index in `known`; an unknown class becomes -1.
    """
    known = [int(c) for c in known]
    unknown = [int(c) for c in unknown]
    labels = torch.as_tensor(y).to(torch.int64)
    keep = torch.zeros(labels.shape, dtype=torch.bool)
    new = torch.full(labels.shape, -1, dtype=torch.int64)
    for index, cls in enumerate(known):
        mask = labels == cls
        keep |= mask
        new[mask] = index
    for cls in unknown:
        keep |= labels == cls
    return X[keep], new[keep]


def targets_matrix(targets: torch.Tensor, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    """One-hot rows for targets >= 0, uniform 1/C rows for target -1 (dtype/device of `like`)."""
    targets = torch.as_tensor(targets, device=like.device).to(torch.int64)
    t = torch.full(
        (targets.shape[0], num_classes), 1.0 / num_classes, dtype=like.dtype, device=like.device
    )
    known = targets >= 0
    rows = torch.nonzero(known).reshape(-1)
    t[rows] = 0.0
    t[rows, targets[rows]] = 1.0
    return t


def adapted_softmax_forward(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """J = mean over the batch of -sum_c t_c log softmax(logits)_c (differentiable by autograd)."""
    t = targets_matrix(targets, logits.shape[1], logits)
    log_p = torch.log_softmax(logits, dim=1)
    return -(t * log_p).sum(dim=1).mean()


class AdaptedSoftMax(torch.autograd.Function):
    """The adapted softmax loss as a custom autograd Function: dJ/dlogits = (softmax - t) / N."""

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        t = targets_matrix(targets, logits.shape[1], logits)
        log_p = torch.log_softmax(logits, dim=1)
        ctx.save_for_backward(log_p, t)
        return -(t * log_p).sum(dim=1).mean()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        log_p, t = ctx.saved_tensors
        return grad * (log_p.exp() - t) / log_p.shape[0], None
