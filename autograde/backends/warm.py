"""Warm sandboxes: while one upload is graded, the next one's sandbox is already made.

A `WarmSandbox` is a sandbox of a backend launched in a job folder of its own before its job
exists: confined as every sandbox is, its runner started with ``--warm``, its kernel up in
the working folder with the assignment's heavy modules imported (see `autograde.runner.warm`),
no student code run in it. It is leased at most once, for a job of exactly the `WarmKey` it
was made for (assignment, modules, device, GPU, limits, data folder, hidden folders), and the
runner ends after that one job: no sandbox ever runs a second upload, and none warmed for one
assignment runs another's.

The `WarmPool` of a backend keeps, per key, as many idle sandboxes as leases were ever open at
once (a batch of N workers gets N; one more while a core is left over), and makes a new one
whenever one is leased. A warm-up runs at a low CPU priority where the grader can restore it
(`priority`), so that it does not slow the upload being graded. Idle ones of
other keys are discarded first, so a change of assignment costs no memory for long.
`close_pools` kills every idle sandbox; a batch calls it at its end and atexit does too.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autograde.backends.base import Backend, BackendOptions, Job, Sandbox, SandboxLimits, get_backend
from autograde.backends.forking import forking_enabled
from autograde.backends.priority import warm_nice
from autograde.errors import SandboxError
from autograde.runner import protocol

READY_SECONDS = 120.0  # a leased sandbox still warming is waited for this long, then made cold
POLL_SECONDS = 0.002

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WarmKey:
    """Everything a sandbox is prepared for before its job exists; a job runs only in a warm
    sandbox of its own key."""

    assignment: str
    preload: tuple[str, ...]
    device: str
    gpu: str | None
    limits: SandboxLimits
    data_dir: Path | None
    hidden: tuple[Path, ...]


class WarmSandbox:
    """One sandbox launched ahead of its job (see the module docstring)."""

    def __init__(self, backend: Backend, key: WarmKey) -> None:
        from autograde.backends.local.orphans import job_folder_prefix, write_owner

        self.id = uuid.uuid4().hex
        self.key = key
        self.root = Path(tempfile.mkdtemp(prefix=job_folder_prefix()))
        write_owner(self.root)
        self.job = Job(self.root, key.data_dir, key.limits, key.gpu, key.hidden, warm=True)
        self.job.make_dirs()
        spec = {"version": protocol.PLAN_VERSION, "preload": list(key.preload), "device": key.device,
                "assignment": key.assignment, "sandbox": self.id, "nice": warm_nice(),
                "fork": forking_enabled()}
        (self.job.in_dir / protocol.WARM).write_text(json.dumps(spec), encoding="utf-8")
        self.backend = backend
        self.sandbox: Sandbox | None = None
        self.problem: str | None = None
        self.launched = threading.Event()
        self.leased = False

    def launch(self) -> None:
        """In the pool's launcher thread: open and launch the sandbox (never raises)."""
        sandbox = None
        try:
            sandbox = self.backend.open(self.job)
            sandbox.launch()
            self.sandbox = sandbox
        except Exception as exc:  # the lease falls back to a cold sandbox, with this logged
            self.problem = f"{type(exc).__name__}: {exc}"
            if sandbox is not None:
                with contextlib.suppress(Exception):
                    sandbox.cleanup()
        finally:
            self.launched.set()

    def wait_ready(self, seconds: float) -> bool:
        """True when the runner's kernel is up and waiting for its job."""
        deadline = time.monotonic() + seconds
        if not self.launched.wait(seconds) or self.sandbox is None:
            return False
        while True:
            ready = self.sandbox.ready()
            if ready is not None:
                return ready
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)

    def check_record(self, assignment: str) -> None:
        """After its job: the runner's record of the warm-up names this sandbox and the job's
        assignment, else the grading is refused (SandboxError: a grader error, graded again)."""
        try:
            summary = json.loads((self.job.out_dir / protocol.RUN_SUMMARY).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # no summary: the judge reports the run as it ended
        record = summary.get("warm") if isinstance(summary, dict) else None
        if record is None:
            return  # the runner ended before its warm-up was recorded (a fatal problem, reported)
        made_for = (record.get("sandbox"), record.get("assignment")) if isinstance(record, dict) else None
        if made_for != (self.id, assignment):
            raise SandboxError(
                f"the warm sandbox {self.id} reports it was prepared for {record!r:.200}, not for this "
                f"job of {assignment}: the result is not used"
            )

    def discard(self) -> None:
        """Kill and remove it, unused (idle at the end, broken, or of another key)."""
        self.launched.wait(READY_SECONDS)
        if self.sandbox is not None:
            with contextlib.suppress(Exception):
                self.sandbox.kill()
                self.sandbox.collect()
            with contextlib.suppress(Exception):
                self.sandbox.cleanup()
        self.remove_folder()

    def remove_folder(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class WarmPool:
    """The warm sandboxes of one backend (see the module docstring)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._lock = threading.Lock()
        self._idle: dict[WarmKey, list[WarmSandbox]] = {}
        self._open = 0
        self._peak = 0
        self._closed = False
        self._launcher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="autograde-warm")

    def lease(self, key: WarmKey) -> WarmSandbox | None:
        """A ready warm sandbox of `key` (None: none ready, grade in a cold one), and the next
        one of `key` started. Pair every call with `release`."""
        with self._lock:
            self._open += 1
            self._peak = max(self._peak, self._open)
            idle = self._idle.get(key, [])
            warm = idle.pop(0) if idle else None
            if warm is not None:
                warm.leased = True
        self._refill(key)
        if warm is not None and not warm.wait_ready(READY_SECONDS):
            log.info("a warm sandbox was not ready (%s); grading in a fresh one", warm.problem or "no kernel")
            warm.discard()
            warm = None
        return warm

    def prepare(self, key: WarmKey) -> None:
        """Start sandboxes of `key` now, before any lease asks for one (a check server's first
        check, right after the one its command ran)."""
        self._refill(key)

    def release(self) -> None:
        with self._lock:
            self._open = max(0, self._open - 1)

    def _refill(self, key: WarmKey) -> None:
        """Start sandboxes of `key` up to the peak of open leases; drop idle ones of other keys."""
        with self._lock:
            if self._closed:
                return
            others = [w for k, ws in self._idle.items() if k != key for w in ws]
            for k in [k for k in self._idle if k != key]:
                del self._idle[k]
            idle = self._idle.setdefault(key, [])
            made = []
            while len(idle) < self.depth():
                warm = WarmSandbox(self.backend, key)
                idle.append(warm)
                made.append(warm)
        for warm in others:
            self._launcher.submit(warm.discard)
        for warm in made:
            self._launcher.submit(warm.launch)

    def depth(self) -> int:
        """Idle sandboxes to keep: one per lease open at the peak, and one more while a core is
        left over and warm-ups run at a low priority (two then overlap with the gradings)."""
        spare = (os.cpu_count() or 1) > self._peak and warm_nice() > 0
        return max(1, self._peak + spare)

    def idle(self) -> list[WarmSandbox]:
        with self._lock:
            return [w for ws in self._idle.values() for w in ws]

    def close(self) -> None:
        """Discard every idle sandbox (waiting for those still launching); the pool takes new
        leases afterwards, cold, and warms again."""
        with self._lock:
            idle = [w for ws in self._idle.values() for w in ws]
            self._idle.clear()
        for warm in idle:
            warm.discard()
        self.backend.close()


_POOLS: dict[tuple[str, str | None, bool], WarmPool] = {}
_POOLS_LOCK = threading.Lock()


def pool_for(backend: str, options: BackendOptions) -> WarmPool:
    """The process's pool of a backend with these options (made on first use)."""
    key = (backend, options.image, options.gpu)
    with _POOLS_LOCK:
        if key not in _POOLS:
            _POOLS[key] = WarmPool(get_backend(backend, BackendOptions(image=options.image, gpu=options.gpu)))
        return _POOLS[key]


def close_pools() -> None:
    """Kill every idle warm sandbox of every pool of this process."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
    for pool in pools:
        pool.close()


atexit.register(close_pools)
