"""Check kinds on derivatives: `gradient` (against finite differences of the student's own
function) and `backward` (a custom torch.autograd.Function against the reference and a
host-side gradcheck). Finite differences are computed on the host from forward values the
sandbox returns, so no verdict depends on code the student could patch.
"""

from __future__ import annotations

from collections.abc import Callable
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
    Tolerance,
    Verdict,
    load_reference,
    register,
)
from autograde.checks.compare import Got, compare
from autograde.pipeline.inputs import draw, materialize, to_host
from autograde.rubric.schema import DOTTED, REFERENCE, Arg, InputSpec

Probe = Callable[[str], ProbeResult]
GRADCHECK_ATOL, GRADCHECK_RTOL = 1e-5, 1e-3  # torch.autograd.gradcheck's defaults
MAX_GRADCHECK_ELEMENTS = 4096


class GradientCheck(Tolerance):
    """The student's gradient function against central differences of their own function."""

    kind: Literal["gradient"]
    of: str = Field(pattern=DOTTED)
    grad: str = Field(pattern=DOTTED)
    at: InputSpec
    repeat: int = Field(1, ge=1, le=50)
    eps: float = Field(1e-6, gt=0)
    rtol: float = Field(1e-4, ge=0)
    atol: float = Field(1e-6, ge=0)

    def subject(self) -> str:
        return self.grad


class BackwardCheck(Tolerance):
    """A custom torch.autograd.Function: gradients per input, None where declared, gradcheck."""

    kind: Literal["backward"]
    function: str = Field(pattern=DOTTED)
    inputs: dict[str, Arg]
    grad_none: list[str] = Field(default_factory=list)
    reference: str = Field(pattern=REFERENCE)
    gradcheck: bool = True
    repeat: int = Field(1, ge=1, le=20)
    eps: float = Field(1e-6, gt=0)

    @model_validator(mode="after")
    def _names(self) -> BackwardCheck:
        unknown = [name for name in self.grad_none if name not in self.inputs]
        if unknown:
            raise ValueError(f"grad_none names inputs that are not declared: {unknown}")
        return self

    def subject(self) -> str:
        return self.function


def perturbations(x: np.ndarray, eps: float) -> np.ndarray:
    """Rows x + eps e_i and x - eps e_i, interleaved: shape (2 * x.size, *x.shape)."""
    flat = np.repeat(x.reshape(1, -1), 2 * x.size, axis=0)
    for i in range(x.size):
        flat[2 * i, i] += eps
        flat[2 * i + 1, i] -= eps
    return flat.reshape((2 * x.size, *x.shape))


