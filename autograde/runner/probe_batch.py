"""Many probes in one execute request: the harness's log of a batch, and the watchdog that
gives each probe of a running batch its own time limit.

The harness (`run_batch`) appends "<id> TAB <seconds>" to the batch's log after each probe
has written its record. The watchdog reads the log as it grows: the probe after the last one
logged is the one running, since the previous one ended (or the batch began). Past its time
limit it gets what a probe alone gets on a timeout: an interrupt, what it spawned killed, and,
when it ignores the interrupt, the kernel killed (the batch's request then ends as a crash).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograde.runner import procs
from autograde.runner.kernel import RESPONSIVE_SECONDS

POLL_SECONDS = 0.05


def read_log(path: Path) -> dict[str, float]:
    """The probes a batch's log says finished, with the harness's seconds for each; lines the
    notebook may have garbled are left out (their probes count as not finished)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    done: dict[str, float] = {}
    for line in text.splitlines():
        probe_id, _, seconds = line.partition("\t")
        with contextlib.suppress(ValueError):
            done.setdefault(probe_id, float(seconds))
    return done


@dataclass
class Overrun:
    """A probe of the batch that ran past its time limit."""

    probe_id: str
    seconds: float  # from its start until it ended or its kernel was killed
    killed: bool = False  # it ignored the interrupt and the kernel was killed


@dataclass
class Watchdog:
    """Watches one batch (`order`: probe ids with their time limits) on the kernel `pid`."""

    log: Path
    order: list[tuple[str, float]]
    pid: int | None
    overruns: dict[str, Overrun] = field(default_factory=dict)
    since: float = field(default_factory=time.monotonic)  # when the running probe began
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> bool:
        """Start watching (the batch's request goes next); False when no thread can be had:
        the notebook left the sandbox at its process limit (threads count)."""
        self.since = time.monotonic()
        self._thread = threading.Thread(target=self._watch, name="probe-watchdog", daemon=True)
        try:
            self._thread.start()
        except RuntimeError:
            self._thread = None
            return False
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def running(self, done: dict[str, float]) -> tuple[int, float]:
        """The index in `order` of the probe after the finished ones, and its seconds so far."""
        index = 0
        while index < len(self.order) and self.order[index][0] in done:
            index += 1
        return index, time.monotonic() - self.since

    def _watch(self) -> None:
        index = 0
        interrupted_at: float | None = None
        while not self._stop.wait(POLL_SECONDS):
            now, at = time.monotonic(), self.running(read_log(self.log))[0]
            if at != index:  # the probe that ran ended: the next one starts its clock
                if interrupted_at is not None:
                    self.overruns[self.order[index][0]].seconds = now - self.since
                index, self.since, interrupted_at = at, now, None
            if index >= len(self.order):
                return
            probe_id, limit = self.order[index]
            if interrupted_at is None and now - self.since > limit:
                self.overruns[probe_id] = Overrun(probe_id, now - self.since)
                interrupted_at = now
                self._signal(signal.SIGINT)
                procs.kill_descendants(keep=self.pid)
            elif interrupted_at is not None and now - interrupted_at > RESPONSIVE_SECONDS:
                self.overruns[probe_id].seconds = now - self.since
                self.overruns[probe_id].killed = True
                self._signal(signal.SIGKILL)
                return

    def _signal(self, signum: int) -> None:
        """To the kernel's process group, as jupyter_client interrupts and the runner kills."""
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)
