"""Exercise 12 reference (RBF layer) against independent oracles."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch

from reference import ex12, ex12_data

matplotlib.use("Agg")


def _inputs(seed: int, n: int = 9, k: int = 4, d: int = 3, dtype: torch.dtype = torch.float64):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=gen, dtype=dtype)
    centers = torch.randn(k, d, generator=gen, dtype=dtype)
    widths = 0.5 + 1.5 * torch.rand(k, generator=gen, dtype=dtype)
    return X, centers, widths


@pytest.mark.parametrize("seed", range(3))
def test_activation_equals_a_double_loop(seed: int) -> None:
    X, centers, widths = _inputs(seed)
    expected = np.empty((X.shape[0], centers.shape[0]))
    for n in range(X.shape[0]):
        for k in range(centers.shape[0]):
            dist2 = sum((float(X[n, i]) - float(centers[k, i])) ** 2 for i in range(X.shape[1]))
            expected[n, k] = math.exp(-dist2 / (2 * float(widths[k]) ** 2))
    got = ex12.rbf_activation(X, centers, widths)
    assert got.shape == (X.shape[0], centers.shape[0])
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", range(3))
def test_activation_equals_cdist_formula(seed: int) -> None:
    X, centers, widths = _inputs(seed, n=50, k=7, d=5)
    expected = torch.exp(-(torch.cdist(X, centers) ** 2) / (2 * widths**2))
    torch.testing.assert_close(ex12.rbf_activation(X, centers, widths), expected, rtol=1e-10, atol=1e-12)


def test_activation_is_one_at_a_centre_and_exp_minus_half_one_width_away() -> None:
    centers = torch.tensor([[0.0, 0.0], [1.0, 2.0]], dtype=torch.float64)
    widths = torch.tensor([1.0, 0.5], dtype=torch.float64)
    X = torch.tensor([[0.0, 0.0], [1.0, 2.5]], dtype=torch.float64)
    got = ex12.rbf_activation(X, centers, widths)
    assert got[0, 0].item() == 1.0
    assert got[1, 1].item() == pytest.approx(math.exp(-0.5), rel=1e-14)


def test_activation_gradients_pass_gradcheck() -> None:
    X, centers, widths = _inputs(4, n=5, k=3, d=2)
    centers.requires_grad_(True)
    widths.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda c, w: ex12.rbf_activation(X, c, w), (centers, widths))


def test_init_centers_are_distinct_seeded_rows() -> None:
    X = torch.randn(30, 2)
    centers = ex12.init_centers(X, 6, 3)
    assert centers.shape == (6, 2)
    rows = [int(torch.nonzero((X - c == 0).all(dim=1))[0]) for c in centers]
    assert len(set(rows)) == 6
    torch.testing.assert_close(centers, ex12.init_centers(X, 6, 3))
    assert ex12.judge_centers(centers.numpy(), X.numpy(), 6, 3) is None


def test_judge_centers_rejects_mistakes() -> None:
    X = np.random.default_rng(0).normal(size=(30, 2)).astype(np.float32)
    assert "first K rows" in ex12.judge_centers(X[:6].copy(), X, 6, 3)
    assert "distinct" in ex12.judge_centers(X[[4, 4, 7, 9, 11, 2]], X, 6, 3)
    assert "not a row" in ex12.judge_centers(X[[4, 5, 7, 9, 11, 2]] + 0.01, X, 6, 3)
    assert "shape" in ex12.judge_centers(X[[4, 5, 7]], X, 6, 3)
    assert ex12.judge_centers(None, X, 6, 3) is not None


def test_init_widths_hand_computed() -> None:
    centers = torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0], [1.0, 1.0]])
    # largest distance: (3, 0) to (0, 4), 5; sigma = 5 / sqrt(2 * 4) = 5 / sqrt(8)
    widths = ex12.init_widths(centers)
    assert widths.shape == (4,) and widths.dtype == torch.float32
    torch.testing.assert_close(widths, torch.full((4,), 5 / math.sqrt(8)))


def test_layer_parameters_and_forward() -> None:
    X, centers, widths = _inputs(5)
    layer = ex12.RBFLayer(centers, widths)
    names = dict(layer.named_parameters())
    assert set(names) == {"centers", "log_widths"}
    assert sum(p.numel() for p in layer.parameters()) == centers.numel() + widths.numel()
    torch.testing.assert_close(layer.widths(), widths)
    expected = torch.exp(-(torch.cdist(X, centers) ** 2) / (2 * widths**2))
    torch.testing.assert_close(layer(X), expected)
    centers.add_(1.0)  # the layer holds a copy
    assert not torch.equal(layer.centers.detach(), centers)


def test_network_structure_and_bottleneck() -> None:
    X, centers, widths = _inputs(6, k=5, d=2)
    net = ex12.RBFNet(centers, widths, 3).double()
    leaves = [type(m).__name__ for m in net.modules() if not list(m.children())]
    assert leaves == ["RBFLayer", "Linear", "Linear"]
    assert sum(p.numel() for p in net.parameters()) == 5 * 2 + 5 + (5 * 2 + 2) + (2 * 3 + 3)
    with torch.no_grad():
        features = net.features(X)
        expected = ex12.rbf_activation(X, centers, widths) @ net.bottleneck.weight.T + net.bottleneck.bias
        torch.testing.assert_close(features, expected)
        torch.testing.assert_close(net(X), torch.nn.functional.linear(features, net.out.weight, net.out.bias))
    assert net(X).shape == (9, 3)


def test_plot_data_groups_the_bottleneck_by_class() -> None:
    X, centers, widths = _inputs(7, n=12, k=4, d=2)
    W = torch.randn(2, 4, dtype=torch.float64)
    b = torch.randn(2, dtype=torch.float64)
    y = torch.tensor([2, 0, 2, 2, 0, 3, 3, 0, 2, 0, 3, 2])
    data = ex12.plot_bottleneck_data(X, y, centers, widths, W, b)
    Z = (
        np.array(
            [[float(w @ ex12.rbf_activation(X[n : n + 1], centers, widths)[0]) for w in W] for n in range(12)]
        )
        + b.numpy()
    )
    assert len(data) == 3  # classes 0, 2, 3
    for array, cls in zip(data, [0, 2, 3], strict=True):
        np.testing.assert_allclose(array, Z[y.numpy() == cls], rtol=1e-12)


def test_rings_folder_is_readable_and_deterministic(tmp_path: Path) -> None:
    ex12_data.write_rings_folder(tmp_path / "a", train_per_class=20, test_per_class=10, seed=4)
    ex12_data.write_rings_folder(tmp_path / "b", train_per_class=20, test_per_class=10, seed=4)
    for name in ("train.csv", "test.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "train.csv").read_text().splitlines()[0] == "x1,x2,label"
    train = np.loadtxt(tmp_path / "a" / "train.csv", delimiter=",", skiprows=1)
    assert train.shape == (60, 3)
    assert np.bincount(train[:, 2].astype(int)).tolist() == [20, 20, 20]
    radius = np.hypot(train[:, 0], train[:, 1])
    for cls, r in enumerate(ex12_data.RADII):
        assert abs(radius[train[:, 2] == cls].mean() - r) < 0.15


def test_hidden_rings_and_a_trained_network_separates_them() -> None:
    X, y = ex12_data.hidden_rings(np.random.default_rng(0), per_class=60)
    assert X.shape == (180, 2) and X.dtype == np.float32 and y.dtype == np.int64
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    torch.manual_seed(0)
    centers = ex12.init_centers(Xt, 12, 0)
    net = ex12.RBFNet(centers, ex12.init_widths(centers), 3)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(200):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(Xt), yt).backward()
        optimizer.step()
    Xh, yh = ex12_data.hidden_rings(np.random.default_rng(1), per_class=60)
    with torch.no_grad():
        accuracy = (net(torch.from_numpy(Xh)).argmax(dim=1).numpy() == yh).mean()
    assert accuracy > 0.9
