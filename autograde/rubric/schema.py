"""The rubric schema (version 1): plain typed data, validated by pydantic.

A rubric is one YAML file per assignment. Every model forbids unknown keys, so a typo
in a rubric is an error that names the field instead of a silently ignored setting.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"
DOTTED = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
REFERENCE = r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_.]*$"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B?)?\s*$", re.IGNORECASE)
_UNITS = {
    "": 1,
    "b": 1,
    "k": 1e3,
    "kb": 1e3,
    "kib": 2**10,
    "m": 1e6,
    "mb": 1e6,
    "mib": 2**20,
    "g": 1e9,
    "gb": 1e9,
    "gib": 2**30,
    "t": 1e12,
    "tb": 1e12,
    "tib": 2**40,
}
# the ranges of the integer dtypes a draw may ask for (numpy's iinfo; kept here so that loading
# a rubric, as `autograde list` does, does not import numpy)
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1), "uint8": (0, 2**8 - 1)}


class Strict(BaseModel):
    # defer_build: a model's validator is built when first used, not at import (`autograde list`)
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def parse_seconds(value: Any) -> float:
    """Accept 60, 60.0, "60s", "2m", "1h"."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 60 or '60s'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", value)
        if not match:
            raise ValueError(f"expected a duration such as 60 or '60s', got {value!r}")
        scale = {"ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}[match.group(2) or "s"]
        seconds = float(match.group(1)) * scale
    else:
        raise ValueError("expected a duration such as 60 or '60s'")
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


def parse_bytes(value: Any) -> int:
    """Accept 1048576, "2GiB", "512MB"."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as '2GiB'")
    size: int | None = None
    if isinstance(value, int):
        size = value
    elif isinstance(value, str):
        match = _SIZE.fullmatch(value)
        if match and (match.group(2) or "").lower() in _UNITS:
            size = int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])
    if size is None:
        raise ValueError(f"expected a size such as '2GiB' or '512MB', got {value!r}")
    if size <= 0:
        raise ValueError(f"a size must be positive, got {value!r}")
    return size


Seconds = Annotated[float, Field(gt=0)]


class Limits(Strict):
    """Resource limits for one submission's sandbox run."""

    cell_timeout: Seconds = 60.0
    probe_timeout: Seconds = 10.0
    total_timeout: Seconds = 900.0
    memory: int = 2 * 2**30
    output_bytes: int = 2 * 2**20  # captured cell outputs kept in the executed notebook
    max_replays: int = Field(3, ge=0, le=20)
    pids: int = Field(256, ge=16, le=65536)  # processes and threads in the sandbox
    cpus: float = Field(1.0, gt=0, le=256)
    tmp_bytes: int = 512 * 2**20  # each writable scratch area: /tmp, HOME, the working folder
    out_bytes: int = 64 * 2**20  # everything the sandbox may write to its output folder
    network: bool = False
    gpu_fallback_cpu: bool = False  # a GPU job that finds no GPU may run on the CPU

    @field_validator("cell_timeout", "probe_timeout", "total_timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_seconds(value)

    @field_validator("memory", "output_bytes", "tmp_bytes", "out_bytes", mode="before")
    @classmethod
    def _size(cls, value: Any) -> int:
        return parse_bytes(value)


# ---------------------------------------------------------------- probe inputs


class _Draw(Strict):
    shape: list[Annotated[int, Field(ge=0)]] = Field(default_factory=list)
    dtype: Literal["float16", "float32", "float64", "int32", "int64", "uint8", "bool"] = "float64"
    torch: bool = False
    requires_grad: bool = False

    @model_validator(mode="after")
    def _grad_needs_torch_float(self) -> _Draw:
        if self.requires_grad and not (self.torch and self.dtype.startswith("float")):
            raise ValueError("requires_grad needs torch: true and a float dtype")
        return self


class Uniform(_Draw):
    draw: Literal["uniform"]
    low: float = 0.0
    high: float = 1.0


class Normal(_Draw):
    draw: Literal["normal"]
    mean: float = 0.0
    std: float = Field(1.0, ge=0)


class Integers(_Draw):
    draw: Literal["integers"]
    low: int = 0
    high: int = 10
    dtype: Literal["int32", "int64", "uint8"] = "int64"

    @model_validator(mode="after")
    def _range_fits_dtype(self) -> Integers:
        lowest, highest = _INT_RANGES[self.dtype]
        if self.high <= self.low:
            raise ValueError(f"high ({self.high}) must be greater than low ({self.low})")
        if self.low < lowest or self.high - 1 > highest:
            raise ValueError(
                f"[{self.low}, {self.high}) does not fit dtype {self.dtype} ({lowest}..{highest})"
            )
        return self


class Labels(_Draw):
    """Class labels in [0, classes); a fraction of them replaced by -1 (unknown)."""

    draw: Literal["labels"]
    classes: int = Field(ge=1)
    unknown_fraction: float = Field(0.0, ge=0, le=1)
    dtype: Literal["int32", "int64"] = "int64"


class Fixed(Strict):
    """A literal value (number, string, list); `array: true` turns a list into an array."""

    value: Any
    array: bool = False
    dtype: str | None = None
    torch: bool = False


InputSpec = Annotated[Uniform | Normal | Integers | Labels, Field(discriminator="draw")]


def _arg_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "draw" if "draw" in value else "fixed" if "value" in value else "literal"
    if isinstance(value, _Draw):
        return "draw"
    return "fixed" if isinstance(value, Fixed) else "literal"


# A probe argument: a drawn array ({draw: ...}), a literal with options ({value: ...}), or a
# plain literal. The callable discriminator keeps validation errors on the one meant member.
Arg = Annotated[
    Annotated[InputSpec, Tag("draw")] | Annotated[Fixed, Tag("fixed")] | Annotated[Any, Tag("literal")],
    Discriminator(_arg_kind),
]


# ---------------------------------------------------------------- checks


class _Check(Strict):
    visible: Literal["public", "hidden"] | None = None
    weight: float = Field(1.0, ge=0, description="share of the task's points; 0: a gate only")
    tag: str | None = Field(None, description="cell tag where the student's answer belongs")
    name: str | None = Field(None, description="a short label shown in feedback")


class ExistsCheck(_Check):
    """A name the notebook must define. Worth no points by default: it explains the
    failures of the checks that use the name."""

    kind: Literal["exists"]
    weight: float = Field(0.0, ge=0)
    target: str = Field(pattern=DOTTED)
    type: Literal["any", "callable", "class", "module", "array", "number"] = "any"


class _Tolerance(_Check):
    rtol: float = Field(1e-5, ge=0)
    atol: float = Field(1e-8, ge=0)
    dtype: Literal["cast", "strict"] = "cast"


class ShapeCheck(_Check):
    kind: Literal["shape"]
    call: str | None = Field(None, pattern=DOTTED)
    variable: str | None = Field(None, pattern=DOTTED)
    args: list[Arg] = Field(default_factory=list)
    kwargs: dict[str, Arg] = Field(default_factory=dict)
    expect: list[int | None] | None = None
    reference: str | None = Field(None, pattern=REFERENCE)
    output: int | None = Field(None, ge=0, description="index into a tuple result")

    @model_validator(mode="after")
    def _one_source(self) -> ShapeCheck:
        if (self.call is None) == (self.variable is None):
            raise ValueError("give exactly one of `call` or `variable`")
        if (self.expect is None) == (self.reference is None):
            raise ValueError("give exactly one of `expect` or `reference`")
        return self


class ValueCheck(_Tolerance):
    kind: Literal["value"]
    call: str | None = Field(None, pattern=DOTTED)
    variable: str | None = Field(None, pattern=DOTTED)
    args: list[Arg] = Field(default_factory=list)
    kwargs: dict[str, Arg] = Field(default_factory=dict)
    repeat: int = Field(1, ge=1, le=100)
    reference: str | None = Field(None, pattern=REFERENCE)
    expect: Any = None

    @model_validator(mode="after")
    def _one_source(self) -> ValueCheck:
        if (self.call is None) == (self.variable is None):
            raise ValueError("give exactly one of `call` or `variable`")
        if self.call is not None and self.reference is None:
            raise ValueError("a `call` value check needs a `reference`")
        if self.variable is not None and self.expect is None and self.reference is None:
            raise ValueError("a `variable` value check needs `expect` or `reference`")
        return self


class GradientCheck(_Tolerance):
    """The student's gradient function against central differences of their own function."""

    kind: Literal["gradient"]
    of: str = Field(pattern=DOTTED)
    grad: str = Field(pattern=DOTTED)
    at: InputSpec
    repeat: int = Field(1, ge=1, le=50)
    eps: float = Field(1e-6, gt=0)
    rtol: float = Field(1e-4, ge=0)
    atol: float = Field(1e-6, ge=0)


class BackwardCheck(_Tolerance):
    """A custom torch.autograd.Function: gradients per input, None where declared, gradcheck."""

    kind: Literal["backward"]
    function: str = Field(pattern=DOTTED)
    inputs: dict[str, Arg]
    grad_none: list[str] = Field(default_factory=list)
    reference: str = Field(pattern=REFERENCE)
    gradcheck: bool = True
    repeat: int = Field(1, ge=1, le=20)
    eps: float = Field(1e-6, gt=0)

    @model_validator(mode="after")
    def _names(self) -> BackwardCheck:
        unknown = [name for name in self.grad_none if name not in self.inputs]
        if unknown:
            raise ValueError(f"grad_none names inputs that are not declared: {unknown}")
        return self


class AccuracyCheck(_Check):
    """Student model's logits on a hidden set; labels and threshold stay on the host."""

    kind: Literal["accuracy"]
    model: str = Field(pattern=DOTTED)
    data: str
    min: float = Field(ge=0, le=1)
    batch_size: int = Field(256, ge=1)
    inputs: Literal["auto", "torch", "numpy"] = Field(
        "auto", description="how batches are passed: auto = tensors for an nn.Module, else arrays"
    )


class ConfidenceCheck(_Check):
    """Open-set: mean max-softmax on unknown samples lower than on known ones."""

    kind: Literal["confidence"]
    model: str = Field(pattern=DOTTED)
    known: str
    unknown: str
    margin: float = Field(0.0, ge=0, le=1)
    batch_size: int = Field(256, ge=1)
    inputs: Literal["auto", "torch", "numpy"] = Field(
        "auto", description="how batches are passed: auto = tensors for an nn.Module, else arrays"
    )


class _CallOrVariable(_Check):
    """A check on what a call returns (`call` with `args`/`kwargs`) or on a notebook variable."""

    call: str | None = Field(None, pattern=DOTTED)
    variable: str | None = Field(None, pattern=DOTTED)
    args: list[Arg] = Field(default_factory=list)
    kwargs: dict[str, Arg] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_target(self) -> _CallOrVariable:
        if (self.call is None) == (self.variable is None):
            raise ValueError("give exactly one of `call` or `variable`")
        if self.variable is not None and (self.args or self.kwargs):
            raise ValueError("`args` and `kwargs` need `call`, not `variable`")
        return self

    @property
    def target(self) -> str:
        return self.call or self.variable or ""


class ModuleCheck(_CallOrVariable):
    """The structure of a torch.nn.Module: its leaf layers, trainable parameters, output shape."""

    kind: Literal["module"]
    layers: list[str] | None = Field(None, description="class names of the leaf modules, in order")
    layers_match: Literal["exact", "contains"] = "exact"
    params: int | None = Field(None, ge=0, description="number of trainable parameters")
    input: InputSpec | None = Field(None, description="a batch for one forward pass (eval mode)")
    output_shape: list[int | None] | None = None
    reference: str | None = Field(None, pattern=REFERENCE)

    @model_validator(mode="after")
    def _something_to_check(self) -> ModuleCheck:
        if self.output_shape is not None and self.input is None:
            raise ValueError("`output_shape` needs an `input`")
        if self.layers is None and self.params is None and self.output_shape is None and not self.reference:
            raise ValueError("give at least one of `layers`, `params`, `output_shape` or `reference`")
        return self


class PlotCheck(_CallOrVariable, _Tolerance):
    """The data behind a matplotlib figure: its lines or scatter points, and its axis labels."""

    kind: Literal["plot"]
    axes: int = Field(0, ge=0)
    artists: Literal["lines", "scatter"] = "lines"
    min_count: int = Field(1, ge=0)
    labels: bool = False
    reference: str | None = Field(None, pattern=REFERENCE)


class ErrorCheck(_Check):
    """A trained model's error on a hidden set whose labels are the targets."""

    kind: Literal["error"]
    model: str = Field(pattern=DOTTED)
    data: str
    metric: Literal["mse", "mae"] = "mse"
    max: float = Field(ge=0)
    batch_size: int = Field(256, ge=1)
    inputs: Literal["auto", "torch", "numpy"] = Field(
        "auto", description="how batches are passed: auto = tensors for an nn.Module, else arrays"
    )


class PropertyCheck(_CallOrVariable):
    """A host-side judge for results without one right value: `judge(result, *args, **kwargs)`
    returns None when the result is right, else a message saying what is wrong."""

    kind: Literal["property"]
    repeat: int = Field(1, ge=1, le=100)
    judge: str = Field(pattern=REFERENCE)


class ChoiceCheck(_Check):
    kind: Literal["choice"]
    variable: str = Field(pattern=DOTTED)
    correct: list[str] = Field(min_length=1)
    options: list[str] | None = None

    @model_validator(mode="after")
    def _correct_in_options(self) -> ChoiceCheck:
        if self.options is not None:
            extra = sorted(set(self.correct) - set(self.options))
            if extra:
                raise ValueError(f"correct answers {extra} are not among the options")
        return self


class ManualCheck(_Check):
    kind: Literal["manual"]
    cell_tag: str


Check = Annotated[
    ExistsCheck
    | ShapeCheck
    | ValueCheck
    | GradientCheck
    | BackwardCheck
    | AccuracyCheck
    | ConfidenceCheck
    | ModuleCheck
    | PlotCheck
    | ErrorCheck
    | PropertyCheck
    | ChoiceCheck
    | ManualCheck,
    Field(discriminator="kind"),
]


class Task(Strict):
    id: str = Field(pattern=IDENT)
    title: str | None = None
    points: float = Field(gt=0)
    visible: Literal["public", "hidden"] = "public"
    checks: list[Check] = Field(min_length=1)

    @model_validator(mode="after")
    def _some_weight(self) -> Task:
        if not any(check.weight > 0 for check in self.checks):
            raise ValueError("at least one check of a task must carry weight > 0")
        return self


# ---------------------------------------------------------------- data sets


class DataSource(Strict):
    """A data set made on the host by a generator function `module:function`.

    For `data_dir` the generator writes files into a folder the notebook reads (public).
    For hidden sets it returns `(inputs, labels)`; only the inputs enter the sandbox.
    """

    generator: str = Field(pattern=REFERENCE)
    options: dict[str, Any] = Field(default_factory=dict)


class Mutant(Strict):
    """A deliberately wrong notebook for `autograde rubric test`: it loses exactly these points."""

    notebook: str
    loses: dict[str, float] = Field(min_length=1)
    description: str | None = None


class Rubric(Strict):
    schema_: Literal[1] = Field(alias="schema")
    assignment: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
    title: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    limits: Limits = Field(default_factory=Limits)  # type: ignore[arg-type]
    data_dir: DataSource | None = None
    hidden_data: dict[str, DataSource] = Field(default_factory=dict)
    template: str = "template.ipynb"
    solution: str = "solution.ipynb"
    mutants: list[Mutant] = Field(default_factory=list)
    tasks: list[Task] = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        """Cross-field rules; each problem names the dotted path of its field."""
        problems = []
        ids = [task.id for task in self.tasks]
        for index, task_id in enumerate(ids):
            if task_id in ids[:index]:
                problems.append(f"tasks.{index}.id: task ids must be unique; {task_id!r} is used twice")
        for t_index, task in enumerate(self.tasks):
            for c_index, check in enumerate(task.checks):
                for field_name, ref in _data_refs(check):
                    if ref not in self.hidden_data:
                        problems.append(
                            f"tasks.{t_index}.checks.{c_index}.{field_name}: task {task.id!r} uses "
                            f"data set {ref!r}, which is not declared in hidden_data"
                        )
        for m_index, mutant in enumerate(self.mutants):
            unknown = sorted(set(mutant.loses) - set(ids))
            if unknown:
                problems.append(
                    f"mutants.{m_index}.loses: mutant {mutant.notebook!r} names unknown tasks "
                    f"{unknown} (tasks: {ids})"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def max_points(self) -> float:
        return sum(task.points for task in self.tasks)


def _data_refs(check: Any) -> list[tuple[str, str]]:
    if isinstance(check, AccuracyCheck):
        return [("data", check.data)]
    if isinstance(check, ErrorCheck):
        return [("data", check.data)]
    if isinstance(check, ConfidenceCheck):
        return [("known", check.known), ("unknown", check.unknown)]
    return []
