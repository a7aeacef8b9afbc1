"""The local backend's fork server: ``python -m autograde.backends.local.zygote --fd N --preload a,b``.

Started by the grader (`forkserver.ForkServer`) with a sandbox's minimal environment, it
imports the runner, ipykernel and the course stack once, then forks one child per warm
sandbox on request. The child is what `subprocess.Popen` with the local backend's
`preexec_fn` would have made, minus the exec: a session of its own, the log as stdout and
stderr, nothing else open, in the job's working folder; then the same `ChildSetup` (cgroup,
rlimits, namespaces, read-only file system), the job's environment, and the runner's `main`.
So a warm sandbox costs a fork, not an interpreter start and its imports.

No student code ever runs here, and nothing of a job but its request (paths, environment,
limits) passes through: the fork server is forked, it is never a sandbox. It refuses to fork
while it has a second thread (`forked_kernel.fork_safe`) and ends when the grader's end of
its socket closes.

Requests and replies are JSON packets on a SOCK_SEQPACKET socket; a request carries the
log's and the set-up report's file descriptors (SCM_RIGHTS) and the pickled `ChildSetup`
(from the grader, the only peer).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import pickle
import select
import signal
import socket
import sys
import tempfile
from typing import Any, NoReturn

PACKET = 4 * 2**20
IDLE_LOOK = 1.0  # seconds between looks for ended children when no signal came (a safety net)
OWN_FOLDER = os.getcwd()  # where the fork server runs (its first entry on sys.path)
# imported ahead in the fork server; matplotlib is not: it reads its configuration folder
# from HOME when imported, and HOME is the job's (the runner imports it in the child)
NOT_AHEAD = ("matplotlib",)


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        sock.send(json.dumps(message).encode())


def _reap(sock: socket.socket) -> None:
    from autograde.runner.procs import reap

    for pid, code in reap():
        _send(sock, {"exit": pid, "code": code})


def _child(request: dict[str, Any], log_fd: int, report_fd: int) -> NoReturn:
    from autograde.runner.confine import die_with_parent
    from autograde.runner.forked_kernel import exit_after

    def runner() -> int:
        signal.set_wakeup_fd(-1)  # the server's; its pipe is closed below
        die_with_parent()  # the fork server ends when its grader does: so does every sandbox of it
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.dup2(report_fd, 3)
        os.closerange(4, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 4096)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(number, signal.SIG_DFL)
        os.chdir(request["cwd"])
        setup = pickle.loads(base64.b64decode(request["setup"]))
        setup._read_fd, setup._write_fd = -1, 3
        setup()  # as Popen's preexec_fn would: cgroup, rlimits, namespaces, file system
        setup.close_writer()  # the grader reads the report to its end now
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None  # read again from TMPDIR, the job's
        if sys.path and sys.path[0] == OWN_FOLDER:  # `python -m` put the folder it ran in first
            sys.path[0] = request["cwd"]
        sys.argv = [sys.argv[0], *request["argv"]]
        from autograde.runner.__main__ import main

        return main(request["argv"])

    exit_after(runner)


def _child_exits_wake() -> int:
    """A pipe's read end that becomes readable when a child ends (SIGCHLD through Python's
    wakeup fd): a runner's exit reaches the grader at once, not at the next look."""
    read, write = os.pipe()
    os.set_blocking(read, False)
    os.set_blocking(write, False)
    signal.signal(signal.SIGCHLD, lambda _number, _frame: None)
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    return read


def serve(sock: socket.socket, preload: list[str]) -> None:
    from autograde.runner import __main__ as runner  # noqa: F401  (its imports, for the children)
    from autograde.runner.forked_kernel import fork_safe, preimport

    failed = preimport([m for m in preload if m.split(".")[0] not in NOT_AHEAD])
    wake = _child_exits_wake()
    _send(sock, {"ready": os.getpid(), "failed": failed})
    while True:
        readable, _, _ = select.select([sock.fileno(), wake], [], [], IDLE_LOOK)
        if wake in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(wake, 512)
        _reap(sock)
        if sock.fileno() not in readable:
            continue
        try:
            data, fds, _flags, _addr = socket.recv_fds(sock, PACKET, 2)
        except OSError:
            return
        if not data:
            return  # the grader is gone
        request = json.loads(data)
        why = fork_safe() if len(fds) == 2 else "the request did not carry its two file descriptors"
        if why is None:
            pid = os.fork()
            if pid == 0:
                sock.close()
                _child(request, fds[0], fds[1])
            _send(sock, {"spawned": request["id"], "pid": pid})
        else:
            _send(sock, {"refused": request["id"], "why": why})
        for fd in fds:
            os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(prog="autograde.backends.local.zygote")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--preload", default="")
    args = parser.parse_args()
    sock = socket.socket(fileno=args.fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C of the grader's terminal: the grader decides
    serve(sock, [m for m in args.preload.split(",") if m])


if __name__ == "__main__":
    main()
