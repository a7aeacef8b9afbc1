"""Best-effort confinement of the local backend's runner, as far as a subprocess can go.

* rlimits (see `rlimits`), set in the child before exec;
* a per-job cgroup (v1, or v2 where /sys/fs/cgroup is cgroup2), when this process may make
  one (root, or a delegated subtree): the job's memory and pids limits; the child joins it
  before exec, and afterwards every process in it is killed, whatever session it started or
  environment it scrubbed, and the cgroup is removed;
* a fresh network namespace (loopback only), unprivileged through a user namespace where the
  kernel allows one;
* a private mount namespace in which every file system is read-only except the job's own
  folder, `/dev/shm` is a fresh size-limited tmpfs, and the reference, the rubrics and the
  grader's home are covered by empty read-only folders; then every capability is dropped
  (root included: no remount, no raw devices) and no-new-privileges set, so nothing the
  notebook runs can undo that or write into the Python environment for the next submission.

Each part degrades on its own and says so in a short note. What the child does between fork
and exec (`ChildSetup`) is prepared in the parent: the child imports nothing. The POSIX- and
Linux-only modules (`resource`, `fcntl`) are imported there too, only when a part needs them,
so that this module imports on any platform (see `facilities`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autograde.backends.local import procfs
from autograde.backends.local.procfs import mount_points
from autograde.runner import confine
from autograde.runner.confine import (
    MS_BIND,
    MS_NOATIME,
    MS_NODEV,
    MS_NODIRATIME,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_RELATIME,
    MS_REMOUNT,
    PROC_READ_ONLY,
    mount,
)

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
# statvfs flags a read-only remount keeps (Linux's; 0 where the platform has no such flag)
_KEPT_FLAGS = tuple(
    (getattr(os, st, 0), ms)
    for st, ms in (
        ("ST_NOSUID", MS_NOSUID), ("ST_NODEV", MS_NODEV), ("ST_NOEXEC", MS_NOEXEC),
        ("ST_NOATIME", MS_NOATIME), ("ST_NODIRATIME", MS_NODIRATIME), ("ST_RELATIME", MS_RELATIME),
    )
)
CLONE_NEWPID = 0x20000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
_IFREQ = "16sH22x"  # struct ifreq: name, flags, padding to 40 bytes

_UNSHARE = confine.load_libc("unshare")


# -- the file system plan -----------------------------------------------------------------


@dataclass(frozen=True)
class FsPlan:
    """What the child does to its private mount namespace, prepared in the parent."""

    writable: str  # the job's folder: stays writable
    scratch: tuple[str, ...]  # the working folder and HOME: fresh size-limited tmpfs (cwd: the first)
    readable: tuple[str, ...]  # what the run needs (Python, data): kept visible under a fresh /tmp
    hidden: tuple[str, ...]  # covered by an empty read-only tmpfs
    mounts: tuple[str, ...]  # every mount point: remounted read-only
    shm_bytes: int  # size of the fresh /tmp and /dev/shm
    drop_caps: bool  # root: drop every capability before exec
    last_cap: int = 40
    pid_init: bool = False  # a PID namespace whose init (the runner's child) drops them instead

    @property
    def tmpfs_options(self) -> str:
        """The fresh scratch folders, /tmp and /dev/shm: each writable by all, size-limited."""
        return f"size={self.shm_bytes},mode=1777"


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def fs_plan(
    job_root: Path,
    scratch: tuple[Path, ...],
    hidden: tuple[Path, ...],
    needed: tuple[Path, ...],
    shm_bytes: int,
) -> FsPlan:
    """The plan for one job. Writing past `shm_bytes` in a scratch folder, /tmp or /dev/shm
    fails with ENOSPC inside the run, as in a container. A hidden folder that holds something
    the run needs (the Python environment, the runner, the data) or the job itself is left
    visible (read-only)."""
    info = procfs.mountinfo()
    mounts = mount_points(info) if info is not None else ("/",)
    last_cap = confine.last_capability()
    keep = [str(job_root.resolve()), *(str(p.resolve()) for p in needed)]
    shown = tuple(
        str(h.resolve()) for h in hidden
        if h.is_dir() and not any(_inside(k, str(h.resolve())) for k in keep)
    )
    work = tuple(str(p.resolve()) for p in scratch)
    root = os.getuid() == 0
    return FsPlan(keep[0], work, tuple(keep[1:]), shown, mounts, shm_bytes, root, last_cap, pid_init=root)


# -- the grader itself ------------------------------------------------------------------------


def reachable_by(path: Path, uid: int, gid: int) -> bool:
    """Whether `uid:gid` (no supplementary groups) may enter every folder on the way to `path`
    and read it: the runner's Python must be, or the runner cannot start as that user."""
    import stat

    def allows(info: os.stat_result, bits: int) -> bool:
        if info.st_uid == uid:
            return info.st_mode & (bits << 6) == bits << 6
        if info.st_gid == gid:
            return info.st_mode & (bits << 3) == bits << 3
        return info.st_mode & bits == bits

    try:
        target = path.resolve(strict=True)
        parents = list(reversed(target.parents))
        if not all(allows(os.stat(folder), 1) for folder in parents):  # x: enter
            return False
        info = os.stat(target)
        return allows(info, 5 if stat.S_ISDIR(info.st_mode) else 4)
    except OSError:
        return False


