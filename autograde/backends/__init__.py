"""Sandbox backends (`local`, `docker`); each registers itself by name."""

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
