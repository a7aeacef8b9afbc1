"""The backend seam: how the runner is launched. Every backend runs the same entry point,
``python -m autograde.runner --in IN --out OUT --work WORK``; only the launch differs.

`Backend.run` is one template for all of them: open a `Sandbox` (the backend's own
preparation), launch it, arm the kill switch of an interrupted batch and the watch of the
folder the run writes to, wait within the job's time limit, collect how the run ended,
clean up in every case; then the notes every backend shares and the `RunOutcome`. A third-
party exception on the way is translated into a `SandboxError` at this boundary.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ValidationError

from autograde.backends import priority
from autograde.backends.watch import FolderWatch
from autograde.errors import AutogradeError
from autograde.rubric.schema import Limits
from autograde.runner import protocol

RUNNER_ARGS = ("-m", "autograde.runner")
# Sandbox policy shared by every backend
GRACE_SECONDS = 15.0  # past the job's total_timeout before the host kills the sandbox
MAX_FILE_BYTES = 2**30  # no single file over 1 GiB (RLIMIT_FSIZE / the fsize ulimit)
NOFILE = 4096  # open files: zmq, the kernel and a DataLoader stay far below this


def _rubric_default(name: str) -> Callable[[], Any]:
    """A SandboxLimits default: the rubric's (`Limits`), read when a SandboxLimits is made."""
    return lambda: Limits.model_fields[name].get_default(call_default_factory=True)


@dataclass(frozen=True)
class SandboxLimits:
    """What one sandbox run may use: the sandbox's part of the rubric's `Limits`, whose
    defaults and validation are the only ones (CLI overrides go through the same)."""

    total_timeout: float = field(default_factory=_rubric_default("total_timeout"))
    memory: int = field(default_factory=_rubric_default("memory"))
    pids: int = field(default_factory=_rubric_default("pids"))
    cpus: float = field(default_factory=_rubric_default("cpus"))
    tmp_bytes: int = field(default_factory=_rubric_default("tmp_bytes"))
    out_bytes: int = field(default_factory=_rubric_default("out_bytes"))
    network: bool = field(default_factory=_rubric_default("network"))

    def __post_init__(self) -> None:
        checked = _validated(dataclasses.asdict(self))
        for name in self.__dataclass_fields__:
            object.__setattr__(self, name, getattr(checked, name))

    @classmethod
    def from_rubric(cls, limits: Limits, **overrides: Any) -> SandboxLimits:
        """The rubric's limits with the CLI's overrides (None: not given) on top."""
        merged = _validated({k: v for k, v in overrides.items() if v is not None}, limits)
        return cls(**{name: getattr(merged, name) for name in cls.__dataclass_fields__})


def _validated(changes: dict[str, Any], base: Limits | None = None) -> Limits:
    """`base` (else the defaults) with `changes`, validated as a rubric's limits are."""
    try:
        return Limits.model_validate({**(base.model_dump() if base else {}), **changes})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
        )
        raise AutogradeError(f"invalid sandbox limits: {problems}") from exc


@dataclass(frozen=True)
class Job:
    """One sandbox run. `root` holds in/ (read-only inputs), out/, work/ (cwd), home/.

    `gpu` is the host's index of the one GPU this job may use (None: CPU only). `hidden`:
    folders of the host the run must not see (reference, rubrics), where a backend shares
    the host's file system. `warm`: its sandbox is launched before the job is staged.
    """

    root: Path
    data_dir: Path | None
    limits: SandboxLimits
    gpu: str | None = None
    hidden: tuple[Path, ...] = ()
    warm: bool = False

    @property
    def total_timeout(self) -> float:
        return self.limits.total_timeout

    @property
    def in_dir(self) -> Path:
        return self.root / "in"

    @property
    def out_dir(self) -> Path:
        return self.root / "out"

    @property
    def work_dir(self) -> Path:
        return self.root / "work"

    @property
    def home_dir(self) -> Path:
        return self.root / "home"

    def make_dirs(self) -> None:
        for path in (self.in_dir, self.out_dir, self.work_dir, self.home_dir):
            path.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class RunOutcome:
    returncode: int | None  # None: killed by the wall-clock limit
    seconds: float
    timed_out: bool
    log_tail: str
    oom_killed: bool = False
    notes: tuple[str, ...] = ()  # facts a grader or student should read (limits hit, isolation)


