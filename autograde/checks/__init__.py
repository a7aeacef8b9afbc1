"""Check kinds. Each kind's module holds its rubric model, its plan and its judge; importing
this package imports every module in it, so a module added here registers its kinds with no
other edit. The built-in models are re-exported for convenience."""

import importlib
import pkgutil

from autograde.checks import basic, calculus, models, structure
from autograde.checks.base import REGISTRY, CheckKind, Tolerance, Verdict, kind_for, register
from autograde.checks.basic import ChoiceCheck, ExistsCheck, ManualCheck, ShapeCheck, ValueCheck
from autograde.checks.calculus import BackwardCheck, GradientCheck
from autograde.checks.models import AccuracyCheck, ConfidenceCheck, ErrorCheck, ModelOutputs
from autograde.checks.structure import ModuleCheck, PlotCheck, PropertyCheck
from autograde.checks.targets import CallOrVariable

__all__ = [
    "REGISTRY",
    "AccuracyCheck",
    "BackwardCheck",
    "CallOrVariable",
    "CheckKind",
    "ChoiceCheck",
    "ConfidenceCheck",
    "ErrorCheck",
    "ExistsCheck",
    "GradientCheck",
    "ManualCheck",
    "ModelOutputs",
    "ModuleCheck",
    "PlotCheck",
    "PropertyCheck",
    "ShapeCheck",
    "Tolerance",
    "ValueCheck",
    "Verdict",
    "basic",
    "calculus",
    "kind_for",
    "models",
    "register",
    "structure",
]

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
