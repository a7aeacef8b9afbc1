"""The exam's reference against independent oracles: torch functions and layers, autograd,
finite differences, hand-computed cases; and the answer key of the choice questions against
what torch really does."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn

from reference import exam

ROOT = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------- softmax and cross-entropy


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("low", "high"), [(-5.0, 5.0), (500.0, 1000.0), (-1000.0, 1000.0)])
def test_softmax_matches_torch(seed: int, low: float, high: float) -> None:
    z = np.random.default_rng(seed).uniform(low, high, size=(6, 10))
    expected = torch.softmax(torch.from_numpy(z), dim=1).numpy()
    got = exam.softmax(z)
    assert got.shape == (6, 10) and got.dtype == np.float64
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-12)


def test_softmax_hand_computed() -> None:
    e = math.e
    np.testing.assert_allclose(
        exam.softmax([[0.0, 1.0], [1000.0, 1000.0]]),
        [[1 / (1 + e), e / (1 + e)], [0.5, 0.5]],
        rtol=1e-14,
    )


def test_naive_softmax_would_overflow_on_the_hidden_range() -> None:
    """The hidden check's range really separates stable from naive implementations."""
    z = np.random.default_rng(0).uniform(500, 1000, size=(6, 10))
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert np.isnan(naive).any()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("scale", [3.0, 800.0])
def test_cross_entropy_matches_torch(seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    z = rng.normal(0, scale, size=(8, 5))
    t = rng.integers(0, 5, size=8)
    expected = torch.nn.functional.cross_entropy(torch.from_numpy(z), torch.from_numpy(t)).item()
    got = exam.cross_entropy(z, t)
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_hand_computed() -> None:
    assert exam.cross_entropy([[0.0, 0.0]], [1]) == pytest.approx(math.log(2), rel=1e-15)
    # row 1: log(e^1 + e^3) - 1; row 2: log(2 e^7) - 7 = log 2; three equal logits: log 3
    first = math.log(math.e + math.e**3) - 1
    assert exam.cross_entropy([[1.0, 3.0]], [0]) == pytest.approx(first, rel=1e-14)
    assert exam.cross_entropy([[7.0, 7.0, 7.0]], [2]) == pytest.approx(math.log(3), rel=1e-14)
    z = [[1.0, 3.0], [7.0, 7.0]]
    assert exam.cross_entropy(z, [0, 1]) == pytest.approx((first + math.log(2)) / 2, rel=1e-14)


# ---------------------------------------------------------------- convolution sizes and the CNN


@pytest.mark.parametrize("size", [5, 13, 28, 32])
def test_conv_output_size_matches_torch_layers(size: int) -> None:
    x = torch.zeros(1, 1, size, size)
    for kernel in (1, 2, 3, 5):
        for stride in (1, 2, 3):
            for padding in (0, 1, 2):
                got = exam.conv_output_size(size, kernel, stride=stride, padding=padding)
                assert type(got) is int
                conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding)
                assert conv(x).shape[-1] == got, (size, kernel, stride, padding)
                if 2 * padding <= kernel:  # torch allows pooling padding up to half the kernel
                    pool = nn.MaxPool2d(kernel, stride=stride, padding=padding)
                    assert pool(x).shape[-1] == got, (size, kernel, stride, padding)


def test_make_cnn_structure() -> None:
    model = exam.make_cnn()
    leaves = [type(m).__name__ for m in model.modules() if not list(m.children())]
    assert leaves == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    # counted by hand: 8 * 1 * 3 * 3 + 8, 16 * 8 * 3 * 3 + 16, 576 * 10 + 10
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 80 + 1168 + 5770
    features = nn.Sequential(*list(model.children())[:6])(torch.zeros(2, 1, 28, 28))
    assert features.shape == (2, 16, 6, 6)
    assert exam.FLAT_FEATURES == features[0].numel() == 576
    assert model(torch.randn(4, 1, 28, 28)).shape == (4, 10)
    assert exam.make_cnn(7)(torch.randn(3, 1, 28, 28)).shape == (3, 7)
    assert exam.make_cnn() is not model  # a new network each call