@dataclass
class BackendOptions:
    """Per-run settings a backend may use; each backend ignores what it does not need."""

    image: str | None = None  # docker: the grading image (default: the one this version builds)
    gpu: bool = False  # jobs run on GPUs: docker uses the GPU variant of the image
    # local, a grader running as root without namespaces (Gradescope's container): the notebook
    # runs as this uid:gid, so what only root may read (the course library) is out of its reach
    run_as: tuple[int, int] | None = None


@dataclass
class Ended:
    """How a sandbox's run ended, as its backend read it."""

    returncode: int | None  # the runner's exit status; negative: killed by that signal
    log_tail: str = ""
    oom_killed: bool = False
    pids_refused: int = 0  # forks and threads the pids limit refused
    notes: list[str] = field(default_factory=list)  # the backend's own (what it could not enforce)


class Sandbox(ABC):
    """One run of one job, as a backend runs it. `kill` may be called from any thread, at
    any time after `launch` (the kill switch, the folder watch) and more than once.

    A warm sandbox (`warm` set before `launch`, see `backends.warm`) is launched before its
    job exists: the runner starts its kernel, says so in out/warm.json and waits; `begin`,
    after the job's files are staged, lets it run."""

    cleanup_seconds: ClassVar[float] = 0.0  # of the grace, kept for `collect` and `cleanup`

    def __init__(self, job: Job) -> None:
        self.job = job
        self.warm = job.warm

    def runner_args(self, in_dir: str, out_dir: str, work_dir: str) -> list[str]:
        """The runner's arguments after the interpreter, as this sandbox's paths name the folders."""
        args = [*RUNNER_ARGS, "--in", in_dir, "--out", out_dir, "--work", work_dir]
        return [*args, "--warm"] if self.warm else args

    def ended(self) -> bool:
        """Whether the runner has stopped, without waiting (a warm sandbox that died idle)."""
        return self.wait(0)

    def ready(self) -> bool | None:
        """A warm sandbox: True once its kernel is up and waiting, False when the runner
        ended (or came up without a kernel), None while it is still warming."""
        if self.ended():  # also after its kernel was up: one that died idle is never leased
            return False
        marker = self.job.out_dir / protocol.WARM
        if marker.exists():
            try:
                return bool(json.loads(marker.read_text(encoding="utf-8")).get("ready"))
            except (OSError, ValueError):
                return None  # being written
        return None

    def processes(self) -> list[int]:
        """The host's pids of the sandbox's processes, where the backend can tell ([]: not)."""
        return []

    def begin(self) -> None:
        """A warm sandbox: the job's files are in place; the normal CPU priority back (the
        warm-up ran at a lower one), then run them."""
        priority.restore(self.processes())
        (self.job.in_dir / protocol.START).touch()

    @abstractmethod
    def launch(self) -> None:
        """Start the runner; a failure is a SandboxError."""

    @abstractmethod
    def wait(self, seconds: float) -> bool:
        """True when the runner stopped within `seconds`."""

    @abstractmethod
    def kill(self) -> None:
        """Stop the runner and everything it started, now."""

    @abstractmethod
    def collect(self) -> Ended:
        """After the run (stopped or killed): kill what is left, read how it ended."""

    def cleanup(self) -> None:
        """Always, last, also after a failed launch or an interrupt: leave nothing behind."""
        return None

    def watched(self) -> tuple[Path, int, str]:
        """The folder the run writes to, its cap in bytes and how a note names it."""
        return self.job.out_dir, self.job.limits.out_bytes, "its output folder"


