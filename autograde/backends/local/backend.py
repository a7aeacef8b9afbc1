"""The `local` backend: the runner in a subprocess on this machine, confined as far as a
subprocess can be.

Fresh working directory and HOME, a minimal environment (no secrets of the grader's), BLAS
threads pinned, a wall-clock limit, a new session; rlimits (CPU seconds, address space for
CPU jobs, file size, open files, no core dumps); where the machine allows, a per-job cgroup
with the memory and pids limits (which also finds every descendant at the end, however it
escaped), and a network namespace with only loopback; the console output capped. What could
not be enforced is said in the outcome's notes (see `isolation`). At the end the process
group, the cgroup and every process that carries this job's marker are killed.

This isolates runs from each other and from the network; it is not a security boundary
against a hostile student on a shared machine (the notebook can read what the grader's user
can read): use the docker backend for that.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import autograde
from autograde.backends.base import (
    GRACE_SECONDS,
    RUNNER_ARGS,
    RUNNING,
    Backend,
    Job,
    RunOutcome,
    register_backend,
)
from autograde.backends.local import isolation
from autograde.backends.local.cgroups import CgroupResult, create_job_cgroup, job_cgroup_name
from autograde.backends.local.logcap import LOG_LIMIT, LogCapture
from autograde.backends.local.orphans import grader_environment, reap_local_orphans
from autograde.backends.watch import FolderWatch
from autograde.runner.confine import PID_INIT_ENV

PASS_THROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT", "TZ")
CLEANUP_SECONDS = 6.0  # of the grace, kept for killing, draining the log and removing cgroups
GiB = 2**30

log = logging.getLogger(__name__)


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
        **grader_environment(),
    }
    for name in PASS_THROUGH:
        if name in os.environ:
            env[name] = os.environ[name]
    return env


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


# what the child reported (ChildSetup), as notes: key, what it means, how several join
# (None: the first says it all)
CHILD_PROBLEMS = (
    ("rlimit", "resource limits not set", ", "),
    ("network", "network not isolated", None),
    ("userns", "user namespace for the network isolation incomplete", None),
    ("filesystem", "file system not fully protected", "; "),
    ("pid", "processes not isolated", None),
    ("setup", "sandbox set-up incomplete", None),
)


def needed_paths(job: Job) -> tuple[Path, ...]:
    """What the runner must still see (read-only): the Python environment, this package, data."""
    paths = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent,
             Path(autograde.__file__).resolve().parent]
    return (*paths, *([job.data_dir] if job.data_dir else []))


def scratch_cap(job: Job) -> int:
    """What the job may write in all: working folder and HOME (tmp_bytes each) plus out/."""
    return 2 * job.limits.tmp_bytes + job.limits.out_bytes + LOG_LIMIT + 2**20


def _kill_group(process: subprocess.Popen[bytes] | None, group: Any) -> None:
    """The kill switch of an interrupted batch: the runner's session and its cgroup."""
    if process is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    if group is not None:
        group.kill_all()


def _gib(value: int) -> str:
    return f"{value / GiB:.3g} GiB"


def isolation_notes(
    job: Job,
    rlimits: dict[str, tuple[int, int]],
    cgroups: CgroupResult,
    child: dict[str, list[str]],
) -> list[str]:
    """Short notes on what could not be enforced (from the set-up and the child's report)."""
    notes = []
    memory_problem = cgroups.memory_problem
    pids_problem = cgroups.pids_problem
    if child.get("cgroup"):
        why = f"could not join the job's cgroup ({child['cgroup'][0]})"
        memory_problem = memory_problem or why
        pids_problem = pids_problem or why
    if memory_problem:
        if "RLIMIT_AS" in rlimits and "RLIMIT_AS" not in child.get("rlimit", []):
            space = _gib(rlimits["RLIMIT_AS"][0])
            notes.append(
                f"memory not limited by a cgroup: {memory_problem}; only a {space} "
                "address-space limit per process applies"
            )
        else:
            notes.append(f"memory not limited: {memory_problem}")
    if pids_problem:
        notes.append(f"number of processes not limited: {pids_problem}")
    for key, what, join in CHILD_PROBLEMS:
        if child.get(key):
            notes.append(f"{what}: {join.join(child[key]) if join else child[key][0]}")
    return notes


