"""Run every code cell of a notebook, continuing past errors, surviving hangs and crashes.

A cell that hangs beyond the interrupt, or kills the kernel, is marked and the notebook is
replayed from the top on a fresh kernel with the offending cells skipped: what was defined
before (and after) it is still graded; only what depended on that cell is lost. A probe
that loses the kernel gets the same replay, when the runner's deadline leaves time for it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from autograde.runner import procs
from autograde.runner.kernel import KERNEL_FAILURES, KernelSession, Outcome
from autograde.runner.protocol import CellStatus


class KernelStartError(Exception):
    """No kernel could be started (the sandbox is full of what the notebook left running)."""


class _OutOfTime(Exception):
    """The deadline came while the notebook was being replayed."""

LOST = {"unresponsive", "crashed"}


@dataclass
class CellRecord:
    index: int  # position in the executed (parameterized) notebook
    number: int | None  # 1-based cell number in the student's own notebook (None: injected)
    tags: list[str]
    status: str  # a protocol.CellStatus
    seconds: float = 0.0
    ename: str | None = None
    evalue: str | None = None
    line: str | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class NotebookRun:
    """Owns the kernel for the notebook phase and the probe phase that follows it."""

    def __init__(
        self,
        nb: Any,
        cwd: str,
        runtime_dir: str,
        cell_timeout: float,
        max_replays: int,
        deadline: float,
        on_kernel_ready: Callable[[KernelSession], None],
        prelude: str | None = None,
    ) -> None:
        self.nb = nb
        self.cwd = cwd
        self.runtime_dir = runtime_dir
        self.cell_timeout = cell_timeout
        self.max_replays = max_replays
        self.deadline = deadline
        self.on_kernel_ready = on_kernel_ready
        self.prelude = prelude  # runs on every fresh kernel before the first cell
        self.session: KernelSession | None = None
        self._adopted = False  # `session` was started ahead (a warm sandbox) and is still unused
        self.fork_first = False  # fork the first kernel from this process (a replay's is started)
        self.kernels: list[str] = []  # how each kernel came to be: warm, forked, started
        self.gone: str | None = None  # why no kernel is left for the remaining probes
        self.startup_seconds = 0.0  # what the last fresh kernel took to start
        self.bad: set[int] = set()
        self.replays = 0
        self.records: dict[int, CellRecord] = {}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                meta = cell.metadata.get("autograde", {})
                self.records[index] = CellRecord(
                    index=index,
                    number=meta.get("cell"),
                    tags=list(cell.metadata.get("tags", [])),
                    status=CellStatus.NOT_RUN,
                )

    # -- kernel lifecycle --------------------------------------------------------------
    def adopt(self, session: KernelSession, startup_seconds: float) -> None:
        """Use a kernel started ahead of the job (no code of any notebook has run in it) for the
        first pass."""
        self.session, self._adopted, self.startup_seconds = session, True, startup_seconds

    def _fresh_kernel(self) -> KernelSession:
        """A new kernel, after every process the old one left (a fork bomb's copies come back
        to the runner, a subreaper) is killed. Raises KernelStartError when none starts."""
        if self._adopted and self.session is not None:
            self._adopted = False
            if self.session.run_code(self.prelude or "pass", 120).status == "ok":
                self.kernels.append("warm")
                return self.session  # else it died while it waited: a fresh one below
        if self.session is not None:
            self.session.stop()
        self.session = None
        procs.kill_descendants()
        started = time.monotonic()
        session = KernelSession(self.cwd, self.runtime_dir, fork=self.fork_first)
        self.fork_first = False
        try:
            session.start()
        except KERNEL_FAILURES as exc:
            with contextlib.suppress(*KERNEL_FAILURES):
                session.stop()
            procs.kill_descendants()
            raise KernelStartError(f"a fresh kernel did not start ({type(exc).__name__}: {exc})") from None
        self.session = session
        self.kernels.append("forked" if session.forked else "started")
        if self.prelude:
            self.session.run_code(self.prelude, 120)
        self.startup_seconds = time.monotonic() - started
        return self.session

    def close(self) -> None:
        if self.session is not None:
            self.session.stop()
            self.session = None

    # -- the notebook phase ------------------------------------------------------------
    def execute(self) -> None:
        while True:
            lost_at = self._pass()
            if lost_at is None:
                return
            self.bad.add(lost_at)
            if self.replays >= self.max_replays:
                self._mark_rest(lost_at, "not run: the kernel was lost too often (replay budget)")
                return
            self.replays += 1

    def _pass(self) -> int | None:
        """One pass over the notebook on a fresh kernel; the index of a lost cell, if any."""
        try:
            session = self._fresh_kernel()
        except KernelStartError as exc:
            self._mark_rest(-1, f"not run: {exc}")
            return None
        for index, record in self.records.items():
            if index in self.bad:
                continue
            if time.monotonic() >= self.deadline:
                self._mark_rest(index - 1, "not run: the submission's time limit was reached")
                return None
            outcome = session.run_code(self.nb.cells[index].source, self.cell_timeout)
            self._record(record, outcome)
            if outcome.status in LOST:
                return index
        self.on_kernel_ready(session)
        return None

    def _record(self, record: CellRecord, outcome: Outcome) -> None:
        record.seconds = round(outcome.seconds, 3)
        record.ename, record.evalue, record.line = outcome.ename, outcome.evalue, outcome.line
        record.note = None
        if outcome.status == "unresponsive":
            record.status = CellStatus.TIMEOUT
            record.note = (
                f"ran over {self.cell_timeout:g}s and ignored the interrupt; "
                "the notebook was re-run without this cell"
            )
        elif outcome.status == "crashed":
            record.status = CellStatus.CRASHED
            record.note = "the kernel died in this cell; the notebook was re-run without it"
        elif outcome.status == "timeout":
            record.status = CellStatus.TIMEOUT
            record.note = f"interrupted after {self.cell_timeout:g}s"
        else:
            record.status = CellStatus(outcome.status)  # ok or error
        self.nb.cells[record.index].outputs = outcome.outputs

    def mark_all(self, note: str) -> None:
        self._mark_rest(-1, note)

    def _mark_rest(self, after: int, note: str) -> None:
        for index, record in self.records.items():
            if index > after and index not in self.bad:
                record.status, record.note, record.seconds = CellStatus.NOT_RUN, note, 0.0

    # -- the probe phase ---------------------------------------------------------------
    def run_probe(self, code: str, timeout: float, what: str) -> Outcome:
        """Run the probe of `what` (a target, for messages); if it loses the kernel, rebuild
        the notebook state for the next one."""
        assert self.session is not None
        outcome = self.session.run_code(code, timeout)
        self.recover_after(outcome.status, what)
        return outcome

    def recover_after(self, status: str, what: str) -> None:
        """Rebuild the notebook state when the probe of `what` ended `status` with the kernel
        lost (crashed, or unresponsive: killed); nothing otherwise."""
        if status == "crashed":
            self.recover(f"the kernel died while {what} was being checked")
        elif status == "unresponsive":
            self.recover(f"the check of {what} ignored the interrupt and its kernel was killed")

    def recover(self, lost_in: str) -> None:
        """A fresh kernel with the notebook replayed (known-bad cells skipped). No session,
        and the reason in `gone`, when no kernel starts or the deadline leaves no time."""
        left = self.deadline - time.monotonic()
        need = self.replay_seconds()
        try:
            if need > left:
                raise _OutOfTime(
                    f"the {max(left, 0):.0f}s left of the time limit did not allow replaying the "
                    f"notebook (about {need:.0f}s)"
                )
            self._recover()
        except (KernelStartError, _OutOfTime) as exc:
            self.close()
            self.gone = f"{lost_in}, and {exc}"

    def replay_seconds(self) -> float:
        """What a replay for the probes costs: a kernel start and the cells it re-runs."""
        return self.startup_seconds + sum(self.records[index].seconds for index in self._replayed())

    def _replayed(self) -> list[int]:
        return [
            index
            for index, record in self.records.items()
            if index not in self.bad and record.status not in {CellStatus.NOT_RUN, CellStatus.CRASHED}
        ]

    def _recover(self) -> None:
        session = self._fresh_kernel()
        for index in self._replayed():
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise _OutOfTime("the time limit was reached while the notebook was replayed")
            outcome = session.run_code(self.nb.cells[index].source, min(self.cell_timeout, left))
            if outcome.status in LOST:
                session = self._fresh_kernel()
        self.on_kernel_ready(session)

    def cell_records(self) -> list[dict[str, Any]]:
        for index in self.bad:
            if self.records[index].status not in {CellStatus.TIMEOUT, CellStatus.CRASHED}:
                self.records[index].status = CellStatus.SKIPPED
        return [record.to_json() for record in self.records.values()]
