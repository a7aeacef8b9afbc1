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
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import autograde
from autograde.backends.base import (
    GRACE_SECONDS,
    RUNNER_ARGS,
    Backend,
    BackendOptions,
    Ended,
    Job,
    Sandbox,
    register_backend,
)
from autograde.backends.forking import forking_enabled
from autograde.backends.local import facilities, isolation
from autograde.backends.local.cgroups import CgroupResult, create_job_cgroup, job_cgroup_name
from autograde.backends.local.forkserver import ForkedRunner, ForkServer
from autograde.backends.local.logcap import LOG_LIMIT, LogCapture
from autograde.backends.local.orphans import grader_environment, kill_marked, marked, reap_local_orphans
from autograde.backends.local.rlimits import effective_rlimits, rlimits_for
from autograde.errors import SandboxError
from autograde.runner import protocol
from autograde.runner.confine import PID_INIT_ENV

PASS_THROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT", "TZ")
CLEANUP_SECONDS = 6.0  # of the grace, kept for killing, draining the log and removing cgroups
WARM_CPU_SECONDS = 120.0  # a warm sandbox's CPU allowance for its warm-up (imports, idle polling)
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


# what the child reported (ChildSetup), as notes: key, what it means, how several join
# (None: the first says it all)
CHILD_PROBLEMS = (
    ("rlimit", "resource limits not set", ", "),
    ("network", "network not isolated", None),
    ("userns", "user namespace for the network isolation incomplete", None),
    ("filesystem", "file system not fully protected", "; "),
    ("loopback", "the loopback interface could not be brought up", None),
    ("pid", "processes not isolated", None),
    ("setup", "sandbox set-up incomplete", None),
    ("user", "the notebook ran as the grader's user", None),
)


def needed_paths(job: Job) -> tuple[Path, ...]:
    """What the runner must still see (read-only): the Python environment, this package, data."""
    paths = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent,
             Path(autograde.__file__).resolve().parent]
    return (*paths, *([job.data_dir] if job.data_dir else []))


def scratch_cap(job: Job) -> int:
    """What the job may write in all: working folder and HOME (tmp_bytes each) plus out/."""
    return 2 * job.limits.tmp_bytes + job.limits.out_bytes + LOG_LIMIT + 2**20


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


def _user_for(wanted: tuple[int, int] | None, notes: list[str]) -> tuple[int, int] | None:
    """The user the runner becomes where the file system is not protected: `wanted`, when this
    grader is root and that user can reach the Python the runner starts with (else a note)."""
    if wanted is None or os.name != "posix" or os.geteuid() != 0:
        return None
    needed = [Path(sys.executable), Path(sys.prefix), Path(autograde.__file__).parent]
    blocked = [str(path) for path in needed if not isolation.reachable_by(path, *wanted)]
    if blocked:
        notes.append(f"the notebook ran as the grader's user: uid {wanted[0]} cannot reach {blocked[0]}")
        return None
    return wanted


@register_backend
class LocalBackend(Backend):
    name = "local"

    def __init__(self, options: BackendOptions | None = None) -> None:
        super().__init__(options)
        self._servers: dict[tuple[str, ...], ForkServer | None] = {}
        self._servers_lock = threading.Lock()

    def fork_server(self, preload: tuple[str, ...], env: dict[str, str]) -> ForkServer | None:
        """The fork server for warm sandboxes that import `preload` (started on first use);
        None where there is none (no fork here, or it failed: such sandboxes start as before)."""
        if not forking_enabled():
            return None
        with self._servers_lock:
            server = self._servers.get(preload)
            if server is not None and not server.alive:
                server.close()
                server = None
                self._servers.pop(preload, None)
            if preload not in self._servers:
                made = ForkServer(preload, {**env, "AUTOGRADE_JOB": f"forkserver-{uuid.uuid4().hex}"})
                if not made.alive:
                    log.warning("the fork server did not start: warm sandboxes start a runner each")
                    made.close()
                self._servers[preload] = made if made.alive else None
            return self._servers[preload]

    def close(self) -> None:
        with self._servers_lock:
            servers = [s for s in self._servers.values() if s is not None]
            self._servers.clear()
        for server in servers:
            server.close()

    def preflight(self) -> None:
        """Before a batch: remove the sandboxes of graders that were killed outright."""
        reaped = reap_local_orphans()
        if reaped:
            log.info("removed %d leftovers (processes, cgroups, job folders) of killed graders", reaped)

    def sandbox_data_dir(self, job: Job) -> str:
        return str(job.data_dir) if job.data_dir else str(job.work_dir / "data")

    def open(self, job: Job) -> LocalSandbox:
        return LocalSandbox(job, self)


