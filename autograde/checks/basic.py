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
    Expected,
    PlanContext,
    ProbeResult,
    SelfCheck,
    Tolerance,
    Verdict,
    load_reference,
    register,
)
from autograde.checks.compare import Got, compare, to_numpy
from autograde.checks.targets import Call, CallOrVariable, plan_call, plan_result, result_probe
from autograde.rubric.schema import DOTTED, REFERENCE, CheckBase
from autograde.status import CheckStatus

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
    unchanged_args: bool = Field(
        False, description="the call must also leave its array arguments as they were (no update in place)"
    )

    @model_validator(mode="after")
    def _one_source(self) -> ValueCheck:
        if self.call is not None and self.reference is None:
            raise ValueError("a `call` value check needs a `reference`")
        if self.unchanged_args and self.call is None:
            raise ValueError("unchanged_args needs a `call`")
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

    def judge(
        self, check: ExistsCheck, planned: str, probe: Probe, expected: Expected | None = None
    ) -> Verdict:
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

    def expect(self, check: ShapeCheck, planned: Call | str) -> list[int] | None:
        if check.expect is not None or not isinstance(planned, Call) or not check.reference:
            return None
        return list(np.shape(run_reference(check.reference, planned.args[0], planned.kwargs[0])))

    def self_check(self, check: ShapeCheck) -> str:
        return SelfCheck.FULL if check.expect is not None else SelfCheck.PUBLISHED

    def judge(
        self, check: ShapeCheck, planned: Call | str, probe: Probe, expected: Expected | None = None
    ) -> Verdict:
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
            wanted: list[int | None] = list(check.expect)
        else:
            try:
                wanted = list(self.expectation(check, planned, expected))
            except Exception as exc:  # the reference itself failed: a grader fault
                return Verdict(GRADER_ERROR, f"reference {check.reference} raised {exc!r}")
        shape = list(array.shape)
        ok = len(shape) == len(wanted) and all(
            e is None or e == s for s, e in zip(shape, wanted, strict=False)
        )
        shown = (
            "("
            + ", ".join("any" if e is None else str(e) for e in wanted)
            + ("," if len(wanted) == 1 else "")
            + ")"
        )
        if ok:
            return Verdict.passed(f"shape {tuple(shape)} as expected")
        return Verdict.failed(f"shape {tuple(shape)}, expected {shown}")


@register
class Value(CheckKind):
    model = ValueCheck

    def plan(self, check: ValueCheck, ctx: PlanContext) -> Call | str:
        if check.unchanged_args and check.call:
            return plan_call(ctx, check.call, check.args, check.kwargs, check.repeat, after_args=True)
        return plan_result(ctx, check, check.repeat)

    def expect(self, check: ValueCheck, planned: Call | str) -> Any:
        """The reference's value of the variable, or its result for every drawn input."""
        if isinstance(planned, str):
            if check.expect is not None:
                return check.expect if isinstance(check.expect, str) else np.asarray(check.expect)
            return run_reference(check.reference or "", [], {})
        return [
            run_reference(check.reference or "", args, kwargs)
            for args, kwargs in zip(planned.args, planned.kwargs, strict=True)
        ]

    def self_check(self, check: ValueCheck) -> str:
        # a variable's expected value is the answer itself: it never goes into a bundle
        return SelfCheck.AFTER_SUBMISSION if check.variable is not None else SelfCheck.PUBLISHED

    def judge(
        self, check: ValueCheck, planned: Call | str, probe: Probe, expected: Expected | None = None
    ) -> Verdict:
        result = probe(result_probe(planned))
        failure = result.failure("" if isinstance(planned, str) else check.call or "")
        if failure:
            return failure
        try:
            wanted = self.expectation(check, planned, expected)
        except Exception as exc:  # the reference itself failed: a grader fault
            return Verdict(GRADER_ERROR, f"reference {check.reference} raised {exc!r}")
        if isinstance(planned, str):
            outcome = compare(result.results()[0], wanted, check.rtol, check.atol, check.dtype)
            return Verdict.passed(outcome.message) if outcome.passed else Verdict.failed(outcome.message)
        results = result.results()
        if len(results) != len(planned.args) or len(wanted) != len(planned.args):
            return Verdict(GRADER_ERROR, f"{len(results)} results for {len(planned.args)} calls")
        for index, got in enumerate(results):
            outcome = compare(got, wanted[index], check.rtol, check.atol, check.dtype)
            if not outcome.passed:
                where = f"input {index + 1} of {len(results)}: " if len(results) > 1 else ""
                return Verdict.failed(where + outcome.message)
        if check.unchanged_args:
            changed = changed_argument(result, planned, check.call or "")
            if changed is not None:
                return changed
        plural = f"all {len(results)} inputs" if len(results) > 1 else "the input"
        unchanged = ", its arguments left unchanged" if check.unchanged_args else ""
        return Verdict.passed(f"{plural}: {outcome.message}{unchanged}")


