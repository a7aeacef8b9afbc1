"""Exercise 9 (auto-encoder): the reference against independent oracles, and its data."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from reference import ex09, ex09_data

# ---------------------------------------------------------------- output size


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "output_padding"),
    [
        (s, k, st, p, o)
        for s, k, st, p, o in itertools.product([1, 2, 7, 13], [1, 3, 4, 5], [1, 2, 3], [0, 1, 2], [0, 1, 2])
        if o < st and p < k  # what nn.ConvTranspose2d accepts (dilation 1)
    ],
)
def test_output_size_matches_conv_transpose2d(
    size: int, kernel: int, stride: int, padding: int, output_padding: int
) -> None:
    layer = nn.ConvTranspose2d(
        1, 1, kernel_size=kernel, stride=stride, padding=padding, output_padding=output_padding
    )
    got = ex09.conv_transpose_output_size(size, kernel, stride, padding, output_padding)
    try:
        out = layer(torch.zeros(1, 1, size, size))
    except RuntimeError:  # torch rejects an empty output: the formula must say so too
        assert got <= 0
        return
    assert isinstance(got, int)
    assert got == out.shape[-1] == out.shape[-2]


def test_output_size_known_cases() -> None:
    # stride 2, kernel 3, padding 1 doubles 7 -> 14 -> 28 only with output padding 1
    assert ex09.conv_transpose_output_size(7, 3, 2, 1, 1) == 14
    assert ex09.conv_transpose_output_size(14, 3, 2, 1, 1) == 28
    assert ex09.conv_transpose_output_size(7, 3, 2, 1, 0) == 13
    assert ex09.conv_transpose_output_size(5, 1) == 5  # a 1x1 kernel, stride 1: same size
    assert ex09.conv_transpose_output_size(np.int64(4), np.int64(4), np.int64(2)) == 10


# ---------------------------------------------------------------- networks


def _leaf_names(module: nn.Module) -> list[str]:
    return [type(m).__name__ for m in module.modules() if not list(m.children())]


def _trainable(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@pytest.mark.parametrize("K", [1, 3, 8, 20])
def test_encoder_shapes_layers_and_parameters(K: int) -> None:
    encoder = ex09.Encoder(K)
    assert _leaf_names(encoder) == [
        "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"
    ]
    # counted by hand: conv 1->16 3x3, conv 16->32 3x3, linear 32*7*7 -> K (weights + biases)
    assert _trainable(encoder) == (9 * 16 + 16) + (9 * 16 * 32 + 32) + (32 * 7 * 7 * K + K)
    assert encoder(torch.rand(5, 1, 28, 28)).shape == (5, K)


@pytest.mark.parametrize("K", [1, 3, 8, 20])
def test_decoder_shapes_layers_parameters_and_range(K: int) -> None:
    decoder = ex09.Decoder(K)
    assert _leaf_names(decoder) == [
        "Linear", "ReLU", "Unflatten", "ConvTranspose2d", "ReLU", "ConvTranspose2d", "Sigmoid"
    ]
    assert _trainable(decoder) == (K * 32 * 7 * 7 + 32 * 7 * 7) + (32 * 16 * 9 + 16) + (16 * 1 * 9 + 1)
    z = torch.randn(6, K) * 50  # far outside the usual feature range
    with torch.no_grad():
        out = decoder(z)
    assert out.shape == (6, 1, 28, 28)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_decoder_transposed_convolutions_follow_the_formula() -> None:
    decoder = ex09.Decoder(4)
    size = 7
    for layer in (decoder.deconv1, decoder.deconv2):
        size = ex09.conv_transpose_output_size(
            size, layer.kernel_size[0], layer.stride[0], layer.padding[0], layer.output_padding[0]
        )
    assert size == 28


def test_autoencoder_composes_encoder_and_decoder() -> None:
    torch.manual_seed(0)
    model = ex09.AutoEncoder(6)
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        direct = model.decoder(model.encoder(x))
        assert torch.equal(model(x), direct)
    assert _trainable(model) == _trainable(ex09.Encoder(6)) + _trainable(ex09.Decoder(6))
    assert _leaf_names(model) == _leaf_names(ex09.Encoder(6)) + _leaf_names(ex09.Decoder(6))


def test_a_few_training_steps_lower_the_reconstruction_error() -> None:
    torch.manual_seed(0)
    x = torch.from_numpy(ex09_data.reconstruction_set(np.random.default_rng(0), per_class=6)[0])
    model = ex09.AutoEncoder(8)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    with torch.no_grad():
        before = nn.functional.mse_loss(model(x), x).item()
    for _ in range(30):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), x)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        after = nn.functional.mse_loss(model(x), x).item()
    assert after < 0.5 * before


# ---------------------------------------------------------------- feature manipulation


@pytest.mark.parametrize("seed", range(3))
def test_interpolate_matches_torch_lerp(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    z1, z2 = torch.randn(10, generator=g), torch.randn(10, generator=g)
    alphas = torch.rand(7, generator=g) * 2 - 0.5
    got = ex09.interpolate(z1, z2, alphas)
    expected = torch.stack([torch.lerp(z1, z2, float(a)) for a in alphas])
    assert got.shape == (7, 10)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)


def test_interpolate_endpoints_and_midpoint() -> None:
    z1 = torch.tensor([1.0, -2.0, 4.0])
    z2 = torch.tensor([3.0, 2.0, 0.0])
    got = ex09.interpolate(z1, z2, torch.tensor([0.0, 0.5, 1.0]))
    expected = torch.tensor([[1.0, -2.0, 4.0], [2.0, 0.0, 2.0], [3.0, 2.0, 0.0]])
    assert torch.equal(got, expected)


def test_judge_accepts_sigmoid_images_and_names_problems() -> None:
    z = np.zeros(8, dtype=np.float32)
    good = 1 / (1 + np.exp(-np.random.default_rng(0).normal(size=(6, 1, 28, 28))))
    assert ex09.judge_interpolation_images(good.astype(np.float32), z, z, 6) is None
    assert "shape" in ex09.judge_interpolation_images(good[:5], z, z, 6)
    assert "[0, 1]" in ex09.judge_interpolation_images(good * 1.5, z, z, 6)
    assert "[0, 1]" in ex09.judge_interpolation_images(good - 0.2, z, z, 6)
    nan = good.copy()
    nan[0, 0, 0, 0] = np.nan
    assert "NaN" in ex09.judge_interpolation_images(nan, z, z, 6)
    assert ex09.judge_interpolation_images(None, z, z, 6) is not None


# ---------------------------------------------------------------- data


def test_digits_folder_is_real_mnist(tmp_path: Path) -> None:
    ex09_data.write_digits_folder(tmp_path, train_per_class=12, test_per_class=3, seed=4)
    to_tensor = torchvision.transforms.ToTensor()
    train = torchvision.datasets.MNIST(tmp_path, train=True, download=False, transform=to_tensor)
    test = torchvision.datasets.MNIST(tmp_path, train=False, download=False, transform=to_tensor)
    assert len(train) == 120 and len(test) == 30
    image, _ = train[0]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert float(image.min()) >= 0.0 and float(image.max()) <= 1.0
    assert np.bincount(train.targets.numpy(), minlength=10).tolist() == [12] * 10
    assert np.bincount(test.targets.numpy(), minlength=10).tolist() == [3] * 10


def test_digits_folder_is_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        seed = 5 if name != "c" else 6
        ex09_data.write_digits_folder(tmp_path / name, train_per_class=4, test_per_class=2, seed=seed)
    raw = Path("MNIST") / "raw"
    files = sorted(p.name for p in (tmp_path / "a" / raw).iterdir())
    assert len(files) == 4
    same = [(tmp_path / "a" / raw / f).read_bytes() == (tmp_path / "b" / raw / f).read_bytes() for f in files]
    assert all(same)
    images = "train-images-idx3-ubyte"
    assert (tmp_path / "a" / raw / images).read_bytes() != (tmp_path / "c" / raw / images).read_bytes()


def test_reconstruction_set_targets_are_the_inputs() -> None:
    inputs, targets = ex09_data.reconstruction_set(np.random.default_rng(3), per_class=5)
    assert inputs.shape == targets.shape == (50, 1, 28, 28)
    assert inputs.dtype == targets.dtype == np.float32
    assert np.array_equal(inputs, targets)
    assert not np.shares_memory(inputs, targets)
    assert inputs.min() >= 0.0 and inputs.max() <= 1.0
    # values are uint8 / 255, as ToTensor() gives for the files
    assert np.allclose(inputs * 255, np.rint(inputs * 255), atol=1e-4)
    again, _ = ex09_data.reconstruction_set(np.random.default_rng(3), per_class=5)
    assert np.array_equal(inputs, again)
    other, _ = ex09_data.reconstruction_set(np.random.default_rng(4), per_class=5)
    assert not np.array_equal(inputs, other)
