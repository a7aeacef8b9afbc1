"""The check-kind seam: each kind owns its rubric model, plans probes (run in the sandbox)
and judges their results (on the host).

A kind is one class that registers itself with `@register`: its `model` (the pydantic
model with `kind: Literal["name"]`) joins the rubric schema, and the engine looks the kind
up by that name, so a new kind needs no change anywhere else. Planning happens on the host
before the run and may draw inputs; judging happens on the host after the run.

What a judge needs from the reference library is the kind's `expect` (computed from the
plan alone, never from the student's results): on the grader it is computed when the judge
asks for it; a student's check bundle carries it, computed at the published inputs, so a
self-check judges with the same code and no reference. `self_check` says how a check runs
in a self-check (see the `SelfCheck` modes).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, get_args, get_origin

import numpy as np
from pydantic import Field

from autograde.checks.compare import Got
from autograde.errors import RubricError
from autograde.pipeline.inputs import InputStore
from autograde.rubric.schema import CheckBase
from autograde.runner.protocol import ProbeStatus
from autograde.status import CheckStatus

PASS, FAIL, ERROR, TIMEOUT, CRASHED, NOT_RUN, MANUAL, GRADER_ERROR = (
    CheckStatus.PASS,
    CheckStatus.FAIL,
    CheckStatus.ERROR,
    CheckStatus.TIMEOUT,
    CheckStatus.CRASHED,
    CheckStatus.NOT_RUN,
    CheckStatus.MANUAL,
    CheckStatus.GRADER_ERROR,
)


@dataclass
class Verdict:
    status: str
    message: str
    fraction: float = 0.0  # share of the check's weight earned, 0..1

    @classmethod
    def passed(cls, message: str) -> Verdict:
        return cls(PASS, message, 1.0)

    @classmethod
    def failed(cls, message: str) -> Verdict:
        return cls(FAIL, message, 0.0)


@dataclass
class HiddenSet:
    """A hidden data set: the inputs go into the sandbox, the labels never do."""

    inputs_key: str
    labels: np.ndarray


@dataclass
class PlanContext:
    """What a kind may use while planning one check."""

    prefix: str
    rng: np.random.Generator
    store: InputStore
    probes: list[dict[str, Any]]
    hidden: Callable[[str], HiddenSet]
    probe_timeout: float
    secret: bool = False  # a hidden check: its feedback must not quote what the rubric keeps back
    _dedupe: dict[str, str] = field(default_factory=dict)

    def probe(self, op: str, target: str, **spec: Any) -> str:
        """Add a probe (or reuse an identical one) and return its id."""
        key = json.dumps({"op": op, "target": target, **spec}, sort_keys=True)
        if key in self._dedupe:
            return self._dedupe[key]
        probe_id = f"{self.prefix}p{len([p for p in self.probes if p['id'].startswith(self.prefix)])}"
        self.probes.append(
            {"id": probe_id, "op": op, "target": target, "timeout": self.probe_timeout, **spec}
        )
        self._dedupe[key] = probe_id
        return probe_id


@dataclass
class ProbeResult:
    status: str  # ok | error | missing | timeout | crashed | not-run
    message: str
    record: dict[str, Any]
    arrays: dict[str, np.ndarray]

    def results(self) -> list[Got]:
        return [Got.decode(item, self.arrays) for item in self.record.get("results", [])]

    def failure(self, what: str) -> Verdict | None:
        """The verdict for a probe that produced nothing usable, or None when it is ok."""
        if self.status == ProbeStatus.OK:
            return None
        status = _PROBE_TO_CHECK.get(self.status, ERROR)
        return Verdict(status, f"{what}: {self.message}" if what else self.message)


# what a probe that gave nothing usable costs its check (an unknown probe status: an error)
_PROBE_TO_CHECK: dict[str, CheckStatus] = {
    ProbeStatus.MISSING: FAIL,
    ProbeStatus.ERROR: ERROR,
    ProbeStatus.TIMEOUT: TIMEOUT,
    ProbeStatus.CRASHED: CRASHED,
    ProbeStatus.NOT_RUN: NOT_RUN,
}


class Tolerance(CheckBase):
    """The options of a check that compares numbers (see `compare.compare`)."""

    rtol: float = Field(1e-5, ge=0)
    atol: float = Field(1e-8, ge=0)
    dtype: Literal["cast", "strict"] = "cast"


Expected = Callable[[], Any]  # the kind's `expect` for one planned check, computed or read back


class SelfCheck:
    """How a public check runs in a student's self-check (a check bundle)."""

    FULL = "full"  # judged against the student's own code or the rubric's declared values
    PUBLISHED = "published"  # expected values computed with the reference at published inputs
    ANSWERED = "answered"  # a choice or a free-text answer: only whether it is answered
    AFTER_SUBMISSION = "after-submission"  # needs what stays with the instructor (hidden data, a judge)

    MODES = (FULL, PUBLISHED, ANSWERED, AFTER_SUBMISSION)


