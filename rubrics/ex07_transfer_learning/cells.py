"""Notebook cells of exercise 7 (transfer learning): solution, template and mutants from one source.

`rubrics/_build_notebooks.py` turns this module into the notebooks of this folder. A cell is
`(kind, source, tag)`; `TEMPLATE` and each entry of `MUTANTS` swap the sources of tagged
code cells. Regenerate after an edit: `.venv/bin/python rubrics/_build_notebooks.py`.
"""

from __future__ import annotations

Cell = tuple[str, str, str | None]


def _swap(source: str, old: str, new: str) -> str:
    """`source` with `old` replaced by `new`; `old` must occur (a mutant must differ)."""
    if old not in source:
        raise ValueError(f"{old!r} does not occur in the cell")
    return source.replace(old, new)


EX07_INTRO = r"""
# Exercise 7: Transfer learning with deep features of a ResNet

A network trained on one task is a good *feature extractor* for another: drop its last
(classification) layer, and the activations before it describe an image well enough
that even a nearest-neighbour classifier works on them. Here you turn a
`torchvision.models.resnet18` into such an extractor, compute the deep features of a
small *gallery* of labelled images and of a *query* set, and label each query image by
its nearest gallery image.

Nothing is downloaded. The data folder (parameter `data_dir`) holds

* `resnet18_weights.pth`: a `state_dict` of a `resnet18` (`torch.save(model.state_dict())`).
  These are *not* ImageNet weights, but fixed weights from a seed: never use
  `pretrained=True` / `weights=...`, load this file;
* `gallery/` and `query/`: `torchvision.datasets.ImageFolder` folders of 64x64 RGB PNG
  images, one sub-folder per class (five classes of coloured shapes).

The grader runs everything on the CPU and calls, after your notebook ran:
`transform` (Task 1), `model` (Task 2), the variables `gallery_features`, `query_features`
(Task 3), `nearest_neighbour` (Task 4) and the variable `query_accuracy` (Task 5).
"""

EX07_IMPORTS = """
from pathlib import Path

import numpy as np
import torch
import torchvision
from torchvision.models.resnet import BasicBlock, ResNet
"""

EX07_PARAMETERS = """
# parameters (the grader sets data_dir and device)
seed = 0
batch_size = 16
data_dir = "data"
device = "cpu"
"""

EX07_TRANSFORM_MD = r"""
## Task 1: the input transform (1 point)

A ResNet expects what it was trained with: float images of shape `(3, H, W)` with values
in $[0, 1]$, normalised per channel with the ImageNet mean `(0.485, 0.456, 0.406)` and
standard deviation `(0.229, 0.224, 0.225)`. Define `transform`, a
`torchvision.transforms` pipeline that maps one PIL RGB image to such a float32 tensor
(no resizing: the images are 64x64 already).

The grader calls `transform(image)` with a `uint8` numpy array of shape `(64, 64, 3)`,
which `ToTensor()` treats exactly like a PIL image, and compares the `(3, 64, 64)` result.
"""

EX07_TRANSFORM = """
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
transform = torchvision.transforms.Compose(
    [
        torchvision.transforms.ToTensor(),
        torchvision.transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ]
)
"""

EX07_FEATURES_MD = r"""
## Task 2: a ResNet that returns its deep features (3 points)

`torchvision.models.resnet18` is a `ResNet(BasicBlock, [2, 2, 2, 2])`. Its `forward`
runs `conv1, bn1, relu, maxpool, layer1, ..., layer4, avgpool`, flattens, and ends with
the classification layer `fc`. Write a subclass `FeatureResNet` of
`torchvision.models.resnet.ResNet` whose `forward(x)` returns the **features before
`fc`**: the output of `avgpool`, flattened to shape `(N, 512)` (keep `fc` in the model,
only do not use it; monkey-patching `forward` of a `resnet18` instance is fine too).

Create `model` with the resnet18 layout, load `resnet18_weights.pth` from `data_dir` with
`torch.load(..., weights_only=True)` and `model.load_state_dict(...)`, and put it in
**evaluation mode** (batch norm then uses its stored statistics, so the features of an
image do not depend on the rest of the batch).

The grader calls `model(x)` with float32 tensors `x` of shape `(N, 3, 64, 64)` (already
normalised) and compares the `(N, 512)` features with those of the same weights.
"""

EX07_FEATURES = """
class FeatureResNet(ResNet):
    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)
        return torch.flatten(x, 1)


model = FeatureResNet(BasicBlock, [2, 2, 2, 2])  # the layout of torchvision.models.resnet18
state_dict = torch.load(Path(data_dir) / "resnet18_weights.pth", weights_only=True)
model.load_state_dict(state_dict)
model.eval()
print(f"{sum(p.numel() for p in model.parameters())} parameters, training mode: {model.training}")
"""

EX07_EXTRACT_MD = r"""
## Task 3: the features of a whole data set (2 points)

Implement `extract_features(model, loader)`: run `model` (in evaluation mode, without
gradients) over every batch `(images, labels)` of the DataLoader `loader`, in order,
and return `(features, labels)`: a float32 tensor `(N, 512)` and an `int64` tensor `(N,)`.

Then compute `gallery_features, gallery_labels` and `query_features, query_labels` of
the two folders (loaded with `transform`, not shuffled). The grader compares
`gallery_features` (shape `(30, 512)`) and `query_features` with the features of the
same images.
"""

EX07_LOAD_DATA = """
gallery_set = torchvision.datasets.ImageFolder(Path(data_dir) / "gallery", transform=transform)
query_set = torchvision.datasets.ImageFolder(Path(data_dir) / "query", transform=transform)
gallery_loader = torch.utils.data.DataLoader(gallery_set, batch_size=batch_size, shuffle=False)
query_loader = torch.utils.data.DataLoader(query_set, batch_size=batch_size, shuffle=False)
print("classes:", gallery_set.classes)
"""

