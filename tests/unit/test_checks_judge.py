"""Planning and judging check kinds on the host, without a kernel.

Probe results are faked in the format the harness writes (runner/harness_src.py `_encode`):
a JSON record ``{"results": [{"array": "a0", "was": "numpy"}, ...]}`` plus the arrays of the
probe's .npz, ``{"a0": ...}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograde.checks import (
    AccuracyCheck,
    ChoiceCheck,
    ConfidenceCheck,
    ExistsCheck,
    GradientCheck,
    ValueCheck,
    kind_for,
)
from autograde.checks.base import HiddenSet, PlanContext, ProbeResult, Verdict
from autograde.checks.calculus import central_differences, perturbations
from autograde.pipeline.inputs import InputStore

# ---------------------------------------------------------------- fakes


def no_hidden(name: str) -> HiddenSet:
    raise AssertionError(f"unexpected hidden set {name!r}")


def make_ctx(hidden: Callable[[str], HiddenSet] = no_hidden, seed: int = 0,
             store: InputStore | None = None) -> PlanContext:
    """As pipeline.plan.build_plan makes it for task 0, check 0."""
    return PlanContext(prefix="t0c0", rng=np.random.default_rng([seed, 0, 0]),
                       store=store or InputStore(), probes=[], hidden=hidden, probe_timeout=10.0)


def ok(values: list[Any], was: str = "numpy") -> ProbeResult:
    """A successful call probe: one result per value, each an array in the npz."""
    arrays = {f"a{i}": np.asarray(v) for i, v in enumerate(values)}
    record = {"id": "x", "status": "ok",
              "results": [{"array": f"a{i}", "was": was} for i in range(len(values))]}
    return ProbeResult("ok", "", record, arrays)


def status(name: str, message: str) -> ProbeResult:
    return ProbeResult(name, message, {"id": "x", "status": name, "message": message}, {})


class Probes:
    """A dict-backed probe reader; unknown ids fail the test."""

    def __init__(self, results: dict[str, ProbeResult]) -> None:
        self.results = results
        self.asked: list[str] = []

    def __call__(self, probe_id: str) -> ProbeResult:
        self.asked.append(probe_id)
        return self.results[probe_id]


def j_loss(w: np.ndarray) -> float:
    """J(w) = w1^2 + w2^2 + 30 sin(w1) sin(w2), written out here independently."""
    return float(w[0] ** 2 + w[1] ** 2 + 30.0 * np.sin(w[0]) * np.sin(w[1]))


def value_check(**extra: Any) -> ValueCheck:
    fields: dict[str, Any] = {
        "kind": "value", "call": "loss", "reference": "reference.ex02:loss", "repeat": 3,
        "args": [{"draw": "uniform", "low": -10, "high": 10, "shape": [2]}],
        "rtol": 1e-6, "atol": 1e-8, **extra,
    }
    return ValueCheck.model_validate(fields)


# ---------------------------------------------------------------- value


def test_value_plan_probe_spec() -> None:
    ctx = make_ctx()
    planned = kind_for("value").plan(value_check(), ctx)
    assert len(ctx.probes) == 1
    probe = ctx.probes[0]
    assert probe["id"] == planned.probe_id == "t0c0p0"
    assert probe["op"] == "call" and probe["target"] == "loss"
    assert probe["count"] == 3 and probe["timeout"] == 10.0
    (ref,) = probe["args"]
    stored = ctx.store.arrays[ref["array"]]
    assert stored.shape == (3, 2) and ref["each"] is True
    assert len(planned.args) == 3
    for i, (w,) in enumerate(planned.args):
        np.testing.assert_array_equal(w, stored[i])
        assert w.min() >= -10 and w.max() < 10


def test_value_correct_values_pass() -> None:
    check = value_check()
    planned = kind_for("value").plan(check, make_ctx())
    values = [j_loss(w) for (w,) in planned.args]
    verdict = kind_for("value").judge(check, planned, Probes({planned.probe_id: ok(values, "float")}))
    assert verdict.status == "pass"
    assert verdict.fraction == 1.0
    assert "3 inputs" in verdict.message


def test_value_float32_result_within_tolerance_passes() -> None:
    check = value_check(rtol=1e-5)
    planned = kind_for("value").plan(check, make_ctx())
    values = [np.float32(j_loss(w)) for (w,) in planned.args]
    assert kind_for("value").judge(check, planned, Probes({planned.probe_id: ok(values)})).status == "pass"


def test_value_wrong_value_fails_naming_the_input() -> None:
    check = value_check()
    planned = kind_for("value").plan(check, make_ctx())
    values = [j_loss(w) for (w,) in planned.args]
    values[1] += 0.5
    verdict = kind_for("value").judge(check, planned, Probes({planned.probe_id: ok(values, "float")}))
    assert verdict.status == "fail"
    assert verdict.fraction == 0.0
    assert "input 2 of 3" in verdict.message
    assert "abs err 0.5" in verdict.message


def test_value_cos_instead_of_sin_fails() -> None:
    check = value_check()
    planned = kind_for("value").plan(check, make_ctx())
    values = [float(w[0] ** 2 + w[1] ** 2 + 30 * np.cos(w[0]) * np.cos(w[1])) for (w,) in planned.args]
    verdict = kind_for("value").judge(check, planned, Probes({planned.probe_id: ok(values)}))
    assert verdict.status == "fail"
    assert "input 1 of 3" in verdict.message


def test_value_wrong_shape_fails() -> None:
    check = value_check()
    planned = kind_for("value").plan(check, make_ctx())
    values = [np.array([j_loss(w)]) for (w,) in planned.args]
    verdict = kind_for("value").judge(check, planned, Probes({planned.probe_id: ok(values)}))
    assert verdict.status == "fail"
    assert "(1,)" in verdict.message


@pytest.mark.parametrize(
    ("probe_status", "verdict_status"),
    [("missing", "fail"), ("timeout", "timeout"), ("error", "error"), ("crashed", "crashed"),
     ("not-run", "not-run"), ("something-new", "error")],
)
def test_value_probe_statuses(probe_status: str, verdict_status: str) -> None:
    check = value_check()
    planned = kind_for("value").plan(check, make_ctx())
    message = "`loss` is not defined"
    verdict = kind_for("value").judge(check, planned, Probes({planned.probe_id: status(probe_status,
                                                                                        message)}))
    assert verdict.status == verdict_status
    assert verdict.fraction == 0.0
    assert message in verdict.message


def test_value_result_count_mismatch_is_a_grader_error() -> None:
    check = value_check()
    planned = kind_for("value").plan(check, make_ctx())
    values = [j_loss(w) for (w,) in planned.args][:2]
    verdict = kind_for("value").judge(check, planned, Probes({planned.probe_id: ok(values)}))
    assert verdict.status == "grader-error"


def test_value_failing_reference_is_a_grader_error() -> None:
    # the reference insists on shape (2,): a rubric drawing shape (3,) is the grader's fault
    check = value_check(args=[{"draw": "uniform", "shape": [3]}], repeat=1)
    planned = kind_for("value").plan(check, make_ctx())
    verdict = kind_for("value").judge(check, planned, Probes({planned.probe_id: ok([1.0])}))
    assert verdict.status == "grader-error"
    assert "reference.ex02:loss" in verdict.message


def test_value_variable_with_expect() -> None:
    check = ValueCheck.model_validate({"kind": "value", "variable": "answer", "expect": [1.5, 2.5]})
    ctx = make_ctx()
    planned = kind_for("value").plan(check, ctx)
    assert ctx.probes[0]["op"] == "lookup" and ctx.probes[0]["value"] is True
    good = ProbeResult("ok", "", {"category": "array", "results": [{"array": "a0", "was": "numpy"}]},
                       {"a0": np.array([1.5, 2.5])})
    assert kind_for("value").judge(check, planned, Probes({planned: good})).status == "pass"
    bad = ProbeResult("ok", "", {"category": "array", "results": [{"array": "a0", "was": "numpy"}]},
                      {"a0": np.array([1.5, 3.5])})
    verdict = kind_for("value").judge(check, planned, Probes({planned: bad}))
    assert verdict.status == "fail"
    assert "index (1,)" in verdict.message


# ---------------------------------------------------------------- exists, choice


def lookup(category: str, type_name: str) -> ProbeResult:
    return ProbeResult("ok", "", {"status": "ok", "category": category, "type": type_name}, {})


def test_exists_check() -> None:
    check = ExistsCheck.model_validate({"kind": "exists", "target": "loss", "type": "callable"})
    ctx = make_ctx()
    planned = kind_for("exists").plan(check, ctx)
    assert ctx.probes[0]["op"] == "lookup" and ctx.probes[0]["target"] == "loss"
    judge = kind_for("exists").judge
    assert judge(check, planned, Probes({planned: lookup("callable", "function")})).status == "pass"
    wrong = judge(check, planned, Probes({planned: lookup("number", "int")}))
    assert wrong.status == "fail" and "a function" in wrong.message
    missing = judge(check, planned, Probes({planned: status("missing", "`loss` is not defined")}))
    assert missing.status == "fail" and "not defined" in missing.message


def test_choice_check() -> None:
    check = ChoiceCheck.model_validate({"kind": "choice", "variable": "q1", "correct": ["b", "c"],
                                        "options": ["a", "b", "c", "d"]})
    planned = kind_for("choice").plan(check, make_ctx())

    def answer(*letters: str) -> Probes:
        record = {"status": "ok", "results": [{"seq": [{"str": x} for x in letters], "type": "list"}]}
        return Probes({planned: ProbeResult("ok", "", record, {})})

    judge = kind_for("choice").judge
    assert judge(check, planned, answer("C", " b)")).status == "pass"
    assert judge(check, planned, answer("b")).status == "fail"
    unknown = judge(check, planned, answer("b", "z"))
    assert unknown.status == "fail" and "'z'" in unknown.message


# ---------------------------------------------------------------- accuracy, confidence


LABELS = np.array([0, 1, 2, 1, 0])


def hidden_sets(store: InputStore) -> Callable[[str], HiddenSet]:
    sets = {
        "known": (np.arange(5 * 4, dtype=np.float32).reshape(5, 4), LABELS),
        "unknown": (np.zeros((3, 4), dtype=np.float32), np.array([-1, -1, -1])),
    }
    made: dict[str, HiddenSet] = {}

    def hidden(name: str) -> HiddenSet:
        if name not in made:
            inputs, labels = sets[name]
            made[name] = HiddenSet(store.add(inputs), labels)
        return made[name]

    return hidden


def logits_for(predicted: list[int], classes: int = 3) -> np.ndarray:
    logits = np.zeros((len(predicted), classes), dtype=np.float32)
    logits[np.arange(len(predicted)), predicted] = 2.0
    return logits


def accuracy_setup(minimum: float) -> tuple[AccuracyCheck, Any, PlanContext]:
    check = AccuracyCheck.model_validate({"kind": "accuracy", "model": "model", "data": "known",
                                          "min": minimum, "batch_size": 2})
    store = InputStore()
    ctx = make_ctx(hidden=hidden_sets(store), store=store)
    return check, kind_for("accuracy").plan(check, ctx), ctx


def test_accuracy_plan_sends_inputs_not_labels() -> None:
    _, planned, ctx = accuracy_setup(0.5)
    (probe,) = ctx.probes
    assert probe["op"] == "outputs" and probe["as"] == "auto"
    assert probe["target"] == "model" and probe["batch_size"] == 2
    assert probe["inputs"] == planned.data.inputs_key
    assert ctx.store.arrays[probe["inputs"]].shape == (5, 4)
    assert "labels" not in str(probe)
    assert not any(np.array_equal(a, LABELS) for a in ctx.store.arrays.values())


def test_accuracy_pass_and_fail_on_threshold() -> None:
    # predictions 0,1,2,2,0 against labels 0,1,2,1,0: 4 of 5 right
    result = ok([logits_for([0, 1, 2, 2, 0])], was="numpy")
    check, planned, _ = accuracy_setup(0.75)
    verdict = kind_for("accuracy").judge(check, planned, Probes({planned.probe_id: result}))
    assert verdict.status == "pass"
    assert "0.800" in verdict.message and "0.750" in verdict.message
    check, planned, _ = accuracy_setup(0.85)
    verdict = kind_for("accuracy").judge(check, planned, Probes({planned.probe_id: result}))
    assert verdict.status == "fail"
    assert "0.800" in verdict.message and "0.850" in verdict.message


def test_accuracy_exactly_at_threshold_passes() -> None:
    check, planned, _ = accuracy_setup(0.8)
    result = ok([logits_for([0, 1, 2, 2, 0])])
    assert kind_for("accuracy").judge(check, planned, Probes({planned.probe_id: result})).status == "pass"


def test_accuracy_wrong_logits_shape_fails() -> None:
    check, planned, _ = accuracy_setup(0.5)
    for bad in (np.zeros((4, 3)), np.zeros(5), np.zeros((5, 3, 1))):
        verdict = kind_for("accuracy").judge(check, planned, Probes({planned.probe_id: ok([bad])}))
        assert verdict.status == "fail"
        assert "(5, classes)" in verdict.message


def test_accuracy_nan_logits_fail() -> None:
    check, planned, _ = accuracy_setup(0.0)
    logits = logits_for([0, 1, 2, 1, 0])
    logits[2, 1] = np.nan
    verdict = kind_for("accuracy").judge(check, planned, Probes({planned.probe_id: ok([logits])}))
    assert verdict.status == "fail"
    assert "NaN" in verdict.message


def test_accuracy_probe_timeout() -> None:
    check, planned, _ = accuracy_setup(0.5)
    verdict = kind_for("accuracy").judge(check, planned,
                                         Probes({planned.probe_id: status("timeout", "took 30s")}))
    assert verdict.status == "timeout"


def test_confidence_check() -> None:
    check = ConfidenceCheck.model_validate({"kind": "confidence", "model": "model", "known": "known",
                                            "unknown": "unknown", "margin": 0.1})
    store = InputStore()
    planned = kind_for("confidence").plan(check, make_ctx(hidden=hidden_sets(store), store=store))
    # known: logits (4, 0, 0) -> max softmax e^4 / (e^4 + 2) ~ 0.9647
    known = np.tile([4.0, 0.0, 0.0], (5, 1))
    e4 = np.exp(4.0) / (np.exp(4.0) + 2)
    assert e4 == pytest.approx(0.9647, abs=1e-4)
    unsure = np.zeros((3, 3))  # max softmax 1/3
    probes = Probes({planned.known.probe_id: ok([known]), planned.unknown.probe_id: ok([unsure])})
    verdict = kind_for("confidence").judge(check, planned, probes)
    assert verdict.status == "pass"
    assert f"{e4:.3f}" in verdict.message and "0.333" in verdict.message
    sure = np.tile([4.0, 0.0, 0.0], (3, 1))
    probes = Probes({planned.known.probe_id: ok([known]), planned.unknown.probe_id: ok([sure])})
    assert kind_for("confidence").judge(check, planned, probes).status == "fail"


# ---------------------------------------------------------------- finite differences


def test_perturbations_layout() -> None:
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    eps = 0.5
    rows = perturbations(x, eps)
    assert rows.shape == (12, 2, 3)
    for i in range(6):
        step = np.zeros(6)
        step[i] = eps
        np.testing.assert_array_equal(rows[2 * i], x + step.reshape(2, 3))
        np.testing.assert_array_equal(rows[2 * i + 1], x - step.reshape(2, 3))
    np.testing.assert_array_equal(x, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # input untouched


def test_central_differences_of_sum_of_squares_is_2x() -> None:
    x = np.array([0.5, -1.25, 3.0])
    eps = 1e-3
    values = np.array([np.sum(row**2) for row in perturbations(x, eps)])
    # ((x + e)^2 - (x - e)^2) / 2e = 4xe / 2e = 2x exactly for a quadratic
    grad = central_differences(values, np.ones(1), eps, x.shape)
    np.testing.assert_allclose(grad, [1.0, -2.5, 6.0], rtol=1e-9)


def test_central_differences_vector_jacobian_product() -> None:
    # f(x) = A x (vector valued); weights w: d(w . A x)/dx = A^T w
    a = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 4.0]])
    w = np.array([1.0, -2.0, 0.5])
    x = np.array([0.3, -0.7])
    eps = 1e-4
    values = np.stack([a @ row for row in perturbations(x, eps)])
    vjp = central_differences(values, w, eps, x.shape)
    # A^T w = (1 - 6 + 0, 2 + 2 + 2) = (-5, 6)
    np.testing.assert_allclose(vjp, [-5.0, 6.0], rtol=1e-8)


# ---------------------------------------------------------------- gradient check


def quad(w: np.ndarray) -> float:
    return float(w[0] ** 2 + 3.0 * w[1] ** 2)


def gradient_setup(repeat: int = 2) -> tuple[GradientCheck, Any, PlanContext]:
    check = GradientCheck.model_validate({
        "kind": "gradient", "of": "f", "grad": "df", "repeat": repeat,
        "at": {"draw": "uniform", "low": -3, "high": 3, "shape": [2]},
    })
    ctx = make_ctx(seed=7)
    return check, kind_for("gradient").plan(check, ctx), ctx


def harness_calls(ctx: PlanContext, probe_id: str, func: Callable[[np.ndarray], Any]) -> ProbeResult:
    """What the harness would write for a `call` probe: func on each stored row."""
    spec = next(p for p in ctx.probes if p["id"] == probe_id)
    (ref,) = spec["args"]
    rows = ctx.store.arrays[ref["array"]]
    assert len(rows) == spec["count"]
    return ok([func(np.array(row)) for row in rows])


def test_gradient_plan_probes() -> None:
    _, planned, ctx = gradient_setup(repeat=2)
    by_id = {p["id"]: p for p in ctx.probes}
    assert by_id[planned.grad_id]["target"] == "df" and by_id[planned.grad_id]["count"] == 2
    assert by_id[planned.fd_id]["target"] == "f" and by_id[planned.fd_id]["count"] == 2 * 2 * 2
    assert len(planned.points) == 2
    for point in planned.points:
        assert point.shape == (2,) and point.dtype == np.float64


def test_gradient_exact_gradient_passes() -> None:
    check, planned, ctx = gradient_setup()
    probes = Probes({
        planned.fd_id: harness_calls(ctx, planned.fd_id, quad),
        planned.grad_id: harness_calls(ctx, planned.grad_id, lambda w: np.array([2 * w[0], 6 * w[1]])),
    })
    verdict = kind_for("gradient").judge(check, planned, probes)
    assert verdict.status == "pass", verdict.message
    assert "2 points" in verdict.message


def test_gradient_wrong_gradient_fails() -> None:
    check, planned, ctx = gradient_setup()
    probes = Probes({
        planned.fd_id: harness_calls(ctx, planned.fd_id, quad),
        planned.grad_id: harness_calls(ctx, planned.grad_id, lambda w: np.array([2 * w[0], 3 * w[1]])),
    })
    verdict = kind_for("gradient").judge(check, planned, probes)
    assert verdict.status == "fail"
    assert "finite differences" in verdict.message
    assert "`df`" in verdict.message and "`f`" in verdict.message
    assert "index (1,)" in verdict.message


def test_gradient_non_scalar_function_fails() -> None:
    check, planned, ctx = gradient_setup()
    probes = Probes({
        planned.fd_id: harness_calls(ctx, planned.fd_id, lambda w: w**2),
        planned.grad_id: harness_calls(ctx, planned.grad_id, lambda w: 2 * w),
    })
    verdict = kind_for("gradient").judge(check, planned, probes)
    assert verdict.status == "fail"
    assert "scalar" in verdict.message


def test_gradient_missing_function_fails() -> None:
    check, planned, ctx = gradient_setup()
    probes = Probes({
        planned.fd_id: status("missing", "`f` is not defined"),
        planned.grad_id: harness_calls(ctx, planned.grad_id, lambda w: 2 * w),
    })
    verdict = kind_for("gradient").judge(check, planned, probes)
    assert verdict.status == "fail"
    assert "`f` is not defined" in verdict.message


def test_gradient_error_in_grad() -> None:
    check, planned, ctx = gradient_setup()
    probes = Probes({
        planned.fd_id: harness_calls(ctx, planned.fd_id, quad),
        planned.grad_id: status("error", "ZeroDivisionError: division by zero"),
    })
    verdict = kind_for("gradient").judge(check, planned, probes)
    assert verdict.status == "error"
    assert "ZeroDivisionError" in verdict.message


def test_verdict_constructors() -> None:
    assert Verdict.passed("x") == Verdict("pass", "x", 1.0)
    assert Verdict.failed("y") == Verdict("fail", "y", 0.0)


def test_value_variable_with_a_string_expect() -> None:
    check = ValueCheck.model_validate({"kind": "value", "variable": "motto", "expect": "keep it simple"})
    planned = kind_for("value").plan(check, make_ctx())

    def said(text: str) -> ProbeResult:
        return ProbeResult("ok", "", {"category": "str", "results": [{"str": text}]}, {})

    assert kind_for("value").judge(check, planned, Probes({planned: said("keep it simple")})).status == "pass"
    verdict = kind_for("value").judge(check, planned, Probes({planned: said("keep it short")}))
    assert verdict.status == "fail" and "character 10" in verdict.message
