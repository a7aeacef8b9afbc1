"""Exercise 4 reference (multi-output network on batches) against independent oracles."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from reference import ex04, ex04_data


def _weights(rng: np.random.Generator, d: int, k: int, o: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(size=(d + 1, k)), rng.normal(size=(k + 1, o))


def _torch_net(w1: np.ndarray, w2: np.ndarray) -> torch.nn.Sequential:
    """The same network from torch layers: Linear(D, K), Sigmoid, Linear(K, O)."""
    d, k = w1.shape[0] - 1, w1.shape[1]
    o = w2.shape[1]
    net = torch.nn.Sequential(torch.nn.Linear(d, k), torch.nn.Sigmoid(), torch.nn.Linear(k, o)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(w1[1:].T))
        net[0].bias.copy_(torch.from_numpy(w1[0]))
        net[2].weight.copy_(torch.from_numpy(w2[1:].T))
        net[2].bias.copy_(torch.from_numpy(w2[0]))
    return net


def _torch_loss(y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.mse_loss(y, t, reduction="sum") / y.shape[0]


@pytest.mark.parametrize("seed", range(3))
def test_forward_matches_torch_layers(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(11, 5))
    w1, w2 = _weights(rng, 5, 7, 3)
    expected = _torch_net(w1, w2)(torch.from_numpy(x)).detach().numpy()
    got = ex04.forward(x, w1, w2)
    assert got.shape == (11, 3)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_forward_hand_computed() -> None:
    x = np.array([[2.0]])
    w1 = np.array([[0.0], [0.0]])  # a = 0, h = 0.5
    w2 = np.array([[1.0, -1.0], [2.0, 4.0]])
    np.testing.assert_allclose(ex04.forward(x, w1, w2), [[1.0 + 2.0 * 0.5, -1.0 + 4.0 * 0.5]])


def test_loss_hand_computed_and_torch() -> None:
    y = np.array([[1.0, 2.0], [0.0, 0.0]])
    t = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert ex04.loss(y, t) == pytest.approx((1 + 4 + 9 + 16) / 2)
    rng = np.random.default_rng(7)
    y, t = rng.normal(size=(9, 4)), rng.normal(size=(9, 4))
    expected = _torch_loss(torch.from_numpy(y), torch.from_numpy(t)).item()
    assert ex04.loss(y, t) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_gradient_matches_autograd(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, t = rng.normal(size=(13, 4)), rng.normal(size=(13, 2))
    w1, w2 = _weights(rng, 4, 6, 2)
    w1_t = torch.tensor(w1, requires_grad=True)
    w2_t = torch.tensor(w2, requires_grad=True)
    xb = torch.cat([torch.ones(13, 1, dtype=torch.float64), torch.from_numpy(x)], dim=1)
    h = torch.sigmoid(xb @ w1_t)
    y = torch.cat([torch.ones(13, 1, dtype=torch.float64), h], dim=1) @ w2_t
    _torch_loss(y, torch.from_numpy(t)).backward()
    g1, g2 = ex04.gradient(x, t, w1, w2)
    assert g1.shape == w1.shape and g2.shape == w2.shape
    assert w1_t.grad is not None and w2_t.grad is not None
    np.testing.assert_allclose(g1, w1_t.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g2, w2_t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_batches_cover_a_permutation_in_order() -> None:
    x = np.arange(23 * 2, dtype=float).reshape(23, 2)
    t = -np.arange(23, dtype=float).reshape(23, 1)
    got = ex04.batches(x, t, 5, 42)
    assert [len(xb) for xb, _ in got] == [5, 5, 5, 5, 3]
    order = np.random.default_rng(42).permutation(23)
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in got]), x[order])
    np.testing.assert_array_equal(np.concatenate([tb for _, tb in got]), t[order])
    for xb, tb in got:  # inputs and targets stay paired
        np.testing.assert_array_equal(xb[:, 0] / 2, -tb[:, 0])


def test_batches_deterministic_and_generator_advances() -> None:
    x, t = np.arange(10.0).reshape(10, 1), np.arange(10.0).reshape(10, 1)
    a = ex04.batches(x, t, 4, 3)
    b = ex04.batches(x, t, 4, 3)
    for (xa, ta), (xb, tb) in zip(a, b, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ta, tb)
    rng = np.random.default_rng(3)
    first = np.concatenate([xb for xb, _ in ex04.batches(x, t, 4, rng)])
    second = np.concatenate([xb for xb, _ in ex04.batches(x, t, 4, rng)])
    np.testing.assert_array_equal(first, np.concatenate([xa for xa, _ in a]))
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("seed", range(2))
def test_train_matches_autograd_sgd(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, t = rng.uniform(-2, 2, size=(40, 4)), rng.normal(size=(40, 3))
    w1, w2 = _weights(rng, 4, 6, 3)
    w1_copy, w2_copy = w1.copy(), w2.copy()
    eta, epochs, batch_size, order_seed = 0.1, 5, 8, 11 + seed
    net = _torch_net(w1, w2)
    orders = np.random.default_rng(order_seed)
    for _ in range(epochs):
        order = orders.permutation(40)
        for start in range(0, 40, batch_size):
            index = order[start : start + batch_size]
            _torch_loss(net(torch.from_numpy(x[index])), torch.from_numpy(t[index])).backward()
            with torch.no_grad():  # a plain SGD step on autograd's gradients
                for p in net.parameters():
                    assert p.grad is not None
                    p -= eta * p.grad
                    p.grad = None
    got1, got2 = ex04.train(x, t, w1, w2, eta, epochs, batch_size, order_seed)
    np.testing.assert_array_equal(w1, w1_copy)  # inputs untouched
    np.testing.assert_array_equal(w2, w2_copy)
    with torch.no_grad():
        np.testing.assert_allclose(got1[0], net[0].bias.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(got1[1:], net[0].weight.numpy().T, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(got2[0], net[2].bias.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(got2[1:], net[2].weight.numpy().T, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- data


def test_csv_reads_with_loadtxt_and_csv_module(tmp_path: Path) -> None:
    ex04_data.write_regression_csv(tmp_path, samples=50, seed=1)
    path = tmp_path / "regression.csv"
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 50
    assert list(rows[0]) == ["x1", "x2", "x3", "x4", "t1", "t2", "t3"]
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    assert data.shape == (50, 7)
    assert float(rows[3]["t2"]) == pytest.approx(data[3, 5])
    x, t = data[:, :4], data[:, 4:]
    assert np.all((x >= -2) & (x <= 2))
    # the targets are the documented functions plus small noise
    t1 = np.sin(x[:, 0]) + 0.5 * x[:, 1]
    t2 = 0.5 * x[:, 0] * x[:, 2] + np.cos(x[:, 3])
    t3 = np.tanh(x[:, 1] - x[:, 3]) + 0.2 * x[:, 2] ** 2 - 0.4
    residual = t - np.stack([t1, t2, t3], axis=1)
    assert 0.02 < residual.std() < 0.1


def test_csv_is_deterministic(tmp_path: Path) -> None:
    for name, seed in (("a", 2), ("b", 2), ("c", 3)):
        ex04_data.write_regression_csv(tmp_path / name, samples=20, seed=seed)
    text = {name: (tmp_path / name / "regression.csv").read_text() for name in "abc"}
    assert text["a"] == text["b"]
    assert text["a"] != text["c"]


def test_hidden_samples_shapes_and_determinism() -> None:
    x, t = ex04_data.hidden_samples(np.random.default_rng(0), samples=30)
    assert x.shape == (30, 4) and t.shape == (30, 3)
    assert x.dtype == np.float64 and t.dtype == np.float64
    x2, t2 = ex04_data.hidden_samples(np.random.default_rng(0), samples=30)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(t, t2)


@pytest.mark.parametrize("seed", range(3))
def test_training_as_in_the_notebook_meets_the_threshold(tmp_path: Path, seed: int) -> None:
    """The rubric's error threshold (0.05) with a clear margin, for several hidden sets."""
    ex04_data.write_regression_csv(tmp_path, samples=400, seed=4)
    data = np.loadtxt(tmp_path / "regression.csv", delimiter=",", skiprows=1)
    rng = np.random.default_rng(0)
    w1 = rng.normal(0.0, 1 / np.sqrt(5), size=(5, 20))
    w2 = rng.normal(0.0, 1 / np.sqrt(21), size=(21, 3))
    w1, w2 = ex04.train(data[:, :4], data[:, 4:], w1, w2, 0.1, 100, 16, 0)
    x, t = ex04_data.hidden_samples(np.random.default_rng(seed), samples=200)
    mse = float(np.mean((ex04.forward(x, w1, w2) - t) ** 2))
    baseline = float(np.mean((t - t.mean(axis=0)) ** 2))
    assert mse < 0.025
    assert baseline > 0.5
