"""The reference implementations the rubrics compare students against."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision

from reference import ex02, ex08, ex08_data

# ---------------------------------------------------------------- exercise 2


def _central_differences(f, w: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(w)
    for i in range(w.size):
        step = np.zeros_like(w)
        step[i] = eps
        grad[i] = (f(w + step) - f(w - step)) / (2 * eps)
    return grad


def test_loss_known_values() -> None:
    assert ex02.loss(np.array([0.0, 0.0])) == 0.0
    w = np.array([0.3, -1.2])
    expected = 0.09 + 1.44 + 30 * math.sin(0.3) * math.sin(-1.2)
    assert ex02.loss(w) == pytest.approx(expected, rel=1e-14)
    assert np.shape(ex02.loss(w)) == ()


@pytest.mark.parametrize("seed", range(5))
def test_gradient_matches_finite_differences(seed: int) -> None:
    w = np.random.default_rng(seed).uniform(-5, 5, size=2)
    numeric = _central_differences(ex02.loss, w)
    analytic = ex02.gradient(w)
    assert analytic.shape == (2,)
    assert analytic.dtype == np.float64
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-6)


def test_gradient_descent_matches_hand_written_steps() -> None:
    w0 = np.array([1.0, -0.5])
    eta = 0.01
    w1 = w0 - eta * np.array(
        [
            2 * 1.0 + 30 * math.cos(1.0) * math.sin(-0.5),
            2 * -0.5 + 30 * math.sin(1.0) * math.cos(-0.5),
        ]
    )
    w2 = w1 - eta * np.array(
        [
            2 * w1[0] + 30 * math.cos(w1[0]) * math.sin(w1[1]),
            2 * w1[1] + 30 * math.sin(w1[0]) * math.cos(w1[1]),
        ]
    )
    np.testing.assert_allclose(ex02.gradient_descent(w0, eta, 1), w1, rtol=1e-14)
    np.testing.assert_allclose(ex02.gradient_descent(w0, eta, 2), w2, rtol=1e-14)
    np.testing.assert_array_equal(ex02.gradient_descent(w0, eta, 0), w0)
    np.testing.assert_array_equal(w0, [1.0, -0.5])  # the input is not modified


def test_gradient_descent_reaches_a_stationary_point() -> None:
    w = ex02.gradient_descent(np.array([1.5, -2.0]), 0.01, 2000)
    assert np.linalg.norm(ex02.gradient(w)) < 1e-6
    assert ex02.loss(w) < ex02.loss(np.array([1.5, -2.0]))


def test_fit_line_recovers_a_noiseless_line() -> None:
    x = np.linspace(-1, 1, 30)
    t = 0.7 - 1.3 * x
    w = ex02.fit_line(x, t, 0.1, 2000)
    assert w.shape == (2,)
    np.testing.assert_allclose(w, [0.7, -1.3], atol=1e-8)


def test_fit_line_first_step_uses_the_mean_gradient() -> None:
    x = np.array([1.0, 2.0, 3.0])
    t = np.array([2.0, 4.0, 9.0])
    # from w = 0: y = 0, dJ/dw0 = 2 mean(-t) = -10, dJ/dw1 = 2 mean(-t x) = -2 * 37 / 3
    np.testing.assert_allclose(ex02.fit_line(x, t, 0.5, 1), [5.0, 37.0 / 3.0], rtol=1e-14)


# ---------------------------------------------------------------- exercise 8


def test_filter_dataset_keeps_order_and_relabels() -> None:
    X = torch.arange(8, dtype=torch.float32).reshape(8, 1) * 10
    y = torch.tensor([3, 7, 0, 9, 5, 3, 1, 7])
    X_new, y_new = ex08.filter_dataset(X, y, known=[3, 0], unknown=[7])
    torch.testing.assert_close(X_new, torch.tensor([[0.0], [10.0], [20.0], [50.0], [70.0]]))
    assert y_new.dtype == torch.int64
    assert y_new.tolist() == [0, -1, 1, 0, -1]


def test_filter_dataset_without_unknown_classes() -> None:
    X = torch.zeros(4, 2, 2)
    X_new, y_new = ex08.filter_dataset(X, torch.tensor([4, 2, 4, 1]), known=[4], unknown=[])
    assert X_new.shape == (2, 2, 2)
    assert y_new.tolist() == [0, 0]


def test_adapted_softmax_forward_hand_computed() -> None:
    logits = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, math.log(2.0)]], dtype=torch.float64)
    targets = torch.tensor([2, -1])
    # row 1: -log softmax_2 = log(e + e^2 + e^3) - 3
    row1 = math.log(math.e + math.e**2 + math.e**3) - 3.0
    # row 2: softmax = (1/4, 1/4, 1/2); uniform target: -(1/3)(log 1/4 + log 1/4 + log 1/2)
    row2 = -(2 * math.log(0.25) + math.log(0.5)) / 3.0
    value = ex08.adapted_softmax_forward(logits, targets)
    assert value.shape == ()
    assert value.item() == pytest.approx((row1 + row2) / 2, rel=1e-12)


def _loss_inputs(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(16, 5, dtype=torch.float64, generator=gen)
    targets = torch.randint(0, 5, (16,), generator=gen)
    targets[torch.rand(16, generator=gen) < 0.3] = -1
    return logits, targets


@pytest.mark.parametrize("seed", range(3))
def test_custom_function_forward_equals_reference(seed: int) -> None:
    logits, targets = _loss_inputs(seed)
    torch.testing.assert_close(
        ex08.AdaptedSoftMax.apply(logits, targets), ex08.adapted_softmax_forward(logits, targets)
    )


@pytest.mark.parametrize("seed", range(3))
def test_custom_function_passes_gradcheck(seed: int) -> None:
    logits, targets = _loss_inputs(seed)
    logits.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z: ex08.AdaptedSoftMax.apply(z, targets), (logits,))


@pytest.mark.parametrize("seed", range(3))
def test_custom_backward_equals_autograd_of_reference(seed: int) -> None:
    logits, targets = _loss_inputs(seed)
    upstream = torch.tensor(0.37, dtype=torch.float64)  # not 1, so a missing `grad *` shows
    z1 = logits.clone().requires_grad_(True)
    (g_custom,) = torch.autograd.grad(ex08.AdaptedSoftMax.apply(z1, targets), z1, upstream)
    z2 = logits.clone().requires_grad_(True)
    (g_auto,) = torch.autograd.grad(ex08.adapted_softmax_forward(z2, targets), z2, upstream)
    torch.testing.assert_close(g_custom, g_auto, rtol=1e-10, atol=1e-12)
    # and the closed form (softmax - t) / N
    t = torch.full_like(logits, 0.2)
    known = targets >= 0
    t[known] = torch.nn.functional.one_hot(targets[known], 5).double()
    expected = upstream * (torch.softmax(logits, 1) - t) / 16
    torch.testing.assert_close(g_custom, expected, rtol=1e-10, atol=1e-12)


def test_adapted_softmax_float32() -> None:
    logits, targets = _loss_inputs(0)
    value = ex08.AdaptedSoftMax.apply(logits.float(), targets)
    assert value.dtype == torch.float32
    assert value.item() == pytest.approx(
        ex08.adapted_softmax_forward(logits, targets).item(), rel=1e-5
    )


# ---------------------------------------------------------------- exercise 8 data


def test_write_mnist_folder_loads_with_torchvision(tmp_path: Path) -> None:
    ex08_data.write_mnist_folder(tmp_path, train_per_class=6, test_per_class=3, seed=1)
    ex08_data.write_mnist_folder(
        str(tmp_path), train_per_class=5, test_per_class=2, seed=1
    )  # overwrites
    raw = tmp_path / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == [
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
    ]
    assert (raw / "train-images-idx3-ubyte").read_bytes()[:4] == (2051).to_bytes(4, "big")
    assert (raw / "train-labels-idx1-ubyte").read_bytes()[:4] == (2049).to_bytes(4, "big")
    to_tensor = torchvision.transforms.ToTensor()
    train = torchvision.datasets.MNIST(
        root=tmp_path, train=True, download=False, transform=to_tensor
    )
    test = torchvision.datasets.MNIST(
        root=tmp_path, train=False, download=False, transform=to_tensor
    )
    assert len(train) == 50
    assert len(test) == 20
    assert sorted(train.targets.tolist()) == sorted(list(range(10)) * 5)
    assert sorted(test.targets.tolist()) == sorted(list(range(10)) * 2)
    assert train.targets.tolist() != sorted(train.targets.tolist())  # shuffled
    image, label = train[0]
    assert image.shape == (1, 28, 28)
    assert image.dtype == torch.float32
    assert 0.0 <= image.min().item() <= image.max().item() <= 1.0
    assert isinstance(label, int)
    xb, yb = next(iter(torch.utils.data.DataLoader(train, batch_size=8, shuffle=True)))
    assert xb.shape == (8, 1, 28, 28)
    assert yb.dtype == torch.int64


def test_write_mnist_folder_is_deterministic(tmp_path: Path) -> None:
    ex08_data.write_mnist_folder(tmp_path / "a", train_per_class=3, test_per_class=1, seed=4)
    ex08_data.write_mnist_folder(tmp_path / "b", train_per_class=3, test_per_class=1, seed=4)
    ex08_data.write_mnist_folder(tmp_path / "c", train_per_class=3, test_per_class=1, seed=5)
    for name in ("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        a = (tmp_path / "a" / "MNIST" / "raw" / name).read_bytes()
        assert a == (tmp_path / "b" / "MNIST" / "raw" / name).read_bytes()
    a = (tmp_path / "a" / "MNIST" / "raw" / "train-images-idx3-ubyte").read_bytes()
    assert a != (tmp_path / "c" / "MNIST" / "raw" / "train-images-idx3-ubyte").read_bytes()


def test_hidden_samples_shapes_dtypes_and_range() -> None:
    X, y = ex08_data.hidden_samples(np.random.default_rng(0), classes=[0, 1, 2, 3, 4], per_class=7)
    assert X.shape == (35, 1, 28, 28)
    assert X.dtype == np.float32
    assert y.shape == (35,)
    assert y.dtype == np.int64
    assert X.min() >= 0.0 and X.max() <= 1.0
    np.testing.assert_array_equal(np.rint(X * 255) / 255, X.astype(np.float64))  # uint8 / 255
    np.testing.assert_array_equal(np.bincount(y, minlength=10), [7] * 5 + [0] * 5)
    assert y.tolist() != sorted(y.tolist())  # shuffled


def test_hidden_samples_deterministic_per_seed() -> None:
    a = ex08_data.hidden_samples(np.random.default_rng(3), classes=[8, 9], per_class=5)
    b = ex08_data.hidden_samples(np.random.default_rng(3), classes=[8, 9], per_class=5)
    c = ex08_data.hidden_samples(np.random.default_rng(4), classes=[8, 9], per_class=5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_hidden_samples_match_the_public_folder(tmp_path: Path) -> None:
    """Same templates everywhere: the folder's images equal hidden_samples of the same rng."""
    ex08_data.write_mnist_folder(tmp_path, train_per_class=4, test_per_class=0, seed=11)
    X, y = ex08_data.hidden_samples(np.random.default_rng(11), classes=list(range(10)), per_class=4)
    train = torchvision.datasets.MNIST(
        root=tmp_path, train=True, download=False, transform=torchvision.transforms.ToTensor()
    )
    folder = torch.stack([image for image, _ in train]).numpy()
    np.testing.assert_array_equal(folder, X)
    np.testing.assert_array_equal(train.targets.numpy(), y)


def test_classes_are_separable_by_nearest_template() -> None:
    X, y = ex08_data.hidden_samples(np.random.default_rng(1), classes=list(range(10)), per_class=20)
    templates = ex08_data.class_templates().reshape(10, -1)
    flat = X.reshape(len(X), -1).astype(np.float64)
    # best match over the allowed shifts, by correlation
    best = np.full((len(X), 10), -np.inf)
    for dr in range(-2, 3):
        for dc in range(-2, 3):
            shifted = np.roll(ex08_data.class_templates(), (dr, dc), axis=(1, 2)).reshape(10, -1)
            best = np.maximum(best, flat @ shifted.T / np.linalg.norm(shifted, axis=1))
    assert templates.shape == (10, 784)
    assert (best.argmax(axis=1) == y).mean() >= 0.95
