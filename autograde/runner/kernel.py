"""One Jupyter kernel driven through nbclient, with the three ways a cell can end badly.

`run_code` returns an `Outcome` instead of raising: ``ok``, ``error`` (the cell raised),
``timeout`` (interrupted and the kernel answered again), ``unresponsive`` (interrupt
failed; the caller must restart) or ``crashed`` (the kernel died, its connection broke, or
it sent a message the protocol does not allow). Only what the kernel can cause is
translated: anything else is a bug of the grader and propagates with its traceback.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from queue import Empty
from typing import Any

import nbformat
import zmq
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellControlSignal, CellTimeoutError, DeadKernelError
from nbformat import ValidationError

from autograde.runner import procs
from autograde.runner.forked_kernel import ForkedProvisioner, fork_kernel, fork_safe

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ARROW = re.compile(r"^-*>\s*(\d+)\s(.*)$")
RESPONSIVE_SECONDS = 5.0
REAP_SECONDS = 5.0  # a killed kernel is reaped within this (as jupyter_client waits)
STARTUP_SECONDS = 120
RECONNECT_MS = 5
RECEIVE_QUEUE = 64  # messages the runner's sockets hold before the kernel's side must wait
CELL_OUTPUT_BYTES = 2 * 2**20  # what one cell's outputs may hold while it runs
DROPPED = "[autograde: further output of this cell dropped, over {limit} bytes]\n"


# The kernel's process or sockets are gone (zmq and the OS say so mid-cell).
CONNECTION_LOST = (zmq.ZMQError, OSError)
# What jupyter_client raises when a kernel does not answer: "Kernel didn't respond in N
# seconds", "Kernel died before replying to kernel_info" (RuntimeError), or a timeout.
NO_ANSWER = (RuntimeError, TimeoutError)
# A kernel that could not be started, reconnected or stopped.
KERNEL_FAILURES = (*CONNECTION_LOST, *NO_ANSWER)


class KernelMessageError(Exception):
    """The kernel sent a message its protocol does not allow (a hostile notebook can)."""


def _size(msg: dict[str, Any]) -> int:
    content = msg.get("content")
    if not isinstance(content, dict):
        return 0  # nbclient then refuses the message as malformed
    size = len(str(content.get("text", "")))
    data = content.get("data")
    for value in data.values() if isinstance(data, dict) else ():
        size += len(value) if isinstance(value, str) else len(str(value))
    traceback = content.get("traceback")
    lines = traceback if isinstance(traceback, list) else []
    return size + sum(len(str(line)) for line in lines)


class CappedClient(NotebookClient):
    """An nbclient that keeps at most `budget` bytes of one cell's outputs in memory while
    the cell runs (a print loop or a huge image would otherwise fill the runner's memory)."""

    budget = CELL_OUTPUT_BYTES
    used = 0
    dropped = False

    def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
        """nbclient's reading of one message from the kernel; one whose content does not
        follow the message spec becomes a KernelMessageError (the kernel's fault)."""
        try:
            return super().process_message(msg, cell, cell_index)
        except CellControlSignal:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, ValidationError) as exc:
            kind = msg.get("msg_type") if isinstance(msg, dict) else None
            raise KernelMessageError(f"the kernel sent a malformed {kind!r} message ({exc!r:.300})") from exc

    def output(self, outs: list[Any], msg: dict[str, Any], display_id: str | None, cell_index: int) -> Any:
        size = _size(msg)
        if self.used + size > self.budget:
            if not self.dropped:
                self.dropped = True
                outs.append(nbformat.v4.new_output("stream", name="stderr",
                                                   text=DROPPED.format(limit=self.budget)))
            return None
        self.used += size
        return super().output(outs, msg, display_id, cell_index)


@dataclass
class Outcome:
    status: str  # ok | error | timeout | unresponsive | crashed
    seconds: float = 0.0
    ename: str | None = None
    evalue: str | None = None
    line: str | None = None
    outputs: list[Any] = field(default_factory=list)