class Backend(ABC):
    name: ClassVar[str]

    def __init__(self, options: BackendOptions | None = None) -> None:
        self.options = options or BackendOptions()

    def preflight(self) -> None:
        """Fail fast, before a batch starts, when this backend cannot run (AutogradeError)."""
        return None

    def pinned_image(self) -> str | None:
        """The image every job of a batch runs on (None: a backend without images)."""
        return None

    def close(self) -> None:
        """Stop what the backend keeps for its sandboxes (a fork server); it starts again on use."""
        return None

    @contextlib.contextmanager
    def job_folder(self) -> Iterator[Path]:
        """A fresh job folder, removed afterwards: named for this grader and marked as its
        own, so that a later run removes it should this grader be killed outright."""
        from autograde.backends.local.orphans import job_folder_prefix, write_owner

        with tempfile.TemporaryDirectory(prefix=job_folder_prefix()) as tmp:
            write_owner(Path(tmp))
            yield Path(tmp)

    @abstractmethod
    def sandbox_data_dir(self, job: Job) -> str:
        """The data folder's path as the notebook sees it."""

    @abstractmethod
    def open(self, job: Job) -> Sandbox:
        """This backend's preparation of one run (nothing started yet)."""

    def translate(self, exc: Exception) -> AutogradeError | None:
        """The error of the tree that an exception of this backend's run means (None: raised
        as it is; an AutogradeError already is one, anything else is a bug)."""
        return None

    def run(self, job: Job, warm: Sandbox | None = None) -> RunOutcome:
        """Run the runner on `job` (in `warm`, a warm sandbox launched for it, when given);
        returns (never hangs) within the job's time limit plus the grace. Never raises for
        what the notebook does; a SandboxError when the backend fails to run it."""
        try:
            return self._run(job, warm)
        except Exception as exc:
            ours = self.translate(exc)
            if ours is None:
                raise
            raise ours from exc

    def _run(self, job: Job, warm: Sandbox | None) -> RunOutcome:
        started = time.monotonic()
        sandbox = warm or self.open(job)
        watch: FolderWatch | None = None
        try:
            if warm is None:
                sandbox.launch()
            else:
                sandbox.begin()
            token = RUNNING.add(sandbox.kill)
            try:
                path, cap, _ = sandbox.watched()
                watch = FolderWatch(path, cap, sandbox.kill)
                watch.start()
                left = job.total_timeout + GRACE_SECONDS - sandbox.cleanup_seconds
                timed_out = not sandbox.wait(max(1.0, left - (time.monotonic() - started)))
                if timed_out:
                    sandbox.kill()
            finally:
                RUNNING.remove(token)
                if watch is not None:
                    watch.done.set()
            ended = sandbox.collect()
        finally:
            sandbox.cleanup()
        tripped = watch is not None and watch.tripped
        return RunOutcome(
            None if timed_out or tripped else ended.returncode,
            time.monotonic() - started,
            timed_out,
            ended.log_tail,
            oom_killed=ended.oom_killed,
            notes=tuple(shared_notes(sandbox, ended, tripped)),
        )


def shared_notes(sandbox: Sandbox, ended: Ended, tripped: bool) -> list[str]:
    """The backend's notes, then what every backend says of a run that hit a limit."""
    notes = list(ended.notes)
    _, cap, where = sandbox.watched()
    if tripped:
        notes.append(f"the notebook wrote more than {cap / 2**20:.0f} MiB to {where} and was stopped")
    if ended.pids_refused:
        notes.append(
            f"the notebook hit its limit of {sandbox.job.limits.pids} processes and threads "
            f"({ended.pids_refused} refused)"
        )
    return notes


class RunningSandboxes:
    """Kill switches of the sandboxes running now, so an interrupted batch stops them at once
    (its worker threads cannot receive Ctrl-C themselves)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kills: dict[int, Callable[[], None]] = {}
        self._next = 0

    def add(self, kill: Callable[[], None]) -> int:
        with self._lock:
            self._next += 1
            self._kills[self._next] = kill
            return self._next

    def remove(self, token: int) -> None:
        with self._lock:
            self._kills.pop(token, None)

    def kill_all(self) -> int:
        with self._lock:
            kills = list(self._kills.values())
        for kill in kills:
            with contextlib.suppress(Exception):
                kill()
        return len(kills)


RUNNING = RunningSandboxes()

BACKENDS: dict[str, type[Backend]] = {}


def register_backend(cls: type[Backend]) -> type[Backend]:
    BACKENDS[cls.name] = cls
    return cls


def get_backend(name: str, options: BackendOptions | None = None) -> Backend:
    from autograde.backends import docker  # noqa: F401  (imports register the built-in backends)
    from autograde.backends.local import backend  # noqa: F401

    try:
        cls = BACKENDS[name]
    except KeyError:
        raise AutogradeError(f"unknown backend {name!r}; available: {sorted(BACKENDS)}") from None
    return cls(options)

