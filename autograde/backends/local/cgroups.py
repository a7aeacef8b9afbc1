"""Per-job cgroups for the local backend (v1, or v2 where /sys/fs/cgroup is cgroup2).

Where this process may make one (root, or a delegated subtree): the job's memory (swap off)
and pids limits; the runner joins it before exec; afterwards the OOM and pids counters are
read, every process in it is killed, whatever session it started or environment it
scrubbed, and the cgroup is removed. Job cgroups of a grader killed outright are swept.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from autograde.backends.local import procfs
from autograde.backends.local.procfs import unescape

GiB = 2**30
CGROUP_PREFIX = "autograde-"
STALE_SECONDS = 60.0  # an empty job cgroup whose grader died this long ago is swept


# -- cgroups: where ----------------------------------------------------------------------


@dataclass(frozen=True)
class CgroupMount:
    version: int  # 1 or 2
    path: Path  # mount point
    root: str  # the hierarchy's folder mounted there ("/" unless in a container)
    options: frozenset[str] = frozenset()  # v1: the controllers (super options)


def parse_mountinfo(text: str) -> list[CgroupMount]:
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        before, after = left.split(), right.split()
        if not sep or len(before) < 5 or not after:
            continue
        if after[0] == "cgroup2":
            mounts.append(CgroupMount(2, Path(unescape(before[4])), unescape(before[3])))
        elif after[0] == "cgroup" and len(after) >= 3:
            options = frozenset(after[2].split(","))
            mounts.append(CgroupMount(1, Path(unescape(before[4])), unescape(before[3]), options))
    return mounts


def parse_self_cgroup(text: str) -> dict[str, str]:
    """/proc/self/cgroup: controller -> own path; "" -> the cgroup2 path."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if not controllers:
            found.setdefault("", path)
        for name in controllers.split(","):
            if name:
                found.setdefault(name, path)
    return found


def _candidates(mount: CgroupMount, own: str | None) -> list[Path]:
    """Parents for a job cgroup, best first: below our own cgroup (stays inside whatever
    limits we are under), else the hierarchy's top."""
    paths = []
    if own is not None:
        root = mount.root.rstrip("/")
        if not root or own == root or own.startswith(root + "/"):
            paths.append(mount.path / own[len(root) :].strip("/"))
    if mount.path not in paths:
        paths.append(mount.path)
    return paths


@dataclass(frozen=True)
class CgroupPlan:
    v1: dict[str, list[Path]] = field(default_factory=dict)  # "memory"/"pids" -> parents
    v2: list[Path] = field(default_factory=list)


def plan_cgroups(mountinfo: str, self_cgroup: str) -> CgroupPlan:
    mounts = parse_mountinfo(mountinfo)
    own = parse_self_cgroup(self_cgroup)
    v1 = {}
    for controller in ("memory", "pids"):
        mount = next((m for m in mounts if m.version == 1 and controller in m.options), None)
        if mount is not None:
            v1[controller] = _candidates(mount, own.get(controller))
    unified = next((m for m in mounts if m.version == 2), None)
    v2 = _candidates(unified, own.get("")) if unified is not None else []
    return CgroupPlan(v1, v2)


def own_plan() -> CgroupPlan | None:
    """Where this process would make job cgroups (None: /proc does not say)."""
    mounts, own = procfs.mountinfo(), procfs.self_cgroup()
    return None if mounts is None or own is None else plan_cgroups(mounts, own)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _write(path: Path, value: str) -> None:
    with open(path, "w") as handle:
        handle.write(value)


def _counter(text: str, key: str) -> int:
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key and parts[1].isdigit():
            return int(parts[1])
    return 0


# -- cgroups: one job's ------------------------------------------------------------------


