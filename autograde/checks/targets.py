"""The shared base of checks on "a call or a variable": what `call(*args, **kwargs)` returns
(with arguments drawn from the grading seed) or what a notebook variable holds. `shape`,
`value`, `property`, `module` and `plot` build on it: one model, one planner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field, model_validator

from autograde.checks.base import PlanContext
from autograde.pipeline.inputs import materialize
from autograde.rubric.schema import DOTTED, Arg, CheckBase


class CallOrVariable(CheckBase):
    """A check on what a call returns (`call` with `args`/`kwargs`) or on a notebook variable."""

    call: str | None = Field(None, pattern=DOTTED)
    variable: str | None = Field(None, pattern=DOTTED)
    args: list[Arg] = Field(default_factory=list)
    kwargs: dict[str, Arg] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_target(self) -> CallOrVariable:
        if (self.call is None) == (self.variable is None):
            raise ValueError("give exactly one of `call` or `variable`")
        if self.variable is not None and (self.args or self.kwargs):
            raise ValueError("`args` and `kwargs` need `call`, not `variable`")
        return self

    @property
    def target(self) -> str:
        return self.call or self.variable or ""

    def subject(self) -> str:
        return self.target


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


def plan_result(ctx: PlanContext, check: CallOrVariable, count: int = 1) -> Call | str:
    """What the check's call returns for `count` draws of its arguments (a `Call`), else the
    id of a lookup of its variable's value."""
    if check.call:
        return plan_call(ctx, check.call, check.args, check.kwargs, count)
    return ctx.probe("lookup", check.target, value=True)


def result_probe(planned: Call | str) -> str:
    """The probe id of what `plan_result` planned."""
    return planned.probe_id if isinstance(planned, Call) else planned


@dataclass
class TargetPlan:
    """A probe that inspects the object a call returns or a variable holds (`op` module,
    figure): its id and the host-side arguments the target was called with."""

    probe_id: str
    args: list[Any]
    kwargs: dict[str, Any]
    input: Any = None


def plan_target(ctx: PlanContext, op: str, check: CallOrVariable, **extra: Any) -> TargetPlan:
    called = check.call is not None
    planned = plan_call(ctx, check.target, check.args, check.kwargs, 1, op=op, call=called, **extra)
    return TargetPlan(planned.probe_id, planned.args[0], planned.kwargs[0])
