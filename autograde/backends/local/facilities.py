"""What this machine offers the local backend's confinement: rlimits (the `resource` module,
POSIX), namespaces (unshare(2)), cgroups and prctl(2) (Linux). A student's macOS or Windows
machine has few of them, an unprivileged container some: the local backend then runs the
notebook without what is missing, says so in a note, and never fails for it.

``AUTOGRADE_CONFINEMENT=off`` makes the backend behave as on a machine with none of them (a
student's laptop, a test of that path); ``AUTOGRADE_CONFINEMENT=unprivileged`` as in a
container with Docker's default capabilities (rlimits and prctl, no namespaces, no cgroups:
Gradescope's); the docker backend is not affected.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass

from autograde.runner import confine

CONFINEMENT_ENV = "AUTOGRADE_CONFINEMENT"


@dataclass(frozen=True)
class Facilities:
    rlimits: bool
    namespaces: bool
    cgroups: bool
    prctl: bool
    why: str = "not on this platform"  # said in the notes of what is missing

    def missing(self, isolate_network: bool) -> list[str]:
        """Notes on what the run goes without (cgroups: the cgroup notes say it)."""
        notes = []
        if not self.rlimits:
            notes.append(f"resource limits not set: rlimits are not available here ({self.why})")
        if not self.namespaces:
            if isolate_network:
                notes.append(f"network not isolated: namespaces are not available here ({self.why})")
            notes.append(f"file system not protected: namespaces are not available here ({self.why})")
        if not self.prctl:
            notes.append(
                f"the notebook runs unconfined: prctl is not available here ({self.why}); no capability "
                "is dropped and the grader's process is not shielded"
            )
        return notes


def available() -> Facilities:
    """What this process can use now."""
    mode = os.environ.get(CONFINEMENT_ENV, "").strip().lower()
    if mode == "off":
        return Facilities(False, False, False, False, f"{CONFINEMENT_ENV}=off")
    if mode == "unprivileged":
        return Facilities(True, False, False, confine.PRCTL is not None, f"{CONFINEMENT_ENV}=unprivileged")
    linux = sys.platform.startswith("linux")
    return Facilities(
        rlimits=importlib.util.find_spec("resource") is not None,
        namespaces=linux and confine.load_libc("unshare") is not None,
        cgroups=linux,
        prctl=confine.PRCTL is not None,
        why=f"not on {sys.platform}" if not linux else "not in this C library",
    )
