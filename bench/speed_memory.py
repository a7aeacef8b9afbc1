"""Memory figures of the benchmark: the grader's peak RSS, and the RSS of an idle warm sandbox
(the runner started with --warm and its kernel, children of this process, found with psutil)."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import psutil

MIB = 1024 * 1024


def grader_peak_mib() -> float:
    """Peak RSS of this process (the grader: grading runs in-process) so far."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (MIB if sys.platform == "darwin" else 1024)


def _out_folder(proc: psutil.Process) -> Path | None:
    """The --out folder of a warm runner (`python -m autograde.runner ... --warm`), else None."""
    try:
        argv = proc.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    if "autograde.runner" not in argv or "--warm" not in argv or "--out" not in argv:
        return None
    index = argv.index("--out") + 1
    return Path(argv[index]) if index < len(argv) else None


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for member in [proc, *proc.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def idle_warm_sandboxes(timeout: float = 60.0) -> list[float]:
    """RSS (MiB) of each idle warm sandbox of this process, runner plus kernel, once each is
    ready (its out/warm.json written) and its RSS has settled; [] when none appears in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = {p.pid: (p, out) for p in psutil.Process().children(recursive=True)
                 if (out := _out_folder(p)) is not None}
        # a runner may fork its confined child with the same arguments: count each sandbox once
        runners = [(p, out) for p, out in found.values() if p.ppid() not in found]
        if runners and all((out / "warm.json").exists() for _, out in runners):
            time.sleep(1.0)  # the kernel's last imports settle
            return [round(_tree_rss(p) / MIB, 1) for p, _ in runners]
        time.sleep(0.2)
    return []