# ---------------------------------------------------------------- the gradient by hand


def test_loss_hand_computed() -> None:
    assert exam.loss(np.zeros(2)) == pytest.approx(math.log(2), rel=1e-15)
    assert exam.loss([1.0, -2.0]) == pytest.approx(math.log(1 + math.exp(-2)) + 4.5, rel=1e-14)


@pytest.mark.parametrize("seed", range(6))
def test_gradient_matches_autograd_and_finite_differences(seed: int) -> None:
    w = np.random.default_rng(seed).uniform(-3, 3, size=2)
    wt = torch.tensor(w, requires_grad=True)
    value = torch.nn.functional.softplus(wt[0] * wt[1]) + 0.5 * (wt[0] - wt[1]) ** 2
    value.backward()
    assert exam.loss(w) == pytest.approx(value.item(), rel=1e-12)
    got = exam.gradient(w)
    assert got.shape == (2,) and got.dtype == np.float64
    np.testing.assert_allclose(got, wt.grad.numpy(), rtol=1e-12, atol=1e-14)
    eps = 1e-6
    numeric = [(exam.loss(w + eps * e) - exam.loss(w - eps * e)) / (2 * eps) for e in np.eye(2)]
    np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- cross-entropy with autograd


@pytest.mark.parametrize("seed", range(4))
def test_ce_grad_matches_autograd(seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(16, 7, generator=gen, dtype=torch.float64) * 4
    targets = torch.randint(0, 7, (16,), generator=gen)
    x = logits.clone().requires_grad_(True)
    expected = torch.nn.functional.cross_entropy(x, targets)
    expected.backward()
    value, grad = exam.ce_grad(logits, targets)
    assert value.shape == () and grad.shape == (16, 7)
    assert value.item() == pytest.approx(expected.item(), rel=1e-12)
    torch.testing.assert_close(grad, x.grad, rtol=1e-12, atol=1e-15)
    assert not logits.requires_grad  # the input is left alone


# ---------------------------------------------------------------- the answer key of the quiz


def _key() -> dict[str, set[str]]:
    rubric = yaml.safe_load((ROOT / "rubrics" / "exam" / "rubric.yaml").read_text())
    return {
        check["variable"]: set(check["correct"])
        for task in rubric["tasks"]
        for check in task["checks"]
        if check["kind"] == "choice"
    }


def test_q1_only_the_sigmoid_has_a_derivative_of_at_most_a_quarter() -> None:
    x = torch.linspace(-10, 10, 20001, dtype=torch.float64, requires_grad=True)
    maxima = {}
    for letter, f in {"a": torch.relu, "b": torch.sigmoid, "c": torch.tanh, "d": lambda v: v}.items():
        (grad,) = torch.autograd.grad(f(x).sum(), x)
        maxima[letter] = grad.max().item()
    assert {letter for letter, m in maxima.items() if m <= 0.25 + 1e-12} == _key()["q1"]


def test_q2_parameter_count_of_the_convolution() -> None:
    count = sum(p.numel() for p in nn.Conv2d(3, 16, kernel_size=5).parameters())
    options = {"a": 400, "b": 1200, "c": 1216, "d": 1225}
    assert {letter for letter, n in options.items() if n == count} == _key()["q2"]


def test_q4_batch_norm_statements() -> None:
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    x = torch.randn(4, 3, 5, 5) * 2 + 1
    bn.train()
    alone = bn(x[:2])[0]
    together = bn(x)[0]
    c_true = not torch.allclose(alone, together)  # depends on the other samples
    bn.eval()
    stats = (x[:1] - bn.running_mean.view(1, 3, 1, 1)) / torch.sqrt(bn.running_var.view(1, 3, 1, 1) + bn.eps)
    a_true = torch.allclose(bn(x[:1]), stats * bn.weight.view(1, 3, 1, 1) + bn.bias.view(1, 3, 1, 1))
    b_true = sum(p.numel() for p in bn.parameters() if p.requires_grad) == 0
    truth = {"a": a_true, "b": b_true, "c": c_true, "d": False}  # (d): a convention, not a must
    assert {letter for letter, ok in truth.items() if ok} == _key()["q4"]
