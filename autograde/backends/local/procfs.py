"""Every read of /proc the local backend makes, in one place: processes (their state, start
time, environment, pid namespace), this process's mounts and cgroups, and the /proc/self
paths the runner's child writes between fork and exec.

Readers never raise: a process that is gone, or a /proc that cannot be read, gives None,
an empty value, or what the caller's docstring says.
"""

from __future__ import annotations

import os
import re

PROC = "/proc"
SELF_SETGROUPS = "/proc/self/setgroups"
SELF_UID_MAP = "/proc/self/uid_map"
SELF_GID_MAP = "/proc/self/gid_map"


def available() -> bool:
    """True where this system has a /proc to read."""
    return os.path.isdir(f"{PROC}/self")


def fd_path(fd: int) -> str:
    """This process's open file `fd` as a path (a bind mount's source in the child)."""
    return f"{PROC}/self/fd/{fd}"


# -- processes -------------------------------------------------------------------------------


def pids() -> list[int]:
    """Every process id this process can see."""
    try:
        return [int(entry) for entry in os.listdir(PROC) if entry.isdigit()]
    except OSError:
        return []


def stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (the state) on; None when there is no such process."""
    try:
        with open(f"{PROC}/{pid}/stat", "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    return text.rpartition(")")[2].split()  # the command name may hold spaces and parentheses


def start_time(pid: int) -> int | None:
    """When `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat)."""
    fields = stat_fields(pid)
    if fields is None or len(fields) < 20 or not fields[19].isdigit():
        return None
    return int(fields[19])


def environ(pid: int) -> dict[bytes, bytes]:
    """The environment `pid` started with ({} when it cannot be read)."""
    try:
        with open(f"{PROC}/{pid}/environ", "rb") as handle:
            items = handle.read().split(b"\0")
    except OSError:
        return {}
    return dict(item.partition(b"=")[::2] for item in items if b"=" in item)


def pid_namespace(pid: int | str = "self") -> str:
    """The pid namespace's inode number ("" where it cannot be read)."""
    try:
        return os.readlink(f"{PROC}/{pid}/ns/pid").partition("[")[2].rstrip("]")
    except OSError:
        return ""


def other_pid_namespace(pid: int) -> bool:
    """True when `pid` is (or may be) in another pid namespace, where our pids mean nothing."""
    try:
        return os.readlink(f"{PROC}/{pid}/ns/pid") != os.readlink(f"{PROC}/self/ns/pid")
    except FileNotFoundError:
        return False  # exited meanwhile
    except OSError:
        return True


# -- this process's mounts and cgroups ---------------------------------------------------------


def mountinfo() -> str | None:
    """/proc/self/mountinfo (None where it cannot be read)."""
    return _read_text(f"{PROC}/self/mountinfo")


def self_cgroup() -> str | None:
    """/proc/self/cgroup (None where it cannot be read)."""
    return _read_text(f"{PROC}/self/cgroup")


def unescape(field: str) -> str:
    """A path field of mountinfo: spaces and the like are written as octal escapes."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mount_points(text: str) -> tuple[str, ...]:
    """Mount points from the text of /proc/self/mountinfo, parents before children."""
    points = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) > 4:
            points.append(unescape(fields[4]))
    return tuple(dict.fromkeys(sorted(points, key=lambda p: 0 if p == "/" else p.count("/"))))


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None