class CheckKind:
    """Base class: a subclass sets `model` (its rubric model) and implements `plan` and
    `judge`; `@register` sets `kind` from the model's `kind` literal. A kind whose verdict
    needs the reference implements `expect` and calls `expectation` in its judge."""

    kind: ClassVar[str]
    model: ClassVar[type[CheckBase]]
    # answer fields of the rubric model that a check bundle must not carry
    secret_fields: ClassVar[frozenset[str]] = frozenset()

    def plan(self, check: Any, ctx: PlanContext) -> Any:
        raise NotImplementedError

    def judge(
        self, check: Any, planned: Any, probe: Callable[[str], ProbeResult], expected: Expected | None = None
    ) -> Verdict:
        raise NotImplementedError

    def expect(self, check: Any, planned: Any) -> Any:
        """What the judge needs from the reference for this plan (plain data: arrays, numbers,
        strings, lists, dicts, None). Host only; None for a kind that needs nothing."""
        return None

    def expectation(self, check: Any, planned: Any, expected: Expected | None) -> Any:
        """The judge's view of `expect`: read back from a bundle, else computed here."""
        return expected() if expected is not None else self.expect(check, planned)

    def self_check(self, check: Any) -> str:
        """How this check runs in a self-check: a `SelfCheck` mode. By default a kind that
        needs the reference uses the published inputs; one that needs nothing runs in full."""
        return SelfCheck.PUBLISHED if type(self).expect is not CheckKind.expect else SelfCheck.FULL

    def judge_answered(self, check: Any, planned: Any, probe: Callable[[str], ProbeResult]) -> Verdict:
        """For `SelfCheck.ANSWERED` checks: whether an answer is given, never whether it is right."""
        raise NotImplementedError


REGISTRY: dict[str, CheckKind] = {}


def kind_name(model: type[CheckBase]) -> str:
    """The name in a model's `kind: Literal["name"]`."""
    field = model.model_fields.get("kind")
    annotation = field.annotation if field else None
    names = get_args(annotation) if get_origin(annotation) is Literal else ()
    if len(names) != 1 or not isinstance(names[0], str):
        raise TypeError(f"{model.__name__}.kind must be a Literal of one string, e.g. Literal['toy']")
    return names[0]


def register(cls: type[CheckKind]) -> type[CheckKind]:
    """Register a kind: its model validates rubric checks of that `kind` from now on."""
    name = kind_name(cls.model)
    known = REGISTRY.get(name)
    if known is not None and type(known).__qualname__ != cls.__qualname__:
        raise TypeError(f"check kind {name!r} is already registered by {type(known).__qualname__}")
    cls.kind = name
    REGISTRY[name] = cls()
    return cls


def registered_models() -> tuple[type[CheckBase], ...]:
    """The rubric models of every registered kind, the built-in ones included, by kind name."""
    from autograde import checks  # noqa: F401  (imports register the built-in kinds)

    return tuple(REGISTRY[name].model for name in sorted(REGISTRY))


def kind_for(name: str) -> CheckKind:
    from autograde import checks  # noqa: F401  (imports register the built-in kinds)

    try:
        return REGISTRY[name]
    except KeyError:
        raise RubricError(f"unknown check kind {name!r}; known: {sorted(REGISTRY)}") from None


_REFERENCE_CACHE: dict[str, Any] = {}


def import_spec(spec: str) -> Any:
    """The object `module.path:attr.path` names (ImportError or AttributeError if none)."""
    module_name, _, attr = spec.partition(":")
    value: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        value = getattr(value, part)
    return value


def load_reference(spec: str) -> Any:
    """Import `module.path:attr.path` from the reference library (host only)."""
    if spec not in _REFERENCE_CACHE:
        try:
            _REFERENCE_CACHE[spec] = import_spec(spec)
        except (ImportError, AttributeError) as exc:
            raise RubricError(f"reference {spec!r} cannot be loaded: {exc}") from exc
    return _REFERENCE_CACHE[spec]
