"""The `fake` backend, for unit tests only (the CLI does not offer it; importing this module
registers it): it runs no kernel. A test scripts what the run leaves in out/, in the
protocol's file names (cells.json, run.json, probes/<id>.json and .npz), and how the run
ends (exit status, time limit, memory, a hang until killed); `Backend.run`, the template
every backend shares, does the rest: kill switch, folder watch, notes, the outcome.

    with fake.scripted(fake.Script(respond=lambda spec: fake.value(42))):
        report = grade_submission(path, assignment, GradeOptions(backend="fake"))
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograde.backends.base import Backend, Ended, Job, Sandbox, register_backend
from autograde.runner import protocol

Content = dict[str, Any] | list[Any] | bytes | None  # JSON data, raw bytes, or no file at all


@dataclass
class FakeProbe:
    """What one probe leaves: its record (probes/<id>.json) and arrays (probes/<id>.npz);
    bytes are written as they are, None writes no file."""

    record: Content = None
    arrays: dict[str, Any] | bytes | None = None


@dataclass
class Script:
    """One scripted run. `respond` gets each planned probe's spec (id, op, target, ...) and
    says what it leaves (None: nothing, as a probe that never ran)."""

    respond: Callable[[dict[str, Any]], FakeProbe | None] = lambda spec: None
    cells: Content = field(default_factory=list)
    summary: Content = field(default_factory=lambda: {"notes": [], "probes": {}})
    files: dict[str, bytes] = field(default_factory=dict)  # more files below out/
    returncode: int | None = 0
    timed_out: bool = False  # the run's time is up at once: the template kills it
    hang: bool = False  # runs until killed (the folder watch, the kill switch)
    oom_killed: bool = False
    pids_refused: int = 0
    log_tail: str = ""
    notes: list[str] = field(default_factory=list)  # the backend's own notes
    runs: list[Job] = field(default_factory=list)  # filled in: every job run with this script


_SCRIPT: Script | None = None


@contextlib.contextmanager
def scripted(script: Script) -> Iterator[Script]:
    """Runs of the fake backend inside this block follow `script`."""
    global _SCRIPT
    before, _SCRIPT = _SCRIPT, script
    try:
        yield script
    finally:
        _SCRIPT = before


def value(data: Any, **record: Any) -> FakeProbe:
    """An ok probe that returned `data` (a number or an array), as the harness encodes it."""
    array = np.asarray(data)
    was = type(data).__name__ if type(data) in (bool, int, float) else "numpy"
    return FakeProbe({"status": "ok", "results": [{"array": "a0", "was": was}], **record}, {"a0": array})


def defined(category: str, type_name: str) -> FakeProbe:
    """An ok lookup of a name that is defined (category: callable, class, array, number...)."""
    return FakeProbe({"status": "ok", "category": category, "type": type_name})


def failed(status: str, message: str) -> FakeProbe:
    """A probe record with a status other than ok (error, missing, timeout, crashed)."""
    return FakeProbe({"status": status, "message": message})


@register_backend
class FakeBackend(Backend):
    name = "fake"

    def sandbox_data_dir(self, job: Job) -> str:
        return str(job.data_dir) if job.data_dir else str(job.work_dir / "data")

    def open(self, job: Job) -> FakeSandbox:
        if _SCRIPT is None:
            raise RuntimeError("the fake backend runs only inside fake.scripted(...)")
        _SCRIPT.runs.append(job)
        return FakeSandbox(job, _SCRIPT)


class FakeSandbox(Sandbox):
    def __init__(self, job: Job, script: Script) -> None:
        super().__init__(job)
        self.script = script
        self.killed = threading.Event()

    def launch(self) -> None:
        out, script = self.job.out_dir, self.script
        plan = json.loads((self.job.in_dir / protocol.PLAN).read_text(encoding="utf-8"))
        (out / protocol.PROBES).mkdir(parents=True, exist_ok=True)
        _put(out / protocol.CELLS, script.cells)
        _put(out / protocol.RUN_SUMMARY, script.summary)
        for spec in plan["probes"]:
            probe = script.respond(spec)
            if probe is not None:
                _put_arrays(protocol.probe_arrays(out, spec["id"]), probe.arrays)
                _put(protocol.probe_record(out, spec["id"]), probe.record)
        for name, data in script.files.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(data)

    def wait(self, seconds: float) -> bool:
        if self.script.timed_out:
            return False
        if self.script.hang:
            return self.killed.wait(seconds)
        return True

    def kill(self) -> None:
        self.killed.set()

    def collect(self) -> Ended:
        code = -9 if self.killed.is_set() else self.script.returncode
        s = self.script
        return Ended(code, s.log_tail, s.oom_killed, s.pids_refused, list(s.notes))


def _put(path: Path, content: Content) -> None:
    if content is None:
        return
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())


def _put_arrays(path: Path, arrays: dict[str, Any] | bytes | None) -> None:
    if arrays is None:
        return
    if isinstance(arrays, bytes):
        path.write_bytes(arrays)
        return
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())
