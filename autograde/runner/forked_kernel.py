"""A kernel forked from the runner instead of started as a new interpreter: what the runner
imported (ipykernel, numpy, torch, ...) the kernel has without importing it again.

The kernel is still the kernel Jupyter starts: ipykernel's `IPKernelApp`, given the same
command line and connection file as ``python -m ipykernel_launcher -f FILE``, in a session of
its own, in the working folder, with the launcher's `sys.path`. It is adopted by jupyter_client
through a provisioner (`ForkedProvisioner`) whose process is the forked child, so that
interrupts, `is_alive` and shutdown work as for any kernel.

A fork is only safe from a single-threaded process that has made no zmq socket and no CUDA
context: `fork_safe` says why not otherwise, and the runner then starts the kernel as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from autograde.runner.procs import wait_until


def thread_count() -> int:
    """This process's threads (the kernel's view where /proc has it: C libraries start some)."""
    count = threading.active_count()
    with contextlib.suppress(OSError):
        count = max(count, len(os.listdir("/proc/self/task")))
    return count


def fork_safe() -> str | None:
    """Why this process may not fork a kernel now (None: it may)."""
    if not hasattr(os, "fork"):
        return "no fork() on this platform"
    threads = thread_count()
    if threads > 1:
        return f"{threads} threads run"
    torch = sys.modules.get("torch")
    if torch is not None:
        with contextlib.suppress(Exception):
            if torch.cuda.is_initialized():
                return "CUDA is initialised"
    return None


# what a kernel imports as it initialises, beyond ipykernel's own modules (~10 ms a kernel)
KERNEL_START = ("IPython.core.completerlib", "IPython.core.debugger", "IPython.core.logger",
                "IPython.core.oinspect", "IPython.extensions.storemagic", "sqlite3", "pdb",
                "tornado.platform.asyncio")


QUIET_DEBUGGER = "PYDEVD_DISABLE_FILE_VALIDATION"
_IMPORT_ENV: dict[str, str] = {}


def preimport(modules: list[str]) -> list[str]:
    """Import ipykernel and `modules` in this process, for the kernels forked from it; the
    modules that failed (the notebook meets them itself)."""
    import ipykernel.ipkernel
    import ipykernel.kernelapp

    # what IPythonKernel imports as it starts (debugpy, ~50 ms); its import-time warning about
    # frozen modules is not for the grader's terminal
    before = dict(os.environ)
    os.environ.setdefault(QUIET_DEBUGGER, "1")
    try:
        import ipykernel.debugger  # noqa: F401
    finally:
        if QUIET_DEBUGGER not in before:
            del os.environ[QUIET_DEBUGGER]
    # what that import sets in the environment (PYDEVD_USE_FRAME_EVAL), a started kernel has:
    # kept, and set again in a process that imported it earlier under another environment
    # (a fork server's runner gets the job's)
    _IMPORT_ENV.update({k: v for k, v in os.environ.items() if before.get(k) != v})
    os.environ.update(_IMPORT_ENV)
    for module in KERNEL_START:
        with contextlib.suppress(Exception):
            __import__(module)
    failed = []
    for module in modules:
        try:
            __import__(module)
        except Exception:
            failed.append(module)
    return failed


class ForkedProcess:
    """The `subprocess.Popen` face jupyter_client's provisioner needs, over a forked child."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                done, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere (the runner kills and reaps what is left)
                self.returncode = -signal.SIGKILL
            else:
                if done:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        wait_until(lambda: self.poll() is not None, timeout)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkedProvisioner(LocalProvisioner):
    """A local provisioner whose kernel was forked before the manager knew of it."""

    def adopt(self, pid: int, connection_info: Any) -> None:
        self.process = ForkedProcess(pid)  # type: ignore[assignment]
        self.pid = self.pgid = pid  # the kernel leads a session of its own
        self.connection_info = connection_info

    async def wait(self) -> int | None:
        """Until the kernel is gone: polled within milliseconds (the base class sleeps 100 ms
        between looks, after the runner has already killed it)."""
        ret = 0
        if self.process is not None:
            ret = self.process.wait(timeout=5.0) or 0
            self.process = None
        return ret


def fork_kernel(connection_file: str, cwd: str) -> int:
    """Fork; the child becomes the kernel of `connection_file` and never returns."""
    pid = os.fork()
    if pid == 0:
        _be_the_kernel(connection_file, cwd)
    return pid


def exit_after(body: Callable[[], int | None]) -> NoReturn:
    """In a forked child: run `body`, print what it raised, flush, and end the process with
    its code (never returning into the parent's code, never running its exit handlers)."""
    code = 1
    try:
        code = body() or 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _be_the_kernel(connection_file: str, cwd: str) -> NoReturn:
    def kernel() -> int:
        from autograde.runner.confine import set_process_name

        os.setsid()
        set_process_name("ipykernel")  # its command line is still the runner's
        os.chdir(cwd)
        asyncio.set_event_loop_policy(None)  # nothing of the runner's event loop
        parent = os.getppid()
        os.environ["JPY_PARENT_PID"] = str(parent)  # as jupyter_client's launcher sets it
        from ipykernel.kernelapp import IPKernelApp

        # as ipykernel_launcher: the runner's own folder is not on the path, and
        # InteractiveShellApp.init_path puts the working folder ('') first
        if sys.path and (sys.path[0] == "" or Path(sys.path[0]).resolve() == Path.cwd().resolve()):
            del sys.path[0]
        launcher = importlib.util.find_spec("ipykernel_launcher")
        sys.argv = [str(launcher.origin if launcher else "ipykernel_launcher.py"), "-f", connection_file]
        app = IPKernelApp.instance(parent_handle=parent)
        app.initialize(sys.argv[1:])  # type: ignore[no-untyped-call]
        app.start()  # type: ignore[no-untyped-call]
        return 0

    exit_after(kernel)
