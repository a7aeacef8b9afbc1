"""Check kinds. Importing this package registers the built-in kinds."""

from autograde.checks import basic, calculus, models, structure
from autograde.checks.base import REGISTRY, CheckKind, Verdict, kind_for, register

__all__ = [
    "REGISTRY",
    "CheckKind",
    "Verdict",
    "basic",
    "calculus",
    "kind_for",
    "models",
    "register",
    "structure",
]
