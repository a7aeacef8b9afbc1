"""Data for exercise 7 (transfer learning with ResNet features), made without any download.

Two things land in the `data_dir` folder:

* `resnet18_weights.pth`: `torch.save(state_dict)` of a `torchvision.models.resnet18`
  (11.7 M parameters, 45 MiB). The weights are NOT ImageNet weights: they are drawn from
  a numpy generator seeded with `WEIGHTS_SEED` (convolutions He-normal with fan-out as
  torchvision initialises them; batch-norm scale/shift and running statistics near the
  identity but not equal to it, so that eval and train mode give different features;
  the fc layer uniform(+-1/sqrt(512))). numpy makes them identical on every platform
  and torch version, so the host's reference rebuilds exactly the file's weights with
  `resnet18_state_dict()` (cached) instead of reading the file.
* `gallery/` and `query/`: `torchvision.datasets.ImageFolder` folders of 64x64 RGB PNG
  images, one sub-folder per class (`CLASSES`, sorted, so the label of a class is its
  index in `CLASSES`). A sample is a filled shape (square, triangle, disc, ring, cross)
  in its class colour (jittered) at a random position and size, on a dark noisy
  background. Colour and shape separate the classes, so a nearest-neighbour classifier
  on the features of a random-weight ResNet already classifies well.

`hidden_images` returns images of the same distribution as float32 arrays, normalised
as the exercise's transform does (ToTensor + ImageNet mean/std), for hidden checks.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import torch
import torchvision
from numpy.typing import NDArray
from PIL import Image

__all__ = [
    "CLASSES",
    "DATA_OPTIONS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "SIZE",
    "WEIGHTS_FILE",
    "WEIGHTS_SEED",
    "hidden_images",
    "make_images",
    "normalise",
    "resnet18_state_dict",
    "split_images",
    "write_data_folder",
]

SIZE = 64
WEIGHTS_SEED = 2024  # fixed: the weights never depend on a caller's seed
WEIGHTS_FILE = "resnet18_weights.pth"
CLASSES = ("blue_square", "green_triangle", "red_disc", "white_ring", "yellow_cross")
_COLOURS = {
    "blue_square": (0.15, 0.30, 0.95),
    "green_triangle": (0.15, 0.85, 0.20),
    "red_disc": (0.95, 0.15, 0.10),
    "white_ring": (0.95, 0.95, 0.95),
    "yellow_cross": (0.95, 0.90, 0.10),
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
COLOUR_JITTER = 0.06
NOISE_STD = 0.03
RADIUS = (14.0, 22.0)
BACKGROUND = (0.1, 0.3)
SHIFT = 3.0


@functools.lru_cache(maxsize=1)
def _resnet18_state_dict_cached() -> dict[str, torch.Tensor]:
    with torch.device("meta"):  # shapes and dtypes only: skips torchvision's own initialisation
        template = torchvision.models.resnet18(weights=None).state_dict()
    rng = np.random.default_rng(WEIGHTS_SEED)
    state: dict[str, torch.Tensor] = {}
    for name, tensor in template.items():
        shape = tuple(tensor.shape)
        if name.endswith("num_batches_tracked"):
            value = np.zeros(shape, dtype=np.int64)
        elif tensor.ndim == 4:  # convolution: He normal, fan-out (torchvision's own init)
            fan_out = shape[0] * shape[2] * shape[3]
            value = rng.normal(0.0, np.sqrt(2.0 / fan_out), size=shape)
        elif name.startswith("fc."):
            bound = 1.0 / np.sqrt(template["fc.weight"].shape[1])
            value = rng.uniform(-bound, bound, size=shape)
        elif name.endswith("running_var"):
            value = rng.uniform(0.6, 1.4, size=shape)
        elif name.endswith("running_mean"):
            value = rng.normal(0.0, 0.1, size=shape)
        elif name.endswith("weight"):  # batch-norm scale
            value = rng.uniform(0.8, 1.2, size=shape)
        elif name.endswith("bias"):  # batch-norm shift
            value = rng.normal(0.0, 0.1, size=shape)
        else:  # pragma: no cover - resnet18 has no other kind of entry
            raise ValueError(f"unexpected state_dict entry {name}")
        dtype = np.int64 if tensor.dtype == torch.int64 else np.float32
        state[name] = torch.from_numpy(np.asarray(value).astype(dtype))
    return state


def resnet18_state_dict() -> dict[str, torch.Tensor]:
    """The seeded resnet18 weights (a fresh copy of the cached tensors)."""
    return {name: t.clone() for name, t in _resnet18_state_dict_cached().items()}


def _shape_mask(kind: str, rr: NDArray[np.float64], cc: NDArray[np.float64], r: float) -> NDArray[np.bool_]:
    """Boolean mask of a shape of `kind` centred at the origin of (rr, cc) with size r."""
    if kind == "square":
        return (np.abs(rr) <= 0.8 * r) & (np.abs(cc) <= 0.8 * r)
    if kind == "disc":
        return rr**2 + cc**2 <= r**2
    if kind == "ring":
        d2 = rr**2 + cc**2
        return (d2 <= r**2) & (d2 >= (0.55 * r) ** 2)
    if kind == "triangle":  # apex up, base at +0.7 r
        return (rr <= 0.7 * r) & (rr >= -r) & (np.abs(cc) <= (rr + r) * 0.6)
    if kind == "cross":
        arm = 0.3 * r
        return ((np.abs(rr) <= arm) & (np.abs(cc) <= r)) | ((np.abs(cc) <= arm) & (np.abs(rr) <= r))
    raise ValueError(f"unknown shape {kind!r}")


def make_images(
    rng: np.random.Generator, labels: NDArray[np.int64], size: int = SIZE
) -> NDArray[np.uint8]:
    """uint8 RGB images (N, size, size, 3), one per label (an index into CLASSES)."""
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= len(CLASSES)):
        raise ValueError(f"labels must lie in 0..{len(CLASSES) - 1}")
    rr0, cc0 = np.mgrid[0:size, 0:size].astype(np.float64)
    scale = size / 64.0
    images = np.empty((len(labels), size, size, 3), dtype=np.uint8)
    for i, label in enumerate(labels):
        name = CLASSES[int(label)]
        radius = rng.uniform(*RADIUS) * scale
        centre = (size - 1) / 2.0 + rng.uniform(-SHIFT, SHIFT, size=2) * scale
        background = rng.uniform(*BACKGROUND, size=3)
        colour = np.clip(np.asarray(_COLOURS[name]) + rng.normal(0.0, COLOUR_JITTER, size=3), 0, 1)
        image = np.broadcast_to(background, (size, size, 3)).copy()
        mask = _shape_mask(name.split("_")[1], rr0 - centre[0], cc0 - centre[1], radius)
        image[mask] = colour
        image += rng.normal(0.0, NOISE_STD, size=image.shape)
        images[i] = np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
    return images


def _balanced_labels(per_class: int) -> NDArray[np.int64]:
    if per_class < 1:
        raise ValueError("per_class must be >= 1")
    return np.repeat(np.arange(len(CLASSES), dtype=np.int64), per_class)


DATA_OPTIONS: dict[str, int] = {"gallery_per_class": 6, "query_per_class": 6, "seed": 7}
"""The options of the exercise's data folder (the rubric's `data_dir.options` must equal them)."""


def split_images(
    split: str, *, gallery_per_class: int, query_per_class: int, seed: int
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """The uint8 images (N, 64, 64, 3) and labels (N,) of `split` ("gallery" or "query").

    Their order is the order `ImageFolder` lists the files in (classes sorted, then files).
    """
    if split not in ("gallery", "query"):
        raise ValueError(f"unknown split {split!r}")
    rng = np.random.default_rng(seed)
    result: tuple[NDArray[np.uint8], NDArray[np.int64]] | None = None
    for name, per_class in (("gallery", gallery_per_class), ("query", query_per_class)):
        labels = _balanced_labels(per_class)
        images = make_images(rng, labels)
        if name == split:
            result = (images, labels)
            break
    assert result is not None
    return result


def write_data_folder(
    path: str | os.PathLike[str],
    *,
    gallery_per_class: int = DATA_OPTIONS["gallery_per_class"],
    query_per_class: int = DATA_OPTIONS["query_per_class"],
    seed: int = DATA_OPTIONS["seed"],
) -> None:
    """Write `resnet18_weights.pth`, `gallery/<class>/<i>.png` and `query/<class>/<i>.png`."""
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    torch.save(resnet18_state_dict(), root / WEIGHTS_FILE)
    options = {"gallery_per_class": gallery_per_class, "query_per_class": query_per_class, "seed": seed}
    for split in ("gallery", "query"):
        images, labels = split_images(split, **options)
        for index, (image, label) in enumerate(zip(images, labels, strict=True)):
            folder = root / split / CLASSES[int(label)]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image, mode="RGB").save(folder / f"{index:04d}.png")


def normalise(images: NDArray[np.uint8]) -> NDArray[np.float32]:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float32, as ToTensor() + Normalize(ImageNet) give."""
    x = images.astype(np.float32) / np.float32(255.0)
    x = (x - np.asarray(IMAGENET_MEAN, np.float32)) / np.asarray(IMAGENET_STD, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def hidden_images(
    rng: np.random.Generator, *, per_class: int = 4
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """`per_class` fresh images of every class, shuffled, normalised (N, 3, 64, 64) float32."""
    labels = rng.permutation(_balanced_labels(per_class))
    return normalise(make_images(rng, labels)), labels
