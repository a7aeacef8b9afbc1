"""Check kinds. Importing this package registers the built-in kinds; each kind's module holds
its rubric model, its plan and its judge."""

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
