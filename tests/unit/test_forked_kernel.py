"""When a process may fork a kernel: never with a second thread running."""

from __future__ import annotations

import threading

from autograde.runner.forked_kernel import ForkedProcess, fork_safe


def test_no_fork_while_another_thread_runs() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        why = fork_safe()
        assert why is not None and "threads" in why
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
