"""The backend seam: how the runner is launched. Every backend runs the same entry point,
``python -m autograde.runner --in IN --out OUT --work WORK``; only the launch differs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from autograde.errors import AutogradeError


@dataclass(frozen=True)
class Job:
    """One sandbox run. `root` holds in/ (read-only inputs), out/, work/ (cwd), home/."""

    root: Path
    data_dir: Path | None
    total_timeout: float
    memory: int
    device: str = "cpu"

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


class Backend(ABC):
    name: ClassVar[str]

    @abstractmethod
    def sandbox_data_dir(self, job: Job) -> str:
        """The data folder's path as the notebook sees it."""

    @abstractmethod
    def run(self, job: Job) -> RunOutcome:
        """Run the runner on `job`; must return (never hang) within the job's time limit."""


BACKENDS: dict[str, type[Backend]] = {}


def register_backend(cls: type[Backend]) -> type[Backend]:
    BACKENDS[cls.name] = cls
    return cls


def get_backend(name: str) -> Backend:
    from autograde.backends import local  # noqa: F401  (registers the built-in backends)

    try:
        return BACKENDS[name]()
    except KeyError:
        raise AutogradeError(f"unknown backend {name!r}; available: {sorted(BACKENDS)}") from None
