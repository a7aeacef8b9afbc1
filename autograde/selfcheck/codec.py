"""Plan states and expected values as plain data: JSON with the arrays beside it (an .npz
read without pickle). What a check bundle carries of a kind's plan and `expect`.

Encoded: None, bool, int, float, str, lists, tuples, dicts with string keys, numpy arrays
and scalars, torch tensors (read back as numpy arrays: a self-check's judge needs the
numbers, not the graph) and the dataclasses of check kinds. Anything else, and the labels
of a hidden set above all, is refused.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from autograde.errors import AutogradeError


class CodecError(AutogradeError):
    """A value that a check bundle cannot carry, or bundle data that is not what it wrote."""


_TAG = "$"


class Encoder:
    """Collects the arrays of every value it encodes under keys `x0`, `x1`, ..."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _array(self, array: np.ndarray) -> str:
        if array.dtype.kind not in "biufc":
            raise CodecError(f"an array of dtype {array.dtype} cannot go into a bundle")
        key = f"x{len(self.arrays)}"
        self.arrays[key] = np.array(array, order="C", copy=True)  # ascontiguousarray makes 0-d 1-d
        return key

    def encode(self, value: Any) -> Any:
        from autograde.checks.base import HiddenSet

        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, np.ndarray):
            return {_TAG: "array", "key": self._array(value)}
        if isinstance(value, np.generic):
            return {_TAG: "scalar", "key": self._array(np.asarray(value))}
        if _is_tensor(value):
            return {_TAG: "array", "key": self._array(value.detach().cpu().numpy().copy())}
        if isinstance(value, HiddenSet):
            raise CodecError("the labels of a hidden set never go into a bundle")
        if isinstance(value, list):
            return [self.encode(item) for item in value]
        if isinstance(value, tuple):
            return {_TAG: "tuple", "items": [self.encode(item) for item in value]}
        if isinstance(value, dict):
            if not all(isinstance(key, str) for key in value):
                raise CodecError("only dicts with string keys go into a bundle")
            return {_TAG: "dict", "items": {key: self.encode(item) for key, item in value.items()}}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            cls = type(value)
            fields = {f.name: self.encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
            return {_TAG: "dataclass", "type": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
        raise CodecError(f"a {type(value).__name__} cannot go into a bundle")


def _is_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def _dataclass(spec: str) -> type[Any]:
    """A dataclass of a check kind's module (the only classes a bundle may name)."""
    from autograde.checks.base import REGISTRY, import_spec, kind_for

    kind_for("exists")  # the built-in kinds are registered
    module_name = spec.partition(":")[0]
    allowed = {type(kind).__module__ for kind in REGISTRY.values()}
    if not (module_name in allowed or module_name.startswith("autograde.checks.")):
        raise CodecError(f"bundle data names {spec!r}, which is not a check kind's class")
    try:
        value = import_spec(spec)
    except (ImportError, AttributeError) as exc:
        raise CodecError(f"bundle data names {spec!r}, which this autograde does not have") from exc
    if not (isinstance(value, type) and dataclasses.is_dataclass(value)):
        raise CodecError(f"bundle data names {spec!r}, which is not a dataclass")
    return value


def decode(data: Any, arrays: dict[str, np.ndarray]) -> Any:
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(item, arrays) for item in data]
    if not isinstance(data, dict) or not isinstance(data.get(_TAG), str):
        raise CodecError(f"unreadable bundle data: {str(data)[:80]}")
    tag = data[_TAG]
    if tag in ("array", "scalar"):
        key = data.get("key")
        if not isinstance(key, str) or key not in arrays:
            raise CodecError(f"bundle data refers to a missing array {key!r}")
        return arrays[key] if tag == "array" else arrays[key][()]
    if tag == "tuple":
        return tuple(decode(item, arrays) for item in data.get("items", []))
    if tag == "dict":
        return {str(key): decode(item, arrays) for key, item in dict(data.get("items", {})).items()}
    if tag == "dataclass":
        cls = _dataclass(str(data.get("type")))
        fields = {key: decode(item, arrays) for key, item in dict(data.get("fields", {})).items()}
        try:
            return cls(**fields)
        except TypeError as exc:
            raise CodecError(f"bundle data for {data.get('type')} does not fit it: {exc}") from exc
    raise CodecError(f"unreadable bundle data (tag {tag!r})")
