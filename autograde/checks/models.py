"""Check kinds on trained models: `accuracy`, `confidence` (open-set) and `error` (regression),
and their shared base, `ModelOutputs`: a model's outputs on hidden inputs.

The sandbox returns the model's logits on hidden inputs; the labels, the threshold and the
arithmetic stay on the host.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from autograde.checks.base import (
    CheckKind,
    Expected,
    HiddenSet,
    PlanContext,
    ProbeResult,
    SelfCheck,
    Verdict,
    register,
)
from autograde.rubric.schema import DOTTED, CheckBase

Probe = Callable[[str], ProbeResult]


class ModelOutputs(CheckBase):
    """A check on a model's outputs for hidden inputs, passed in batches."""

    model: str = Field(pattern=DOTTED)
    batch_size: int = Field(256, ge=1)
    inputs: Literal["auto", "torch", "numpy"] = Field(
        "auto", description="how batches are passed: auto = tensors for an nn.Module, else arrays"
    )

    def subject(self) -> str:
        return self.model


class _OnHiddenData(CheckKind):
    """The labels of a hidden set stay with the instructor: judged after submission only."""

    def self_check(self, check: ModelOutputs) -> str:
        return SelfCheck.AFTER_SUBMISSION


class AccuracyCheck(ModelOutputs):
    """Student model's logits on a hidden set; labels and threshold stay on the host."""

    kind: Literal["accuracy"]
    data: str
    min: float = Field(ge=0, le=1)

    def data_refs(self) -> list[tuple[str, str]]:
        return [("data", self.data)]


class ConfidenceCheck(ModelOutputs):
    """Open-set: mean max-softmax on unknown samples lower than on known ones."""

    kind: Literal["confidence"]
    known: str
    unknown: str
    margin: float = Field(0.0, ge=0, le=1)

    def data_refs(self) -> list[tuple[str, str]]:
        return [("known", self.known), ("unknown", self.unknown)]


class ErrorCheck(ModelOutputs):
    """A trained model's error on a hidden set whose labels are the targets."""

    kind: Literal["error"]
    data: str
    metric: Literal["mse", "mae"] = "mse"
    max: float = Field(ge=0)

    def data_refs(self) -> list[tuple[str, str]]:
        return [("data", self.data)]


@dataclass
class OutputsPlan:
    probe_id: str
    data: HiddenSet


def plan_outputs(ctx: PlanContext, check: ModelOutputs, data: str) -> OutputsPlan:
    """The check's model on the inputs of hidden set `data`; its labels stay in the plan."""
    hidden = ctx.hidden(data)
    probe_id = ctx.probe(
        "outputs", check.model, inputs=hidden.inputs_key, batch_size=check.batch_size, **{"as": check.inputs}
    )
    return OutputsPlan(probe_id, hidden)


def fetch_outputs(plan: OutputsPlan, probe: Probe, model: str) -> np.ndarray | Verdict:
    """The model's outputs as an array, or the verdict of a probe that produced none."""
    result = probe(plan.probe_id)
    failure = result.failure(model)
    if failure:
        return failure
    outputs = result.results()[0].as_array()
    if outputs is None:
        return Verdict.failed(f"`{model}` returned no array")
    return outputs


def fetch_logits(plan: OutputsPlan, probe: Probe, model: str) -> np.ndarray | Verdict:
    """(samples, classes) finite scores of a classifier, else the verdict saying what is wrong."""
    logits = fetch_outputs(plan, probe, model)
    if isinstance(logits, Verdict):
        return logits
    n = len(plan.data.labels)
    if logits.ndim != 2 or logits.shape[0] != n:
        return Verdict.failed(
            f"`{model}` returned outputs of shape {tuple(logits.shape)}; expected ({n}, classes)"
        )
    if not np.isfinite(logits).all():
        return Verdict.failed(f"`{model}` returned NaN or inf for {int((~np.isfinite(logits)).sum())} values")
    return logits.astype(np.float64)


def max_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    return np.asarray(probs.max(axis=1))


@register
class Accuracy(_OnHiddenData):
    model = AccuracyCheck

    def plan(self, check: AccuracyCheck, ctx: PlanContext) -> OutputsPlan:
        return plan_outputs(ctx, check, check.data)

    def judge(
        self, check: AccuracyCheck, planned: OutputsPlan, probe: Probe, expected: Expected | None = None
    ) -> Verdict:
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
class Confidence(_OnHiddenData):
    model = ConfidenceCheck

    def plan(self, check: ConfidenceCheck, ctx: PlanContext) -> ConfidencePlan:
        return ConfidencePlan(plan_outputs(ctx, check, check.known), plan_outputs(ctx, check, check.unknown))

    def judge(
        self, check: ConfidenceCheck, planned: ConfidencePlan, probe: Probe, expected: Expected | None = None
    ) -> Verdict:
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
class Error(_OnHiddenData):
    """Mean squared (or absolute) error of a model's outputs against a hidden set's targets."""

    model = ErrorCheck

    def plan(self, check: ErrorCheck, ctx: PlanContext) -> OutputsPlan:
        return plan_outputs(ctx, check, check.data)

    def judge(
        self, check: ErrorCheck, planned: OutputsPlan, probe: Probe, expected: Expected | None = None
    ) -> Verdict:
        outputs = fetch_outputs(planned, probe, check.model)
        if isinstance(outputs, Verdict):
            return outputs
        targets = np.asarray(planned.data.labels, dtype=np.float64)
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