EX07_EXTRACT_FUNCTION = """
def extract_features(model, loader):
    model.eval()
    features, labels = [], []
    with torch.no_grad():
        for images, targets in loader:
            features.append(model(images))
            labels.append(targets)
    return torch.cat(features), torch.cat(labels)

"""

EX07_EXTRACT_RUN = """
gallery_features, gallery_labels = extract_features(model, gallery_loader)
query_features, query_labels = extract_features(model, query_loader)
print("gallery:", tuple(gallery_features.shape), "query:", tuple(query_features.shape))
"""

EX07_EXTRACT = EX07_EXTRACT_FUNCTION + EX07_LOAD_DATA + EX07_EXTRACT_RUN

EX07_NN_MD = r"""
## Task 4: nearest-neighbour classification (2 points)

Implement `nearest_neighbour(gallery_features, gallery_labels, query_features)`: for
every row of `query_features` (`(M, D)`), find the row of `gallery_features` (`(N, D)`)
with the smallest **Euclidean** distance and return its label from `gallery_labels`
(`(N,)`, `int64`). Return an `int64` tensor of shape `(M,)`.

The grader calls it with float32 tensors of random features (any `D`) and int64 labels.
"""

EX07_NN = """
def nearest_neighbour(gallery_features, gallery_labels, query_features):
    distances = torch.cdist(query_features, gallery_features)  # (M, N) Euclidean distances
    return gallery_labels[distances.argmin(dim=1)]
"""

EX07_ACCURACY_MD = r"""
## Task 5: how well does it work? (2 points)

Label every query image with `nearest_neighbour` on the features of Task 3, store the
labels in `query_predictions`, and the share of correct labels (a Python `float` in
$[0, 1]$) in `query_accuracy`. With the right features it is well above 0.9, although
the weights are random.
"""

EX07_ACCURACY = """
query_predictions = nearest_neighbour(gallery_features, gallery_labels, query_features)
query_accuracy = (query_predictions == query_labels).float().mean().item()
print(f"nearest-neighbour accuracy on the query set: {query_accuracy:.3f}")
"""

EX07_TEMPLATE = {
    "transform": """
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# TODO: ToTensor() followed by Normalize with the ImageNet mean and std
transform = ...
""",
    "features": """
class FeatureResNet(ResNet):
    def forward(self, x):
        # TODO: conv1, bn1, relu, maxpool, layer1..layer4, avgpool, flatten to (N, 512); no fc
        ...


# TODO: model = FeatureResNet(...) with the resnet18 layout; load resnet18_weights.pth from
# data_dir with torch.load(..., weights_only=True) and load_state_dict; evaluation mode
model = ...
""",
    "extract": """
def extract_features(model, loader):
    # TODO: features (N, 512) float32 and labels (N,) int64 of every batch, in order
    ...

"""
    + EX07_LOAD_DATA
    + EX07_EXTRACT_RUN,
    "nearest": """
def nearest_neighbour(gallery_features, gallery_labels, query_features):
    # TODO: the label of the nearest gallery row (Euclidean distance) for every query row
    ...
""",
    "accuracy": """
# TODO: predictions for the query set and the share of correct ones (a Python float)
query_predictions = ...
query_accuracy = ...
""",
}

EX07_MUTANTS: dict[str, dict[str, str]] = {
    # forward keeps the classification layer: (N, 1000) logits instead of features
    "logits": {
        "features": _swap(
            EX07_FEATURES, "        return torch.flatten(x, 1)", "        return self.fc(torch.flatten(x, 1))"
        ),
    },
    # features taken before the average pooling: layer4's (512, 2, 2) maps, flattened
    "before_avgpool": {
        "features": _swap(EX07_FEATURES, "        x = self.avgpool(x)\n", ""),
    },
    # the model stays in training mode: batch norm normalises with the batch's statistics
    "train_mode": {
        "features": _swap(EX07_FEATURES, "model.eval()\n", ""),
        "extract": _swap(EX07_EXTRACT, "    model.eval()\n", ""),
    },
    # the transform forgets the ImageNet normalisation
    "no_normalize": {
        "transform": _swap(
            EX07_TRANSFORM, "        torchvision.transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),\n", ""
        ),
    },
    # the farthest gallery image instead of the nearest
    "nn_argmax": {
        "nearest": _swap(EX07_NN, "argmin", "argmax"),
    },
    # cosine distance instead of the Euclidean one
    "cosine": {
        "nearest": """
def nearest_neighbour(gallery_features, gallery_labels, query_features):
    g = torch.nn.functional.normalize(gallery_features, dim=1)
    q = torch.nn.functional.normalize(query_features, dim=1)
    return gallery_labels[(q @ g.T).argmax(dim=1)]  # the largest cosine similarity
""",
    },
}

EX07_CELLS: list[Cell] = [
    ("md", EX07_INTRO, None),
    ("code", EX07_IMPORTS, None),
    ("code", EX07_PARAMETERS, "parameters"),
    ("md", EX07_TRANSFORM_MD, None),
    ("code", EX07_TRANSFORM, "transform"),
    ("md", EX07_FEATURES_MD, None),
    ("code", EX07_FEATURES, "features"),
    ("md", EX07_EXTRACT_MD, None),
    ("code", EX07_EXTRACT, "extract"),
    ("md", EX07_NN_MD, None),
    ("code", EX07_NN, "nearest"),
    ("md", EX07_ACCURACY_MD, None),
    ("code", EX07_ACCURACY, "accuracy"),
]

CELLS = EX07_CELLS
TEMPLATE = EX07_TEMPLATE
MUTANTS = EX07_MUTANTS
