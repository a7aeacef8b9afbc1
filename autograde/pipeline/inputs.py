"""Probe inputs, drawn on the host from the run's secret seed.

Each argument of a probe becomes a reference the sandbox can rebuild (an array in
``inputs.npz``, or a JSON literal) and, for every repeat, the same value as a host object
that reference implementations receive (numpy array or torch tensor).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograde.rubric.schema import Fixed, Integers, Labels, Normal, Uniform


@dataclass
class InputStore:
    """The arrays that go into ``inputs.npz``; keys are assigned in order."""

    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, array: np.ndarray) -> str:
        key = f"i{len(self.arrays)}"
        self.arrays[key] = np.ascontiguousarray(array)
        return key


def draw(spec: Uniform | Normal | Integers | Labels, rng: np.random.Generator) -> np.ndarray:
    shape = tuple(spec.shape)
    values: np.ndarray
    if isinstance(spec, Uniform):
        values = rng.uniform(spec.low, spec.high, size=shape)
    elif isinstance(spec, Normal):
        values = rng.normal(spec.mean, spec.std, size=shape)
    elif isinstance(spec, Integers):
        values = rng.integers(spec.low, spec.high, size=shape)
    else:
        values = rng.integers(0, spec.classes, size=shape)
        unknown = rng.random(size=shape) < spec.unknown_fraction
        values = np.where(unknown, -1, values)
    return np.asarray(values).astype(spec.dtype)


@dataclass
class Materialized:
    """One argument: how the sandbox rebuilds it, and its host-side value per repeat."""

    ref: dict[str, Any]
    values: list[Any]


def to_host(array: np.ndarray, as_torch: bool, requires_grad: bool) -> Any:
    if not as_torch:
        return array.copy()
    import torch

    tensor = torch.from_numpy(array.copy())
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def materialize(arg: Any, rng: np.random.Generator, store: InputStore, count: int) -> Materialized:
    """Turn a rubric argument into a probe reference plus `count` host values."""
    if isinstance(arg, Uniform | Normal | Integers | Labels):
        stacked = np.stack([draw(arg, rng) for _ in range(count)])
        ref = {
            "array": store.add(stacked),
            "each": True,
            "torch": arg.torch,
            "requires_grad": arg.requires_grad,
        }
        return Materialized(
            ref, [to_host(np.array(stacked[i]), arg.torch, arg.requires_grad) for i in range(count)]
        )
    if isinstance(arg, Fixed):
        if arg.array or arg.torch:
            array = np.asarray(arg.value, dtype=arg.dtype)
            ref = {"array": store.add(array), "torch": arg.torch}
            return Materialized(ref, [to_host(array, arg.torch, False) for _ in range(count)])
        return Materialized({"json": arg.value}, [_copy(arg.value) for _ in range(count)])
    return Materialized({"json": arg}, [_copy(arg) for _ in range(count)])


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    return value


def check_rng(secret_seed: int, task_index: int, check_index: int) -> np.random.Generator:
    """Independent, reproducible stream per check: same seed, same inputs, same grade."""
    return np.random.default_rng([secret_seed, task_index, check_index])
