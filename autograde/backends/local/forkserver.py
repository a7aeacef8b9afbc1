"""The grader's side of the local fork server (`zygote`): start it, ask it for a sandbox's
runner, and follow that runner as one follows a `subprocess.Popen`.

The runner is the fork server's child, not the grader's: its exit status comes back as a
message, read by a thread of this object; killing it is a signal to its session, as before.
When the fork server cannot fork (it refused, died, or never came up), `spawn` returns None
and the sandbox is started the usual way.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from autograde.backends.local.isolation import ChildSetup
from autograde.runner import procs

START_SECONDS = 120.0
SPAWN_SECONDS = 30.0

log = logging.getLogger(__name__)


class ForkedRunner:
    """What `LocalSandbox` needs of a `subprocess.Popen`, for a runner the fork server made."""

    def __init__(self, pid: int, server: ForkServer) -> None:
        self.pid = pid
        self.server = server
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        code = self.server.wait_exit(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired(f"runner {self.pid}", timeout or 0)
        self.returncode = code
        return code

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGKILL)


class ForkServer:
    """One fork server with `preload` imported, started with `env`."""

    def __init__(self, preload: tuple[str, ...], env: dict[str, str]) -> None:
        self.preload = preload
        self.home = tempfile.mkdtemp(prefix="autograde-zygote-")
        env = {**env, "HOME": self.home, "TMPDIR": self.home}
        env["IPYTHONDIR"] = os.path.join(self.home, ".ipython")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        self._lock = threading.Lock()  # one request at a time
        self._cond = threading.Condition()
        self._replies: dict[str, dict[str, Any]] = {}
        self._exits: dict[int, int] = {}
        self._next = 0
        self.alive = False
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "autograde.backends.local.zygote", "--fd", str(theirs.fileno()),
                 "--preload", ",".join(preload)],
                pass_fds=[theirs.fileno()], env=env, cwd=self.home, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, start_new_session=True,
            )
        finally:
            theirs.close()
        self._reader = threading.Thread(target=self._read, name="autograde-forkserver", daemon=True)
        self._reader.start()
        self.alive = self._reply("ready", START_SECONDS) is not None

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            message = json.loads(data)
            with self._cond:
                if "exit" in message:
                    self._exits[int(message["exit"])] = int(message["code"])
                else:
                    key = str(message.get("spawned") or message.get("refused") or "ready")
                    self._replies[key] = message
                self._cond.notify_all()
        with self._cond:
            self.alive = False
            self._cond.notify_all()

    def _reply(self, key: str, seconds: float) -> dict[str, Any] | None:
        """The reply to request `key` ("ready": the start), or None when none came in time
        or the fork server is gone."""
        deadline = time.monotonic() + seconds
        with self._cond:
            while key not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    return None
                self._cond.wait(min(left, 0.5))
            return self._replies.pop(key)

    def spawn(
        self, argv: list[str], env: dict[str, str], cwd: str, setup: ChildSetup, log_fd: int
    ) -> ForkedRunner | None:
        """A runner forked for one sandbox; None when the fork server cannot make one."""
        if not self.alive:
            return None
        with self._lock:
            self._next += 1
            ident = f"r{self._next}"
            blob = base64.b64encode(pickle.dumps(setup)).decode()
            request = {"id": ident, "argv": argv, "env": env, "cwd": cwd, "setup": blob}
            try:
                socket.send_fds(self.sock, [json.dumps(request).encode()], [log_fd, setup.write_fd])
            except OSError as exc:
                log.info("the fork server is gone (%s)", exc)
                self.alive = False
                return None
            reply = self._reply(ident, SPAWN_SECONDS)
        if reply is None or "pid" not in reply:
            log.info("the fork server made no sandbox: %s", reply.get("why") if reply else "no answer")
            return None
        return ForkedRunner(int(reply["pid"]), self)

    def exit_code(self, pid: int) -> int | None:
        with self._cond:
            if pid in self._exits:
                return self._exits[pid]
            if not self.alive and not procs.alive(pid):
                return -signal.SIGKILL  # the fork server died before it could say
            return None

    def wait_exit(self, pid: int, timeout: float | None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                code = self.exit_code(pid)
                if code is not None:
                    return code
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(0.2 if left is None else min(left, 0.2))

    def close(self) -> None:
        self.alive = False
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        shutil.rmtree(self.home, ignore_errors=True)
