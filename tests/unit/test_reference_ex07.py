"""Exercise 7 reference (ResNet deep features, nearest neighbour) against independent oracles."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
import yaml
from PIL import Image

from reference import ex07, ex07_data

RUBRIC = Path(__file__).resolve().parents[2] / "rubrics" / "ex07_transfer_learning" / "rubric.yaml"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ex07")
    ex07_data.write_data_folder(root, **ex07_data.DATA_OPTIONS)
    return root


def _torchvision_features(weights: Path) -> torch.nn.Module:
    """torchvision's own resnet18 with the file's weights and fc replaced by Identity."""
    model = torchvision.models.resnet18(weights=None)
    model.load_state_dict(torch.load(weights, weights_only=True))
    model.fc = torch.nn.Identity()
    return model.eval()


# ---------------------------------------------------------------- weights


def test_weights_same_seed_same_tensors(data_dir: Path) -> None:
    first, second = ex07_data.resnet18_state_dict(), ex07_data.resnet18_state_dict()
    on_disk = torch.load(data_dir / ex07_data.WEIGHTS_FILE, weights_only=True)
    assert first.keys() == second.keys() == on_disk.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name
        assert torch.equal(first[name], on_disk[name]), name


def test_weights_depend_on_the_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    base = ex07_data.resnet18_state_dict()
    ex07_data._resnet18_state_dict_cached.cache_clear()
    monkeypatch.setattr(ex07_data, "WEIGHTS_SEED", ex07_data.WEIGHTS_SEED + 1)
    try:
        other = ex07_data.resnet18_state_dict()
    finally:
        ex07_data._resnet18_state_dict_cached.cache_clear()
    assert not torch.equal(base["conv1.weight"], other["conv1.weight"])


def test_weights_load_strictly_into_torchvision_resnet18(data_dir: Path) -> None:
    model = torchvision.models.resnet18(weights=None)
    state = torch.load(data_dir / ex07_data.WEIGHTS_FILE, weights_only=True)
    model.load_state_dict(state, strict=True)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == 11_689_512  # resnet18's published size
    assert all(torch.isfinite(t.float()).all() for t in state.values())
    # batch norm statistics are not the identity, so eval and train mode differ
    assert not torch.allclose(state["bn1.running_var"], torch.ones(64))


# ---------------------------------------------------------------- features


@pytest.mark.parametrize("seed", [0, 1])
def test_features_equal_torchvision_resnet_without_fc(data_dir: Path, seed: int) -> None:
    x = torch.from_numpy(np.random.default_rng(seed).normal(size=(3, 3, 64, 64)).astype(np.float32))
    oracle = _torchvision_features(data_dir / ex07_data.WEIGHTS_FILE)
    with torch.no_grad():
        expected = oracle(x)
    got = ex07.deep_features(x)
    assert got.shape == (3, 512) and got.dtype == torch.float32
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_features_do_not_depend_on_the_batch() -> None:
    x = torch.from_numpy(np.random.default_rng(5).normal(size=(4, 3, 64, 64)).astype(np.float32))
    together = ex07.deep_features(x)
    alone = torch.cat([ex07.deep_features(x[i : i + 1]) for i in range(4)])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-5)


def test_train_mode_changes_the_features(data_dir: Path) -> None:
    """What the train-mode mutant gets wrong really differs from the eval-mode features."""
    model = _torchvision_features(data_dir / ex07_data.WEIGHTS_FILE).train()
    x = torch.from_numpy(np.random.default_rng(6).normal(size=(4, 3, 64, 64)).astype(np.float32))
    with torch.no_grad():
        train = model(x)
    assert (train - ex07.deep_features(x)).abs().max() > 1e-2


# ---------------------------------------------------------------- transform


def test_transform_is_to_tensor_and_imagenet_normalisation() -> None:
    image = np.random.default_rng(1).integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    mean = np.array([0.485, 0.456, 0.406])
    std = np.array([0.229, 0.224, 0.225])
    by_hand = ((image / 255.0 - mean) / std).transpose(2, 0, 1)
    got = ex07.transform(image)
    assert got.shape == (3, 64, 64) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), by_hand, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ex07.transform(Image.fromarray(image)).numpy(), got.numpy())
    np.testing.assert_allclose(ex07_data.normalise(image[None])[0], by_hand, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- nearest neighbour


def _brute_force(gallery: np.ndarray, labels: np.ndarray, query: np.ndarray) -> np.ndarray:
    out = []
    for q in query:
        distances = [math.dist(q.tolist(), g.tolist()) for g in gallery]
        out.append(int(labels[int(np.argmin(distances))]))
    return np.array(out, dtype=np.int64)


@pytest.mark.parametrize("seed", range(5))
def test_nearest_neighbour_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    gallery = rng.normal(size=(20, 16)).astype(np.float32)
    labels = rng.integers(0, 5, size=20)
    query = rng.normal(size=(10, 16)).astype(np.float32)
    got = ex07.nearest_neighbour(torch.from_numpy(gallery), torch.from_numpy(labels), torch.from_numpy(query))
    assert got.dtype == np.int64 and got.shape == (10,)
    np.testing.assert_array_equal(got, _brute_force(gallery, labels, query))
    distances = torch.cdist(torch.from_numpy(query).double(), torch.from_numpy(gallery).double())
    via_cdist = labels[distances.argmin(1).numpy()]
    np.testing.assert_array_equal(got, via_cdist)


def test_nearest_neighbour_hand_case_separates_euclid_from_cosine() -> None:
    gallery = np.array([[1.0, 0.0], [3.0, 0.5], [0.0, 2.0], [-1.0, -1.0]])
    query = np.array([[2.5, 0.1], [1.5, 0.05], [0.2, 1.5], [-2.0, -1.5]])
    got = ex07.nearest_neighbour(gallery, np.array([0, 1, 2, 3]), query)
    np.testing.assert_array_equal(got, [1, 0, 2, 3])
    cosine = (query / np.linalg.norm(query, axis=1, keepdims=True)) @ (
        gallery / np.linalg.norm(gallery, axis=1, keepdims=True)
    ).T
    assert cosine.argmax(1)[0] == 0  # the cosine mutant answers differently on the first query


# ---------------------------------------------------------------- data folder


def test_folders_load_with_image_folder(data_dir: Path) -> None:
    for split, per_class in (
        ("gallery", ex07_data.DATA_OPTIONS["gallery_per_class"]),
        ("query", ex07_data.DATA_OPTIONS["query_per_class"]),
    ):
        dataset = torchvision.datasets.ImageFolder(data_dir / split)
        assert dataset.classes == sorted(ex07_data.CLASSES) == list(ex07_data.CLASSES)
        counts = np.bincount([label for _, label in dataset.samples], minlength=5)
        np.testing.assert_array_equal(counts, [per_class] * 5)
        image, _ = dataset[0]
        assert image.mode == "RGB" and image.size == (64, 64)


def test_regenerated_images_are_the_files_pixels(data_dir: Path) -> None:
    """The host reference regenerates the images in memory; they must be the PNGs, in order."""
    for split in ("gallery", "query"):
        dataset = torchvision.datasets.ImageFolder(data_dir / split)
        images, labels = ex07_data.split_images(split, **ex07_data.DATA_OPTIONS)
        assert len(dataset) == len(images)
        for index, (image, label) in enumerate(dataset):
            assert label == labels[index]
            np.testing.assert_array_equal(np.asarray(image), images[index])


def test_same_seed_same_files(tmp_path: Path, data_dir: Path) -> None:
    ex07_data.write_data_folder(tmp_path / "again", **ex07_data.DATA_OPTIONS)
    for path in sorted((data_dir / "query").rglob("*.png")):
        twin = tmp_path / "again" / path.relative_to(data_dir)
        np.testing.assert_array_equal(np.asarray(Image.open(path)), np.asarray(Image.open(twin)))
    other, _ = ex07_data.split_images("query", **{**ex07_data.DATA_OPTIONS, "seed": 8})
    same, _ = ex07_data.split_images("query", **ex07_data.DATA_OPTIONS)
    assert not np.array_equal(other, same)


def test_rubric_data_options_are_the_reference_defaults() -> None:
    rubric = yaml.safe_load(RUBRIC.read_text())
    assert rubric["data_dir"]["options"] == ex07_data.DATA_OPTIONS


# ---------------------------------------------------------------- the whole pipeline


def test_pipeline_through_image_folder_and_torchvision(data_dir: Path) -> None:
    """ImageFolder + DataLoader + torchvision resnet18 (fc = Identity) + brute force = reference."""
    oracle = _torchvision_features(data_dir / ex07_data.WEIGHTS_FILE)
    tf = torchvision.transforms.Compose(
        [
            torchvision.transforms.ToTensor(),
            torchvision.transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
        ]
    )
    result = {}
    for split in ("gallery", "query"):
        loader = torch.utils.data.DataLoader(
            torchvision.datasets.ImageFolder(data_dir / split, transform=tf), batch_size=7
        )
        features, labels = ex07.extract_features(oracle, loader)
        assert features.shape == (30, 512) and labels.dtype == torch.int64
        expected, expected_labels = ex07.dataset_features(split)
        np.testing.assert_allclose(features.numpy(), expected, rtol=1e-4, atol=1e-4)
        np.testing.assert_array_equal(labels.numpy(), expected_labels)
        result[split] = (features.numpy(), labels.numpy())
    predictions = _brute_force(result["gallery"][0], result["gallery"][1], result["query"][0])
    accuracy = float(np.mean(predictions == result["query"][1]))
    np.testing.assert_array_equal(ex07.query_predictions(), predictions)
    assert ex07.query_accuracy() == accuracy
    assert accuracy >= ex07.MIN_ACCURACY
    np.testing.assert_array_equal(ex07.gallery_labels(), result["gallery"][1])
    np.testing.assert_allclose(ex07.gallery_features(), result["gallery"][0], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ex07.query_features(), result["query"][0], rtol=1e-4, atol=1e-4)


def test_judge_query_accuracy() -> None:
    assert ex07.judge_query_accuracy(1.0) is None
    assert ex07.judge_query_accuracy(np.asarray(0.95)) is None
    assert "below" in (ex07.judge_query_accuracy(0.5) or "")
    assert ex07.judge_query_accuracy(1.5) is not None
    assert ex07.judge_query_accuracy("1.0") is not None
    assert ex07.judge_query_accuracy(np.ones(3)) is not None


def test_hidden_feature_set() -> None:
    x, targets = ex07.hidden_feature_set(np.random.default_rng(3), per_class=2)
    assert x.shape == (10, 3, 64, 64) and x.dtype == np.float32
    assert targets.shape == (10, 512) and targets.dtype == np.float32
    np.testing.assert_allclose(ex07.deep_features(torch.from_numpy(x)).numpy(), targets, rtol=1e-5, atol=1e-6)
    again, _ = ex07.hidden_feature_set(np.random.default_rng(3), per_class=2)
    np.testing.assert_array_equal(x, again)
    images, labels = ex07_data.hidden_images(np.random.default_rng(4), per_class=3)
    assert images.shape == (15, 3, 64, 64)
    assert sorted(labels.tolist()) == sorted([0, 1, 2, 3, 4] * 3)
