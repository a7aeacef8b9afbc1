"""A warm sandbox warms up at a low CPU priority, so that making the next upload's sandbox
never slows the upload being graded; `begin` gives it the normal priority back.

Only a grader that may raise a priority again (root, or CAP_SYS_NICE) lowers it: otherwise
the upload would run at the low priority. On Linux nice values are per thread, so every
thread of every process of the sandbox is restored.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable

WARM_NICE = 10


def warm_nice() -> int:
    """The nice value a warm-up gets here (0: none, the grader could not restore it)."""
    can = hasattr(os, "setpriority") and hasattr(os, "geteuid") and os.geteuid() == 0
    return WARM_NICE if can and os.path.isdir("/proc/self/task") else 0


def restore(pids: Iterable[int]) -> int:
    """Nice 0 for every thread of these processes; how many threads were changed."""
    changed = 0
    for pid in pids:
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in threads:
            with contextlib.suppress(OSError, ValueError):
                if os.getpriority(os.PRIO_PROCESS, int(tid)) != 0:
                    os.setpriority(os.PRIO_PROCESS, int(tid), 0)
                    changed += 1
    return changed
