"""Sandbox backends (`local`, `docker`; `fake` for unit tests); each registers itself by name.
`Backend.run` (base.py) is the one run template; a backend supplies its `Sandbox` hooks."""

from autograde.backends.base import (
    BACKENDS,
    Backend,
    BackendOptions,
    Job,
    RunOutcome,
    SandboxLimits,
    get_backend,
)

__all__ = ["BACKENDS", "Backend", "BackendOptions", "Job", "RunOutcome", "SandboxLimits", "get_backend"]
