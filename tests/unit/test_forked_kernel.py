"""When a process may fork a kernel: never with a second thread running."""

from __future__ import annotations

import sys
import threading
import types

import pytest

from autograde.runner import forked_kernel
from autograde.runner.forked_kernel import ForkedProcess, fork_safe


def test_no_fork_while_another_thread_runs() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        why = fork_safe()
        assert why is not None and "threads run" in why
    finally:
        stop.set()
        thread.join()


def test_a_forked_process_reports_how_it_ended() -> None:
    import os

    pid = os.fork()
    if pid == 0:
        os._exit(3)
    process = ForkedProcess(pid)
    assert process.wait(timeout=10) == 3
    assert process.poll() == 3
    process.kill()  # gone already: nothing happens


def test_no_fork_once_cuda_is_initialised(monkeypatch: pytest.MonkeyPatch) -> None:
    """A GPU job's runner imports torch before it forks the kernel, but never initialises CUDA;
    if something did, the kernel would be started, not forked."""
    fake = types.ModuleType("torch")
    fake.cuda = types.SimpleNamespace(is_initialized=lambda: True)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", fake)
    monkeypatch.setattr(forked_kernel, "thread_count", lambda: 1)  # other tests may leave threads
    assert fork_safe() == "CUDA is initialised"
    fake.cuda = types.SimpleNamespace(is_initialized=lambda: False)  # type: ignore[attr-defined]
    assert fork_safe() is None