@register_backend
class LocalBackend(Backend):
    name = "local"

    def preflight(self) -> None:
        """Before a batch: remove the sandboxes of graders that were killed outright."""
        reaped = reap_local_orphans()
        if reaped:
            log.info("removed %d leftovers (processes, cgroups, job folders) of killed graders", reaped)

    def sandbox_data_dir(self, job: Job) -> str:
        return str(job.data_dir) if job.data_dir else str(job.work_dir / "data")

    def run(self, job: Job) -> RunOutcome:
        """Never raises for what the notebook does; returns within total_timeout + grace."""
        marker = uuid.uuid4().hex
        started = time.monotonic()
        cgroups = create_job_cgroup(
            job_cgroup_name(marker), job.limits.memory, job.limits.pids
        )
        try:
            return self._run(job, marker, cgroups, started)
        finally:  # also when the grader itself fails or is interrupted: no cgroup left behind
            if cgroups.cgroup is not None:
                cgroups.cgroup.kill_all()
                left = cgroups.cgroup.remove()
                if left:
                    log.warning("could not remove the job's cgroups %s", ", ".join(map(str, left)))

    def _run(self, job: Job, marker: str, cgroups: CgroupResult, started: float) -> RunOutcome:
        group = cgroups.cgroup
        rlimits = isolation.effective_rlimits(isolation.rlimits_for(job.limits, job.gpu, GRACE_SECONDS))
        fs = isolation.fs_plan(
            job.root, (job.work_dir, job.home_dir), job.hidden, needed_paths(job), job.limits.tmp_bytes
        )
        setup = isolation.ChildSetup(
            rlimits, group.procs_files if group is not None else [], not job.limits.network, fs
        )
        env = minimal_env(job, marker)
        if fs.pid_init:
            env[PID_INIT_ENV] = "1"  # the runner forks the init of its PID namespace
        command = [sys.executable, *RUNNER_ARGS]
        command += ["--in", str(job.in_dir), "--out", str(job.out_dir), "--work", str(job.work_dir)]
        read_fd, write_fd = os.pipe()
        capture: LogCapture | None = None
        process: subprocess.Popen[bytes] | None = None
        child: dict[str, list[str]] = {}
        running: int | None = None
        watch: FolderWatch | None = None
        timed_out = False
        oom_kills = refused = 0
        try:
            capture = LogCapture(read_fd, job.root / "runner.log")
            try:
                process = subprocess.Popen(
                    command,
                    cwd=job.work_dir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=write_fd,
                    stderr=write_fd,
                    start_new_session=True,
                    preexec_fn=setup,
                )
            finally:
                os.close(write_fd)
            running = RUNNING.add(lambda: _kill_group(process, group))
            # the job's folders (working folder, HOME, output) are its scratch space: capped
            watch = FolderWatch(job.root, scratch_cap(job), lambda: _kill_group(process, group))
            watch.start()
            child = setup.collect()
            capture.start()
            wait = job.total_timeout + GRACE_SECONDS - CLEANUP_SECONDS - (time.monotonic() - started)
            try:
                process.wait(timeout=max(1.0, wait))
            except subprocess.TimeoutExpired:
                timed_out = True
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=2.0)
        finally:
            if running is not None:
                RUNNING.remove(running)
            if watch is not None:
                watch.done.set()
            setup.close()
            if process is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
            if group is not None:
                group.kill_all()
                oom_kills, refused = group.oom_kills(), group.pids_refused()
            kill_marked(marker)
            if capture is not None:
                tail = capture.finish(timeout=1.0)
            else:
                os.close(read_fd)
        notes = isolation_notes(job, rlimits, cgroups, child)
        tripped = watch is not None and watch.tripped
        if tripped:
            notes.append(
                f"the notebook wrote more than {scratch_cap(job) / 2**20:.0f} MiB to its folders "
                "and was stopped"
            )
        if refused:
            notes.append(
                f"the notebook hit its limit of {job.limits.pids} processes and threads ({refused} refused)"
            )
        if capture.dropped > 0:
            notes.append(
                f"the run printed {capture.total / 2**20:.1f} MiB to its console; its log keeps "
                f"{LOG_LIMIT / 2**20:g} MiB of that"
            )
        return RunOutcome(
            None if timed_out or tripped else process.returncode,
            time.monotonic() - started,
            timed_out,
            tail,
            oom_killed=oom_kills > 0,
            notes=tuple(notes),
        )