class LocalSandbox(Sandbox):
    """The runner in a session of its own, in the job's cgroup, set up by `ChildSetup`."""

    cleanup_seconds = CLEANUP_SECONDS

    def __init__(self, job: Job, backend: LocalBackend | None = None) -> None:
        super().__init__(job)
        self.backend = backend
        self.marker = uuid.uuid4().hex
        self.process: subprocess.Popen[bytes] | ForkedRunner | None = None
        self.capture: LogCapture | None = None
        self.read_fd = -1
        self.child: dict[str, list[str]] = {}  # what the child reported (ChildSetup)
        self.stopped = False
        self.settled = False
        self.tail = ""
        self.oom_kills = self.refused = 0
        have = facilities.available()  # what is missing is left out, with a note
        self.unavailable = have.missing(isolate_network=not job.limits.network)
        wanted = rlimits_for(job.limits, job.gpu, GRACE_SECONDS + (WARM_CPU_SECONDS if job.warm else 0.0))
        self.rlimits = effective_rlimits(wanted) if have.rlimits else {}
        fs = None
        if have.namespaces:
            fs = isolation.fs_plan(
                job.root, (job.work_dir, job.home_dir), job.hidden, needed_paths(job), job.limits.tmp_bytes
            )
        self.env = minimal_env(job, self.marker)
        if fs is not None and fs.pid_init:
            self.env[PID_INIT_ENV] = "1"  # the runner forks the init of its PID namespace
        if have.cgroups:
            self.cgroups = create_job_cgroup(job_cgroup_name(self.marker), job.limits.memory, job.limits.pids)
        else:
            why = f"cgroups are not available here ({have.why})"
            self.cgroups = CgroupResult(None, why, why)
        self.group = self.cgroups.cgroup
        procs_files = self.group.procs_files if self.group is not None else []
        self.run_as = _user_for(backend.options.run_as if backend is not None else None, self.unavailable)
        try:
            isolate_network = not job.limits.network and have.namespaces
            self.setup = isolation.ChildSetup(self.rlimits, procs_files, isolate_network, fs, self.run_as)
        except BaseException:
            if self.group is not None:
                self.group.remove()
            raise

    def launch(self) -> None:
        job = self.job
        args = self.runner_args(str(job.in_dir), str(job.out_dir), str(job.work_dir))
        try:
            if self.run_as is not None:  # the runner may become this user: its job folder is its own
                isolation.hand_over(job.root, *self.run_as)
            self.read_fd, write_fd = os.pipe()
            try:
                self.capture = LogCapture(self.read_fd, job.root / "runner.log")
                self.process = self._forked(args, write_fd) or subprocess.Popen(
                    [sys.executable, *args],
                    cwd=job.work_dir,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=write_fd,
                    stderr=write_fd,
                    start_new_session=True,
                    preexec_fn=self.setup if os.name == "posix" else None,  # Windows: no fork
                )
            finally:
                os.close(write_fd)
        except (OSError, subprocess.SubprocessError) as exc:
            raise SandboxError(f"the local backend could not start the runner ({exc})") from exc

    def _forked(self, args: list[str], log_fd: int) -> ForkedRunner | None:
        """A warm sandbox's runner from the fork server of its modules (None: start one). Only
        in a job cgroup: a forked process's /proc environment is the fork server's, so the
        job's marker cannot find its processes; the cgroup can (and kills them all)."""
        if not self.job.warm or self.backend is None or self.group is None:
            return None
        try:
            spec = json.loads((self.job.in_dir / protocol.WARM).read_text(encoding="utf-8"))
            preload = tuple(str(m) for m in spec.get("preload", []))
        except (OSError, ValueError, AttributeError):
            return None
        server = self.backend.fork_server(preload, self.env)
        if server is None:
            return None
        return server.spawn(args[len(RUNNER_ARGS):], self.env, str(self.job.work_dir), self.setup, log_fd)

    def _settle(self) -> None:
        """Once, after the launch: read what the child's set-up reported, start the log."""
        assert self.capture is not None
        if not self.settled:
            self.settled = True
            self.child = self.setup.collect()
            self.capture.start()

    def wait(self, seconds: float) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + seconds
        self._settle()
        try:
            self.process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
        return True

    def ended(self) -> bool:
        assert self.process is not None
        self._settle()
        return self.process.poll() is not None

    def processes(self) -> list[int]:
        """The cgroup's members, else every process carrying the job's marker."""
        if self.group is not None:
            return sorted(self.group.members())
        return marked(self.marker)

    def kill(self) -> None:
        """The runner's session and its cgroup."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if hasattr(os, "killpg"):
                    os.killpg(self.process.pid, signal.SIGKILL)
                else:  # Windows: no process groups
                    self.process.kill()
        if self.group is not None:
            self.group.kill_all()

    def collect(self) -> Ended:
        assert self.process is not None and self.capture is not None
        if self.process.returncode is None:  # killed: a moment to be reaped
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=2.0)
        self._stop()
        notes = [*self.unavailable, *isolation_notes(self.job, self.rlimits, self.cgroups, self.child)]
        if self.capture.dropped > 0:
            notes.append(
                f"the run printed {self.capture.total / 2**20:.1f} MiB to its console; its log keeps "
                f"{LOG_LIMIT / 2**20:g} MiB of that"
            )
        return Ended(self.process.returncode, self.tail, self.oom_kills > 0, self.refused, notes)

    def _stop(self) -> None:
        """Kill whatever is left (the session, the cgroup, what carries the marker), read the
        cgroup's counters and drain the log. Once."""
        if self.stopped:
            return
        self.stopped = True
        self.setup.close()
        self.kill()
        if self.group is not None:
            self.oom_kills, self.refused = self.group.oom_kills(), self.group.pids_refused()
        kill_marked(self.marker)
        if self.capture is not None:
            self.tail = self.capture.finish(timeout=1.0)
        elif self.read_fd >= 0:
            os.close(self.read_fd)

    def cleanup(self) -> None:
        """Also when the grader itself fails or is interrupted: no process or cgroup left."""
        self._stop()
        if self.group is not None:
            self.group.kill_all()
            left = self.group.remove()
            if left:
                log.warning("could not remove the job's cgroups %s", ", ".join(map(str, left)))

    def watched(self) -> tuple[Path, int, str]:
        """The job's folders (working folder, HOME, output) are its scratch space: capped."""
        return self.job.root, scratch_cap(self.job), "its folders"
