"""Best-effort confinement of the local backend's runner, as far as a subprocess can go.

* rlimits, set in the child before exec: CPU seconds, address space (CPU jobs), file size,
  open files, no core dumps;
* a per-job cgroup (v1, or v2 where /sys/fs/cgroup is cgroup2), when this process may make
  one (root, or a delegated subtree): the job's memory and pids limits; the child joins it
  before exec, and afterwards every process in it is killed, whatever session it started or
  environment it scrubbed, and the cgroup is removed;
* a fresh network namespace (loopback only), unprivileged through a user namespace where the
  kernel allows one.

Each part degrades on its own and says so in a short note. What the child does between fork
and exec (`ChildSetup`) is prepared in the parent: the child imports nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import math
import os
import resource
import select
import socket
import struct
from collections.abc import Callable

from autograde.backends.base import MAX_FILE_BYTES, NOFILE, SandboxLimits

GiB = 2**30
# RLIMIT_AS is virtual memory, and `import torch` (a CUDA build) reserves much of it without
# touching it. Measured with this project's .venv (torch 2.14.1+cu130, torchvision 0.29.1,
# Python 3.11, no GPU), VmPeak from /proc/self/status:
#   python -c pass: 14 MiB; import numpy: 137 MiB;
#   import torch: 3,257,000 kB (3.11 GiB; RSS 0.50 GiB);
#   import torch, torchvision: 3,567,784 kB (3.40 GiB; RSS 0.67 GiB);
#   inside an ipykernel (13 threads, each with a malloc arena): bare 814,196 kB (0.78 GiB),
#   + torch, torchvision 4,303,628 kB (4.10 GiB), + a small CNN training loop 4.13 GiB,
#   + a DataLoader with 2 workers 4,467,220 kB (4.26 GiB).
# The reservation comes on top of the data, so the rule is additive:
#   AS = memory + 5 GiB  (4.3 GiB measured + 0.7 GiB for more threads and libraries);
# the rubric's 2 GiB gives 7 GiB, 4 GiB gives 9 GiB: a torch notebook keeps its whole memory
# limit for data, while a runaway allocation (np.ones(10**11)) fails at once with MemoryError.
# Without a cgroup this is the only memory bound and a loose one (a numpy-only kernel can
# touch about memory + 4 GiB). GPU jobs get no RLIMIT_AS: the CUDA driver maps far more.
ADDRESS_SPACE_OVERHEAD = 5 * GiB


CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
_IFREQ = "16sH22x"  # struct ifreq: name, flags, padding to 40 bytes


def _load_unshare() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function: Callable[[int], int] = libc.unshare
    except (OSError, AttributeError):
        return None
    return function


_UNSHARE = _load_unshare()


# -- rlimits -------------------------------------------------------------------------------


def address_space_limit(memory: int) -> int:
    return memory + ADDRESS_SPACE_OVERHEAD


def rlimits_for(limits: SandboxLimits, gpu: str | None, grace: float) -> dict[str, tuple[int, int]]:
    """The rlimits the runner gets, by `resource` name: (soft, hard).

    CPU seconds: the wall-clock limit times the CPUs the job may use (each process counts its
    own time, so this only stops a process that outspins the whole run); the hard limit one
    second later, so the soft one first sends a catchable SIGXCPU.
    """
    cpu = math.ceil((limits.total_timeout + grace) * max(1.0, limits.cpus))
    wanted = {
        "RLIMIT_CORE": (0, 0),
        "RLIMIT_FSIZE": (MAX_FILE_BYTES, MAX_FILE_BYTES),
        "RLIMIT_NOFILE": (NOFILE, NOFILE),
        "RLIMIT_CPU": (cpu, cpu + 1),
    }
    if gpu is None:
        space = address_space_limit(limits.memory)
        wanted["RLIMIT_AS"] = (space, space)
    return wanted


def effective_rlimits(
    wanted: dict[str, tuple[int, int]],
    current: Callable[[int], tuple[int, int]] = resource.getrlimit,
) -> dict[str, tuple[int, int]]:
    """Never above the limits this process already has (raising them needs root)."""
    result = {}
    for name, (soft, hard) in wanted.items():
        number = getattr(resource, name, None)
        if number is None:
            continue
        _soft, now_hard = current(number)
        if now_hard != resource.RLIM_INFINITY:
            hard = min(hard, now_hard)
        result[name] = (min(soft, hard), hard)
    return result


# -- the child, between fork and exec ------------------------------------------------------


class ChildSetup:
    """The `preexec_fn`: join the cgroup, set rlimits, unshare the network. Never raises (a
    failure must not stop the run); reports what failed through a pipe, one line each."""

    def __init__(
        self, rlimits: dict[str, tuple[int, int]], procs_files: list[str], isolate_network: bool
    ) -> None:
        self.rlimits = [(name, getattr(resource, name), soft, hard) for name, (soft, hard) in rlimits.items()]
        self.procs_files = procs_files
        self.isolate_network = isolate_network
        self.uid_map = f"{os.getuid()} {os.getuid()} 1".encode()
        self.gid_map = f"{os.getgid()} {os.getgid()} 1".encode()
        self._read_fd, self._write_fd = os.pipe()  # both close-on-exec

    def __call__(self) -> None:
        try:
            self._setup()
        except BaseException:  # whatever it was, the run goes on
            self._report("setup", "the sandbox set-up failed")

    def _setup(self) -> None:
        pid = str(os.getpid()).encode()
        for path in self.procs_files:
            try:
                self._put(path, pid)
            except OSError as exc:
                self._report("cgroup", exc.strerror or "failed")
        for name, number, soft, hard in self.rlimits:
            try:
                resource.setrlimit(number, (soft, hard))
            except (OSError, ValueError):
                self._report("rlimit", name)
        if self.isolate_network:
            why = self._unshare_network()
            if why:
                self._report("network", why)

    def _unshare_network(self) -> str:
        if _UNSHARE is None:
            return "network namespaces are not available here"
        if _UNSHARE(CLONE_NEWNET) != 0:
            first = ctypes.get_errno()
            if _UNSHARE(CLONE_NEWUSER | CLONE_NEWNET) != 0:
                second = ctypes.get_errno()
                return (
                    "network namespaces are not available here "
                    f"({os.strerror(first)}; with a user namespace: {os.strerror(second)})"
                )
            try:
                self._put("/proc/self/setgroups", b"deny")
                self._put("/proc/self/uid_map", self.uid_map)
                self._put("/proc/self/gid_map", self.gid_map)
            except OSError as exc:
                self._report("userns", exc.strerror or "failed")
        _loopback_up()
        return ""

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


def _loopback_up() -> None:
    """A new network namespace has `lo` down; up, so 127.0.0.1 works as everywhere else."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            request = struct.pack(_IFREQ, b"lo", 0)
            flags = struct.unpack(_IFREQ, fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, request))[1]
            fcntl.ioctl(sock.fileno(), SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | IFF_UP))
    except OSError:
        pass
