"""What a local-backend grader killed outright (kill -9, OOM killer: no `finally` ran) left.

Such a grader leaves its runners (each in a session of its own), their Jupyter kernels, the
jobs' cgroups with those processes still in them, and its `autograde-job-*` folders.
`reap_local_orphans` (called by `LocalBackend.preflight` before a batch) removes what belongs
to a grader that is no longer alive:

* processes whose environment carries `AUTOGRADE_JOB` and `AUTOGRADE_GRADER=<its pid>`;
* job cgroups `autograde-<pid>-<marker>`: every process in them is killed and the cgroup
  removed (an empty one once it is `EMPTY_CGROUP_SECONDS` old, see `cgroups.sweep_stale`);
* job folders in the temp folder whose owner file (`grader.pid`, written by `write_owner`:
  pid and start time) names a dead grader.

A grader counts as dead when its pid is gone or a zombie, or when the pid now belongs to a
process that started after the grader's sandbox process (or, for a folder, at another time
than the one recorded): pids are reused. Whatever a live grader runs is never touched, nor
what cannot be told apart: processes of another pid namespace, folders with no owner file or
of another user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from autograde.backends.cgroups import CGROUP_PREFIX, JobCgroup, job_cgroup_parents, sweep_stale

JOB_PREFIX = "autograde-job-"  # grading.py's job folders
OWNER_FILE = "grader.pid"
JOB_VAR, GRADER_VAR = b"AUTOGRADE_JOB", b"AUTOGRADE_GRADER"
# an empty job cgroup is swept this long after it was made: enough for its runner to join it
# had it been made by a live grader whose pid we cannot see (another pid namespace)
EMPTY_CGROUP_SECONDS = 1.0


# -- liveness --------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (the state) on; None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    return text.rpartition(")")[2].split()  # the command name may hold spaces and parentheses


def start_time(pid: int) -> int | None:
    """When `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat)."""
    fields = _stat(pid)
    if fields is None or len(fields) < 20 or not fields[19].isdigit():
        return None
    return int(fields[19])


def grader_gone(pid: int, *, started: int | None = None, before: int | None = None) -> bool:
    """True when grader `pid` is surely dead: no such process, a zombie, or the pid reused by a
    process that did not start at `started` or started after `before`."""
    if pid <= 1 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, someone else's
    fields = _stat(pid)
    if fields is None:  # gone meanwhile; or no /proc to tell more
        return os.path.isdir("/proc/self")
    if fields[:1] == ["Z"]:
        return True
    now = start_time(pid)
    if now is None:
        return False
    return (started is not None and now != started) or (before is not None and now > before)


def write_owner(folder: Path) -> None:
    """Mark a job folder as this grader's, so that a later run may remove it should this one
    be killed outright. Best effort: grading goes on without it."""
    with contextlib.suppress(OSError):
        (folder / OWNER_FILE).write_text(f"{os.getpid()} {start_time(os.getpid()) or ''}\n")


# -- processes -------------------------------------------------------------------------------


def _pids() -> list[int]:
    try:
        return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return []


def _environ(pid: int) -> dict[bytes, bytes]:
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            items = handle.read().split(b"\0")
    except OSError:
        return {}
    return dict(item.partition(b"=")[::2] for item in items if b"=" in item)


def _other_pid_namespace(pid: int) -> bool:
    """True when `pid` is (or may be) in another pid namespace, where our pids mean nothing."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid") != os.readlink("/proc/self/ns/pid")
    except FileNotFoundError:
        return False  # exited meanwhile
    except OSError:
        return True


def _orphaned(pid: int) -> bool:
    """A sandbox process whose grader is dead."""
    env = _environ(pid)
    grader = env.get(GRADER_VAR, b"")
    if not env.get(JOB_VAR) or not grader.isdigit() or _other_pid_namespace(pid):
        return False
    return grader_gone(int(grader), before=start_time(pid))


def kill_orphan_processes(rounds: int = 5) -> int:
    """SIGKILL the sandbox processes of dead graders (found by their environment, whatever
    session they are in); again while new ones turn up. Returns how many were killed."""
    killed: set[int] = set()
    me = os.getpid()
    for _ in range(rounds):
        found = [pid for pid in _pids() if pid != me and _orphaned(pid)]
        if not found:
            break
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
        time.sleep(0.05)
    return len(killed)


# -- cgroups ---------------------------------------------------------------------------------


def _cgroup_owner(name: str) -> int | None:
    owner = name.removeprefix(CGROUP_PREFIX).split("-", 1)[0] if name.startswith(CGROUP_PREFIX) else ""
    return int(owner) if owner.isdigit() else None


def reap_orphan_cgroups(parents: Iterable[Path] | None = None) -> int:
    """Kill what runs in the job cgroups of dead graders and remove those cgroups, and the
    empty ones of dead graders; returns how many cgroups were removed."""
    removed = 0
    for parent in job_cgroup_parents() if parents is None else parents:
        try:
            entries = [entry for entry in parent.iterdir() if entry.is_dir()]
        except OSError:
            continue
        for folder in entries:
            owner = _cgroup_owner(folder.name)
            members = JobCgroup(1, {"job": folder}).members() if owner is not None else set()
            if owner is None or not members or any(_other_pid_namespace(pid) for pid in members):
                continue  # empty ones: below
            starts = [start for start in map(start_time, members) if start is not None]
            if not grader_gone(owner, before=min(starts, default=None)):
                continue
            version = 2 if (folder / "cgroup.controllers").exists() else 1
            group = JobCgroup(version, {"unified" if version == 2 else "job": folder})
            if group.kill_all() and not group.remove():
                removed += 1
        removed += sweep_stale(parent, min_age=EMPTY_CGROUP_SECONDS)
    return removed


# -- job folders -----------------------------------------------------------------------------


def _owner(folder: Path) -> tuple[int, int | None] | None:
    try:
        parts = (folder / OWNER_FILE).read_text(encoding="ascii").split()
    except (OSError, ValueError):
        return None
    if not parts or not parts[0].isdigit():
        return None
    return int(parts[0]), int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def _remove_tree(folder: Path) -> bool:
    """rmtree, also where the notebook took away the write or search permission of a folder."""
    shutil.rmtree(folder, ignore_errors=True)
    if os.path.lexists(folder):
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700)
        for root, dirs, _files in os.walk(folder):
            for name in dirs:
                path = os.path.join(root, name)
                if not os.path.islink(path):
                    with contextlib.suppress(OSError):
                        os.chmod(path, 0o700)
        shutil.rmtree(folder, ignore_errors=True)
    return not os.path.lexists(folder)


def remove_orphan_folders(temp: Path | None = None) -> int:
    """Remove this user's job folders (in the temp folder) whose grader is dead."""
    temp = Path(tempfile.gettempdir()) if temp is None else temp
    removed = 0
    try:
        entries = [entry for entry in temp.iterdir() if entry.name.startswith(JOB_PREFIX)]
    except OSError:
        return 0
    for folder in entries:
        try:
            info = folder.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            continue
        owner = _owner(folder)
        if owner is not None and grader_gone(owner[0], started=owner[1]) and _remove_tree(folder):
            removed += 1
    return removed


def reap_local_orphans() -> int:
    """Kill and remove the sandboxes of dead graders: their processes, then their cgroups
    (and whatever escaped the environment marker in them), then their job folders. Returns
    how many processes, cgroups and folders went."""
    return kill_orphan_processes() + reap_orphan_cgroups() + remove_orphan_folders()
