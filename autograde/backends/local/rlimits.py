"""The rlimits of the local backend's runner: CPU seconds, address space (CPU jobs), file
size, open files, no core dumps; never above what this process has itself."""

from __future__ import annotations

import math
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
    current: Callable[[int], tuple[int, int]] | None = None,
) -> dict[str, tuple[int, int]]:
    """Never above the limits this process already has (raising them needs root); none
    where there are no rlimits (Windows: no `resource` module)."""
    try:
        import resource
    except ImportError:
        return {}
    current = current or resource.getrlimit
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
