"""Check kinds on names and values: exists, shape, value, choice, manual."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from autograde.checks.base import (
    GRADER_ERROR,
    MANUAL,
    CheckKind,
    PlanContext,
    ProbeResult,
    Tolerance,
    Verdict,
    load_reference,
    register,
)
from autograde.checks.compare import compare, to_numpy
from autograde.checks.targets import Call, CallOrVariable, plan_result, result_probe
from autograde.rubric.schema import DOTTED, REFERENCE, CheckBase

Probe = Callable[[str], ProbeResult]


# ---------------------------------------------------------------- rubric models


class ExistsCheck(CheckBase):
    """A name the notebook must define. Worth no points by default: it explains the
    failures of the checks that use the name."""

    kind: Literal["exists"]
    weight: float = Field(0.0, ge=0)
    target: str = Field(pattern=DOTTED)
    type: Literal["any", "callable", "class", "module", "array", "number"] = "any"

    def subject(self) -> str:
        return self.target


class ShapeCheck(CallOrVariable):
    kind: Literal["shape"]
    expect: list[int | None] | None = None
    reference: str | None = Field(None, pattern=REFERENCE)
    output: int | None = Field(None, ge=0, description="index into a tuple result")

    @model_validator(mode="after")
    def _one_source(self) -> ShapeCheck:
        if (self.expect is None) == (self.reference is None):
            raise ValueError("give exactly one of `expect` or `reference`")
        return self


class ValueCheck(CallOrVariable, Tolerance):
    kind: Literal["value"]
    repeat: int = Field(1, ge=1, le=100)
    reference: str | None = Field(None, pattern=REFERENCE)
    expect: Any = None

    @model_validator(mode="after")
    def _one_source(self) -> ValueCheck:
        if self.call is not None and self.reference is None:
            raise ValueError("a `call` value check needs a `reference`")
        if self.variable is not None and self.expect is None and self.reference is None:
            raise ValueError("a `variable` value check needs `expect` or `reference`")
        return self


class ChoiceCheck(CheckBase):
    kind: Literal["choice"]
    variable: str = Field(pattern=DOTTED)
    correct: list[str] = Field(min_length=1)
    options: list[str] | None = None

    @model_validator(mode="after")
    def _correct_in_options(self) -> ChoiceCheck:
        if self.options is not None:
            extra = sorted(set(self.correct) - set(self.options))
            if extra:
                raise ValueError(f"correct answers {extra} are not among the options")
        return self

    def subject(self) -> str:
        return self.variable


class ManualCheck(CheckBase):
    kind: Literal["manual"]
    cell_tag: str

    def subject(self) -> str:
        return self.cell_tag


# ---------------------------------------------------------------- kinds


def run_reference(spec: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return to_numpy(load_reference(spec)(*args, **kwargs))


@register
class Exists(CheckKind):
    model = ExistsCheck

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
    model = ShapeCheck

    def plan(self, check: ShapeCheck, ctx: PlanContext) -> Call | str:
        return plan_result(ctx, check)

    def judge(self, check: ShapeCheck, planned: Call | str, probe: Probe) -> Verdict:
        result = probe(result_probe(planned))
        failure = result.failure(check.target)
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
    model = ValueCheck

    def plan(self, check: ValueCheck, ctx: PlanContext) -> Call | str:
        return plan_result(ctx, check, check.repeat)

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
    model = ChoiceCheck

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

    model = ManualCheck

    def plan(self, check: ManualCheck, ctx: PlanContext) -> None:
        return None

    def judge(self, check: ManualCheck, planned: None, probe: Probe) -> Verdict:
        return Verdict(MANUAL, f"awaiting manual grading (cell tagged `{check.cell_tag}`)")