def central_differences(
    values: np.ndarray, weights: np.ndarray, eps: float, shape: tuple[int, ...]
) -> np.ndarray:
    """Vector-Jacobian product from forward values at +-eps: sum(w * (f+ - f-)) / 2 eps."""
    plus = values[0::2].reshape(len(values) // 2, -1)
    minus = values[1::2].reshape(len(values) // 2, -1)
    return np.asarray(((plus - minus) * weights.reshape(1, -1)).sum(axis=1) / (2 * eps)).reshape(shape)


def _scalars(results: list[Any]) -> np.ndarray | None:
    arrays = [r.as_array() for r in results]
    if any(a is None for a in arrays):
        return None
    return np.stack([np.asarray(a, dtype=np.float64) for a in arrays if a is not None])


@dataclass
class GradientPlan:
    grad_id: str
    fd_id: str
    points: list[np.ndarray]


@register
class Gradient(CheckKind):
    model = GradientCheck

    def plan(self, check: GradientCheck, ctx: PlanContext) -> GradientPlan:
        points = [draw(check.at, ctx.rng).astype(np.float64) for _ in range(check.repeat)]
        grad_ref = {"array": ctx.store.add(np.stack(points)), "each": True, "torch": check.at.torch}
        shifted = np.concatenate([perturbations(p, check.eps) for p in points])
        fd_ref = {"array": ctx.store.add(shifted), "each": True, "torch": check.at.torch}
        return GradientPlan(
            ctx.probe("call", check.grad, args=[grad_ref], kwargs={}, count=len(points)),
            ctx.probe("call", check.of, args=[fd_ref], kwargs={}, count=len(shifted)),
            points,
        )

    def judge(
        self, check: GradientCheck, planned: GradientPlan, probe: Probe, expected: Expected | None = None
    ) -> Verdict:
        for probe_id, what in ((planned.fd_id, check.of), (planned.grad_id, check.grad)):
            failure = probe(probe_id).failure(what)
            if failure:
                return failure
        values = _scalars(probe(planned.fd_id).results())
        if values is None or values.shape[1:] != ():
            return Verdict.failed(f"`{check.of}` must return a scalar to be differentiated")
        grads = probe(planned.grad_id).results()
        offset = 0
        for index, point in enumerate(planned.points):
            count = 2 * point.size
            numeric = central_differences(values[offset : offset + count], np.ones(1), check.eps, point.shape)
            offset += count
            outcome = compare(grads[index], numeric, check.rtol, check.atol, "cast")
            if not outcome.passed:
                return Verdict.failed(
                    f"at w={np.array2string(point, precision=4)}: `{check.grad}` "
                    f"disagrees with finite differences of `{check.of}`: {outcome.message}"
                )
        return Verdict.passed(
            f"`{check.grad}` matches central differences of `{check.of}` at {len(planned.points)} points"
        )


@dataclass
class BackwardPlan:
    backward_id: str
    gradcheck_id: str | None
    names: list[str]
    inputs: list[list[Any]]  # per repeat, host values
    grad_outputs: list[np.ndarray]
    wrt: int | None  # index of the input perturbed by the gradcheck


@register
class Backward(CheckKind):
    model = BackwardCheck

    def plan(self, check: BackwardCheck, ctx: PlanContext) -> BackwardPlan:
        names = list(check.inputs)
        made = [materialize(check.inputs[name], ctx.rng, ctx.store, check.repeat) for name in names]
        inputs = [[m.values[i] for m in made] for i in range(check.repeat)]
        reference = load_reference(check.reference)
        shapes = [tuple(np.shape(reference(*_detached(row)).detach().numpy())) for row in inputs]
        grad_outputs = [ctx.rng.normal(size=shape) for shape in shapes]
        grad_ref = {"array": ctx.store.add(np.stack(grad_outputs)), "each": True, "torch": True}
        backward_id = ctx.probe(
            "backward", check.function, args=[m.ref for m in made], grad_output=grad_ref, count=check.repeat
        )
        wrt = next((i for i, m in enumerate(made) if m.ref.get("requires_grad")), None)
        gradcheck_id = None
        if check.gradcheck and wrt is not None:
            first = [np.asarray(_array(v)) for v in inputs[0]]
            if first[wrt].dtype == np.float64 and first[wrt].size <= MAX_GRADCHECK_ELEMENTS:
                shifted = perturbations(first[wrt], check.eps)
                args = []
                for i, m in enumerate(made):
                    rows = shifted if i == wrt else np.repeat(first[i][None], len(shifted), axis=0)
                    args.append(
                        {"array": ctx.store.add(rows), "each": True, "torch": bool(m.ref.get("torch"))}
                    )
                gradcheck_id = ctx.probe(
                    "call", f"{check.function}.apply", args=args, kwargs={}, count=len(shifted)
                )
        return BackwardPlan(backward_id, gradcheck_id, names, inputs, grad_outputs, wrt)

    def expect(self, check: BackwardCheck, planned: BackwardPlan) -> list[list[np.ndarray | None]]:
        """The reference's gradients (torch.autograd) for every drawn input."""
        return [
            _reference_grads(check.reference, row, grad_output)
            for row, grad_output in zip(planned.inputs, planned.grad_outputs, strict=True)
        ]

    def judge(
        self, check: BackwardCheck, planned: BackwardPlan, probe: Probe, expected: Expected | None = None
    ) -> Verdict:
        result = probe(planned.backward_id)
        failure = result.failure(check.function)
        if failure:
            return failure
        records = result.record.get("results", [])
        try:
            wanted = self.expectation(check, planned, expected)
        except Exception as exc:
            return Verdict(GRADER_ERROR, f"reference {check.reference} failed: {exc!r}")
        for index, record in enumerate(records):
            if index >= len(wanted):
                return Verdict(GRADER_ERROR, f"{len(records)} results for {len(wanted)} inputs")
            verdict = self._judge_one(check, planned, index, record, result.arrays, wanted[index])
            if verdict is not None:
                return verdict
        if planned.gradcheck_id is not None and records:
            analytic = Got.decode(records[0]["raw"][planned.wrt or 0], result.arrays)
            verdict = self._gradcheck(check, planned, probe(planned.gradcheck_id), analytic)
            if verdict is not None:
                return verdict
        extra = " and passes a float64 gradcheck" if planned.gradcheck_id else ""
        return Verdict.passed(f"backward matches the reference for {len(records)} inputs{extra}")

    def _judge_one(
        self,
        check: BackwardCheck,
        planned: BackwardPlan,
        index: int,
        record: dict[str, Any],
        arrays: dict[str, np.ndarray],
        expected: list[np.ndarray | None],
    ) -> Verdict | None:
        where = f"input {index + 1}: " if len(planned.inputs) > 1 else ""
        if "raw" not in record:
            return Verdict.failed(
                where + f"backward was never called ({record.get('backward_error', 'no graph')})"
            )
        raw = [Got.decode(item, arrays) for item in record["raw"]]
        if len(raw) != len(planned.names):
            return Verdict.failed(
                where + f"backward returned {len(raw)} values; forward takes "
                f"{len(planned.names)} inputs ({', '.join(planned.names)})"
            )
        for name, got, exp in zip(planned.names, raw, expected, strict=True):
            if name in check.grad_none:
                if got.kind != "none":
                    return Verdict.failed(
                        where + f"backward must return None for `{name}`, got {got.describe()}"
                    )
                continue
            if exp is None:
                continue
            outcome = compare(got, exp, check.rtol, check.atol, check.dtype)
            if not outcome.passed:
                return Verdict.failed(
                    where + f"gradient for `{name}` (incoming gradient not all ones): {outcome.message}"
                )
        if record.get("backward_error"):
            return Verdict.failed(where + f"backward failed in autograd: {record['backward_error']}")
        return None

    def _gradcheck(
        self, check: BackwardCheck, planned: BackwardPlan, result: ProbeResult, analytic: Any
    ) -> Verdict | None:
        """torch.autograd.gradcheck's test, computed here: your backward against central
        differences of your own forward (float64, same eps and tolerances)."""
        failure = result.failure(f"gradcheck: {check.function}.apply")
        if failure:
            return failure
        values = _scalars(result.results())
        assert planned.wrt is not None
        x = np.asarray(_array(planned.inputs[0][planned.wrt]))
        g = planned.grad_outputs[0]
        if values is None or values.shape[1:] != g.shape:
            return Verdict.failed("gradcheck: forward returned values of an unexpected shape")
        numeric = central_differences(values.reshape(len(values), -1), g.reshape(-1), check.eps, x.shape)
        outcome = compare(analytic, numeric, GRADCHECK_RTOL, GRADCHECK_ATOL, "cast")
        if outcome.passed:
            return None
        name = planned.names[planned.wrt]
        return Verdict.failed(
            f"gradcheck: the gradient for `{name}` disagrees with finite "
            f"differences of your forward (eps={check.eps:g}): {outcome.message}"
        )


def _array(value: Any) -> Any:
    return value.detach().numpy() if hasattr(value, "detach") else value


def _detached(row: list[Any]) -> list[Any]:
    return [v.detach() if hasattr(v, "detach") else v for v in row]


def _reference_grads(spec: str, row: list[Any], grad_output: np.ndarray) -> list[np.ndarray | None]:
    """Gradients of the reference forward by torch.autograd, for the same inputs."""
    import torch

    fresh = [
        to_host(np.asarray(_array(v)), True, bool(getattr(v, "requires_grad", False)))
        if hasattr(v, "detach")
        else v
        for v in row
    ]
    output = load_reference(spec)(*fresh)
    output.backward(torch.from_numpy(np.asarray(grad_output)).to(output.dtype).reshape(output.shape))
    return [v.grad.numpy() if hasattr(v, "grad") and v.grad is not None else None for v in fresh]
