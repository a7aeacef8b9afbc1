"""The student's check server through the real command: the first `autograde check` runs in
the command and starts the server; later checks are answered by it, with the same verdicts
and output; a client without the user's key is refused (and the command checks by itself);
the server ends when no check comes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from multiprocessing.connection import Client
from pathlib import Path

import psutil
import pytest

from autograde.rubric import Assignment

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("autograde"))


def _env(runtime: Path, idle: float) -> dict[str, str]:
    return {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "AUTOGRADE_CHECK_SERVER": "on",
            "AUTOGRADE_CHECK_SERVER_IDLE": str(idle)}


def _check(notebook: Path, bundle: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, "check", str(notebook), "--bundle", str(bundle)], capture_output=True,
                          text=True, env=env, timeout=300)


def _wait_for(path_glob: str, folder: Path, seconds: float = 60) -> list[Path]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = sorted(folder.glob(path_glob))
        if found:
            return found
        time.sleep(0.1)
    return []


def _answered(folder: Path) -> int:
    log = folder / "server.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture
def runtime() -> Iterator[Path]:
    """A short private runtime folder (a unix socket's path may not exceed 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="agrt-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_checks_after_the_first_are_answered_by_the_server(
    ex02: Assignment, tmp_path: Path, runtime: Path
) -> None:
    env = _env(runtime, idle=120)
    made = subprocess.run([CLI, "bundle", ex02.id, "--out", str(tmp_path / "pub")], capture_output=True,
                          text=True, env=env, timeout=120)
    assert made.returncode == 0, made.stderr
    bundle = tmp_path / "pub" / f"{ex02.id}.check"
    solution, mutant = ex02.path(ex02.rubric.solution), ex02.path(ex02.rubric.mutants[0].notebook)
    folder = runtime / f"autograde-check-{os.getuid()}"
    try:
        first = _check(solution, bundle, env)  # in the command; it starts the server
        assert first.returncode == 0, first.stdout + first.stderr
        assert _wait_for("check-*.sock", folder), "no server came up"
        assert oct(folder.stat().st_mode & 0o777) == oct(0o700)
        assert oct((folder / "key").stat().st_mode & 0o777) == oct(0o600)
        served = [_check(solution, bundle, env), _check(mutant, bundle, env), _check(solution, bundle, env)]
        assert _answered(folder) == 3
        assert [r.returncode for r in served] == [0, 1, 0]
        assert served[0].stdout == first.stdout == served[2].stdout
        alone = _check(mutant, bundle, {**env, "AUTOGRADE_CHECK_SERVER": "off"})
        assert alone.returncode == 1 and alone.stdout == served[1].stdout  # the same verdicts in the command
        assert _answered(folder) == 3

        socket_path = _wait_for("check-*.sock", folder)[0]
        with pytest.raises(Exception, match="digest"):  # the wrong key: refused
            Client(str(socket_path), family="AF_UNIX", authkey=b"not the user's key").close()
        (folder / "key").write_bytes(b"x" * 32)  # a command with another key than the server's
        again = _check(solution, bundle, env)
        assert again.returncode == 0 and again.stdout == first.stdout  # it checked by itself
        assert _answered(folder) == 3
    finally:
        servers = _servers(runtime)
        for process in servers:
            process.terminate()  # it removes its idle sandboxes, then ends
        _gone, alive = psutil.wait_procs(servers, timeout=30)
        assert not alive


def _servers(runtime: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if "autograde.selfcheck.server" in " ".join(process.info["cmdline"] or []) and \
                    process.environ().get("XDG_RUNTIME_DIR") == str(runtime):
                found.append(process)
        except (psutil.Error, OSError):
            continue
    return found


def test_the_server_ends_when_no_check_comes(runtime: Path) -> None:
    env = _env(runtime, idle=2)
    server = subprocess.Popen([sys.executable, "-m", "autograde.selfcheck.server"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    folder = runtime / f"autograde-check-{os.getuid()}"
    assert _wait_for("check-*.sock", folder)
    assert server.wait(timeout=60) == 0
    assert not list(folder.glob("check-*.sock"))


def test_the_server_warms_a_sandbox_for_its_first_check_as_it_starts(
    ex02: Assignment, tmp_path: Path, runtime: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autograde.backends import warm
    from autograde.backends.base import BackendOptions
    from autograde.selfcheck import server

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    made = subprocess.run([CLI, "bundle", ex02.id, "--out", str(tmp_path / "pub")], capture_output=True,
                          text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    bundle = tmp_path / "pub" / f"{ex02.id}.check"
    request = {"notebook": str(ex02.path(ex02.rubric.solution)), "bundle": str(bundle), "data": None,
               "tasks": None, "overrides": {}, "limits": {}}
    pool = warm.pool_for("local", BackendOptions())
    try:
        assert not pool.idle()
        server.prepare(request)  # as the server starts: no check asked for yet, no notebook run
        idle = pool.idle()
        assert [w.key.assignment for w in idle][:1] == [ex02.id] and "numpy" in idle[0].key.preload
        prepared = idle[0]
        assert prepared.wait_ready(120)
        reply = server.handle(request)
        assert reply["exit"] == 0, reply
        assert prepared.leased and not prepared.root.exists()  # the first check ran in it
        server.prepare({**request, "notebook": str(tmp_path / "missing.ipynb")})  # never raises
    finally:
        warm.close_pools()
