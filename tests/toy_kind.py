"""A check kind defined outside autograde, in this one module: its rubric model, its plan and
its judge. Importing it registers `kind: toy`; nothing else in the project names it.

`toy` passes when a notebook variable holds a word that reads the same backwards
(case-insensitive) and has at least `min_length` letters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import Field

from autograde.checks.base import CheckKind, PlanContext, ProbeResult, Verdict, register
from autograde.rubric.schema import DOTTED, CheckBase


class ToyCheck(CheckBase):
    kind: Literal["toy"]
    variable: str = Field(pattern=DOTTED)
    min_length: int = Field(1, ge=1)

    def subject(self) -> str:
        return self.variable


@register
class Toy(CheckKind):
    model = ToyCheck

    def plan(self, check: ToyCheck, ctx: PlanContext) -> str:
        return ctx.probe("lookup", check.variable, value=True)

    def judge(self, check: ToyCheck, planned: str, probe: Callable[[str], ProbeResult]) -> Verdict:
        result = probe(planned)
        failure = result.failure(check.variable)
        if failure:
            return failure
        got = result.results()[0]
        if got.kind != "str" or got.text is None:
            return Verdict.failed(f"`{check.variable}` is {got.describe()}, not a word")
        word = got.text.lower()
        if len(word) < check.min_length:
            return Verdict.failed(f"{got.text!r} has {len(word)} letters, fewer than {check.min_length}")
        if word != word[::-1]:
            return Verdict.failed(f"{got.text!r} does not read the same backwards")
        return Verdict.passed(f"{got.text!r} reads the same backwards")
