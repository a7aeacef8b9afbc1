"""Check kinds on objects without one right value: `module` (an nn.Module's structure),
`plot` (the data behind a matplotlib figure) and `property` (a host-side judge).

The sandbox reports plain data (layer class names, counts, shapes, plotted arrays, returned
values); the expectations, the reference objects and the judging stay on the host.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from autograde.checks.base import (
    GRADER_ERROR,
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
from autograde.checks.compare import Got, compare_arrays, to_numpy
from autograde.checks.targets import Call, CallOrVariable, TargetPlan, plan_result, plan_target, result_probe
from autograde.pipeline.inputs import materialize
from autograde.rubric.schema import REFERENCE, InputSpec

Probe = Callable[[str], ProbeResult]


# ---------------------------------------------------------------- module


class ModuleCheck(CallOrVariable):
    """The structure of a torch.nn.Module: its leaf layers, trainable parameters, output shape."""

    kind: Literal["module"]
    layers: list[str] | None = Field(None, description="class names of the leaf modules, in order")
    layers_match: Literal["exact", "contains"] = "exact"
    params: int | None = Field(None, ge=0, description="number of trainable parameters")
    input: InputSpec | None = Field(None, description="a batch for one forward pass (eval mode)")
    output_shape: list[int | None] | None = None
    reference: str | None = Field(None, pattern=REFERENCE)

    @model_validator(mode="after")
    def _something_to_check(self) -> ModuleCheck:
        if self.output_shape is not None and self.input is None:
            raise ValueError("`output_shape` needs an `input`")
        if self.layers is None and self.params is None and self.output_shape is None and not self.reference:
            raise ValueError("give at least one of `layers`, `params`, `output_shape` or `reference`")
        return self


def contains_in_order(layers: Sequence[str], wanted: Sequence[str]) -> bool:
    """True when `wanted` appears in `layers` in this order (other layers may sit between)."""
    it = iter(layers)
    return all(any(name == layer for layer in it) for name in wanted)


def _shape_text(shape: Sequence[int | None]) -> str:
    inner = ", ".join("any" if s is None else str(s) for s in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


def reference_module_facts(check: ModuleCheck, planned: TargetPlan) -> dict[str, Any]:
    """Layers, trainable parameter count and output shape of the reference module."""
    import torch

    assert check.reference is not None
    factory = load_reference(check.reference)
    module = factory(*planned.args, **planned.kwargs)
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"reference {check.reference} returned {type(module).__name__}, not an nn.Module")
    facts: dict[str, Any] = {
        "layers": [type(m).__name__ for m in module.modules() if not any(True for _ in m.children())],
        "params": sum(p.numel() for p in module.parameters() if p.requires_grad),
    }
    if planned.input is not None:
        module.eval()
        with torch.no_grad():
            facts["output_shape"] = list(module(planned.input).shape)
    return facts


@register
class Module(CheckKind):
    model = ModuleCheck

    def plan(self, check: ModuleCheck, ctx: PlanContext) -> TargetPlan:
        extra: dict[str, Any] = {}
        host_input = None
        if check.input is not None:
            made = materialize(check.input.model_copy(update={"requires_grad": False}), ctx.rng, ctx.store, 1)
            extra["input"] = {**made.ref, "each": True}
            host_input = made.values[0]
        planned = plan_target(ctx, "module", check, **extra)
        planned.input = host_input
        return planned

    def expect(self, check: ModuleCheck, planned: TargetPlan) -> dict[str, Any] | None:
        return reference_module_facts(check, planned) if check.reference else None

    def self_check(self, check: ModuleCheck) -> str:
        return SelfCheck.PUBLISHED if check.reference else SelfCheck.FULL

    def judge(
        self, check: ModuleCheck, planned: TargetPlan, probe: Probe, expected_facts: Expected | None = None
    ) -> Verdict:
        result = probe(planned.probe_id)
        failure = result.failure(check.target)
        if failure:
            return failure
        record = result.record
        expected: dict[str, Any] = {}
        if check.reference:
            try:
                expected = dict(self.expectation(check, planned, expected_facts))
            except Exception as exc:  # the reference itself failed: a grader fault
                return Verdict(GRADER_ERROR, f"reference {check.reference} raised {exc!r}")
        if check.layers is not None:
            expected["layers"] = list(check.layers)
        if check.params is not None:
            expected["params"] = check.params
        if check.output_shape is not None:
            expected["output_shape"] = list(check.output_shape)
        match = check.layers_match if check.layers is not None else "exact"

        problems = []
        layers = [str(name) for name in record.get("layers", [])]
        if "layers" in expected:
            wanted = expected["layers"]
            ok = contains_in_order(layers, wanted) if match == "contains" else layers == wanted
            if not ok:
                relation = "expected, in this order among them," if match == "contains" else "expected"
                problems.append(f"layers [{', '.join(layers)}], {relation} [{', '.join(wanted)}]")
        if "params" in expected and record.get("params") != expected["params"]:
            problems.append(f"{record.get('params')} trainable parameters, expected {expected['params']}")
        if "output_shape" in expected:
            wanted_shape = expected["output_shape"]
            if "forward_error" in record:
                problems.append(f"the forward pass failed: {record['forward_error']}")
            else:
                shape = list(record.get("output_shape", []))
                if len(shape) != len(wanted_shape) or any(
                    w is not None and w != s for s, w in zip(shape, wanted_shape, strict=False)
                ):
                    problems.append(
                        f"output shape {_shape_text(shape)}, expected {_shape_text(wanted_shape)}"
                    )
        if problems:
            return Verdict.failed(f"`{check.target}`: " + "; ".join(problems))
        said = [f"{len(layers)} layers as expected" if "layers" in expected else ""]
        if "params" in expected:
            said.append(f"{record.get('params')} trainable parameters")
        if "output_shape" in expected:
            said.append(f"output shape {_shape_text(record.get('output_shape', []))}")
        return Verdict.passed(f"`{check.target}`: " + ", ".join(s for s in said if s))


# ---------------------------------------------------------------- plot


class PlotCheck(CallOrVariable, Tolerance):
    """The data behind a matplotlib figure: its lines or scatter points, and its axis labels."""

    kind: Literal["plot"]
    axes: int = Field(0, ge=0)
    artists: Literal["lines", "scatter"] = "lines"
    min_count: int = Field(1, ge=0)
    labels: bool = False
    reference: str | None = Field(None, pattern=REFERENCE)


Series = tuple[np.ndarray | None, np.ndarray]  # one line (x or None, y) or scatter (None, (n, 2))


def expected_series(value: Any, artists: str) -> list[Series]:
    """A reference's plot data as (x or None, y) pairs per line, or (None, (n, 2)) per scatter."""
    out: list[tuple[np.ndarray | None, np.ndarray]] = []
    for item in list(value):
        item = to_numpy(item)
        if artists == "lines" and isinstance(item, tuple | list) and len(item) == 2:
            out.append((np.asarray(item[0], dtype=np.float64), np.asarray(item[1], dtype=np.float64)))
        else:
            out.append((None, np.asarray(item, dtype=np.float64)))
    return out


