"""compare / compare_arrays: verdicts and messages a student can act on."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from autograde.checks.compare import Got, compare, compare_arrays, to_numpy


def arr(value: Any, **meta: Any) -> Got:
    return Got("array", array=np.asarray(value), meta={"was": "numpy", **meta})


def seq(*items: Got, kind: str = "tuple") -> Got:
    return Got("seq", items=list(items), meta={"type": kind})


# ---------------------------------------------------------------- compare_arrays


def test_identical_arrays_pass() -> None:
    a = np.linspace(-3, 3, 12).reshape(3, 4)
    result = compare_arrays(a.copy(), a, rtol=0, atol=0)
    assert result.passed
    assert "rtol=0" in result.message and "atol=0" in result.message


def test_within_tolerance_passes_and_just_outside_fails() -> None:
    expected = np.array([100.0])
    # |got - e| <= atol + rtol * |e| = 1e-3 + 1e-2 * 100 = 1.001
    assert compare_arrays(np.array([101.0]), expected, rtol=1e-2, atol=1e-3).passed
    assert not compare_arrays(np.array([101.01]), expected, rtol=1e-2, atol=1e-3).passed


def test_shape_mismatch_names_both_shapes() -> None:
    result = compare_arrays(np.zeros((2, 3)), np.zeros((3, 2)), 1e-5, 1e-8)
    assert not result.passed
    assert "(2, 3)" in result.message
    assert "(3, 2)" in result.message


def test_scalar_vs_vector_shape() -> None:
    result = compare_arrays(np.array(1.0), np.array([1.0]), 1e-5, 1e-8)
    assert not result.passed
    assert "()" in result.message and "(1,)" in result.message


def test_strict_dtype_policy_fails_float32_vs_float64() -> None:
    got = np.array([1.0, 2.0], dtype=np.float32)
    result = compare_arrays(got, np.array([1.0, 2.0]), 1e-5, 1e-8, dtype_policy="strict")
    assert not result.passed
    assert "float32" in result.message and "float64" in result.message


def test_cast_dtype_policy_passes_with_a_note() -> None:
    got = np.array([1.0, 2.0], dtype=np.float32)
    result = compare_arrays(got, np.array([1.0, 2.0]), 1e-5, 1e-8, dtype_policy="cast")
    assert result.passed
    assert "float32" in result.message and "float64" in result.message


def test_mismatch_message_for_a_vector() -> None:
    got = np.array([1.0, 2.0, 3.0])
    expected = np.array([1.0, 2.5, 3.0])
    result = compare_arrays(got, expected, rtol=1e-5, atol=1e-8)
    assert not result.passed
    # one of three differs; at index 1: abs err 0.5, rel err 0.5 / 2.5 = 0.2
    assert "1 of 3 elements" in result.message
    assert "index (1,)" in result.message
    assert "got 2," in result.message
    assert "expected 2.5" in result.message
    assert "abs err 0.5" in result.message
    assert "rel err 0.2" in result.message
    assert "rtol=1e-05" in result.message and "atol=1e-08" in result.message


def test_mismatch_reports_the_worst_element_of_a_matrix() -> None:
    got = np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = np.array([[1.0, 2.1], [3.0, 5.0]])
    # rtol=0.01, atol=0: (0,1) exceeds by 0.1 - 0.021 = 0.079; (1,1) by 1 - 0.05 = 0.95 (worst)
    result = compare_arrays(got, expected, rtol=0.01, atol=0.0)
    assert not result.passed
    assert "2 of 4 elements" in result.message
    assert "index (1, 1)" in result.message
    assert "got 4," in result.message
    assert "expected 5" in result.message
    assert "abs err 1," in result.message
    assert "rel err 0.2)" in result.message
    assert "rtol=0.01" in result.message and "atol=0" in result.message


def test_zero_expected_gives_infinite_relative_error() -> None:
    result = compare_arrays(np.array([0.0, 1e-3]), np.array([0.0, 0.0]), rtol=1e-5, atol=1e-8)
    assert not result.passed
    assert "index (1,)" in result.message
    assert "abs err 0.001" in result.message
    assert "rel err inf" in result.message


def test_scalar_mismatch_says_the_value() -> None:
    result = compare_arrays(np.array(3.0), np.array(2.0), 1e-5, 1e-8)
    assert not result.passed
    assert "the value" in result.message
    assert "abs err 1," in result.message and "rel err 0.5" in result.message


def test_nan_where_finite_expected_fails() -> None:
    result = compare_arrays(np.array([1.0, np.nan]), np.array([1.0, 2.0]), 1e-5, 1e-8)
    assert not result.passed
    assert "NaN" in result.message
    assert "index (1,)" in result.message
    assert "got nan" in result.message


def test_inf_where_finite_expected_fails() -> None:
    result = compare_arrays(np.array([np.inf, 1.0]), np.array([1.0, 1.0]), 1e-5, 1e-8)
    assert not result.passed
    assert "inf" in result.message
    assert "index (0,)" in result.message


def test_nan_where_nan_expected_passes() -> None:
    assert compare_arrays(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), 1e-5, 1e-8).passed


def test_wrong_sign_infinity_fails_cleanly() -> None:
    result = compare_arrays(np.array([-np.inf]), np.array([np.inf]), 1e-5, 1e-8)
    assert not result.passed
    assert "nan" not in result.message.lower().replace("nan or inf", "")


def test_int_arrays_compared_exactly() -> None:
    # tolerances do not apply to integers: 1000 vs 1001 would pass with rtol=1e-2 as floats
    result = compare_arrays(np.array([5, 1000]), np.array([5, 1001]), rtol=1e-2, atol=10)
    assert not result.passed
    assert "1 of 2 elements differ" in result.message
    assert "index (1,)" in result.message
    assert "got 1000" in result.message and "expected 1001" in result.message
    assert compare_arrays(np.array([5, 1000]), np.array([5, 1000]), 0, 0).passed


def test_large_ints_are_not_rounded_through_float() -> None:
    big = 2**53
    # as float64 both are 9007199254740992.0
    assert float(big) == float(big + 1)
    assert not compare_arrays(np.array([big + 1]), np.array([big]), 0, 0).passed


def test_float_result_where_ints_expected_fails_on_dtype() -> None:
    result = compare_arrays(np.array([1.0, 2.0]), np.array([1, 2]), 1e-5, 1e-8)
    assert not result.passed
    assert "float64" in result.message and "int64" in result.message


def test_bool_arrays_compared_exactly() -> None:
    result = compare_arrays(np.array([True, False]), np.array([True, True]), 0, 0)
    assert not result.passed
    assert "index (1,)" in result.message


# ---------------------------------------------------------------- compare on decoded values


def test_compare_matching_array() -> None:
    assert compare(arr([1.0, 2.0]), np.array([1.0, 2.0]), 1e-5, 1e-8).passed


def test_compare_where_prefix() -> None:
    result = compare(arr(1.0), np.array([1.0, 2.0]), 1e-5, 1e-8, where="loss")
    assert not result.passed
    assert result.message.startswith("loss: ")


def test_tuples_compared_item_wise_with_item_index() -> None:
    got = seq(arr(1.0), arr([1.0, 2.0]))
    good = compare(got, (np.array(1.0), np.array([1.0, 2.0])), 1e-5, 1e-8)
    assert good.passed
    bad = compare(got, (np.array(1.0), np.array([1.0, 3.0])), 1e-5, 1e-8)
    assert not bad.passed
    assert bad.message.startswith("[1]")
    assert "index (1,)" in bad.message
    assert "got 2," in bad.message and "expected 3" in bad.message


def test_nested_tuple_index_path() -> None:
    got = seq(arr(0.0), seq(arr(1.0), arr(5.0)))
    result = compare(got, (0.0, (1.0, 2.0)), 1e-5, 1e-8, where="f")
    assert not result.passed
    assert result.message.startswith("f[1][1]: ")


def test_tuple_length_mismatch() -> None:
    result = compare(seq(arr(1.0)), (1.0, 2.0), 1e-5, 1e-8)
    assert not result.passed
    assert "1 items" in result.message and "expected 2" in result.message


def test_array_where_tuple_expected() -> None:
    result = compare(arr(1.0), (1.0, 2.0), 1e-5, 1e-8)
    assert not result.passed
    assert "tuple of 2 items" in result.message


def test_expected_none() -> None:
    assert compare(Got("none"), None, 1e-5, 1e-8).passed
    result = compare(arr([1.0]), None, 1e-5, 1e-8)
    assert not result.passed
    assert "expected None" in result.message
    assert "(1,)" in result.message  # says what was returned instead


def test_got_none_where_array_expected() -> None:
    result = compare(Got("none"), np.zeros((2, 2)), 1e-5, 1e-8)
    assert not result.passed
    assert "None" in result.message
    assert "(2, 2)" in result.message


def test_sequence_of_scalars_is_coerced_to_an_array() -> None:
    got = seq(arr(np.float64(1.0)), arr(np.float64(2.0)), arr(np.float64(3.0)), kind="list")
    assert got.as_array() is not None
    assert got.as_array().shape == (3,)  # type: ignore[union-attr]
    assert compare(got, np.array([1.0, 2.0, 3.0]), 1e-5, 1e-8).passed
    bad = compare(got, np.array([1.0, 2.0, 4.0]), 1e-5, 1e-8)
    assert not bad.passed
    assert "index (2,)" in bad.message


def test_ragged_sequence_is_not_an_array() -> None:
    got = seq(arr([1.0]), arr([1.0, 2.0]), kind="list")
    assert got.as_array() is None
    assert not compare(got, np.zeros(2), 1e-5, 1e-8).passed


def test_unsupported_got_names_its_type() -> None:
    got = Got.decode({"unsupported": "pandas.core.frame.DataFrame"}, {})
    assert got.kind == "unsupported"
    result = compare(got, np.array([1.0, 2.0]), 1e-5, 1e-8)
    assert not result.passed
    assert "pandas.core.frame.DataFrame" in result.message
    assert "(2,)" in result.message


def test_string_where_array_expected() -> None:
    result = compare(Got.decode({"str": "hello"}, {}), np.array(1.0), 1e-5, 1e-8)
    assert not result.passed
    assert "string" in result.message


# ---------------------------------------------------------------- decoding wire records


def test_decode_records() -> None:
    arrays = {"a0": np.zeros((2, 3), dtype=np.float32), "a1": np.array(3)}
    tensor = Got.decode({"array": "a0", "was": "torch"}, arrays)
    assert tensor.kind == "array"
    assert tensor.describe() == "tensor of shape (2, 3) and dtype float32"
    assert Got.decode({"array": "a1", "was": "int"}, arrays).describe() == "a Python int"
    assert Got.decode({"none": True}, arrays).kind == "none"
    nested = Got.decode({"seq": [{"array": "a1", "was": "int"}, {"none": True}], "type": "tuple"}, arrays)
    assert nested.kind == "seq"
    assert [item.kind for item in nested.items] == ["array", "none"]
    assert nested.describe() == "tuple of 2 items"


def test_decode_array_key_missing_from_npz_is_unsupported() -> None:
    got = Got.decode({"array": "a9", "was": "numpy"}, {})
    assert got.kind == "unsupported"
    assert got.array is None


# ---------------------------------------------------------------- to_numpy


def test_to_numpy_detaches_tensor_requiring_grad() -> None:
    leaf = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    out = to_numpy(leaf * 3)
    assert isinstance(out, np.ndarray)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [3.0, 6.0])


def test_to_numpy_keeps_tuples_and_none() -> None:
    leaf = torch.ones(2, requires_grad=True)
    out = to_numpy((leaf, None, [np.float32(2.0)], 5))
    assert isinstance(out, tuple) and len(out) == 4
    assert isinstance(out[0], np.ndarray) and out[0].dtype == np.float32
    assert out[1] is None
    assert isinstance(out[2], list) and out[2][0].dtype == np.float32
    assert out[3].shape == () and out[3] == 5


def test_strings_compare_exactly_and_name_the_first_difference() -> None:
    same = compare(Got("str", text="the quiet robot.\n"), "the quiet robot.\n", 0, 0)
    assert same.passed and "17 characters" in same.message
    differ = compare(Got("str", text="the quiet rabot."), "the quiet robot.", 0, 0)
    assert not differ.passed
    assert "character 12" in differ.message and "rabot.'" in differ.message and "robot.'" in differ.message
    shorter = compare(Got("str", text="the quiet"), "the quiet robot.", 0, 0)
    assert not shorter.passed and "character 10" in shorter.message and "lengths 9 and 16" in shorter.message
    not_text = compare(arr(np.arange(3)), "abc", 0, 0)
    assert not not_text.passed and "expected a string" in not_text.message


def test_strings_inside_tuples_and_from_references() -> None:
    assert to_numpy(("ab", torch.tensor([1.0]))) [0] == "ab"
    got = seq(Got("str", text="ab"), arr(np.array([1.0])))
    assert compare(got, to_numpy(("ab", torch.tensor([1.0]))), 0, 0).passed
    assert not compare(got, ("ac", np.array([1.0])), 0, 0).passed