def changed_argument(result: ProbeResult, planned: Call, name: str) -> Verdict | None:
    """The verdict on a call that changed an array argument it was given (an update in place
    where the task asks for a copy); None when every one came back as it was sent."""
    after = result.record.get("args_after")
    if not isinstance(after, list) or len(after) != len(planned.args):
        return Verdict(GRADER_ERROR, "the probe did not report the arguments after the call")
    for index, (sent, returned) in enumerate(zip(planned.args, after, strict=True)):
        for position, (value, raw) in enumerate(zip(sent, returned, strict=False)):
            if not (isinstance(value, np.ndarray) or hasattr(value, "detach")):
                continue  # numbers, strings and literals cannot change in place
            before = np.asarray(to_numpy(value))
            now = Got.decode(raw, result.arrays).as_array()
            if now is None or now.shape != before.shape or not np.array_equal(now, before, equal_nan=True):
                where = f"input {index + 1}: " if len(planned.args) > 1 else ""
                return Verdict.failed(
                    f"{where}`{name}` changed argument {position + 1}, the array passed in "
                    "(work on a copy instead of updating it in place)"
                )
    return None


def _normalise(value: str) -> str:
    return value.strip().lower().rstrip(")").strip()


@register
class Choice(CheckKind):
    model = ChoiceCheck

    def plan(self, check: ChoiceCheck, ctx: PlanContext) -> str:
        return ctx.probe("lookup", check.variable, value=True)

    secret_fields = frozenset({"correct"})

    def self_check(self, check: ChoiceCheck) -> str:
        return SelfCheck.ANSWERED

    def _chosen(self, check: ChoiceCheck, probe: Probe, planned: str) -> set[str] | Verdict:
        """The options chosen, or the verdict on an answer that is not a valid choice."""
        result = probe(planned)
        failure = result.failure("")
        if failure:
            return failure
        got = result.results()[0]
        items = got.items if got.kind == "seq" else [got]
        if not items or not all(item.kind == "str" and item.text is not None for item in items):
            return Verdict.failed(
                f"`{check.variable}` must be a letter or a list of letters, got {got.describe()}"
            )
        chosen = {_normalise(item.text or "") for item in items}
        if check.options is not None:
            unknown = sorted(chosen - {_normalise(o) for o in check.options})
            if unknown:
                return Verdict.failed(f"{unknown} are not among the options {check.options}")
        return chosen

    def judge(
        self, check: ChoiceCheck, planned: str, probe: Probe, expected: Expected | None = None
    ) -> Verdict:
        chosen = self._chosen(check, probe, planned)
        if isinstance(chosen, Verdict):
            return chosen
        if chosen == {_normalise(c) for c in check.correct}:
            return Verdict.passed("correct answer")
        return Verdict.failed(f"answer {sorted(chosen)} is not correct")

    def judge_answered(self, check: ChoiceCheck, planned: str, probe: Probe) -> Verdict:
        chosen = self._chosen(check, probe, planned)
        if isinstance(chosen, Verdict):
            return chosen
        return Verdict(
            CheckStatus.ANSWERED,
            f"you chose {sorted(chosen)}; whether it is right is graded after submission",
        )


@register
class Manual(CheckKind):
    """Free text for a human grader: scored 0 until graded; the cell is exported."""

    model = ManualCheck

    def plan(self, check: ManualCheck, ctx: PlanContext) -> None:
        return None

    def self_check(self, check: ManualCheck) -> str:
        return SelfCheck.ANSWERED

    def judge(
        self, check: ManualCheck, planned: None, probe: Probe, expected: Expected | None = None
    ) -> Verdict:
        return Verdict(MANUAL, f"awaiting manual grading (cell tagged `{check.cell_tag}`)")
