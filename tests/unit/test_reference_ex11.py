"""Exercise 11 reference (adversarial examples) against independent oracles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision

from reference import ex08_data, ex11, ex11_data


def _net(seed: int, n: int = 5, hidden: int = 7, dtype: torch.dtype = torch.float64):
    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 1, 28, 28, generator=gen, dtype=dtype)
    y = torch.randint(0, 10, (n,), generator=gen)
    W1 = 0.05 * torch.randn(hidden, 784, generator=gen, dtype=dtype)
    b1 = 0.1 * torch.randn(hidden, generator=gen, dtype=dtype)
    W2 = 0.3 * torch.randn(10, hidden, generator=gen, dtype=dtype)
    b2 = 0.1 * torch.randn(10, generator=gen, dtype=dtype)
    return X, y, (W1, b1, W2, b2)


def _mean_ce(X: torch.Tensor, y: torch.Tensor, weights) -> float:
    """Mean cross-entropy written out: log-sum-exp minus the target logit (no torch.nn)."""
    W1, b1, W2, b2 = weights
    h = np.maximum(X.reshape(len(X), -1).numpy() @ W1.numpy().T + b1.numpy(), 0.0)
    z = h @ W2.numpy().T + b2.numpy()
    m = z.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
    return float(np.mean(lse - z[np.arange(len(y)), y.numpy()]))


def test_mlp_equals_the_torch_layers() -> None:
    X, _, weights = _net(0)
    model = ex11.MLP(hidden=7).double()
    with torch.no_grad():
        for param, value in zip(model.weights(), weights, strict=True):
            param.copy_(value)
    layers = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(784, 7), torch.nn.ReLU(), torch.nn.Linear(7, 10)
    )
    layers = layers.double()
    with torch.no_grad():
        layers[1].weight.copy_(weights[0])
        layers[1].bias.copy_(weights[1])
        layers[3].weight.copy_(weights[2])
        layers[3].bias.copy_(weights[3])
        torch.testing.assert_close(model(X), layers(X))
        torch.testing.assert_close(ex11.mlp(X, *weights), layers(X))


@pytest.mark.parametrize("seed", range(2))
def test_input_gradient_matches_central_differences(seed: int) -> None:
    X, y, weights = _net(seed, n=3)
    grad = ex11.input_gradient(X, y, *weights)
    assert grad.shape == X.shape
    assert not grad.requires_grad
    flat = X.reshape(-1)
    picks = torch.randperm(flat.numel(), generator=torch.Generator().manual_seed(seed))[:40]
    h = 1e-5
    for i in picks.tolist():
        plus, minus = flat.clone(), flat.clone()
        plus[i] += h
        minus[i] -= h
        numeric = (
            _mean_ce(plus.reshape(X.shape), y, weights) - _mean_ce(minus.reshape(X.shape), y, weights)
        ) / (2 * h)
        assert grad.reshape(-1)[i].item() == pytest.approx(numeric, rel=1e-5, abs=2e-9)


def test_input_gradient_closed_form_for_a_linear_network() -> None:
    # with W1 = identity-like and a ReLU that never clips (positive inputs and biases),
    # dJ/dX = W1^T W2^T (softmax(z) - onehot(y)) / N
    X, y, (_, _, W2, b2) = _net(3, n=4, hidden=784)
    W1 = torch.eye(784, dtype=torch.float64)
    b1 = torch.ones(784, dtype=torch.float64)
    z = (X.reshape(4, -1) + 1.0) @ W2.T + b2
    delta = (torch.softmax(z, dim=1) - torch.nn.functional.one_hot(y, 10).double()) / 4
    expected = (delta @ W2).reshape(X.shape)
    torch.testing.assert_close(ex11.input_gradient(X, y, W1, b1, W2, b2), expected)


def test_input_gradient_leaves_its_inputs_alone() -> None:
    X, y, weights = _net(4)
    weights = tuple(w.clone().requires_grad_(True) for w in weights)
    before = X.clone()
    ex11.input_gradient(X, y, *weights)
    torch.testing.assert_close(X, before)
    assert X.grad is None and all(w.grad is None for w in weights)


def test_fgsm_hand_computed() -> None:
    X, y, weights = _net(5, n=2)
    X[0, 0, 0, :4] = torch.tensor([0.0, 0.02, 0.5, 0.99], dtype=torch.float64)
    grad = ex11.input_gradient(X, y, *weights)
    eps = 0.05
    out = ex11.fgsm(X, y, eps, *weights)
    step = torch.where(grad > 0, eps, torch.where(grad < 0, -eps, 0.0))
    expected = torch.minimum(torch.maximum(X + step, torch.zeros_like(X)), torch.ones_like(X))
    torch.testing.assert_close(out, expected)
    assert out.min() >= 0 and out.max() <= 1
    assert not out.requires_grad


def test_fgsm_increases_the_loss_more_than_random_noise() -> None:
    X, y, weights = _net(6, n=20)
    clean = _mean_ce(X, y, weights)
    adversarial = _mean_ce(ex11.fgsm(X, y, 0.05, *weights), y, weights)
    noisy = _mean_ce(ex11.random_sign_noise(X, 0.05, seed=1), y, weights)
    assert adversarial > clean + 0.1
    assert abs(noisy - clean) < adversarial - clean


def test_random_sign_noise_is_seeded_and_has_the_right_size() -> None:
    X = torch.rand(8, 1, 28, 28)
    a = ex11.random_sign_noise(X, 0.1, 3)
    torch.testing.assert_close(a, ex11.random_sign_noise(X, 0.1, 3))
    assert not torch.equal(a, ex11.random_sign_noise(X, 0.1, 4))
    inner = (X > 0.11) & (X < 0.89)
    torch.testing.assert_close((a - X).abs()[inner], torch.full_like(X[inner], 0.1))


def test_judge_noise_accepts_the_reference_and_rejects_mistakes() -> None:
    X = torch.rand(16, 1, 28, 28)
    x = X.numpy()
    eps = 0.1
    good = ex11.random_sign_noise(X, eps, 7).numpy()
    assert ex11.judge_noise(good, x, eps, 7) is None
    gen = np.random.default_rng(0)
    uniform = np.clip(x + eps * gen.uniform(-1, 1, x.shape), 0, 1).astype(np.float32)
    assert "step other than eps" in ex11.judge_noise(uniform, x, eps, 7)
    unclipped = x + eps * np.sign(gen.normal(size=x.shape)).astype(np.float32)
    assert "[0, 1]" in ex11.judge_noise(unclipped, x, eps, 7)
    brighter = np.clip(x + eps, 0, 1)
    assert "positive" in ex11.judge_noise(brighter, x, eps, 7)
    one_pattern = np.clip(x + eps * np.sign(gen.normal(size=(1, *x.shape[1:]))), 0, 1)
    assert "same sign" in ex11.judge_noise(one_pattern, x, eps, 7)
    assert "more than eps" in ex11.judge_noise(np.clip(x + 2 * eps * np.sign(good - x), 0, 1), x, eps, 7)
    assert "shape" in ex11.judge_noise(good[:3], x, eps, 7)
    assert ex11.judge_noise(None, x, eps, 7) is not None


def test_adversarial_samples_fool_the_surrogate_and_are_deterministic() -> None:
    x, y = ex11_data.adversarial_samples(
        np.random.default_rng(0), classes=list(range(10)), per_class=20, eps=0.1
    )
    clean, y_clean = ex08_data.hidden_samples(np.random.default_rng(0), classes=list(range(10)), per_class=20)
    assert x.shape == (200, 1, 28, 28) and x.dtype == np.float32
    assert y.dtype == np.int64 and np.array_equal(y, y_clean)
    assert x.min() >= 0 and x.max() <= 1
    np.testing.assert_allclose(np.abs(x - clean).max(), 0.1, rtol=1e-5)
    weights = ex11_data.surrogate_weights()
    with torch.no_grad():
        acc_clean = (ex11.mlp(torch.from_numpy(clean), *weights).argmax(1).numpy() == y).mean()
        acc_adv = (ex11.mlp(torch.from_numpy(x), *weights).argmax(1).numpy() == y).mean()
    assert acc_clean > 0.9 and acc_adv < 0.2
    again, _ = ex11_data.adversarial_samples(
        np.random.default_rng(0), classes=list(range(10)), per_class=20, eps=0.1
    )
    np.testing.assert_array_equal(x, again)


def test_the_exercise_data_folder_loads_with_torchvision(tmp_path: Path) -> None:
    ex08_data.write_mnist_folder(tmp_path, train_per_class=5, test_per_class=2, seed=11)
    train = torchvision.datasets.MNIST(tmp_path, train=True, download=False)
    assert len(train) == 50 and sorted(np.bincount(train.targets.numpy())) == [5] * 10


def test_adversarial_training_gives_robustness_where_clean_training_does_not() -> None:
    rng = np.random.default_rng(2)
    x, y = ex08_data.hidden_samples(rng, classes=list(range(10)), per_class=60)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    x_adv, y_adv = ex11_data.adversarial_samples(
        np.random.default_rng(3), classes=list(range(10)), per_class=20, eps=0.12
    )
    accuracy = {}
    for name, clean_epochs in (("clean", 6), ("adversarial", 1)):
        torch.manual_seed(0)
        model = ex11.MLP(64)
        ex11.train_adversarial(model, X, Y, eps=0.1, epochs=6, clean_epochs=clean_epochs, seed=0)
        with torch.no_grad():
            accuracy[name] = (model(torch.from_numpy(x_adv)).argmax(1).numpy() == y_adv).mean()
    assert accuracy["adversarial"] > accuracy["clean"] + 0.1
