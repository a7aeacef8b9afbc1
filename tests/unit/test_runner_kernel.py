"""How a kernel session translates what goes wrong: only what the kernel can cause becomes an
outcome; a bug of the grader propagates (the host then reports a grader error with the
traceback, never a student's crashed cell). The nbclient client is a stand-in here."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import zmq
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from autograde.runner import kernel
from autograde.runner.kernel import KernelMessageError, KernelSession


def session_raising(tmp_path: Any, error: BaseException) -> KernelSession:
    session = KernelSession(str(tmp_path), str(tmp_path))

    def execute_cell(*args: Any, **kwargs: Any) -> None:
        raise error

    session.client.execute_cell = execute_cell  # type: ignore[method-assign]
    return session


@pytest.mark.parametrize("error", [DeadKernelError("Kernel died"), zmq.ZMQError(zmq.ENOTSOCK),
                                   ConnectionResetError("reset"),
                                   KernelMessageError("the kernel sent a malformed message")],
                         ids=["dead", "zmq", "socket", "malformed"])
def test_a_lost_kernel_is_a_crashed_outcome(tmp_path, error):
    outcome = session_raising(tmp_path, error).run_code("x = 1", 5)
    assert outcome.status == "crashed"


@pytest.mark.parametrize("error", [TypeError("a grader bug"), KeyError("cells"), AttributeError("nb"),
                                   NameError("undefined")], ids=["type", "key", "attribute", "name"])
def test_a_grader_bug_is_not_hidden_as_a_crash(tmp_path, error):
    with pytest.raises(type(error)):
        session_raising(tmp_path, error).run_code("x = 1", 5)


def test_a_timeout_asks_whether_the_kernel_survived(tmp_path, monkeypatch):
    session = session_raising(tmp_path, CellTimeoutError("Cell execution timed out"))
    monkeypatch.setattr(KernelSession, "_after_timeout", lambda self: "timeout")
    assert session.run_code("while True: pass", 1).status == "timeout"


def test_an_interrupt_that_finds_no_kernel_is_unresponsive_a_bug_in_it_is_not(tmp_path, monkeypatch):
    session = KernelSession(str(tmp_path), str(tmp_path))
    monkeypatch.setattr(KernelSession, "_km", property(lambda self: SimpleNamespace(interrupt_kernel=None)))

    def no_kernel() -> None:
        raise RuntimeError("Cannot interrupt kernel. No kernel is running!")

    monkeypatch.setattr(kernel, "run_sync", lambda function: no_kernel)
    assert session._after_timeout() == "unresponsive"

    def bug() -> None:
        raise AttributeError("'NoneType' object has no attribute 'interrupt_kernel'")

    monkeypatch.setattr(kernel, "run_sync", lambda function: bug)
    with pytest.raises(AttributeError):
        session._after_timeout()


def test_a_malformed_message_from_the_kernel_is_the_kernels_fault(tmp_path):
    import nbformat

    client = KernelSession(str(tmp_path), str(tmp_path)).client
    cell = nbformat.v4.new_code_cell("display(...)")
    message = {"msg_type": "display_data", "header": {"msg_type": "display_data"},
               "parent_header": {}, "content": {"data": 5, "metadata": {}}}
    with pytest.raises(KernelMessageError, match="display_data"):
        client.process_message(message, cell, 0)


def test_stop_after_nbclient_gave_the_kernel_up(tmp_path):
    """A reconnect that fails makes nbclient shut the kernel down and drop its manager; the
    session's stop() then has nothing left to shut down (the blanket catch hid this)."""
    session = KernelSession(str(tmp_path), str(tmp_path))
    session._started = True
    assert session.client.km is None
    session.stop()
    assert not session._started