def _got_array(record: dict[str, Any], key: str, arrays: dict[str, np.ndarray]) -> np.ndarray | None:
    return Got.decode(record.get(key, {}), arrays).as_array()


@register
class Plot(CheckKind):
    model = PlotCheck

    def plan(self, check: PlotCheck, ctx: PlanContext) -> TargetPlan:
        return plan_target(ctx, "figure", check, axes=check.axes)

    def expect(self, check: PlotCheck, planned: TargetPlan) -> list[Series] | None:
        if not check.reference:
            return None
        made = load_reference(check.reference)(*planned.args, **planned.kwargs)
        return expected_series(made, check.artists)

    def self_check(self, check: PlotCheck) -> str:
        return SelfCheck.PUBLISHED if check.reference else SelfCheck.FULL

    def judge(
        self, check: PlotCheck, planned: TargetPlan, probe: Probe, expected: Expected | None = None
    ) -> Verdict:
        result = probe(planned.probe_id)
        failure = result.failure(check.target)
        if failure:
            return failure
        record, arrays = result.record, result.arrays
        what = "lines" if check.artists == "lines" else "scatter plots"
        if check.artists == "lines":
            plotted = [
                (_got_array(line, "x", arrays), _got_array(line, "y", arrays))
                for line in record.get("lines", [])
            ]
        else:
            plotted = [(None, _got_array(item, "offsets", arrays)) for item in record.get("scatter", [])]
        if len(plotted) < check.min_count:
            return Verdict.failed(f"the plot has {len(plotted)} {what}; expected at least {check.min_count}")
        if check.labels and not (record.get("xlabel", "").strip() and record.get("ylabel", "").strip()):
            return Verdict.failed("the plot needs a label on both axes (set_xlabel / set_ylabel)")
        if check.reference:
            try:
                wanted = list(self.expectation(check, planned, expected))
            except Exception as exc:  # the reference itself failed: a grader fault
                return Verdict(GRADER_ERROR, f"reference {check.reference} raised {exc!r}")
            if len(plotted) != len(wanted):
                return Verdict.failed(f"the plot has {len(plotted)} {what}; expected {len(wanted)}")
            for index, ((gx, gy), (wx, wy)) in enumerate(zip(plotted, wanted, strict=True)):
                for label, got, exp in (("y data", gy, wy), ("x data", gx, wx)):
                    if exp is None:
                        continue
                    if got is None:
                        return Verdict.failed(f"{what[:-1]} {index + 1}: its {label} is not numeric")
                    outcome = compare_arrays(got, exp, check.rtol, check.atol)
                    if not outcome.passed:
                        name = "points" if check.artists == "scatter" else label
                        return Verdict.failed(f"{what[:-1]} {index + 1}, {name}: {outcome.message}")
        return Verdict.passed(
            f"the plot shows {len(plotted)} {what}" + (" as expected" if check.reference else "")
        )


