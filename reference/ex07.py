"""Exercise 7 reference: transfer learning with the deep features of a ResNet.

A `torchvision.models.resnet18` with the weights of the data folder (seeded, see
`reference.ex07_data`) is turned into a feature extractor by overriding `forward`: it
returns the 512 averaged channels of `layer4`, flattened, before the `fc` layer. A
nearest-neighbour classifier (Euclidean distance) on those features labels the query
images by their closest gallery image.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
import torchvision
from numpy.typing import NDArray
from torchvision.models.resnet import BasicBlock, ResNet

from reference import ex07_data

__all__ = [
    "FeatureResNet",
    "dataset_features",
    "deep_features",
    "extract_features",
    "feature_model",
    "gallery_features",
    "gallery_labels",
    "hidden_feature_set",
    "judge_query_accuracy",
    "nearest_neighbour",
    "query_accuracy",
    "query_features",
    "query_predictions",
    "transform",
]

FEATURES = 512


class FeatureResNet(ResNet):
    """A ResNet whose forward returns the deep features (N, 512): everything but `fc`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)


def resnet18_features() -> FeatureResNet:
    """An untrained resnet18 layout (BasicBlock, [2, 2, 2, 2]) with the feature forward."""
    return FeatureResNet(BasicBlock, [2, 2, 2, 2])


@functools.lru_cache(maxsize=1)
def feature_model() -> FeatureResNet:
    """The feature extractor with the data folder's weights, in eval mode (cached)."""
    with torch.device("meta"):  # no random initialisation: every tensor comes from the state_dict
        model = resnet18_features()
    model.load_state_dict(ex07_data.resnet18_state_dict(), assign=True)
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


_TRANSFORM = torchvision.transforms.Compose(
    [
        torchvision.transforms.ToTensor(),
        torchvision.transforms.Normalize(ex07_data.IMAGENET_MEAN, ex07_data.IMAGENET_STD),
    ]
)


def transform(image: Any) -> torch.Tensor:
    """A PIL RGB image or a uint8 (H, W, 3) array -> float32 (3, H, W): ToTensor + ImageNet Normalize."""
    if isinstance(image, torch.Tensor):
        image = image.numpy()
    result: torch.Tensor = _TRANSFORM(image)
    return result


def deep_features(x: torch.Tensor) -> torch.Tensor:
    """Features (N, 512) float32 of a normalised batch (N, 3, H, W), eval mode, no grad."""
    with torch.no_grad():
        return feature_model()(torch.as_tensor(x, dtype=torch.float32))


def extract_features(
    model: torch.nn.Module, loader: Iterable[tuple[torch.Tensor, torch.Tensor]]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (N, 512) float32 and labels (N,) int64 of a whole DataLoader, in its order."""
    model.eval()
    features, labels = [], []
    with torch.no_grad():
        for images, targets in loader:
            features.append(model(images))
            labels.append(torch.as_tensor(targets, dtype=torch.int64))
    return torch.cat(features), torch.cat(labels)


def _numpy(value: Any) -> NDArray[Any]:
    if isinstance(value, torch.Tensor):
        return np.asarray(value.detach().cpu().numpy())
    return np.asarray(value)


def nearest_neighbour(
    gallery_features: Any, gallery_labels: Any, query_features: Any
) -> NDArray[np.int64]:
    """The label of the closest gallery row (Euclidean distance) for every query row (int64)."""
    g = _numpy(gallery_features).astype(np.float64)
    q = _numpy(query_features).astype(np.float64)
    labels = _numpy(gallery_labels).astype(np.int64)
    d2 = (q * q).sum(1)[:, None] - 2.0 * q @ g.T + (g * g).sum(1)[None, :]
    return labels[np.argmin(d2, axis=1)]


@functools.lru_cache(maxsize=2)
def dataset_features(split: str) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Features and labels of the data folder's `split`, regenerated in memory (cached).

    PNG is lossless, so the regenerated uint8 images are the files' pixels, in ImageFolder order.
    """
    images, labels = ex07_data.split_images(split, **ex07_data.DATA_OPTIONS)
    x = torch.from_numpy(ex07_data.normalise(images))
    features = deep_features(x).numpy()
    features.setflags(write=False)
    labels.setflags(write=False)
    return features, labels


def gallery_features() -> NDArray[np.float32]:
    return dataset_features("gallery")[0]


def gallery_labels() -> NDArray[np.int64]:
    return dataset_features("gallery")[1]


def query_features() -> NDArray[np.float32]:
    return dataset_features("query")[0]


def query_predictions() -> NDArray[np.int64]:
    g, gl = dataset_features("gallery")
    return nearest_neighbour(g, gl, dataset_features("query")[0])


def query_accuracy() -> float:
    """Share of query images whose nearest gallery image has their class."""
    return float(np.mean(query_predictions() == dataset_features("query")[1]))


MIN_ACCURACY = 0.9


def judge_query_accuracy(result: Any) -> str | None:
    """`query_accuracy` must be one number (float, 0-d array) in [0, 1], at least MIN_ACCURACY."""
    if isinstance(result, np.ndarray) and result.shape == () and result.dtype.kind == "f":
        result = float(result)
    if not isinstance(result, float):
        return f"query_accuracy must be a float, got {type(result).__name__}"
    if not 0.0 <= result <= 1.0:
        return f"query_accuracy {result:.4g} is not a share between 0 and 1"
    if result < MIN_ACCURACY:
        return f"query_accuracy {result:.3f} is below {MIN_ACCURACY}: the nearest neighbour is wrong"
    return None


def hidden_feature_set(
    rng: np.random.Generator, *, per_class: int = 4
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Fresh normalised images (N, 3, 64, 64) and, as targets, their reference features (N, 512)."""
    images, _ = ex07_data.hidden_images(rng, per_class=per_class)
    return images, deep_features(torch.from_numpy(images)).numpy()
