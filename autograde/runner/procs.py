"""Process containment inside the runner: orphans of the notebook come back to us, then die."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator

PR_SET_CHILD_SUBREAPER = 36
GONE_SECONDS = 2.0  # how long a sweep waits for what it killed to be gone


def become_subreaper() -> bool:
    """Make this process adopt orphaned descendants (double forks, setsid) on Linux."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces: split after the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def descendants() -> list[int]:
    """Every process below this one."""
    if not os.path.isdir("/proc"):
        return []
    tree = _children_map()
    found: list[int] = []
    stack = [os.getpid()]
    while stack:
        for child in tree.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_descendants(keep: int | None = None, rounds: int = 200) -> int:
    """SIGKILL every descendant but `keep` (the kernel, when only what it spawned must go).

    A fork bomb fills each freed slot at once, so a plain kill sweep never ends: first stop
    every descendant (a stopped process cannot fork) until no new one appears, then kill
    them all. Returns how many were killed."""
    stopped: set[int] = set()
    for _ in range(rounds):
        found = {pid for pid in descendants() if pid != keep} - stopped
        if not found:
            break
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGSTOP)
        stopped |= found
    for pid in stopped:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    _reap_gone(stopped)
    return len(stopped)


def _reap_gone(killed: set[int], seconds: float = GONE_SECONDS) -> None:
    """Reap until every killed process is gone (or `seconds` passed): a killed process still
    counts against the sandbox's process limit until it has exited and been reaped, and a
    fresh kernel started before then cannot start its threads."""
    left = set(killed)

    def gone() -> bool:
        _reap()
        left.intersection_update({pid for pid in left if alive(pid)})
        return not left

    wait_until(gone, seconds)


def wait_until(done: Callable[[], bool], seconds: float | None) -> bool:
    """Look until `done()` (True) or `seconds` passed (False; None: no limit): short looks
    first, as Popen.wait makes them (what is waited for is mostly over within milliseconds)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    step = 0.0005
    while not done():
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(step)
        step = min(step * 2, 0.01)
    return True


def reap() -> Iterator[tuple[int, int]]:
    """Reap every child that has ended: (pid, exit code) each, without waiting."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, os.waitstatus_to_exitcode(status)


def _reap() -> None:
    for _ in reap():
        pass


def alive(pid: int) -> bool:
    """Whether a process of this pid exists (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
