"""Check kinds on names and values: exists, shape, value, choice, manual."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograde.checks.base import (
    GRADER_ERROR,
    MANUAL,
    CheckKind,
    PlanContext,
    ProbeResult,
    Verdict,
    load_reference,
    register,
)
from autograde.checks.compare import compare, to_numpy
from autograde.pipeline.inputs import materialize
from autograde.rubric.schema import (
    ChoiceCheck,
    ExistsCheck,
    ManualCheck,
    ShapeCheck,
    ValueCheck,
)

Probe = Callable[[str], ProbeResult]


@dataclass
class Call:
    """A planned call probe: its id and the host-side arguments of every repeat."""

    probe_id: str
    args: list[list[Any]]  # per repeat
    kwargs: list[dict[str, Any]]


def plan_call(
    ctx: PlanContext,
    target: str,
    args: list[Any],
    kwargs: dict[str, Any],
    count: int,
    op: str = "call",
    **extra: Any,
) -> Call:
    """A probe `op` on `target` with `count` draws of the arguments (and any `extra` fields)."""
    made = [materialize(arg, ctx.rng, ctx.store, count) for arg in args]
    made_kw = {key: materialize(arg, ctx.rng, ctx.store, count) for key, arg in kwargs.items()}
    probe_id = ctx.probe(
        op,
        target,
        args=[m.ref for m in made],
        kwargs={k: m.ref for k, m in made_kw.items()},
        count=count,
        **extra,
    )
    return Call(
        probe_id,
        [[m.values[i] for m in made] for i in range(count)],
        [{k: m.values[i] for k, m in made_kw.items()} for i in range(count)],
    )


def plan_call_or_lookup(
    ctx: PlanContext,
    call: str | None,
    variable: str | None,
    args: list[Any],
    kwargs: dict[str, Any],
    count: int = 1,
) -> Call | str:
    """A call probe for `call` (with `count` draws of the arguments), else a lookup of `variable`."""
    if call:
        return plan_call(ctx, call, args, kwargs, count)
    assert variable is not None
    return ctx.probe("lookup", variable, value=True)


def run_reference(spec: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return to_numpy(load_reference(spec)(*args, **kwargs))


@register
class Exists(CheckKind):
    kind = "exists"

    def plan(self, check: ExistsCheck, ctx: PlanContext) -> str:
        return ctx.probe("lookup", check.target)

    def judge(self, check: ExistsCheck, planned: str, probe: Probe) -> Verdict:
        result = probe(planned)
        failure = result.failure("")
        if failure:
            return failure
        category = result.record.get("category")
        if check.type != "any" and category != check.type:
            wanted = {
                "callable": "a function",
                "class": "a class",
                "module": "a module",
                "array": "an array or tensor",
                "number": "a number",
            }[check.type]
            return Verdict.failed(f"`{check.target}` is {category}, expected {wanted}")
        return Verdict.passed(f"`{check.target}` is defined ({result.record.get('type')})")


@register
class Shape(CheckKind):
    kind = "shape"

    def plan(self, check: ShapeCheck, ctx: PlanContext) -> Call | str:
        return plan_call_or_lookup(ctx, check.call, check.variable, check.args, check.kwargs)

    def judge(self, check: ShapeCheck, planned: Call | str, probe: Probe) -> Verdict:
        probe_id = planned.probe_id if isinstance(planned, Call) else planned
        result = probe(probe_id)
        failure = result.failure(check.call or check.variable or "")
        if failure:
            return failure
        got = result.results()[0]
        if check.output is not None:
            if got.kind != "seq" or len(got.items) <= check.output:
                return Verdict.failed(f"expected a tuple with an item {check.output}, got {got.describe()}")
            got = got.items[check.output]
        array = got.as_array()
        if array is None:
            return Verdict.failed(f"got {got.describe()}, expected an array or tensor")
        if check.expect is not None:
            expected: list[int | None] = list(check.expect)
        else:
            assert isinstance(planned, Call) and check.reference
            expected = list(np.shape(run_reference(check.reference, planned.args[0], planned.kwargs[0])))
        shape = list(array.shape)
        ok = len(shape) == len(expected) and all(
            e is None or e == s for s, e in zip(shape, expected, strict=False)
        )
        shown = (
            "("
            + ", ".join("any" if e is None else str(e) for e in expected)
            + ("," if len(expected) == 1 else "")
            + ")"
        )
        if ok:
            return Verdict.passed(f"shape {tuple(shape)} as expected")
        return Verdict.failed(f"shape {tuple(shape)}, expected {shown}")


@register
class Value(CheckKind):
    kind = "value"

    def plan(self, check: ValueCheck, ctx: PlanContext) -> Call | str:
        return plan_call_or_lookup(ctx, check.call, check.variable, check.args, check.kwargs, check.repeat)

    def judge(self, check: ValueCheck, planned: Call | str, probe: Probe) -> Verdict:
        if isinstance(planned, str):
            result = probe(planned)
            failure = result.failure("")
            if failure:
                return failure
            expected = (
                (check.expect if isinstance(check.expect, str) else np.asarray(check.expect))
                if check.expect is not None
                else run_reference(check.reference or "", [], {})
            )
            outcome = compare(result.results()[0], expected, check.rtol, check.atol, check.dtype)
            return Verdict.passed(outcome.message) if outcome.passed else Verdict.failed(outcome.message)
        result = probe(planned.probe_id)
        failure = result.failure(check.call or "")
        if failure:
            return failure
        results = result.results()
        if len(results) != len(planned.args):
            return Verdict(GRADER_ERROR, f"{len(results)} results for {len(planned.args)} calls")
        for index, got in enumerate(results):
            try:
                expected = run_reference(check.reference or "", planned.args[index], planned.kwargs[index])
            except Exception as exc:  # the reference itself failed: a grader fault
                return Verdict(GRADER_ERROR, f"reference {check.reference} raised {exc!r}")
            outcome = compare(got, expected, check.rtol, check.atol, check.dtype)
            if not outcome.passed:
                where = f"input {index + 1} of {len(results)}: " if len(results) > 1 else ""
                return Verdict.failed(where + outcome.message)
        plural = f"all {len(results)} inputs" if len(results) > 1 else "the input"
        return Verdict.passed(f"{plural}: {outcome.message}")


def _normalise(value: str) -> str:
    return value.strip().lower().rstrip(")").strip()


@register
class Choice(CheckKind):
    kind = "choice"

    def plan(self, check: ChoiceCheck, ctx: PlanContext) -> str:
        return ctx.probe("lookup", check.variable, value=True)

    def judge(self, check: ChoiceCheck, planned: str, probe: Probe) -> Verdict:
        result = probe(planned)
        failure = result.failure("")
        if failure:
            return failure
        got = result.results()[0]
        items = got.items if got.kind == "seq" else [got]
        if not all(item.kind == "str" and item.text is not None for item in items):
            return Verdict.failed(
                f"`{check.variable}` must be a letter or a list of letters, got {got.describe()}"
            )
        chosen = {_normalise(item.text or "") for item in items}
        if check.options is not None:
            unknown = sorted(chosen - {_normalise(o) for o in check.options})
            if unknown:
                return Verdict.failed(f"{unknown} are not among the options {check.options}")
        if chosen == {_normalise(c) for c in check.correct}:
            return Verdict.passed("correct answer")
        return Verdict.failed(f"answer {sorted(chosen)} is not correct")


@register
class Manual(CheckKind):
    """Free text for a human grader: scored 0 until graded; the cell is exported."""

    kind = "manual"

    def plan(self, check: ManualCheck, ctx: PlanContext) -> None:
        return None

    def judge(self, check: ManualCheck, planned: None, probe: Probe) -> Verdict:
        return Verdict(MANUAL, f"awaiting manual grading (cell tagged `{check.cell_tag}`)")
