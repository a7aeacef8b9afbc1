"""A warm sandbox's first half, before its job exists: the kernel is started in the working
folder with the assignment's heavy modules imported (``in/warm.json``), then the runner waits
for the host to write the job's files and, last, ``in/start``. No student code has run in
it; it runs exactly one job (the runner exits after it) and is never handed another.

The modules are imported with ``__import__``: nothing is bound in the notebook's namespace,
so a notebook that forgets ``import numpy as np`` fails here as it fails in plain Python.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograde.runner import device, protocol
from autograde.runner.forked_kernel import preimport
from autograde.runner.kernel import KERNEL_FAILURES, KernelSession

WAIT_STEP = 0.002  # seconds between looks for in/start
IDLE_SECONDS = 1800.0  # a warm sandbox no job came for ends itself (the host also kills it)
_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


@dataclass
class WarmSpec:
    """What the host asked to prepare (in/warm.json)."""

    preload: list[str] = field(default_factory=list)
    device: str = "cpu"
    assignment: str | None = None
    sandbox: str | None = None  # the host's id of this sandbox (for its records)
    idle_seconds: float = IDLE_SECONDS
    nice: int = 0  # the warm-up's lower CPU priority (the host restores it at start)
    fork: bool = True  # fork the kernel from the runner (else start it as a new interpreter)

    @classmethod
    def read(cls, in_dir: Path) -> tuple[WarmSpec | None, str | None]:
        """The spec, or why it cannot be used (another version of the grader wrote it)."""
        try:
            data = json.loads((in_dir / protocol.WARM).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return None, f"the warm sandbox's {protocol.WARM} could not be read ({exc})"
        problem = protocol.plan_problem(data)
        if problem:
            return None, problem
        modules = [m for m in data.get("preload", []) if isinstance(m, str) and _MODULE.match(m)]
        return cls(
            modules,
            "cuda" if data.get("device") == "cuda" else "cpu",
            data.get("assignment") if isinstance(data.get("assignment"), str) else None,
            data.get("sandbox") if isinstance(data.get("sandbox"), str) else None,
            float(data.get("idle_seconds", IDLE_SECONDS)),
            int(data.get("nice", 0)),
            data.get("fork", True) is not False,
        ), None


def preload_code(modules: list[str]) -> str:
    """Kernel code importing each module without binding a name; one that is missing or
    fails to import is left for the notebook to meet itself."""
    lines = []
    for module in modules:
        if _MODULE.match(module):
            lines += ["try:", f"    __import__({module!r})", "except Exception:", "    pass"]
    return "\n".join(lines) + "\n" if lines else ""


@dataclass
class WarmKernel:
    """The kernel a warm sandbox started ahead of its job, and what the warm-up found."""

    spec: WarmSpec
    session: KernelSession | None
    seconds: float
    gpus: tuple[int, str] | None = None  # a CUDA job: the GPUs torch saw, and why none
    problem: str | None = None  # why no kernel could be prepared (a fresh one is tried later)

    def record(self) -> dict[str, Any]:
        """What run.json says of the warm-up (the host checks the assignment against the job's)."""
        return {"assignment": self.spec.assignment, "sandbox": self.spec.sandbox,
                "preload": self.spec.preload, "seconds": round(self.seconds, 3), "problem": self.problem,
                "kernel": "forked" if self.session is not None and self.session.forked else "started"}


def warm_up(spec: WarmSpec, work_dir: Path, runtime_dir: str) -> WarmKernel:
    """Start the kernel in `work_dir` and import the spec's modules in it. A CUDA job's
    environment is set first (the kernel inherits it) and its GPUs counted in a separate
    interpreter, so that no CUDA context exists before the notebook makes one."""
    started = time.monotonic()
    if spec.nice > 0:
        with contextlib.suppress(OSError):
            os.nice(spec.nice)  # the kernel and its threads inherit it
    gpus = None
    if spec.device == "cuda":
        device.prepare_environment()
        gpus = device.visible_gpus()
    if spec.fork:
        preimport(spec.preload)  # the kernel is forked from here: it has them already
    session = KernelSession(str(work_dir), runtime_dir, fork=spec.fork)
    try:
        session.start()
    except KERNEL_FAILURES as exc:
        session.stop()
        return WarmKernel(spec, None, time.monotonic() - started, gpus, f"the kernel did not start ({exc})")
    # also without modules: a kernel's first request costs most, and it is not the job's
    outcome = session.run_code(preload_code(spec.preload) or "pass", 300)
    if outcome.status != "ok":
        session.stop()
        why = f"importing {', '.join(spec.preload) or 'nothing'} ended with {outcome.status}"
        return WarmKernel(spec, None, time.monotonic() - started, gpus, why)
    return WarmKernel(spec, session, time.monotonic() - started, gpus)


def wait_for_start(in_dir: Path, idle_seconds: float) -> bool:
    """True once the host wrote in/start; False when no job came within `idle_seconds`."""
    deadline = time.monotonic() + idle_seconds
    marker = in_dir / protocol.START
    while not marker.exists():
        if time.monotonic() >= deadline:
            return False
        time.sleep(WAIT_STEP)
    return True


def write_ready(out_dir: Path, warm: WarmKernel) -> None:
    target = out_dir / protocol.WARM
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps({"ready": warm.session is not None, **warm.record()}), encoding="utf-8")
    tmp.replace(target)