def hand_over(root: Path, uid: int, gid: int) -> None:
    """Give a job folder (everything in it, no link followed) to the user the runner becomes."""
    os.lchown(root, uid, gid)
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            os.lchown(os.path.join(folder, name), uid, gid)


# -- the child, between fork and exec ------------------------------------------------------


class ChildSetup:
    """The `preexec_fn`: join the cgroup, set rlimits, unshare the network and the mounts,
    protect the file system, drop capabilities. Never raises (a failure must not stop the
    run); reports what failed through a pipe, one line each."""

    def __init__(
        self,
        rlimits: dict[str, tuple[int, int]],
        procs_files: list[str],
        isolate_network: bool,
        fs: FsPlan | None = None,
        run_as: tuple[int, int] | None = None,
    ) -> None:
        self.rlimits: list[tuple[str, int, int, int]] = []
        self._setrlimit: Callable[[int, tuple[int, int]], None] | None = None
        if rlimits:
            import resource

            self._setrlimit = resource.setrlimit
            self.rlimits = [(name, getattr(resource, name), *limit) for name, limit in rlimits.items()]
        self._ioctl: Callable[[int, int, bytes], bytes] | None = None
        if isolate_network:
            with contextlib.suppress(ImportError):
                import fcntl

                self._ioctl = fcntl.ioctl
        self.procs_files = procs_files
        self.isolate_network = isolate_network
        self.fs = fs
        self.run_as = run_as  # become this uid:gid where the namespaces could not protect the files
        self._isolated = False  # the mount namespace and the file system protection are in place
        uid, gid = (os.getuid(), os.getgid()) if hasattr(os, "getuid") else (0, 0)  # Windows: none
        self.uid_map = f"{uid} {uid} 1".encode()
        self.gid_map = f"{gid} {gid} 1".encode()
        self._read_fd, self._write_fd = os.pipe()  # both close-on-exec

    @property
    def write_fd(self) -> int:
        """The report pipe's end the child writes to (a fork server's child gets a copy)."""
        return self._write_fd

    def __call__(self) -> None:
        try:
            self._setup()
        except BaseException:  # whatever it was, the run goes on
            self._report("setup", "the sandbox set-up failed")
        if self.run_as is not None and not self._isolated:
            self._become(*self.run_as)

    def _become(self, uid: int, gid: int) -> None:
        """Without a protected file system: run as an unprivileged user, with no way back (no
        supplementary groups, no new privileges through a set-uid program)."""
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
        except OSError as exc:
            self._report("user", f"could not become uid {uid} ({exc.strerror or 'failed'})")
            return
        confine.no_new_privileges()

    def _setup(self) -> None:
        pid = str(os.getpid()).encode()
        for path in self.procs_files:
            try:
                self._put(path, pid)
            except OSError as exc:
                self._report("cgroup", exc.strerror or "failed")
        setrlimit = self._setrlimit
        if setrlimit is not None:
            for name, number, soft, hard in self.rlimits:
                try:
                    setrlimit(number, (soft, hard))
                except (OSError, ValueError):
                    self._report("rlimit", name)
        flags = (CLONE_NEWNET if self.isolate_network else 0) | (CLONE_NEWNS if self.fs else 0)
        if not flags:
            return
        why = self._unshare(flags)
        if why:
            if self.isolate_network:
                self._report("network", why)
            if self.fs:
                self._report("filesystem", why)
            return
        if self.isolate_network:
            why = _loopback_up(self._ioctl)
            if why:
                self._report("loopback", why)
        if self.fs:
            self._isolated = self._protect(self.fs)
            if self.fs.pid_init and (_UNSHARE is None or _UNSHARE(CLONE_NEWPID) != 0):
                self._report("pid", "no PID namespace (the runner drops the capabilities itself)")

    def _unshare(self, flags: int) -> str:
        if _UNSHARE is None:
            return "namespaces are not available here"
        if _UNSHARE(flags) != 0:
            first = ctypes.get_errno()
            if _UNSHARE(CLONE_NEWUSER | flags) != 0:
                second = ctypes.get_errno()
                return (
                    "namespaces are not available here "
                    f"({os.strerror(first)}; with a user namespace: {os.strerror(second)})"
                )
            try:
                self._put(procfs.SELF_SETGROUPS, b"deny")
                self._put(procfs.SELF_UID_MAP, self.uid_map)
                self._put(procfs.SELF_GID_MAP, self.gid_map)
            except OSError as exc:
                self._report("userns", exc.strerror or "failed")
        return ""

    def _protect(self, fs: FsPlan) -> bool:
        """The mounts that protect the file system; False when they could not be made at all."""
        if confine.MOUNT is None or confine.PRCTL is None:
            self._report("filesystem", "mount(2) is not available here")
            return False
        if not mount(None, "/", None, MS_REC | MS_PRIVATE):
            self._report("filesystem", "could not make the mounts private")
            return False
        carried = self._fresh_tmp(fs)
        if fs.writable not in carried and not mount(fs.writable, fs.writable, None, MS_BIND | MS_REC):
            self._report("filesystem", "could not keep the job folder writable")
            return False
        size = fs.tmpfs_options
        for folder in fs.scratch:
            if not mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, size):
                self._report("filesystem", f"no size limit on {folder}")
        if fs.scratch:
            with contextlib.suppress(OSError):
                os.chdir(fs.scratch[0])  # the old cwd is now under the tmpfs
        shm = os.path.isdir("/dev/shm") and mount(
            "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, fs.tmpfs_options
        )
        for folder in fs.hidden:
            if carried and _inside(folder, "/tmp") and not any(_inside(folder, c) for c in carried[1:]):
                continue  # gone with the old /tmp
            flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
            if not mount("tmpfs", folder, "tmpfs", flags, "size=4k,mode=755"):
                self._report("filesystem", f"could not hide {folder}")
        for path in PROC_READ_ONLY:  # /proc itself stays writable: the CUDA driver writes there
            if os.path.exists(path) and not mount(path, path, None, MS_BIND | MS_REC):
                self._report("filesystem", f"could not protect {path}")
        failed = []
        for point in (*fs.mounts, *fs.hidden, *carried, *PROC_READ_ONLY):
            if _inside(point, fs.writable) or (shm and point == "/dev/shm") or (carried and point == "/tmp"):
                continue
            if point == "/proc" or (_inside(point, "/proc") and point not in PROC_READ_ONLY):
                continue
            try:
                kept = os.statvfs(point).f_flag
            except OSError:
                continue
            extra = sum(ms for st, ms in _KEPT_FLAGS if kept & st)
            if not mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | extra):
                failed.append(point)
        if failed:
            self._report("filesystem", f"not read-only: {', '.join(failed[:5])}")
        if fs.pid_init:
            return True  # the runner, as the init of its PID namespace, mounts its /proc, then drops
        if fs.drop_caps and not confine.drop_capabilities(fs.last_cap):
            self._report("filesystem", "could not drop the capabilities of root")
        if not confine.no_new_privileges():
            self._report("filesystem", "could not set no-new-privileges")
        return True

    def _fresh_tmp(self, fs: FsPlan) -> list[str]:
        """A private, size-limited /tmp, as in a container; what the run needs from the old
        one (the job's folder, a Python environment or data kept there) is bound back in."""
        keep = [p for p in (fs.writable, *fs.readable) if _inside(p, "/tmp") and p != "/tmp"]
        if "/tmp" in fs.readable or not os.path.isdir("/tmp"):
            return []
        try:
            fds = [os.open(p, os.O_PATH | os.O_DIRECTORY) for p in keep]
        except OSError:
            self._report("filesystem", "no private /tmp: a needed folder cannot be opened")
            return []
        if not mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, fs.tmpfs_options):
            self._report("filesystem", "no private /tmp")
            return []
        carried = []
        for path, fd in zip(keep, fds, strict=True):
            with contextlib.suppress(OSError):
                os.makedirs(path, exist_ok=True)
            if mount(procfs.fd_path(fd), path, None, MS_BIND | MS_REC):
                carried.append(path)
            else:
                self._report("filesystem", f"could not keep {path} under the private /tmp")
            os.close(fd)
        return ["/tmp", *carried]

    @staticmethod
    def _put(path: str, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def _report(self, key: str, message: str) -> None:
        with contextlib.suppress(OSError):
            os.write(self._write_fd, f"{key}\t{message}\n".encode())

    def collect(self) -> dict[str, list[str]]:
        """In the parent, after Popen returned (the child has exec'd): what went wrong."""
        self.close_writer()
        chunks = []
        with contextlib.suppress(OSError):
            while select.select([self._read_fd], [], [], 1.0)[0]:
                chunk = os.read(self._read_fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
        self.close()
        found: dict[str, list[str]] = {}
        for line in b"".join(chunks).decode("utf-8", "replace").splitlines():
            key, _, message = line.partition("\t")
            found.setdefault(key, []).append(message)
        return found

    def close_writer(self) -> None:
        if self._write_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._write_fd)
            self._write_fd = -1

    def close(self) -> None:
        self.close_writer()
        if self._read_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._read_fd)
            self._read_fd = -1


def _loopback_up(ioctl: Callable[[int, int, bytes], bytes] | None) -> str:
    """A new network namespace has `lo` down; up, so 127.0.0.1 works as everywhere else.
    Why it could not be ("" when it is up). `ioctl`: fcntl's, imported by the parent."""
    if ioctl is None:
        return "no ioctl(2) here"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            request = struct.pack(_IFREQ, b"lo", 0)
            flags = struct.unpack(_IFREQ, ioctl(sock.fileno(), SIOCGIFFLAGS, request))[1]
            ioctl(sock.fileno(), SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | IFF_UP))
    except OSError as exc:
        return exc.strerror or repr(exc)
    return ""
