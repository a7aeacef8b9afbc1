"""Kernel-level confinement shared by the local backend (between fork and exec) and the
runner (as the init of its own PID namespace). Self-contained: the grading image carries
only the runner, and the child between fork and exec may import nothing.

A runner started in a fresh PID namespace (the local backend asks for one when the grader
is root) forks once: its child is the namespace's init. That child mounts a /proc of the
namespace (only the sandbox's own processes are visible, and none outside can be
signalled), makes the host-changing parts of it read-only, drops every capability, and
runs the notebook. When it ends, the kernel kills whatever is left in the namespace.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Callable

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME = 1 << 18, 1 << 21
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 24, 28, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
# SECBIT_NOROOT, _NO_SETUID_FIXUP and KEEP_CAPS, each locked: uid 0 gains nothing at exec
SECURE_NOROOT_LOCKED = 0x01 | 0x02 | 0x04 | 0x08 | 0x20
# as in a container: the parts of /proc that change the host are read-only (a root without
# capabilities could still write sysctls there), /proc itself is not (the CUDA driver
# writes there)
PROC_READ_ONLY = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs")
PID_INIT_ENV = "AUTOGRADE_PID_INIT"


def load_libc(name: str) -> Callable[..., int] | None:
    """A function of Linux's C library (None elsewhere: macOS has a `mount` of another
    signature and no prctl, Windows no libc to open)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function: Callable[..., int] = getattr(libc, name)
    except (OSError, AttributeError, TypeError):
        return None
    return function


MOUNT = load_libc("mount")
PRCTL = load_libc("prctl")


def mount(source: str | None, target: str, kind: str | None, flags: int, data: str | None = None) -> bool:
    if MOUNT is None:
        return False

    def raw(text: str | None) -> bytes | None:
        return None if text is None else text.encode()

    return MOUNT(raw(source), raw(target), raw(kind), ctypes.c_ulong(flags), raw(data)) == 0


def bind_read_only(path: str, kept_flags: int = 0) -> bool:
    """Bind `path` onto itself and remount that bind read-only (a file or a folder)."""
    return mount(path, path, None, MS_BIND | MS_REC) and mount(
        None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags
    )


def drop_capabilities(last_cap: int) -> bool:
    """Empty the bounding set, lock the securebits so that uid 0 gains nothing at exec, clear
    the ambient set: whatever this process executes runs without capabilities."""
    if PRCTL is None:
        return False
    ok = PRCTL(PR_SET_SECUREBITS, SECURE_NOROOT_LOCKED, 0, 0, 0) == 0
    for cap in range(last_cap + 1):
        ok = PRCTL(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0 and ok
    PRCTL(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    return ok


def die_with_parent() -> bool:
    """SIGKILL this process when its parent ends (the runner outside the PID namespace, or the
    fork server): then nothing of a sandbox outlives the process that answers for it."""
    if PRCTL is None:
        return False
    parent = os.getppid()
    ok = PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    if ok and os.getppid() != parent:  # the parent ended before the signal was set
        os._exit(1)
    return ok


PR_SET_NAME = 15


def set_process_name(name: str) -> None:
    """The name `ps` and `top` show (/proc/PID/comm, 15 bytes): a forked process keeps its
    parent's command line, so a forked kernel says what it is here."""
    if PRCTL is not None:
        PRCTL(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)


def no_new_privileges() -> bool:
    return PRCTL is not None and PRCTL(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0


def last_capability() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return 40


def become_pid_init() -> list[str]:
    """When the local backend asked for it: fork, let the parent wait and pass on the exit
    status, and return in the child as the init of the new PID namespace, confined.
    Returns what could not be done (notes for the report)."""
    if os.environ.pop(PID_INIT_ENV, None) != "1":
        return []
    last_cap = last_capability()  # read while the host's /proc is still mounted
    child = os.fork()
    if child:
        _wait_and_exit(child)
    die_with_parent()
    problems = []
    if os.getpid() == 1:
        if not mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC):
            problems.append("the sandbox's own /proc could not be mounted")
        for path in PROC_READ_ONLY:
            if os.path.exists(path) and not bind_read_only(path):
                problems.append(f"{path} is not read-only")
    else:
        problems.append("no PID namespace: the notebook can see and signal the grader's processes")
    # an unprivileged user (the local backend's `run_as`) holds no capability to drop
    if os.geteuid() == 0 and not drop_capabilities(last_cap):
        problems.append("the capabilities of root could not all be dropped")
    if not no_new_privileges():
        problems.append("no-new-privileges could not be set")
    return problems


def _wait_and_exit(child: int) -> None:
    """The parent, outside the namespace: wait for the init, exit as it did."""
    while True:
        try:
            _pid, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(1)
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    code = os.waitstatus_to_exitcode(status)
    if code < 0:  # killed by a signal: die of the same one, so the grader reads it as such
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code if code >= 0 else 128 - code)


PR_SET_DUMPABLE = 4


def shield_grader() -> bool:
    """Make the grader non-dumpable: its /proc entries (environment, memory, open files)
    then need CAP_SYS_PTRACE, which no local sandbox has, even one of the same user. It
    can still be signalled by the same user (see the README). True when it took effect.
    (Here, not in the local backend, so that the command can call it without importing a backend.)"""
    return PRCTL is not None and PRCTL(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0
