"""Sandbox backends: `local` here; each registers itself by name."""

from autograde.backends.base import BACKENDS, Backend, Job, RunOutcome, get_backend

__all__ = ["BACKENDS", "Backend", "Job", "RunOutcome", "get_backend"]
