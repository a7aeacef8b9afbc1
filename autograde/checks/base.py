"""The check-kind seam: each kind plans probes (sandbox side) and judges results (host side).

A kind registers itself with `@register`; the engine only looks kinds up by name, so a
new kind needs no change to the engine. Planning happens on the host before the run and
may draw inputs; judging happens on the host after the run and may call reference code.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from autograde.checks.compare import Got
from autograde.errors import RubricError
from autograde.pipeline.inputs import InputStore
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
        if self.status == "ok":
            return None
        status = {
            "missing": FAIL,
            "error": ERROR,
            "timeout": TIMEOUT,
            "crashed": CRASHED,
            "not-run": NOT_RUN,
        }.get(self.status, ERROR)
        return Verdict(status, f"{what}: {self.message}" if what else self.message)


class CheckKind:
    """Base class: a subclass sets `kind` and implements `plan` and `judge`."""

    kind: ClassVar[str]

    def plan(self, check: Any, ctx: PlanContext) -> Any:
        raise NotImplementedError

    def judge(self, check: Any, planned: Any, probe: Callable[[str], ProbeResult]) -> Verdict:
        raise NotImplementedError


REGISTRY: dict[str, CheckKind] = {}


def register(cls: type[CheckKind]) -> type[CheckKind]:
    REGISTRY[cls.kind] = cls()
    return cls


def kind_for(name: str) -> CheckKind:
    from autograde import checks  # noqa: F401  (imports register the built-in kinds)

    try:
        return REGISTRY[name]
    except KeyError:
        raise RubricError(f"unknown check kind {name!r}; known: {sorted(REGISTRY)}") from None


_REFERENCE_CACHE: dict[str, Any] = {}


def load_reference(spec: str) -> Any:
    """Import `module.path:attr.path` from the reference library (host only)."""
    if spec not in _REFERENCE_CACHE:
        module_name, _, attr = spec.partition(":")
        try:
            value: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                value = getattr(value, part)
        except (ImportError, AttributeError) as exc:
            raise RubricError(f"reference {spec!r} cannot be loaded: {exc}") from exc
        _REFERENCE_CACHE[spec] = value
    return _REFERENCE_CACHE[spec]


def display_name(check: Any) -> str:
    """The one name a check has in every report: its rubric `name`, else the kind and what
    it checks (``value loss``), whether it was graded, rejected or never run."""
    if getattr(check, "name", None):
        return str(check.name)
    target = (
        getattr(check, "call", None)
        or getattr(check, "variable", None)
        or getattr(check, "target", None)
        or getattr(check, "function", None)
        or getattr(check, "grad", None)
        or getattr(check, "model", None)
        or getattr(check, "cell_tag", None)
        or ""
    )
    return f"{check.kind} {target}".strip()