@dataclass
class JobCgroup:
    """One job's cgroup folders: v1 one per controller, v2 one for both."""

    version: int
    dirs: dict[str, Path]  # v1: "memory"/"pids"; v2: "unified"
    memory_limit: int | None = None

    @property
    def folders(self) -> list[Path]:
        return list(dict.fromkeys(self.dirs.values()))

    @property
    def procs_files(self) -> list[str]:
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def members(self) -> set[int]:
        pids: set[int] = set()
        for folder in self.folders:
            pids.update(int(p) for p in _read(folder / "cgroup.procs").split() if p.isdigit())
        return pids

    def oom_kills(self) -> int:
        if self.version == 2:
            return _counter(_read(self.dirs["unified"] / "memory.events"), "oom_kill")
        if "memory" not in self.dirs:
            return 0
        folder = self.dirs["memory"]
        control = _read(folder / "memory.oom_control")
        if re.search(r"^oom_kill ", control, re.M):
            return _counter(control, "oom_kill")
        # kernels before 4.13 have no oom_kill count: hitting the limit with nothing left to
        # reclaim is the best sign there is
        failed = _read(folder / "memory.failcnt").strip()
        peak = _read(folder / "memory.max_usage_in_bytes").strip()
        if failed.isdigit() and peak.isdigit() and self.memory_limit:
            return int(int(failed) > 0 and int(peak) >= self.memory_limit * 0.98)
        return 0

    def pids_refused(self) -> int:
        """How often a fork or thread was refused because the pids limit was reached."""
        folder = self.dirs.get("unified", self.dirs.get("pids"))
        return _counter(_read(folder / "pids.events"), "max") if folder else 0

    def kill_all(self, timeout: float = 2.0) -> bool:
        """SIGKILL everything in the cgroup until it is empty; True when it is."""
        deadline = time.monotonic() + timeout
        if self.version == 2 and (self.dirs["unified"] / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                _write(self.dirs["unified"] / "cgroup.kill", "1")
        while True:
            pids = self.members()
            if not pids:
                return True
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
                _reap(pid)
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)

    def remove(self, timeout: float = 1.0) -> list[Path]:
        """rmdir the folders (a just-killed process may hold one for a moment); the leftovers."""
        deadline = time.monotonic() + timeout
        left = self.folders
        while left:
            for folder in list(left):
                try:
                    folder.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:
                    continue
                left.remove(folder)
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        return left


def _reap(pid: int) -> None:
    """Reap `pid` if it is our child: an orphan re-parented to us when we are PID 1 (a grader in
    a container) or a subreaper; a zombie stays in its cgroup and blocks the rmdir."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def configure_v1_memory(folder: Path, memory: int) -> None:
    _write(folder / "memory.limit_in_bytes", str(memory))
    if (folder / "memory.memsw.limit_in_bytes").exists():  # memory + swap = memory: no swap
        _write(folder / "memory.memsw.limit_in_bytes", str(memory))


def configure_v1_pids(folder: Path, pids: int) -> None:
    _write(folder / "pids.max", str(pids))


def enable_v2_controllers(parent: Path, wanted: Iterable[str] = ("memory", "pids")) -> None:
    available = set(_read(parent / "cgroup.controllers").split())
    enabled = set(_read(parent / "cgroup.subtree_control").split())
    for name in wanted:
        if name in available and name not in enabled:
            with contextlib.suppress(OSError):
                _write(parent / "cgroup.subtree_control", f"+{name}")


def configure_v2(folder: Path, memory: int, pids: int) -> bool:
    """Memory (required) and pids (best effort); True when the pids limit is set too."""
    _write(folder / "memory.max", str(memory))
    if (folder / "memory.swap.max").exists():
        _write(folder / "memory.swap.max", "0")
    try:
        _write(folder / "pids.max", str(pids))
    except OSError:
        return False
    return True


def _owner_alive(name: str) -> bool:
    owner = name.removeprefix(CGROUP_PREFIX).split("-", 1)[0]
    if not owner.isdigit():
        return True
    try:
        os.kill(int(owner), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def sweep_stale(parent: Path, now: float | None = None, min_age: float = STALE_SECONDS) -> int:
    """Remove empty job cgroups left by a grader that was killed hard (no finally ran), once
    `min_age` seconds old (a grader whose pid we cannot see may be about to fill it)."""
    removed = 0
    now = time.time() if now is None else now
    try:
        entries = list(parent.iterdir())
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.startswith(CGROUP_PREFIX) or _owner_alive(entry.name):
            continue
        try:
            if now - entry.stat().st_mtime < min_age or _read(entry / "cgroup.procs").split():
                continue
            entry.rmdir()
            removed += 1
        except OSError:
            continue
    return removed


def _make(parent: Path, name: str) -> Path:
    sweep_stale(parent)
    folder = parent / name
    folder.mkdir()
    return folder


def _why(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "no permission to create cgroups here"
    return f"cgroups could not be set up ({exc.strerror or exc})"


@dataclass
class CgroupResult:
    cgroup: JobCgroup | None
    memory_problem: str | None = None  # why memory is not limited by a cgroup
    pids_problem: str | None = None


def create_job_cgroup(name: str, memory: int, pids: int, plan: CgroupPlan | None = None) -> CgroupResult:
    """Make this job's cgroup(s) with its limits, or say why not. Never raises."""
    if plan is None:
        plan = own_plan()
        if plan is None:
            return CgroupResult(None, "cgroups are not available here", "cgroups are not available here")
    if plan.v1:
        return _create_v1(name, memory, pids, plan.v1)
    if plan.v2:
        return _create_v2(name, memory, pids, plan.v2)
    return CgroupResult(None, "cgroups are not available here", "cgroups are not available here")


