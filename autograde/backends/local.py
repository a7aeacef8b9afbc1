"""The `local` backend: the runner in a subprocess on this machine.

Fresh temporary working directory and HOME, a minimal environment (no secrets of the
grader's), BLAS threads pinned, core dumps off, a file-size cap, a wall-clock limit, and a
kill of the whole process group plus every process that carries this job's marker.
This isolates runs from each other; it is not a security boundary against a hostile
student on a shared machine (use the docker backend for that).
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
import uuid

from autograde.backends.base import Backend, Job, RunOutcome, register_backend

MAX_FILE_BYTES = 1 * 2**30
PASS_THROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT", "TZ")
GRACE_SECONDS = 15.0


def minimal_env(job: Job, marker: str) -> dict[str, str]:
    home = str(job.home_dir)
    env = {
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": home,
        "TMPDIR": str(job.work_dir),
        "IPYTHONDIR": os.path.join(home, ".ipython"),
        "JUPYTER_CONFIG_DIR": os.path.join(home, ".jupyter"),
        "JUPYTER_RUNTIME_DIR": os.path.join(home, ".jupyter-runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "MPLBACKEND": "Agg",
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "CUDA_VISIBLE_DEVICES": "" if job.gpu is None else job.gpu,
        "AUTOGRADE_JOB": marker,
    }
    for name in PASS_THROUGH:
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _limits() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))


def kill_marked(marker: str) -> int:
    """SIGKILL every process whose environment carries this job's marker (setsid escapes too)."""
    needle = f"AUTOGRADE_JOB={marker}".encode()
    killed = 0
    for _ in range(5):
        found = []
        for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry}/environ", "rb") as handle:
                    if needle in handle.read().split(b"\0"):
                        found.append(int(entry))
            except OSError:
                continue
        if not found:
            break
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        time.sleep(0.05)
    return killed


@register_backend
class LocalBackend(Backend):
    name = "local"

    def sandbox_data_dir(self, job: Job) -> str:
        return str(job.data_dir) if job.data_dir else str(job.work_dir / "data")

    def run(self, job: Job) -> RunOutcome:
        marker = uuid.uuid4().hex
        log_path = job.root / "runner.log"
        command = [
            sys.executable,
            "-m",
            "autograde.runner",
            "--in",
            str(job.in_dir),
            "--out",
            str(job.out_dir),
            "--work",
            str(job.work_dir),
        ]
        started = time.monotonic()
        timed_out = False
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command,
                cwd=job.work_dir,
                env=minimal_env(job, marker),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_limits,
            )
            try:
                process.wait(timeout=job.total_timeout + GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                kill_marked(marker)
        with open(log_path, "rb") as log:
            log.seek(max(0, log_path.stat().st_size - 4000))
            tail = log.read().decode("utf-8", "replace")
        return RunOutcome(
            None if timed_out else process.returncode, time.monotonic() - started, timed_out, tail
        )
