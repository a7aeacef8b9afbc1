"""The backend seam: how the runner is launched. Every backend runs the same entry point,
``python -m autograde.runner --in IN --out OUT --work WORK``; only the launch differs.
"""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from autograde.errors import AutogradeError

RUNNER_ARGS = ("-m", "autograde.runner")
# Sandbox policy shared by every backend
GRACE_SECONDS = 15.0  # past the job's total_timeout before the host kills the sandbox
MAX_FILE_BYTES = 2**30  # no single file over 1 GiB (RLIMIT_FSIZE / the fsize ulimit)
NOFILE = 4096  # open files: zmq, the kernel and a DataLoader stay far below this


@dataclass(frozen=True)
class SandboxLimits:
    """What one sandbox run may use. Built from the rubric's `limits`, CLI flags on top."""

    total_timeout: float
    memory: int
    pids: int = 256
    cpus: float = 1.0
    tmp_bytes: int = 512 * 2**20
    out_bytes: int = 64 * 2**20
    network: bool = False

    @classmethod
    def from_rubric(cls, limits: Any, **overrides: Any) -> SandboxLimits:
        values = {name: getattr(limits, name) for name in cls.__dataclass_fields__}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass(frozen=True)
class Job:
    """One sandbox run. `root` holds in/ (read-only inputs), out/, work/ (cwd), home/.

    `gpu` is the host's index of the one GPU this job may use (None: CPU only). `hidden`:
    folders of the host the run must not see (reference, rubrics), where a backend shares
    the host's file system.
    """

    root: Path
    data_dir: Path | None
    limits: SandboxLimits
    gpu: str | None = None
    hidden: tuple[Path, ...] = ()

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
    extra: dict[str, Any] = field(default_factory=dict)


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

    @abstractmethod
    def sandbox_data_dir(self, job: Job) -> str:
        """The data folder's path as the notebook sees it."""

    @abstractmethod
    def run(self, job: Job) -> RunOutcome:
        """Run the runner on `job`; must return (never hang) within the job's time limit."""


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