# ---------------------------------------------------------------- property


class PropertyCheck(CallOrVariable):
    """A host-side judge for results without one right value: `judge(result, *args, **kwargs)`
    returns None when the result is right, else a message saying what is wrong."""

    kind: Literal["property"]
    repeat: int = Field(1, ge=1, le=100)
    judge: str = Field(pattern=REFERENCE)


@register
class Property(CheckKind):
    model = PropertyCheck

    def plan(self, check: PropertyCheck, ctx: PlanContext) -> Call | str:
        return plan_result(ctx, check, check.repeat)

    def self_check(self, check: PropertyCheck) -> str:
        return SelfCheck.AFTER_SUBMISSION  # its judge is code of the reference library

    def judge(
        self, check: PropertyCheck, planned: Call | str, probe: Probe, expected: Expected | None = None
    ) -> Verdict:
        result = probe(result_probe(planned))
        failure = result.failure(check.target)
        if failure:
            return failure
        results = result.results()
        calls = (
            [([], {})] if isinstance(planned, str) else list(zip(planned.args, planned.kwargs, strict=True))
        )
        if len(results) != len(calls):
            return Verdict(GRADER_ERROR, f"{len(results)} results for {len(calls)} calls")
        judge = load_reference(check.judge)
        for index, (got, (args, kwargs)) in enumerate(zip(results, calls, strict=True)):
            try:
                host_args = [untensor(a) for a in args]
                host_kwargs = {k: untensor(v) for k, v in kwargs.items()}
                problem = judge(plain(got), *host_args, **host_kwargs)
            except Exception as exc:  # the judge itself failed: a grader fault
                return Verdict(GRADER_ERROR, f"judge {check.judge} raised {exc!r}")
            if problem:
                where = f"input {index + 1} of {len(results)}: " if len(results) > 1 else ""
                return Verdict.failed(where + str(problem))
        plural = f"all {len(results)} inputs" if len(results) > 1 else "the result"
        return Verdict.passed(f"{plural}: as required")


def untensor(value: Any) -> Any:
    """A probe argument as the judge sees it: tensors as numpy arrays, everything else as it is."""
    if isinstance(value, tuple | list):
        return type(value)(untensor(item) for item in value)
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value


def plain(got: Got) -> Any:
    """A decoded sandbox value as plain host data: arrays, str, None, tuples/lists of these."""
    if got.kind == "array" and got.array is not None:
        was = got.meta.get("was")
        if was in {"int", "float", "bool"}:
            return {"int": int, "float": float, "bool": bool}[was](got.array.item())
        return got.array
    if got.kind == "str":
        return got.text
    if got.kind == "seq":
        items = [plain(item) for item in got.items]
        return tuple(items) if got.meta.get("type") == "tuple" else items
    if got.kind == "none":
        return None
    return Unsupported(got.text or "unknown object")


@dataclass(frozen=True)
class Unsupported:
    """A value the sandbox could not send as plain data (a judge sees what it was)."""

    what: str
