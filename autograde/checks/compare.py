"""Comparing what a student's code returned with what the reference returns.

Values from the sandbox arrive as `Got` (decoded wire records: plain arrays, never
pickles). Every comparison yields a pass/fail plus a message a student can act on:
shapes, dtypes, how many elements differ, the worst index with its errors, the tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Got:
    """A value returned from the sandbox, decoded from its wire record."""

    kind: str  # array | none | str | seq | unsupported
    array: np.ndarray | None = None
    text: str | None = None
    items: list[Got] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def decode(cls, record: dict[str, Any], arrays: dict[str, np.ndarray]) -> Got:
        if record.get("none"):
            return cls("none")
        if "str" in record:
            return cls("str", text=str(record["str"]))
        if "seq" in record:
            return cls(
                "seq",
                items=[cls.decode(item, arrays) for item in record["seq"]],
                meta={"type": record.get("type")},
            )
        if "array" in record and record["array"] in arrays:
            meta = {k: v for k, v in record.items() if k != "array"}
            return cls("array", array=arrays[record["array"]], meta=meta)
        return cls("unsupported", text=str(record.get("unsupported", "unknown object")))

    def describe(self) -> str:
        if self.kind == "array" and self.array is not None:
            origin = "tensor" if self.meta.get("was") == "torch" else "array"
            if self.meta.get("was") in {"int", "float", "bool"}:
                return f"a Python {self.meta['was']}"
            return f"{origin} of shape {tuple(self.array.shape)} and dtype {self.array.dtype}"
        if self.kind == "seq":
            return f"{self.meta.get('type', 'sequence')} of {len(self.items)} items"
        if self.kind == "none":
            return "None"
        if self.kind == "str":
            return "a string"
        return f"an unsupported object ({self.text})"

    def as_array(self) -> np.ndarray | None:
        """Arrays as they are; a flat sequence of numbers becomes an array; otherwise None."""
        if self.kind == "array":
            return self.array
        if (
            self.kind == "seq"
            and self.items
            and all(item.kind == "array" and item.array is not None for item in self.items)
        ):
            parts = [item.array for item in self.items if item.array is not None]
            if len({p.shape for p in parts}) == 1:
                return np.stack(parts)
        return None


@dataclass
class Comparison:
    passed: bool
    message: str


def to_numpy(value: Any) -> Any:
    """Reference outputs to plain numpy (tensors detached), preserving tuples."""
    if isinstance(value, tuple | list):
        return type(value)(to_numpy(item) for item in value)
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _index(flat: int, shape: tuple[int, ...]) -> str:
    if not shape:
        return "the value"
    return "index " + str(tuple(int(i) for i in np.unravel_index(flat, shape)))


def compare_arrays(
    got: np.ndarray, expected: np.ndarray, rtol: float, atol: float, dtype_policy: str = "cast"
) -> Comparison:
    notes = []
    if got.shape != expected.shape:
        return Comparison(False, f"shape {tuple(got.shape)}, expected {tuple(expected.shape)}")
    if got.dtype != expected.dtype:
        kinds_differ = (got.dtype.kind in "fc") != (expected.dtype.kind in "fc")
        if dtype_policy == "strict" or (kinds_differ and expected.dtype.kind in "biu"):
            return Comparison(False, f"dtype {got.dtype}, expected {expected.dtype}")
        notes.append(f"your dtype is {got.dtype}, the reference's {expected.dtype}; compared as float64")
    if expected.dtype.kind in "biu" and got.dtype.kind in "biu":
        diff = got.astype(np.int64) != expected.astype(np.int64)
        if diff.any():
            flat = int(np.argmax(diff.ravel()))
            return Comparison(
                False,
                f"{int(diff.sum())} of {diff.size} elements differ; first at "
                f"{_index(flat, got.shape)}: got {got.ravel()[flat]}, "
                f"expected {expected.ravel()[flat]}",
            )
        return Comparison(True, "; ".join(["exact match", *notes]))
    g = got.astype(np.float64)
    e = expected.astype(np.float64)
    nonfinite = int((~np.isfinite(g) & np.isfinite(e)).sum())
    close = np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    tol = f"tolerance rtol={rtol:g}, atol={atol:g}"
    if close.all():
        return Comparison(True, "; ".join([f"matches within {tol}", *notes]))
    with np.errstate(invalid="ignore", over="ignore"):
        abs_err = np.abs(g - e)
        abs_err = np.where(np.isnan(abs_err), np.inf, abs_err)
        excess = abs_err - (atol + rtol * np.abs(e))
    excess = np.where(close, -np.inf, np.where(np.isnan(excess), np.inf, excess))
    flat = int(np.argmax(excess.ravel()))
    worst_abs = float(abs_err.ravel()[flat])
    denom = abs(float(e.ravel()[flat]))
    rel = worst_abs / denom if 0 < denom < float("inf") else float("inf")
    parts = [f"{int((~close).sum())} of {close.size} elements differ beyond {tol}"]
    if nonfinite:
        parts.append(f"{nonfinite} are NaN or inf")
    parts.append(
        f"worst at {_index(flat, got.shape)}: got {_fmt(float(g.ravel()[flat]))}, "
        f"expected {_fmt(float(e.ravel()[flat]))} (abs err {_fmt(worst_abs)}, "
        f"rel err {_fmt(rel)})"
    )
    return Comparison(False, "; ".join(parts + notes))


def compare_text(got: Got, expected: str, prefix: str = "") -> Comparison:
    """Strings match exactly; a mismatch names the first differing position and both excerpts."""
    if got.kind != "str" or got.text is None:
        return Comparison(False, prefix + f"got {got.describe()}, expected a string")
    text = got.text
    if text == expected:
        return Comparison(True, prefix + f"the expected string ({len(text)} characters)")
    at = next((i for i, (a, b) in enumerate(zip(text, expected, strict=False)) if a != b), None)
    if at is None:
        at = min(len(text), len(expected))
    start = max(0, at - 10)
    return Comparison(
        False,
        prefix
        + f"strings differ at character {at + 1}: got {text[start : at + 10]!r}, "
        + f"expected {expected[start : at + 10]!r} (lengths {len(text)} and {len(expected)})",
    )


def compare(
    got: Got, expected: Any, rtol: float, atol: float, dtype_policy: str = "cast", where: str = ""
) -> Comparison:
    """Compare a decoded result with a reference value (array, number, string, tuple, None)."""
    prefix = f"{where}: " if where else ""
    if isinstance(expected, str):
        return compare_text(got, expected, prefix)
    if expected is None:
        ok = got.kind == "none"
        return Comparison(ok, prefix + ("None as expected" if ok else f"got {got.describe()}, expected None"))
    if isinstance(expected, tuple | list):
        if got.kind != "seq":
            return Comparison(
                False, prefix + f"got {got.describe()}, expected a tuple of {len(expected)} items"
            )
        if len(got.items) != len(expected):
            return Comparison(False, prefix + f"got {len(got.items)} items, expected {len(expected)}")
        for index, (item, exp) in enumerate(zip(got.items, expected, strict=True)):
            result = compare(item, exp, rtol, atol, dtype_policy, where=f"{where}[{index}]".lstrip())
            if not result.passed:
                return result
        return Comparison(True, prefix + "all items match")
    array = got.as_array()
    if array is None:
        return Comparison(
            False, prefix + f"got {got.describe()}, expected an array of shape {tuple(np.shape(expected))}"
        )
    result = compare_arrays(array, np.asarray(expected), rtol, atol, dtype_policy)
    return Comparison(result.passed, prefix + result.message)
