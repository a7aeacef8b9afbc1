"""A real Dask cluster on loopback for the tests: `dask scheduler` and `dask worker` processes
(the distributed package's own commands), each worker with a cache and a working folder of its
own outside the checkout, so it imports the course library only from what it is sent."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.batch_tools import CLI

DASK = str(Path(sys.executable).with_name("dask"))
__all__ = [
    "CLI",
    "DASK",
    "Cluster",
    "dask_cluster",
    "start_grade",
    "start_scheduler",
    "start_worker",
    "worker_pids",
]


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)  # name -> its nanny
    folder: Path = Path()
    security: Any = None

    def client(self) -> Any:
        from distributed import Client

        return Client(self.address, security=self.security, timeout=30)

    def stop(self) -> None:
        for process in [*self.workers.values(), self.scheduler]:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in [*self.workers.values(), self.scheduler]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _tls_args(tls: dict[str, str] | None) -> list[str]:
    if not tls:
        return []
    return ["--tls-ca-file", tls["ca_file"], "--tls-cert", tls["cert"], "--tls-key", tls["key"]]


def start_scheduler(folder: Path, tls: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    folder.mkdir(parents=True, exist_ok=True)
    info = folder / "scheduler.json"
    info.unlink(missing_ok=True)
    args = [
        DASK,
        "scheduler",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--no-dashboard",
        "--scheduler-file",
        str(info),
        *(["--protocol", "tls"] if tls else []),
        *_tls_args(tls),
    ]
    with (folder / "scheduler.log").open("ab") as log:
        process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, cwd=folder, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while not info.is_file() or not info.read_text().strip():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"dask scheduler did not start: {(folder / 'scheduler.log').read_text()}")
        time.sleep(0.1)
    time.sleep(0.2)
    return process, json.loads(info.read_text())["address"]


def start_worker(
    folder: Path,
    address: str,
    name: str,
    env: dict[str, str] | None = None,
    tls: dict[str, str] | None = None,
    resources: str | None = None,
) -> subprocess.Popen[bytes]:
    home = folder / name
    (home / "cache").mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "AUTOGRADE_CACHE": str(home / "cache"), "TMPDIR": str(home), **(env or {})}
    for variable in ("AUTOGRADE_LIBRARY", "AUTOGRADE_RUBRICS", "PYTHONPATH"):
        environment.pop(variable, None)
    args = [
        DASK,
        "worker",
        address,
        "--name",
        name,
        "--nthreads",
        "1",
        "--nworkers",
        "1",
        "--no-dashboard",
        "--local-directory",
        str(home / "dask"),
        "--death-timeout",
        "60",
        *_tls_args(tls),
        *(["--resources", resources] if resources else []),
    ]
    with (home / "worker.log").open("ab") as log:
        return subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, cwd=home, env=environment, start_new_session=True
        )


@contextlib.contextmanager
def dask_cluster(
    folder: Path,
    workers: dict[str, dict[str, str]],
    tls: dict[str, str] | None = None,
    security: Any = None,
    resources: dict[str, str] | None = None,
) -> Iterator[Cluster]:
    """A scheduler and one worker process (under its nanny) per name, each with its extra
    environment; every process stopped on the way out."""
    scheduler, address = start_scheduler(folder, tls)
    cluster = Cluster(address, scheduler, folder=folder, security=security)
    try:
        for name, env in workers.items():
            cluster.workers[name] = start_worker(folder, address, name, env, tls, (resources or {}).get(name))
        with cluster.client() as client:
            client.wait_for_workers(len(workers), timeout=120)
        yield cluster
    finally:
        cluster.stop()


def start_grade(*args: str) -> subprocess.Popen[str]:
    """`autograde grade ARGS` running on its own (its output, both streams, in `stdout`)."""
    return subprocess.Popen(
        [CLI, "grade", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def worker_pids(client: Any) -> dict[str, int]:
    """Worker address -> the pid of its worker process (the one a nanny restarts)."""
    return dict(client.run(os.getpid))
