"""What a local-backend grader killed outright (kill -9, OOM killer: no `finally` ran) left.

Such a grader leaves its runners (each in a session of its own), their Jupyter kernels, the
jobs' cgroups with those processes still in them, and its `autograde-job-*` folders.
`reap_local_orphans` (called by `LocalBackend.preflight` before a batch) removes what belongs
to a grader that is no longer alive:

* processes whose environment carries `AUTOGRADE_JOB` and `AUTOGRADE_GRADER=<its pid>`;
* job cgroups `autograde-<pid>-<marker>`: every process in them is killed and the cgroup
  removed (an empty one once it is `FRESH_SECONDS` old, see `cgroups.sweep_stale`);
* job folders `autograde-job-<pid>-*` in the temp folder (`job_folder_prefix`) of a dead
  grader. The pid is in the name, which is there from the folder's first moment to its last
  (a grader killed amid the clean-up of a job folder leaves it half-removed); the owner file
  inside (`write_owner`) adds the grader's start time and pid namespace.

A grader counts as dead when its pid is gone or a zombie, or when the pid now belongs to a
process that started after the grader's sandbox process (or, for a folder, at another time
than the one recorded): pids are reused. Whatever a live grader runs is never touched, nor
what cannot be told apart: processes and folders of another pid namespace, folders named
otherwise or another user's. A folder or an empty cgroup younger than `FRESH_SECONDS` with
no owner record may be a live grader's, of a namespace whose pids we cannot see, just made.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from autograde.backends.local import procfs
from autograde.backends.local.cgroups import CGROUP_PREFIX, JobCgroup, job_cgroup_parents, sweep_stale
from autograde.backends.local.procfs import other_pid_namespace, pid_namespace, start_time

JOB_PREFIX = "autograde-job-"  # grading.py's job folders
STAGING_PREFIX = "autograde-uploads-"  # batch.py's staged copies of the uploads
_OWNED_FOLDER = re.compile(r"autograde-(?:job|uploads)-(\d+)-")  # mkdtemp's random part has no "-"
OWNER_FILE = "grader.pid"  # in the job folder: "<pid> <start time> <pid namespace>"
JOB_VAR, GRADER_VAR, GRADER_NS_VAR = b"AUTOGRADE_JOB", b"AUTOGRADE_GRADER", b"AUTOGRADE_GRADER_NS"
# how long a grader takes at most from making a job cgroup or folder to filling or marking it
FRESH_SECONDS = 0.5


# -- liveness --------------------------------------------------------------------------------


def grader_gone(pid: int, *, started: int | None = None, before: int | None = None) -> bool:
    """True when grader `pid` is surely dead: no such process, a zombie, or the pid reused by a
    process that did not start at `started` or started after `before`."""
    if pid <= 1:  # 0 and -1 would ask about groups of processes; 1 is init
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, someone else's
    fields = procfs.stat_fields(pid)
    if fields is None:  # gone meanwhile; or no /proc to tell more
        return procfs.available()
    if fields[:1] == ["Z"]:
        return True
    now = start_time(pid)
    if now is None:
        return False
    return (started is not None and now != started) or (before is not None and now > before)


def grader_environment() -> dict[str, str]:
    """What a local sandbox's environment says of its grader: the pid and its namespace."""
    return {GRADER_VAR.decode(): str(os.getpid()), GRADER_NS_VAR.decode(): pid_namespace()}


def staging_folder_prefix() -> str:
    """`autograde-uploads-<pid>-`: the batch's staging folder, named for this grader."""
    return f"{STAGING_PREFIX}{os.getpid()}-"


def job_folder_prefix() -> str:
    """`autograde-job-<pid>-`: a job folder named for this grader, so that a later run may
    remove it should this one be killed outright. Short: the runner puts its sockets below the
    job's folder only where that path is short."""
    return f"{JOB_PREFIX}{os.getpid()}-"


def write_owner(folder: Path) -> None:
    """This grader's start time and pid namespace beside its pid, in its job folder: a later
    run tells by them a reused pid, or a grader of another namespace. Best effort."""
    record = f"{os.getpid()} {start_time(os.getpid()) or 0} {pid_namespace() or 0}\n"
    with contextlib.suppress(OSError):
        (folder / OWNER_FILE).write_text(record)


# -- processes -------------------------------------------------------------------------------


