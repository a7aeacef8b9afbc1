"""The student's check server: `autograde check --bundle` answered by a process of the
student's own that keeps the next sandbox warm, so that a check after the first takes about
the time of the notebook itself.

The first check runs in the command as before and then starts the server (detached, of the
same user, for this version of the engine), which warms a sandbox for a check like that one
as it starts (`prepare`: nothing of the notebook runs). Later checks send it their request on a unix
socket in a folder only the user can enter, authenticated with a key only the user can read
(`multiprocessing.connection`); it grades them one at a time in warm sandboxes of its own
pool (each sandbox for one check, never reused, as in a batch) and sends the report back.
A check the command cannot hand over (no server, another version, an error on the way) runs
in the command. The server ends after `IDLE_SECONDS` without a check; ``AUTOGRADE_CHECK_SERVER=off``
keeps checks in the command. When the command is interrupted, the check it asked for is stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

from autograde.errors import AutogradeError

SERVER_ENV = "AUTOGRADE_CHECK_SERVER"
IDLE_ENV = "AUTOGRADE_CHECK_SERVER_IDLE"  # seconds without a check before the server ends
IDLE_SECONDS = 900.0
LOG = "server.log"  # one line per check it answered, beside its socket
CONNECT_SECONDS = 0.5


def enabled() -> bool:
    return os.environ.get(SERVER_ENV, "on").lower() not in {"off", "0", "no", "false"} and os.name == "posix"


def _folder() -> Path:
    """A folder of this user's only (created 0700; refused when someone else owns it)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    if len(base) > 60:  # a unix socket's path may not exceed 107 bytes
        base = "/tmp"
    folder = Path(base) / f"autograde-check-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise AutogradeError(f"{folder} is not this user's own folder: no check server")
    return folder


def _address() -> tuple[str, bytes]:
    """The socket of the server of this engine's code, and the user's key (made on first use)."""
    from autograde.rubric.summary_cache import engine_fingerprint

    folder = _folder()
    key_file = folder / "key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return str(folder / f"check-{engine_fingerprint()[:16]}.sock"), key_file.read_bytes()


def ask(request: dict[str, Any]) -> dict[str, Any] | None:
    """The server's reply to a check request; None when no server of this engine answers."""
    if not enabled():
        return None
    try:
        address, key = _address()
        if not os.path.exists(address):
            return None
        conn = Client(address, family="AF_UNIX", authkey=key)
    except (OSError, AutogradeError, EOFError, ValueError, AuthenticationError):
        return None
    with conn:
        try:
            conn.send(request)
            reply: dict[str, Any] = conn.recv()
        except (OSError, EOFError, ValueError):
            return None
    return reply


def start(request: dict[str, Any] | None = None) -> None:
    """Start the server in the background, unless checks stay in the command; it warms a
    sandbox for a check like `request` (the one the command just ran) as it starts."""
    if not enabled():
        return
    with contextlib.suppress(OSError, AutogradeError):
        address, _ = _address()
        if os.path.exists(address):
            return
        prepare = ["--prepare", json.dumps(request)] if request is not None else []
        subprocess.Popen(
            [sys.executable, "-m", "autograde.selfcheck.server", *prepare], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )


def check_here(
    notebook: Path, bundle_path: Path, data: Path | None, tasks: list[str] | None, opts: Any,
    data_cache: Path | None = None,
) -> tuple[Any, list[str], int]:
    """One self-check in this process: the report, what is left for after submission, and the
    command's exit code (0: every check with a verdict passes)."""
    from autograde.selfcheck.bundle import read_bundle
    from autograde.selfcheck.judge import after_submission, counted
    from autograde.selfcheck.local import check_notebook
    from autograde.status import SubmissionStatus

    bundle = read_bundle(bundle_path)
    for task_id in tasks or []:
        bundle.manifest.task(task_id)
    report = check_notebook(notebook, bundle, opts, data, tasks, data_cache=data_cache)
    passed, judged = counted(report)
    graded = SubmissionStatus.parse(report.status) is SubmissionStatus.GRADED
    return report, after_submission(bundle, report), 0 if graded and passed == judged else 1


def _options(request: dict[str, Any]) -> Any:
    from autograde.pipeline.grade import GradeOptions

    return GradeOptions(overrides=dict(request.get("overrides") or {}), public_only=True, warm=True,
                        limits=dict(request.get("limits") or {}))


def prepare(request: dict[str, Any]) -> None:
    """Warm a sandbox for a check like `request`: what the server does as it starts, so that
    its first check is answered as fast as the next ones. Never raises (the check itself
    then says what is wrong)."""
    from autograde.selfcheck.bundle import read_bundle
    from autograde.selfcheck.local import prepare_check

    with contextlib.suppress(Exception):
        data = Path(request["data"]) if request.get("data") else None
        prepare_check(Path(request["notebook"]), read_bundle(Path(request["bundle"])), _options(request),
                      data, _folder() / "data")


def handle(request: dict[str, Any]) -> dict[str, Any]:
    """One check asked for by a command: the report as data, or the error it prints (exit 2)."""
    try:
        opts = _options(request)
        data = Path(request["data"]) if request.get("data") else None
        report, after, code = check_here(Path(request["notebook"]), Path(request["bundle"]), data,
                                         request.get("tasks") or None, opts, _folder() / "data")
    except AutogradeError as exc:
        return {"error": str(exc)}
    return {"report": report.to_json(), "after": after, "exit": code}


def _serve_one(conn: Connection) -> None:
    """Grade the request of one connection; stop its sandbox when the command goes away."""
    from autograde.backends.base import RUNNING

    with conn:
        request = conn.recv()
        reply: dict[str, Any] = {}
        worker = threading.Thread(target=lambda: reply.update(handle(request)), daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.1)
            if worker.is_alive() and conn.poll(0):  # the command closed its end: Ctrl-C
                RUNNING.kill_all()
        with contextlib.suppress(OSError, ValueError):
            conn.send(reply)


def serve(first: dict[str, Any] | None = None) -> None:
    """Answer checks until none came for IDLE_SECONDS; warm a sandbox for a check like
    `first` at once."""
    from autograde.backends.warm import close_pools

    address, key = _address()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(address)
    listener = Listener(address, family="AF_UNIX", authkey=key)
    last = [time.monotonic()]
    idle = float(os.environ.get(IDLE_ENV, IDLE_SECONDS))

    def watch() -> None:
        while time.monotonic() - last[0] < idle:
            time.sleep(min(5.0, idle / 4))
        close_pools()
        with contextlib.suppress(OSError):
            os.unlink(address)
        os._exit(0)

    def stop(signum: int, frame: Any) -> None:
        close_pools()
        with contextlib.suppress(OSError):
            os.unlink(address)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=watch, daemon=True).start()
    if first is not None:
        prepare(first)
    while True:
        try:
            conn = listener.accept()
        except Exception:  # a client with the wrong key (AuthenticationError), or gone meanwhile
            continue
        started = time.monotonic()
        last[0] = time.monotonic()
        with contextlib.suppress(Exception):
            _serve_one(conn)
        last[0] = time.monotonic()
        with contextlib.suppress(OSError), open(Path(address).with_name(LOG), "a", encoding="utf-8") as log:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"{stamp} a check answered in {time.monotonic() - started:.2f} s\n")


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="autograde.selfcheck.server")
    parser.add_argument("--prepare", type=json.loads, help="a check request (JSON) to warm a sandbox for")
    args = parser.parse_args(argv)
    serve(args.prepare if isinstance(args.prepare, dict) else None)


if __name__ == "__main__":
    main()
