"""Whether sandboxes fork instead of starting interpreters: the local fork server for warm
sandboxes, and every runner's first kernel (`autograde.runner.forked_kernel`). On by default;
``AUTOGRADE_FORK=off`` in the grader's environment turns both off (each sandbox then starts
its runner and its kernel as new interpreters, as a plain Jupyter does)."""

from __future__ import annotations

import os

FORK_ENV = "AUTOGRADE_FORK"


def forking_enabled() -> bool:
    return hasattr(os, "fork") and os.environ.get(FORK_ENV, "on").lower() not in {"off", "0", "no", "false"}
