"""Exercise 6 reference (PyTorch basics, a CNN on FashionMNIST) against independent oracles:
torchvision transforms and data sets, real torch layers, closed-form parameter counts,
torch.nn.functional and hand-written SGD steps."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from reference import ex06, ex06_data

# ---------------------------------------------------------------- transform


def _torchvision_transform() -> torchvision.transforms.Compose:
    return torchvision.transforms.Compose(
        [torchvision.transforms.ToTensor(), torchvision.transforms.Normalize((0.2860,), (0.3530,))]
    )


def test_constants_are_the_documented_ones() -> None:
    assert ex06.MEAN == 0.2860
    assert ex06.STD == 0.3530


@pytest.mark.parametrize("shape", [(28, 28), (20, 24), (1, 5)])
def test_transform_matches_torchvision_on_arrays_and_pil_images(shape: tuple[int, int]) -> None:
    image = np.random.default_rng(sum(shape)).integers(0, 256, size=shape, dtype=np.uint8)
    got = ex06.transform_image(image)
    assert got.dtype == torch.float32
    assert tuple(got.shape) == (1, *shape)
    expected_np = _torchvision_transform()(image)
    expected_pil = _torchvision_transform()(Image.fromarray(image, mode="L"))
    torch.testing.assert_close(got, expected_np, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(got, expected_pil, rtol=1e-6, atol=1e-6)


def test_transform_hand_values() -> None:
    image = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    got = ex06.transform_image(image).numpy()
    scaled = np.array([[[0.0, 1.0], [0.2, 0.4]]])
    expected = (scaled - 0.286) / 0.353
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- output sizes


def test_conv_output_size_hand_cases() -> None:
    assert ex06.conv_output_size(28, 3, 1, 1) == 28
    assert ex06.conv_output_size(28, 5) == 24
    assert ex06.conv_output_size(28, 2, 2) == 14
    assert ex06.conv_output_size(14, 3, 2, 1) == 7
    assert ex06.conv_output_size(7, 3, 2) == 3  # floor((7 - 3) / 2) + 1
    assert ex06.conv_output_size(np.int64(10), np.int64(4), np.int64(3), np.int64(0)) == 3
    with pytest.raises(ValueError):
        ex06.conv_output_size(3, 5)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding"),
    [
        (n, k, s, p)
        for n, k, s, p in itertools.product([8, 13, 28, 31], [1, 2, 3, 5, 7], [1, 2, 3], [0, 1, 3])
        if n + 2 * p >= k
    ],
)
def test_conv_output_size_matches_torch_layers(size: int, kernel: int, stride: int, padding: int) -> None:
    x = torch.zeros(1, 1, size, size)
    conv = torch.nn.Conv2d(1, 1, kernel, stride=stride, padding=padding)
    expected = conv(x).shape[-1]
    assert ex06.conv_output_size(size, kernel, stride, padding) == expected
    if 2 * padding <= kernel:  # torch's pooling layers allow padding up to half the kernel
        assert torch.nn.MaxPool2d(kernel, stride, padding)(x).shape[-1] == expected
        assert torch.nn.AvgPool2d(kernel, stride, padding)(x).shape[-1] == expected


def test_the_rubric_draws_always_have_an_output() -> None:
    """The hidden check draws size 8..63, kernel 1..7, stride 1..3, padding 0..3."""
    for size, kernel, stride, padding in itertools.product([8, 63], range(1, 8), range(1, 4), range(4)):
        assert ex06.conv_output_size(size, kernel, stride, padding) >= 1


# ---------------------------------------------------------------- networks


def _trainable(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _leaves(module: torch.nn.Module) -> list[str]:
    return [type(m).__name__ for m in module.modules() if not list(m.children())]


@pytest.mark.parametrize(("hidden", "classes"), [(128, 10), (37, 5), (1, 2)])
def test_mlp_structure_and_closed_form_parameter_count(hidden: int, classes: int) -> None:
    mlp = ex06.make_mlp(hidden, num_classes=classes)
    assert _leaves(mlp) == ["Flatten", "Linear", "ReLU", "Linear"]
    assert _trainable(mlp) == 784 * hidden + hidden + hidden * classes + classes
    assert tuple(mlp(torch.randn(3, 1, 28, 28)).shape) == (3, classes)


def test_mlp_default_parameter_count_in_the_rubric() -> None:
    assert 784 * 128 + 128 + 128 * 10 + 10 == 101770
    assert _trainable(ex06.make_mlp(128)) == 101770


@pytest.mark.parametrize(("channels", "classes"), [((16, 32), 10), ((8, 12), 5), ((1, 1), 3)])
def test_cnn_structure_and_closed_form_parameter_count(channels: tuple[int, int], classes: int) -> None:
    c1, c2 = channels
    cnn = ex06.make_cnn(channels, classes)
    assert _leaves(cnn) == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "Flatten", "Linear"]
    assert _trainable(cnn) == (1 * 9 + 1) * c1 + (c1 * 9 + 1) * c2 + (c2 * 7 * 7 + 1) * classes
    assert tuple(cnn(torch.randn(4, 1, 28, 28)).shape) == (4, classes)


def test_cnn_default_parameter_count_in_the_rubric() -> None:
    assert (9 + 1) * 16 + (16 * 9 + 1) * 32 + (32 * 49 + 1) * 10 == 20490
    assert _trainable(ex06.make_cnn()) == 20490


def test_cnn_intermediate_sizes_follow_the_formula() -> None:
    cnn = ex06.make_cnn((16, 32))
    x = torch.randn(2, 1, 28, 28)
    sizes = []
    for layer in cnn:
        x = layer(x)
        sizes.append(tuple(x.shape[1:]))
    n1 = ex06.conv_output_size(28, 3, 1, 1)
    n2 = ex06.conv_output_size(n1, 2, 2)
    n3 = ex06.conv_output_size(n2, 3, 2, 1)
    assert (n1, n2, n3) == (28, 14, 7)
    assert sizes[0] == (16, n1, n1)
    assert sizes[2] == (16, n2, n2)
    assert sizes[3] == (32, n3, n3)
    assert sizes[5] == (32 * n3 * n3,)


# ---------------------------------------------------------------- loss and training


@pytest.mark.parametrize("seed", range(3))
def test_cross_entropy_matches_torch(seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(8, 10, generator=gen)
    labels = torch.randint(0, 10, (8,), generator=gen)
    torch.testing.assert_close(
        ex06.cross_entropy(logits, labels), torch.nn.functional.cross_entropy(logits, labels)
    )
    torch.testing.assert_close(
        ex06.cross_entropy(logits, labels), torch.nn.CrossEntropyLoss()(logits, labels)
    )


def test_cross_entropy_hand_case() -> None:
    logits = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    labels = torch.tensor([1, 0])
    expected = (np.log(2.0) + np.log(1 + np.exp(-2.0))) / 2
    assert float(ex06.cross_entropy(logits, labels)) == pytest.approx(expected, rel=1e-6)


def _manual_sgd_epoch(
    W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray, lr: float, batch: int
) -> tuple[float, np.ndarray, np.ndarray]:
    """Cross-entropy SGD by hand (float64): dJ/dz = (softmax(z) - onehot) / B."""
    W, b = W.astype(np.float64).copy(), b.astype(np.float64).copy()
    total = 0.0
    for start in range(0, len(X), batch):
        xb, yb = X[start : start + batch].astype(np.float64), y[start : start + batch]
        z = xb @ W.T + b
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        total += -np.log(p[np.arange(len(yb)), yb]).sum()
        onehot = np.eye(W.shape[0])[yb]
        dz = (p - onehot) / len(yb)
        W -= lr * dz.T @ xb
        b -= lr * dz.sum(axis=0)
    return total / len(X), W, b


@pytest.mark.parametrize(("n", "batch", "classes", "features"), [(12, 4, 3, 4), (20, 5, 5, 6), (10, 4, 3, 2)])
def test_train_linear_epoch_matches_hand_written_sgd(n: int, batch: int, classes: int, features: int) -> None:
    rng = np.random.default_rng(n + batch)
    W = rng.normal(0, 0.5, size=(classes, features)).astype(np.float32)
    b = rng.normal(0, 0.5, size=classes).astype(np.float32)
    X = rng.normal(size=(n, features)).astype(np.float32)
    y = rng.integers(0, classes, size=n)
    loss, W1, b1 = ex06.train_linear_epoch(
        torch.from_numpy(W), torch.from_numpy(b), torch.from_numpy(X), torch.from_numpy(y), 0.5, batch
    )
    e_loss, e_W, e_b = _manual_sgd_epoch(W, b, X, y, 0.5, batch)
    assert isinstance(loss, float)
    assert loss == pytest.approx(e_loss, rel=1e-5)
    np.testing.assert_allclose(W1.numpy(), e_W, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b1.numpy(), e_b, rtol=1e-5, atol=1e-6)


def test_train_linear_epoch_leaves_its_inputs_alone() -> None:
    W, b = torch.ones(2, 3), torch.zeros(2)
    X, y = torch.randn(4, 3), torch.tensor([0, 1, 1, 0])
    ex06.train_linear_epoch(W, b, X, y, 0.1, 2)
    assert torch.equal(W, torch.ones(2, 3))
    assert torch.equal(b, torch.zeros(2))


def test_train_epoch_lowers_the_loss_of_a_small_problem() -> None:
    torch.manual_seed(0)
    X = torch.randn(64, 2)
    y = (X[:, 0] > 0).long()
    model = torch.nn.Linear(2, 2)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    losses = [ex06.train_epoch(model, loader, torch.nn.CrossEntropyLoss(), optimizer) for _ in range(10)]
    assert losses[-1] < 0.5 * losses[0]


# ---------------------------------------------------------------- judges


def test_judges() -> None:
    assert ex06.judge_shuffled("RandomSampler") is None
    assert "shuffle" in (ex06.judge_shuffled("SequentialSampler") or "")
    assert ex06.judge_sequential("SequentialSampler") is None
    assert ex06.judge_sequential("RandomSampler")
    assert ex06.judge_adam("Adam") is None
    assert "SGD" in (ex06.judge_adam("SGD") or "")
    assert ex06.judge_adam(np.zeros(2))


def test_judges_agree_with_real_loaders_and_optimizers() -> None:
    data = torch.utils.data.TensorDataset(torch.zeros(4, 1))
    shuffled = torch.utils.data.DataLoader(data, batch_size=2, shuffle=True)
    ordered = torch.utils.data.DataLoader(data, batch_size=2, shuffle=False)
    assert ex06.judge_shuffled(shuffled.sampler.__class__.__name__) is None
    assert ex06.judge_sequential(ordered.sampler.__class__.__name__) is None
    assert ex06.judge_shuffled(ordered.sampler.__class__.__name__)
    params = [torch.nn.Parameter(torch.zeros(2))]
    assert ex06.judge_adam(torch.optim.Adam(params).__class__.__name__) is None
    assert ex06.judge_adam(torch.optim.AdamW(params).__class__.__name__)


# ---------------------------------------------------------------- data generator


def test_folder_is_read_by_torchvision_fashion_mnist(tmp_path: Path) -> None:
    ex06_data.write_fashion_mnist_folder(tmp_path, train_per_class=8, test_per_class=3, seed=6)
    assert sorted(p.name for p in (tmp_path / "FashionMNIST" / "raw").iterdir()) == [
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
    ]
    transform = _torchvision_transform()
    train = torchvision.datasets.FashionMNIST(tmp_path, train=True, download=False, transform=transform)
    test = torchvision.datasets.FashionMNIST(tmp_path, train=False, download=False)
    assert len(train) == 80
    assert len(test) == 30
    assert tuple(train.data.shape) == (80, 28, 28)
    assert train.data.dtype == torch.uint8
    assert np.bincount(train.targets.numpy(), minlength=10).tolist() == [8] * 10
    assert np.bincount(test.targets.numpy(), minlength=10).tolist() == [3] * 10
    image, label = train[0]
    assert tuple(image.shape) == (1, 28, 28) and image.dtype == torch.float32
    assert isinstance(label, int) and 0 <= label < 10
    assert train.classes[9] == "Ankle boot" == ex06_data.CLASSES[9]
    assert len(set(train.targets[:20].tolist())) > 3  # shuffled, not sorted by class


def test_folder_is_deterministic_per_seed(tmp_path: Path) -> None:
    for name, seed in (("a", 6), ("b", 6), ("c", 7)):
        ex06_data.write_fashion_mnist_folder(tmp_path / name, train_per_class=5, test_per_class=2, seed=seed)

    def read(name: str) -> list[bytes]:
        raw = tmp_path / name / "FashionMNIST" / "raw"
        return [p.read_bytes() for p in sorted(raw.iterdir())]

    assert read("a") == read("b")
    assert read("a") != read("c")


def test_hidden_samples_are_normalised_like_the_transform() -> None:
    X, y = ex06_data.hidden_samples(np.random.default_rng(3), per_class=4)
    images, labels = ex06_data.samples(np.random.default_rng(3), list(range(10)), 4)
    assert X.dtype == np.float32 and X.shape == (40, 1, 28, 28)
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [4] * 10
    np.testing.assert_array_equal(y, labels)
    expected = torch.stack([_torchvision_transform()(image) for image in images]).numpy()
    np.testing.assert_allclose(X, expected, rtol=1e-6, atol=1e-6)
    X2, y2 = ex06_data.hidden_samples(np.random.default_rng(3), per_class=4)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_classes_are_learnable_by_nearest_template() -> None:
    """The silhouettes are distinct: even a nearest-template rule is far above chance."""
    templates = ex06_data.class_templates().reshape(10, -1)
    distances = np.linalg.norm(templates[:, None] - templates[None], axis=2)
    assert (distances + np.eye(10) * 1e9).min() > 3.0
    images, labels = ex06_data.samples(np.random.default_rng(0), list(range(10)), 30)
    flat = images.reshape(len(images), -1) / 255.0
    predicted = np.argmin(((flat[:, None] - templates[None]) ** 2).sum(axis=2), axis=1)
    assert (predicted == labels).mean() > 0.6


def test_samples_reject_bad_arguments() -> None:
    with pytest.raises(ValueError):
        ex06_data.samples(np.random.default_rng(0), [10], 2)
    with pytest.raises(ValueError):
        ex06_data.samples(np.random.default_rng(0), [1], -1)
