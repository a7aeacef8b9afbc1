"""The self-check in the live kernel (`autograde.student`): the bundle's probes run in this
process against the notebook's namespace, through the same harness code the grader installs
in a sandbox kernel, with inputs read from the bundle in memory. No subprocess, no network,
nothing written; the random generators are put back as they were after each probe."""

from __future__ import annotations

import io
import random
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from autograde.checks.base import ProbeResult
from autograde.runner.protocol import ProbeStatus
from autograde.selfcheck.bundle import Bundle

_HARNESS = Path(__file__).resolve().parents[1] / "runner" / "harness_src.py"


def harness() -> types.ModuleType:
    """A private copy of the probe harness, with the protocol's statuses."""
    module = types.ModuleType("_autograde_live_harness")
    code = compile(_HARNESS.read_text(encoding="utf-8"), "<autograde-harness>", "exec")
    exec(code, module.__dict__)  # the harness's own text, as the runner installs it in a kernel
    module.__dict__.update(
        OK=str(ProbeStatus.OK), ERROR=str(ProbeStatus.ERROR), MISSING=str(ProbeStatus.MISSING)
    )
    return module


@contextmanager
def generators_kept() -> Iterator[None]:
    """Probes seed random, numpy and torch; the notebook's generator states come back after."""
    saved: list[tuple[Any, Any]] = [(random.setstate, random.getstate())]
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        saved.append((numpy.random.set_state, numpy.random.get_state()))
    torch = sys.modules.get("torch")
    if torch is not None:
        saved.append((torch.set_rng_state, torch.get_rng_state()))
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            saved.append((torch.cuda.set_rng_state_all, torch.cuda.get_rng_state_all()))
    try:
        yield
    finally:
        for restore, state in saved:
            restore(state)


class LiveProbes:
    """The bundle's probes, each run once on demand against `namespace`."""

    def __init__(self, bundle: Bundle, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self.inputs = bundle.inputs
        self.specs = {str(p.get("id")): p for p in bundle.manifest.probes}
        self.seed = bundle.manifest.parameters.get("seed")
        self.module = harness()
        self.cache: dict[str, ProbeResult] = {}

    def __call__(self, probe_id: str) -> ProbeResult:
        if probe_id not in self.cache:
            spec = self.specs.get(probe_id)
            if spec is None:
                result = ProbeResult(ProbeStatus.ERROR, f"the bundle has no probe {probe_id}", {}, {})
            else:
                with generators_kept():
                    record, arrays = self.module.run_in_memory(
                        spec, self.seed, self.namespace, io.BytesIO(self.inputs)
                    )
                result = ProbeResult(
                    str(record.get("status")), str(record.get("message", "")), record, arrays
                )
            self.cache[probe_id] = result
        return self.cache[probe_id]