def _orphaned(pid: int) -> bool:
    """A sandbox process whose grader is dead."""
    env = procfs.environ(pid)
    grader = env.get(GRADER_VAR, b"")
    if not env.get(JOB_VAR) or not grader.isdigit():
        return False
    # the grader's pid means something only in the grader's pid namespace: the sandbox says
    # which one (it may run in a namespace of its own); else it must share ours
    named = env.get(GRADER_NS_VAR, b"").decode("ascii", "replace")
    if (named and named != pid_namespace()) or (not named and other_pid_namespace(pid)):
        return False
    return grader_gone(int(grader), before=start_time(pid))


def marked(marker: str) -> list[int]:
    """The processes whose environment carries this job's marker (setsid escapes too)."""
    me, wanted = os.getpid(), marker.encode()
    return [pid for pid in procfs.pids() if pid != me and procfs.environ(pid).get(JOB_VAR) == wanted]


def kill_marked(marker: str) -> int:
    """SIGKILL every process whose environment carries this job's marker (setsid escapes too)."""
    killed = 0
    for _ in range(5):
        found = marked(marker)
        if not found:
            break
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        time.sleep(0.05)
    return killed


def kill_orphan_processes(rounds: int = 5) -> int:
    """SIGKILL the sandbox processes of dead graders (found by their environment, whatever
    session they are in); again while new ones turn up. Returns how many were killed."""
    killed: set[int] = set()
    me = os.getpid()
    for _ in range(rounds):
        found = [pid for pid in procfs.pids() if pid != me and _orphaned(pid)]
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


def _reap_cgroup(folder: Path, owner: int) -> int:
    """1 when the (non-empty) job cgroup of a dead grader was emptied and removed."""
    members = JobCgroup(1, {"job": folder}).members()
    if not members or any(other_pid_namespace(pid) for pid in members):
        return 0  # empty: left to sweep_stale; another namespace's: not ours to judge
    starts = [start for start in map(start_time, members) if start is not None]
    if not grader_gone(owner, before=min(starts, default=None)):
        return 0
    version = 2 if (folder / "cgroup.controllers").exists() else 1
    group = JobCgroup(version, {"unified" if version == 2 else "job": folder})
    return int(group.kill_all() and not group.remove())


def reap_orphan_cgroups(parents: Iterable[Path] | None = None) -> int:
    """Kill what runs in the job cgroups of dead graders and remove those cgroups, and the
    empty ones of dead graders; returns how many cgroups were removed."""
    removed = 0
    for parent in job_cgroup_parents() if parents is None else parents:
        try:
            entries = [entry for entry in parent.iterdir() if _cgroup_owner(entry.name) is not None]
        except OSError:
            continue
        for folder in entries:
            with contextlib.suppress(OSError):
                removed += _reap_cgroup(folder, _cgroup_owner(folder.name) or 0)
        removed += sweep_stale(parent, min_age=FRESH_SECONDS)
    return removed


# -- job folders -----------------------------------------------------------------------------


def _folder_orphaned(folder: Path, age: float) -> bool:
    """A job folder of a dead grader (of our pid namespace)."""
    named = _OWNED_FOLDER.match(folder.name)
    if named is None:
        return False
    pid = int(named[1])
    try:
        record = (folder / OWNER_FILE).read_text(encoding="ascii").split()
    except (OSError, ValueError):
        record = []
    if len(record) == 3 and record[0] == named[1]:
        if record[2] != (pid_namespace() or "0"):
            return False
        started = int(record[1]) if record[1].isdigit() else 0
        return grader_gone(pid, started=started or None)
    # no owner record: a folder being made, or removed when its grader was killed
    return age >= FRESH_SECONDS and grader_gone(pid)


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
    """Remove this user's job and staging folders (in the temp folder) whose grader is dead."""
    temp = Path(tempfile.gettempdir()) if temp is None else temp
    removed = 0
    now = time.time()
    try:
        entries = [entry for entry in temp.iterdir() if entry.name.startswith((JOB_PREFIX, STAGING_PREFIX))]
    except OSError:
        return 0
    for folder in entries:
        try:
            info = folder.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            continue
        if _folder_orphaned(folder, now - info.st_mtime) and _remove_tree(folder):
            removed += 1
    return removed


def reap_local_orphans() -> int:
    """Kill and remove the sandboxes of dead graders: their processes, then their cgroups
    (and whatever escaped the environment marker in them), then their job folders. Returns
    how many processes, cgroups and folders went."""
    return kill_orphan_processes() + reap_orphan_cgroups() + remove_orphan_folders()