async def _wait_for_ready(kc: Any, timeout: float) -> None:
    """A kernel_info reply on shell, and a message on IOPub (it is subscribed); RuntimeError
    when the kernel dies first or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        kc.kernel_info()
        try:
            reply = await kc.shell_channel.get_msg(timeout=1)
        except Empty:
            pass
        else:
            if reply["msg_type"] == "kernel_info_reply":
                try:
                    await kc.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass  # IOPub not subscribed yet: ask again
                else:
                    kc._handle_kernel_info_reply(reply)
                    return
        if not await kc.is_alive():
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


def _error_line(traceback: list[str]) -> str | None:
    """The '----> 3 x = 1/0' line of an IPython traceback: where in the cell it failed."""
    found = None
    for chunk in traceback:
        for raw in _ANSI.sub("", chunk).splitlines():
            match = _ARROW.match(raw.strip())
            if match:
                found = f"line {match.group(1)}: {match.group(2).strip()}"
    return found


class KernelSession:
    """Starts a python3 kernel in `cwd`, runs code, and kills it (and its process group).
    `fork`: fork it from this process where that is safe (`forked_kernel`), else start it."""

    def __init__(self, cwd: str, runtime_dir: str, fork: bool = False) -> None:
        self.cwd = cwd
        self.runtime_dir = runtime_dir
        self.fork = fork
        self.forked = False
        self.nb = nbformat.v4.new_notebook()
        self.client = CappedClient(
            self.nb,
            kernel_name="python3",  # the grader's own: a notebook's kernelspec is replaced on ingest
            allow_errors=True,
            interrupt_on_timeout=False,
            record_timing=False,
            startup_timeout=STARTUP_SECONDS,
            resources={"metadata": {"path": cwd}},
        )
        self._started = False
        self._first_pid: int | None = None  # kept: nbclient drops its manager on a failed reconnect

    def start(self) -> None:
        km = self.client.create_kernel_manager()
        km.transport = "ipc"  # no TCP port: other processes on the host cannot reach it
        # a flood of output queues in the kernel (first for the OOM killer), not in the runner
        km.context.setsockopt(zmq.RCVHWM, RECEIVE_QUEUE)
        km.ip = os.path.join(self.runtime_dir, f"kernel-{os.getpid()}-{id(self)}")
        self.client.km = km
        if self.fork and fork_safe() is None:
            self._fork_kernel(km)
        else:
            self.client.start_new_kernel(cwd=self.cwd)
        self._first_pid = self.pid
        self._connect(STARTUP_SECONDS)
        self._started = True

    def _connect(self, timeout: float) -> None:
        """nbclient's start_new_kernel_client, but ready as soon as the kernel answered on
        shell and IOPub (jupyter_client's wait_for_ready then waits until IOPub has been
        silent for 0.2 s; a later request's messages are told apart by their parent anyway)."""
        kc: Any = self._km.client()
        self.client.kc = kc
        # it connects before the kernel has bound its sockets: look again within milliseconds,
        # not zmq's default 100 ms (a kernel start waited for two of those)
        kc.context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)
        kc.start_channels()
        run_sync(_wait_for_ready)(kc, timeout)
        kc.allow_stdin = False

    def _fork_kernel(self, km: Any) -> None:
        km.write_connection_file()  # as the provisioner's pre_launch writes it
        pid = fork_kernel(km.connection_file, self.cwd)
        provisioner = ForkedProvisioner(kernel_id=str(uuid.uuid4()), kernel_spec=km.kernel_spec, parent=km)
        provisioner.adopt(pid, km.get_connection_info())
        km.provisioner = provisioner
        self.forked = True

    @property
    def _km(self) -> Any:
        return self.client.km

    @property
    def pid(self) -> int | None:
        km = self.client.km
        provisioner = getattr(km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return getattr(process, "pid", None)

    def run_code(self, source: str, timeout: float) -> Outcome:
        cell = nbformat.v4.new_code_cell(source)
        self.nb.cells = [cell]
        self.client.timeout = max(1, round(timeout))
        self.client.used, self.client.dropped = 0, False
        started = time.monotonic()
        try:
            self.client.execute_cell(cell, 0, store_history=False)
        except CellTimeoutError:
            return Outcome(self._after_timeout(), time.monotonic() - started)
        except DeadKernelError:
            return Outcome("crashed", time.monotonic() - started)
        except (*CONNECTION_LOST, KernelMessageError) as exc:  # the kernel is no longer usable
            return Outcome(
                "crashed", time.monotonic() - started, ename=type(exc).__name__, evalue=str(exc)[:500]
            )
        elapsed = time.monotonic() - started
        for output in cell.outputs:
            if output.get("output_type") == "error":
                return Outcome(
                    "error",
                    elapsed,
                    ename=output.get("ename"),
                    evalue=str(output.get("evalue", ""))[:2000],
                    line=_error_line(output.get("traceback", [])),
                    outputs=cell.outputs,
                )
        return Outcome("ok", elapsed, outputs=cell.outputs)

    def _after_timeout(self) -> str:
        """Interrupt; if the kernel answers a trivial request again, it survived. What the
        timed-out cell started (a fork bomb's copies, stray workers) is killed first: a
        sandbox full of them leaves no room for the new client's threads."""
        try:
            run_sync(self._km.interrupt_kernel)()
            procs.kill_descendants(keep=self.pid)
            # The timed-out cell's cancelled pollers leave the old channels unreliable
            # (later cells then wait for output until the iopub timeout): reconnect.
            old_client: Any = self.client.kc
            with contextlib.suppress(*KERNEL_FAILURES):
                old_client.stop_channels()
            # The new client waits for a kernel_info reply; a kernel still spinning in the
            # cell never sends one, so wait only as long as the responsiveness check.
            self._connect(RESPONSIVE_SECONDS)
        except KERNEL_FAILURES:
            return "unresponsive"
        probe = nbformat.v4.new_code_cell("pass")
        self.nb.cells = [probe]
        self.client.timeout = int(RESPONSIVE_SECONDS)
        try:
            self.client.execute_cell(probe, 0, store_history=False)
        except (CellTimeoutError, DeadKernelError, *CONNECTION_LOST, KernelMessageError):
            return "unresponsive"
        return "timeout"

    def stop(self) -> None:
        """Kill the kernel's whole process group; never waits on a hostile kernel."""
        if not self._started:
            return
        self._started = False
        pid = self.pid or self._first_pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(*KERNEL_FAILURES):
            if self.client.kc is not None:
                self.client.kc.stop_channels()
        km: Any = self.client.km  # None when nbclient gave the kernel up (a failed reconnect)
        if km is not None:
            # reaped here, at once (jupyter_client's shutdown looks again only every 100 ms
            # and then sleeps); only a kernel that does not end goes through its shutdown
            process = getattr(getattr(km, "provisioner", None), "process", None)
            reaped = False
            if process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired, OSError):
                    reaped = process.wait(timeout=REAP_SECONDS) is not None
            if not reaped:
                with contextlib.suppress(*KERNEL_FAILURES):
                    run_sync(km.shutdown_kernel)(now=True)
            with contextlib.suppress(*KERNEL_FAILURES):
                run_sync(km.cleanup_resources)()
