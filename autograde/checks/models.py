"""Check kinds on trained models: `accuracy`, `confidence` (open-set) and `error` (regression).

The sandbox returns the model's logits on hidden inputs; the labels, the threshold and the
arithmetic stay on the host.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from autograde.checks.base import CheckKind, HiddenSet, PlanContext, ProbeResult, Verdict, register
from autograde.rubric.schema import AccuracyCheck, ConfidenceCheck, ErrorCheck

Probe = Callable[[str], ProbeResult]


@dataclass
class OutputsPlan:
    probe_id: str
    data: HiddenSet


def plan_outputs(ctx: PlanContext, model: str, data: str, batch_size: int, inputs: str) -> OutputsPlan:
    hidden = ctx.hidden(data)
    probe_id = ctx.probe("outputs", model, inputs=hidden.inputs_key, batch_size=batch_size, **{"as": inputs})
    return OutputsPlan(probe_id, hidden)


def fetch_logits(plan: OutputsPlan, probe: Probe, model: str) -> np.ndarray | Verdict:
    result = probe(plan.probe_id)
    failure = result.failure(model)
    if failure:
        return failure
    logits = result.results()[0].as_array()
    n = len(plan.data.labels)
    if logits is None or logits.ndim != 2 or logits.shape[0] != n:
        shape = None if logits is None else tuple(logits.shape)
        return Verdict.failed(f"`{model}` returned outputs of shape {shape}; expected ({n}, classes)")
    if not np.isfinite(logits).all():
        return Verdict.failed(f"`{model}` returned NaN or inf for {int((~np.isfinite(logits)).sum())} values")
    return logits.astype(np.float64)


def max_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    return np.asarray(probs.max(axis=1))


@register
class Accuracy(CheckKind):
    kind = "accuracy"

    def plan(self, check: AccuracyCheck, ctx: PlanContext) -> OutputsPlan:
        return plan_outputs(ctx, check.model, check.data, check.batch_size, check.inputs)

    def judge(self, check: AccuracyCheck, planned: OutputsPlan, probe: Probe) -> Verdict:
        logits = fetch_logits(planned, probe, check.model)
        if isinstance(logits, Verdict):
            return logits
        accuracy = float((logits.argmax(axis=1) == planned.data.labels).mean())
        message = (
            f"accuracy {accuracy:.3f} on {len(logits)} hidden samples (required: at least {check.min:.3f})"
        )
        return Verdict.passed(message) if accuracy >= check.min else Verdict.failed(message)


@dataclass
class ConfidencePlan:
    known: OutputsPlan
    unknown: OutputsPlan


@register
class Confidence(CheckKind):
    kind = "confidence"

    def plan(self, check: ConfidenceCheck, ctx: PlanContext) -> ConfidencePlan:
        return ConfidencePlan(
            plan_outputs(ctx, check.model, check.known, check.batch_size, check.inputs),
            plan_outputs(ctx, check.model, check.unknown, check.batch_size, check.inputs),
        )

    def judge(self, check: ConfidenceCheck, planned: ConfidencePlan, probe: Probe) -> Verdict:
        known = fetch_logits(planned.known, probe, check.model)
        if isinstance(known, Verdict):
            return known
        unknown = fetch_logits(planned.unknown, probe, check.model)
        if isinstance(unknown, Verdict):
            return unknown
        k, u = float(max_softmax(known).mean()), float(max_softmax(unknown).mean())
        message = (
            f"mean max-softmax {u:.3f} on unknown samples vs {k:.3f} on known ones "
            f"(required: at least {check.margin:.3f} lower)"
        )
        return Verdict.passed(message) if u <= k - check.margin else Verdict.failed(message)


@register
class Error(CheckKind):
    """Mean squared (or absolute) error of a model's outputs against a hidden set's targets."""

    kind = "error"

    def plan(self, check: ErrorCheck, ctx: PlanContext) -> OutputsPlan:
        return plan_outputs(ctx, check.model, check.data, check.batch_size, check.inputs)

    def judge(self, check: ErrorCheck, planned: OutputsPlan, probe: Probe) -> Verdict:
        result = probe(planned.probe_id)
        failure = result.failure(check.model)
        if failure:
            return failure
        outputs = result.results()[0].as_array()
        targets = np.asarray(planned.data.labels, dtype=np.float64)
        if outputs is None:
            return Verdict.failed(f"`{check.model}` returned no array")
        if (
            outputs.shape != targets.shape
            and outputs.size == targets.size
            and outputs.ndim >= 1
            and len(outputs) == len(targets)
        ):
            outputs = outputs.reshape(targets.shape)  # (N,) vs (N, 1): the same predictions
        if outputs.shape != targets.shape:
            return Verdict.failed(
                f"`{check.model}` returned outputs of shape {tuple(outputs.shape)}; "
                f"expected {tuple(targets.shape)}"
            )
        diff = outputs.astype(np.float64) - targets
        if not np.isfinite(diff).all():
            return Verdict.failed(
                f"`{check.model}` returned NaN or inf for {int((~np.isfinite(diff)).sum())} values"
            )
        value = float(np.mean(diff**2) if check.metric == "mse" else np.mean(np.abs(diff)))
        message = (
            f"{check.metric.upper()} {value:.4g} on {len(targets)} hidden samples "
            f"(required: at most {check.max:.4g})"
        )
        return Verdict.passed(message) if value <= check.max else Verdict.failed(message)
