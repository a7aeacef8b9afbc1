"""Planning, validating and judging the `module`, `plot`, `error` and `property` kinds on the
host, with probe results faked in the harness's record format."""

from __future__ import annotations

from typing import Any

import numpy as np
import pydantic
import pytest

from autograde.checks import ErrorCheck, ModuleCheck, PlotCheck, PropertyCheck, kind_for
from autograde.checks.base import HiddenSet, PlanContext, ProbeResult
from autograde.checks.compare import Got
from autograde.checks.structure import Unsupported, contains_in_order, plain
from autograde.pipeline.inputs import InputStore


def ctx(hidden: dict[str, HiddenSet] | None = None) -> PlanContext:
    return PlanContext(prefix="t0c0", rng=np.random.default_rng(0), store=InputStore(), probes=[],
                       hidden=lambda name: (hidden or {})[name], probe_timeout=5.0)


def result(record: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> ProbeResult:
    return ProbeResult("ok", "", {"id": "x", "status": "ok", **record}, arrays or {})


# ---------------------------------------------------------------- schema


@pytest.mark.parametrize(("fields", "problem"), [
    ({"kind": "module", "variable": "m"}, "at least one of"),
    ({"kind": "module", "variable": "m", "output_shape": [1]}, "needs an `input`"),
    ({"kind": "module", "variable": "m", "call": "f", "params": 1}, "exactly one of"),
    ({"kind": "module", "variable": "m", "args": [1], "params": 1}, "need `call`"),
    ({"kind": "plot", "call": "f", "artists": "bars"}, "artists"),
    ({"kind": "property", "call": "f"}, "judge"),
])
def test_schema_refuses_incomplete_checks(fields: dict[str, Any], problem: str) -> None:
    model = {"module": ModuleCheck, "plot": PlotCheck, "property": PropertyCheck}[fields["kind"]]
    with pytest.raises(pydantic.ValidationError, match=problem):
        model.model_validate(fields)


# ---------------------------------------------------------------- module


def test_contains_in_order() -> None:
    layers = ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    assert contains_in_order(layers, ["Conv2d", "Flatten", "Linear"])
    assert contains_in_order(layers, [])
    assert not contains_in_order(layers, ["Linear", "Conv2d"])
    assert not contains_in_order(layers, ["Conv2d", "Conv2d"])


def test_module_plan_sends_the_input_and_judges_each_fact() -> None:
    check = ModuleCheck.model_validate({
        "kind": "module", "call": "build", "args": [3], "layers": ["Linear", "ReLU"], "params": 12,
        "input": {"draw": "normal", "shape": [2, 3], "dtype": "float32", "torch": True},
        "output_shape": [2, None],
    })
    c = ctx()
    planned = kind_for("module").plan(check, c)
    (probe,) = c.probes
    assert probe["op"] == "module" and probe["call"] is True and probe["args"] == [{"json": 3}]
    assert c.store.arrays[probe["input"]["array"]].shape == (1, 2, 3)
    good = result({"layers": ["Linear", "ReLU"], "params": 12, "output_shape": [2, 7]})
    verdict = kind_for("module").judge(check, planned, lambda _: good)
    assert verdict.status == "pass", verdict.message
    bad = result({"layers": ["Linear"], "params": 13, "output_shape": [3, 7]})
    verdict = kind_for("module").judge(check, planned, lambda _: bad)
    assert verdict.status == "fail"
    assert "layers [Linear], expected [Linear, ReLU]" in verdict.message
    assert "13 trainable parameters, expected 12" in verdict.message
    assert "output shape (3, 7), expected (2, any)" in verdict.message


def test_module_reference_that_fails_is_a_grader_error() -> None:
    fields = {"kind": "module", "variable": "m", "reference": "reference.ex02:loss"}
    check = ModuleCheck.model_validate(fields)
    planned = kind_for("module").plan(check, ctx())
    verdict = kind_for("module").judge(check, planned, lambda _: result({"layers": [], "params": 0}))
    assert verdict.status == "grader-error"


# ---------------------------------------------------------------- plot


def test_plot_compares_y_and_x_of_each_line() -> None:
    check = PlotCheck.model_validate({"kind": "plot", "variable": "fig", "labels": True})
    planned = kind_for("plot").plan(check, ctx())
    record = {"xlabel": "epoch", "ylabel": "", "lines": [{"x": {"array": "a0"}, "y": {"array": "a1"}}]}
    arrays = {"a0": np.arange(3.0), "a1": np.ones(3)}
    verdict = kind_for("plot").judge(check, planned, lambda _: result(record, arrays))
    assert verdict.status == "fail" and "label on both axes" in verdict.message
    record["ylabel"] = "loss"
    assert kind_for("plot").judge(check, planned, lambda _: result(record, arrays)).status == "pass"
    empty = kind_for("plot").judge(check, planned, lambda _: result({**record, "lines": []}))
    assert empty.status == "fail" and "0 lines" in empty.message


# ---------------------------------------------------------------- error


def test_error_reshapes_a_column_and_fails_on_nan() -> None:
    targets = np.array([1.0, 2.0, 3.0, 4.0])
    hidden = {"h": HiddenSet("in0", targets)}
    check = ErrorCheck.model_validate({"kind": "error", "model": "f", "data": "h", "max": 0.3})
    c = ctx(hidden)
    planned = kind_for("error").plan(check, c)
    assert c.probes[0]["op"] == "outputs" and c.probes[0]["as"] == "auto"
    assert "labels" not in str(c.probes)

    def verdict(outputs: np.ndarray) -> Any:
        return kind_for("error").judge(check, planned, lambda _: result({"results": [{"array": "a0"}]},
                                                                         {"a0": outputs}))

    close = verdict(np.array([[1.5], [2.5], [3.0], [4.0]]))  # MSE (0.25 + 0.25) / 4 = 0.125
    assert close.status == "pass" and "MSE 0.125" in close.message
    far = verdict(np.array([1.0, 2.0, 3.0, 6.0]))  # MSE 4 / 4 = 1
    assert far.status == "fail" and "MSE 1 " in far.message
    assert "NaN" in verdict(np.array([1.0, np.nan, 3.0, 4.0])).message
    assert "shape (2, 2); expected (4,)" in verdict(np.zeros((2, 2))).message
    assert "shape (3,)" in verdict(np.zeros(3)).message


# ---------------------------------------------------------------- property


def test_plain_turns_wire_values_into_host_values() -> None:
    arrays = {"a0": np.asarray(3), "a1": np.arange(2.0)}
    items = [{"array": "a0", "was": "int"}, {"array": "a1", "was": "numpy"},
             {"str": "abc"}, {"none": True}, {"unsupported": "Foo"}]
    got = Got.decode({"seq": items, "type": "tuple"}, arrays)
    value = plain(got)
    assert isinstance(value, tuple) and value[0] == 3 and type(value[0]) is int
    np.testing.assert_array_equal(value[1], [0.0, 1.0])
    assert value[2:4] == ("abc", None) and value[4] == Unsupported("Foo")


def test_property_judge_gets_result_and_arguments() -> None:
    check = PropertyCheck.model_validate({"kind": "property", "call": "gen", "args": ["ab", 4], "repeat": 2,
                                          "judge": "tests.unit.test_structure_kinds:length_judge"})
    planned = kind_for("property").plan(check, ctx())
    record = {"results": [{"str": "abxy"}, {"str": "abx"}]}
    verdict = kind_for("property").judge(check, planned, lambda _: result(record))
    assert verdict.status == "fail" and verdict.message.startswith("input 2 of 2:")
    assert "3 characters, expected 4" in verdict.message


def length_judge(text: str, prompt: str, length: int) -> str | None:
    if not text.startswith(prompt):
        return "does not start with the prompt"
    return None if len(text) == length else f"{len(text)} characters, expected {length}"
