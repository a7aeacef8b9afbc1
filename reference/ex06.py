"""Exercise 6 reference: PyTorch basics on FashionMNIST.

Input transform (ToTensor + Normalize), output sizes of convolution and pooling layers, a
fully connected network, a sequential CNN, the cross-entropy loss and one training epoch.
The `judge_*` functions are host-side judges of `property` checks: they return None when
the student's value is right, else a one-line message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike

from reference.ex06_data import MEAN, STD

__all__ = [
    "MEAN",
    "STD",
    "conv_output_size",
    "cross_entropy",
    "judge_adam",
    "judge_sequential",
    "judge_shuffled",
    "make_cnn",
    "make_mlp",
    "train_epoch",
    "train_linear_epoch",
    "transform_image",
]


def transform_image(image: ArrayLike) -> torch.Tensor:
    """What `Compose([ToTensor(), Normalize((MEAN,), (STD,))])` makes of a uint8 (H, W) image.

    A float32 tensor (1, H, W): pixel / 255, minus MEAN, divided by STD.
    """
    pixels = torch.as_tensor(np.asarray(image, dtype=np.uint8))
    if pixels.ndim != 2:
        raise ValueError(f"expected a grey-scale (H, W) image, got shape {tuple(pixels.shape)}")
    scaled = pixels.to(torch.float32).div(255.0)
    return scaled.sub(MEAN).div(STD).unsqueeze(0)


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Output length of a convolution or pooling along one axis: floor((n + 2p - k) / s) + 1."""
    n, k, s, p = int(size), int(kernel_size), int(stride), int(padding)
    if s < 1 or k < 1 or p < 0 or n + 2 * p < k:
        raise ValueError(f"no output for size={n}, kernel_size={k}, stride={s}, padding={p}")
    return (n + 2 * p - k) // s + 1


def make_mlp(hidden: int, num_classes: int = 10) -> torch.nn.Sequential:
    """Flatten -> Linear(784, hidden) -> ReLU -> Linear(hidden, num_classes)."""
    hidden, num_classes = int(hidden), int(num_classes)
    return torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(28 * 28, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, num_classes),
    )


def make_cnn(channels: Sequence[int] = (16, 32), num_classes: int = 10) -> torch.nn.Sequential:
    """The exercise's CNN for (N, 1, 28, 28) images, with c1, c2 = channels.

    Conv2d(1, c1, 3, padding=1) -> ReLU -> MaxPool2d(2)            : c1 x 14 x 14
    Conv2d(c1, c2, 3, stride=2, padding=1) -> ReLU                  : c2 x 7 x 7
    Flatten -> Linear(c2 * 7 * 7, num_classes)
    """
    c1, c2 = (int(c) for c in channels)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, c1, kernel_size=3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(c1, c2, kernel_size=3, stride=2, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(c2 * 7 * 7, int(num_classes)),
    )


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of -log softmax(logits)[label], written out with logsumexp."""
    logits = torch.as_tensor(logits)
    labels = torch.as_tensor(labels).to(torch.int64)
    picked = logits.gather(1, labels[:, None]).squeeze(1)
    return (torch.logsumexp(logits, dim=1) - picked).mean()


def train_epoch(
    model: torch.nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
) -> float:
    """One pass over `loader`: zero_grad, forward, loss, backward, step for every batch.

    Returns the mean loss per sample over the epoch: sum(batch loss * batch size) / samples.
    """
    model.train()
    total, count = 0.0, 0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total += float(loss.item()) * len(inputs)
        count += len(inputs)
    return total / count


def train_linear_epoch(
    weight: torch.Tensor,
    bias: torch.Tensor,
    X: torch.Tensor,
    y: torch.Tensor,
    lr: float,
    batch_size: int,
) -> tuple[float, torch.Tensor, torch.Tensor]:
    """One epoch of `train_epoch` on Linear(weight, bias), cross-entropy, plain SGD(lr), no shuffle.

    Returns (mean loss, weight after, bias after). The notebook's grader helper
    `check_train_epoch` does the same with the student's `train_epoch`.
    """
    weight = torch.as_tensor(weight, dtype=torch.float32)
    bias = torch.as_tensor(bias, dtype=torch.float32)
    model = torch.nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        model.weight.copy_(weight)
        model.bias.copy_(bias)
    dataset = torch.utils.data.TensorDataset(
        torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y).to(torch.int64)
    )
    loader = torch.utils.data.DataLoader(dataset, batch_size=int(batch_size), shuffle=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=float(lr))
    mean_loss = train_epoch(model, loader, torch.nn.CrossEntropyLoss(), optimizer)
    return mean_loss, model.weight.detach().clone(), model.bias.detach().clone()


def _class_name(result: Any, variable: str) -> str | None:
    if not isinstance(result, str):
        return f"`{variable}` should be a class name (a string), got {type(result).__name__}"
    return None


def judge_shuffled(result: Any) -> str | None:
    """The training loader's sampler class name: shuffle=True gives a RandomSampler."""
    problem = _class_name(result, "train_loader.sampler.__class__.__name__")
    if problem:
        return problem
    if result != "RandomSampler":
        return f"train_loader does not shuffle (its sampler is a {result}); pass shuffle=True"
    return None


def judge_sequential(result: Any) -> str | None:
    """The test loader's sampler class name: no shuffling gives a SequentialSampler."""
    problem = _class_name(result, "test_loader.sampler.__class__.__name__")
    if problem:
        return problem
    if result != "SequentialSampler":
        return f"test_loader should keep the order of the test set (its sampler is a {result})"
    return None


def judge_adam(result: Any) -> str | None:
    """The optimizer's class name must be Adam."""
    problem = _class_name(result, "optimizer.__class__.__name__")
    if problem:
        return problem
    if result != "Adam":
        return f"optimizer is a {result}, expected torch.optim.Adam"
    return None