def _create_v1(name: str, memory: int, pids: int, parents: dict[str, list[Path]]) -> CgroupResult:
    dirs: dict[str, Path] = {}
    problems = {"memory": "no memory cgroup controller here", "pids": "no pids cgroup controller here"}
    configure: dict[str, Callable[[Path], None]] = {
        "memory": lambda folder: configure_v1_memory(folder, memory),
        "pids": lambda folder: configure_v1_pids(folder, pids),
    }
    for controller, candidates in parents.items():
        for parent in candidates:
            folder = None
            try:
                folder = _make(parent, name)
                configure[controller](folder)
            except OSError as exc:
                problems[controller] = _why(exc)
                if folder is not None:
                    with contextlib.suppress(OSError):
                        folder.rmdir()
                continue
            dirs[controller] = folder
            problems.pop(controller)
            break
    group = JobCgroup(1, dirs, memory) if dirs else None
    return CgroupResult(group, problems.get("memory"), problems.get("pids"))


def _create_v2(name: str, memory: int, pids: int, parents: list[Path]) -> CgroupResult:
    problem = "no memory controller in the cgroup2 hierarchy"
    for parent in parents:
        if "memory" not in _read(parent / "cgroup.controllers").split():
            continue
        folder = None
        try:
            enable_v2_controllers(parent)
            folder = _make(parent, name)
            with_pids = configure_v2(folder, memory, pids)
        except OSError as exc:
            problem = _why(exc)
            if folder is not None:
                with contextlib.suppress(OSError):
                    folder.rmdir()
            continue
        group = JobCgroup(2, {"unified": folder}, memory)
        return CgroupResult(group, None, None if with_pids else "no pids controller in the cgroup")
    return CgroupResult(None, problem, problem)


def job_cgroup_parents() -> list[Path]:
    """Every folder this process would make job cgroups in (where a killed grader's are)."""
    plan = own_plan()
    if plan is None:
        return []
    return list(dict.fromkeys([*(p for parents in plan.v1.values() for p in parents), *plan.v2]))


def job_cgroup_name(marker: str) -> str:
    """`autograde-<grader pid>-<marker>`: the pid lets a later run sweep a dead grader's."""
    return f"{CGROUP_PREFIX}{os.getpid()}-{marker}"
