"""Probe inputs drawn on the host: shapes, dtypes, ranges, determinism, materialization."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from pydantic import TypeAdapter

from autograde.pipeline.inputs import InputStore, check_rng, draw, materialize
from autograde.rubric.schema import Fixed, InputSpec

SPEC: TypeAdapter[Any] = TypeAdapter(InputSpec)


def spec(**fields: Any) -> Any:
    return SPEC.validate_python(fields)


# ---------------------------------------------------------------- draw


def test_uniform_shape_dtype_range() -> None:
    x = draw(spec(draw="uniform", low=-2.0, high=3.0, shape=[4, 5], dtype="float32"),
             np.random.default_rng(0))
    assert x.shape == (4, 5)
    assert x.dtype == np.float32
    assert x.min() >= -2.0 and x.max() < 3.0
    assert len(np.unique(x)) == 20  # really random, not a constant


def test_uniform_default_is_float64_in_unit_interval() -> None:
    x = draw(spec(draw="uniform", shape=[1000]), np.random.default_rng(1))
    assert x.dtype == np.float64
    assert x.min() >= 0.0 and x.max() < 1.0
    assert abs(x.mean() - 0.5) < 0.05


def test_scalar_shape_gives_zero_dim_array() -> None:
    x = draw(spec(draw="normal", shape=[]), np.random.default_rng(2))
    assert isinstance(x, np.ndarray)
    assert x.shape == ()


def test_normal_moments() -> None:
    x = draw(spec(draw="normal", mean=5.0, std=0.5, shape=[20000]), np.random.default_rng(3))
    assert x.dtype == np.float64
    # standard error of the mean 0.5 / sqrt(20000) ~ 0.0035
    assert abs(x.mean() - 5.0) < 0.02
    assert abs(x.std() - 0.5) < 0.02


def test_normal_std_zero_is_constant() -> None:
    x = draw(spec(draw="normal", mean=1.5, std=0.0, shape=[3]), np.random.default_rng(3))
    np.testing.assert_array_equal(x, [1.5, 1.5, 1.5])


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
def test_integers_dtype_and_half_open_range(dtype: str) -> None:
    x = draw(spec(draw="integers", low=2, high=5, shape=[3, 400], dtype=dtype),
             np.random.default_rng(4))
    assert x.shape == (3, 400)
    assert x.dtype == np.dtype(dtype)
    assert set(np.unique(x).tolist()) == {2, 3, 4}


def test_integers_uint8_negative_low_is_rejected_or_in_range() -> None:
    try:
        s = spec(draw="integers", low=-5, high=5, shape=[100], dtype="uint8")
    except ValueError:
        return  # rejecting the spec is a fine answer
    x = draw(s, np.random.default_rng(0)).astype(np.int64)
    assert x.min() >= -5 and x.max() < 5


def test_labels_in_range_with_unknowns() -> None:
    x = draw(spec(draw="labels", classes=4, unknown_fraction=0.3, shape=[5000]),
             np.random.default_rng(5))
    assert x.dtype == np.int64
    assert set(np.unique(x).tolist()) == {-1, 0, 1, 2, 3}
    # binomial(5000, 0.3): std ~ 0.0065 of a fraction
    assert abs((x == -1).mean() - 0.3) < 0.03


def test_labels_unknown_fraction_zero_gives_no_unknown() -> None:
    x = draw(spec(draw="labels", classes=3, shape=[2000], dtype="int32"), np.random.default_rng(6))
    assert x.dtype == np.int32
    assert x.min() == 0 and x.max() == 2
    assert not (x == -1).any()


def test_labels_unknown_fraction_one_gives_all_unknown() -> None:
    x = draw(spec(draw="labels", classes=3, unknown_fraction=1.0, shape=[50]),
             np.random.default_rng(7))
    assert (x == -1).all()


def test_labels_single_class() -> None:
    x = draw(spec(draw="labels", classes=1, shape=[10]), np.random.default_rng(8))
    np.testing.assert_array_equal(x, np.zeros(10, dtype=np.int64))


# ---------------------------------------------------------------- check_rng


def test_check_rng_is_deterministic() -> None:
    s = spec(draw="normal", shape=[6])
    a = draw(s, check_rng(1234, 2, 3))
    b = draw(s, check_rng(1234, 2, 3))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("other", [(1234, 2, 4), (1234, 3, 3), (1235, 2, 3), (1234, 3, 2)])
def test_check_rng_streams_differ(other: tuple[int, int, int]) -> None:
    s = spec(draw="normal", shape=[6])
    a = draw(s, check_rng(1234, 2, 3))
    b = draw(s, check_rng(*other))
    assert not np.allclose(a, b)


def test_check_rng_accepts_63_bit_seeds() -> None:
    s = spec(draw="uniform", shape=[3])
    big = 2**63 - 1
    np.testing.assert_array_equal(draw(s, check_rng(big, 0, 0)), draw(s, check_rng(big, 0, 0)))


# ---------------------------------------------------------------- materialize


def test_materialize_drawn_argument_stacks_repeats() -> None:
    store = InputStore()
    made = materialize(spec(draw="uniform", low=-1, high=1, shape=[2, 3]),
                       np.random.default_rng(9), store, 4)
    assert made.ref == {"array": "i0", "each": True, "torch": False, "requires_grad": False}
    stacked = store.arrays["i0"]
    assert stacked.shape == (4, 2, 3)
    assert stacked.flags["C_CONTIGUOUS"]
    assert len(made.values) == 4
    for i, value in enumerate(made.values):
        assert isinstance(value, np.ndarray)
        np.testing.assert_array_equal(value, stacked[i])
    # the repeats are different draws, and host values do not alias the stored array
    assert not np.array_equal(made.values[0], made.values[1])
    made.values[0][...] = 99.0
    assert not (stacked[0] == 99.0).any()


def test_store_keys_are_assigned_in_order() -> None:
    store = InputStore()
    rng = np.random.default_rng(11)
    first = materialize(spec(draw="uniform", shape=[1]), rng, store, 1)
    second = materialize(spec(draw="uniform", shape=[1]), rng, store, 1)
    assert (first.ref["array"], second.ref["array"]) == ("i0", "i1")
    assert list(store.arrays) == ["i0", "i1"]


def test_materialize_torch_requires_grad() -> None:
    store = InputStore()
    made = materialize(spec(draw="normal", shape=[3, 2], torch=True, requires_grad=True),
                       np.random.default_rng(12), store, 2)
    assert made.ref["torch"] is True and made.ref["requires_grad"] is True
    for i, value in enumerate(made.values):
        assert isinstance(value, torch.Tensor)
        assert value.requires_grad and value.is_leaf
        assert value.dtype == torch.float64
        np.testing.assert_array_equal(value.detach().numpy(), store.arrays[made.ref["array"]][i])
    assert made.values[0] is not made.values[1]


def test_materialize_torch_without_grad() -> None:
    made = materialize(spec(draw="labels", classes=5, shape=[7], torch=True),
                       np.random.default_rng(13), InputStore(), 1)
    (value,) = made.values
    assert isinstance(value, torch.Tensor)
    assert not value.requires_grad
    assert value.dtype == torch.int64


@pytest.mark.parametrize("literal", [0.01, 50, "mean", True, None, [0, 1, 2, 3, 4]])
def test_literals_pass_as_json(literal: Any) -> None:
    store = InputStore()
    made = materialize(literal, np.random.default_rng(14), store, 3)
    assert made.ref == {"json": literal}
    assert made.values == [literal] * 3
    assert store.arrays == {}


def test_literal_lists_are_deep_copied_per_repeat() -> None:
    literal = [[1, 2], {"a": [3]}]
    made = materialize(literal, np.random.default_rng(15), InputStore(), 2)
    made.values[0][0].append(99)
    made.values[0][1]["a"].append(99)
    assert made.values[1] == [[1, 2], {"a": [3]}]
    assert made.ref["json"] == [[1, 2], {"a": [3]}]
    assert literal == [[1, 2], {"a": [3]}]


def test_fixed_value_is_a_json_literal() -> None:
    made = materialize(Fixed(value=[5, 6, 7]), np.random.default_rng(16), InputStore(), 2)
    assert made.ref == {"json": [5, 6, 7]}
    made.values[0].append(8)
    assert made.values[1] == [5, 6, 7]


def test_fixed_array_goes_to_the_store() -> None:
    store = InputStore()
    made = materialize(Fixed(value=[[1, 2], [3, 4]], array=True, dtype="float32"),
                       np.random.default_rng(17), store, 2)
    assert made.ref == {"array": "i0", "torch": False}
    assert "each" not in made.ref  # the same array for every repeat
    np.testing.assert_array_equal(store.arrays["i0"], np.array([[1, 2], [3, 4]], dtype=np.float32))
    for value in made.values:
        assert value.dtype == np.float32 and value.shape == (2, 2)
    made.values[0][0, 0] = -1
    assert made.values[1][0, 0] == 1


def test_fixed_torch_value() -> None:
    made = materialize(Fixed(value=[1.0, 2.0], torch=True), np.random.default_rng(18),
                       InputStore(), 2)
    assert made.ref["torch"] is True
    assert all(isinstance(v, torch.Tensor) and not v.requires_grad for v in made.values)
    assert made.values[0] is not made.values[1]
