"""The rubric schema (version 1): plain typed data, validated by pydantic.

A rubric is one YAML file per assignment. Every model forbids unknown keys, so a typo
in a rubric is an error that names the field instead of a silently ignored setting. The
fields of each check kind are defined by the kind itself (autograde/checks/), on `CheckBase`.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    SerializeAsAny,
    Tag,
    TypeAdapter,
    WithJsonSchema,
    field_validator,
    model_validator,
)

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


# how the JSON Schema of rubric files (`autograde rubric schema`) writes what the validators
# above accept besides a plain number
_DURATION_JSON: dict[str, Any] = {
    "anyOf": [{"type": "number", "exclusiveMinimum": 0},
              {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$"}],
    "description": "seconds, or a duration such as '60s', '2m', '1h'",
}
_SIZE_JSON: dict[str, Any] = {
    "anyOf": [{"type": "integer", "exclusiveMinimum": 0},
              {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*([kKmMgGtT]([iI]?[bB])?|[bB])?\s*$"}],
    "description": "bytes, or a size such as '2GiB', '512MB'",
}
Seconds = Annotated[float, Field(gt=0), WithJsonSchema(_DURATION_JSON)]
Size = Annotated[int, WithJsonSchema(_SIZE_JSON)]


class Limits(Strict):
    """Resource limits for one submission's sandbox run."""

    cell_timeout: Seconds = 60.0
    probe_timeout: Seconds = 10.0
    total_timeout: Seconds = 900.0
    memory: Size = 2 * 2**30
    output_bytes: Size = 2 * 2**20  # captured cell outputs kept in the executed notebook
    max_replays: int = Field(3, ge=0, le=20)
    pids: int = Field(256, ge=16, le=65536)  # processes and threads in the sandbox
    cpus: float = Field(1.0, gt=0, le=256)
    tmp_bytes: Size = 512 * 2**20  # each writable scratch area: /tmp, HOME, the working folder
    out_bytes: Size = 64 * 2**20  # everything the sandbox may write to its output folder
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
_LITERAL_JSON: dict[str, Any] = {  # anything but a mapping with `draw` or `value`
    "not": {"type": "object", "anyOf": [{"required": ["draw"]}, {"required": ["value"]}]},
    "description": "a literal argument",
}
Arg = Annotated[
    Annotated[InputSpec, Tag("draw")]
    | Annotated[Fixed, Tag("fixed")]
    | Annotated[Any, Tag("literal"), WithJsonSchema(_LITERAL_JSON)],
    Discriminator(_arg_kind),
]


# ---------------------------------------------------------------- checks


class CheckBase(Strict):
    """What every check has. Each kind's module defines its own model on this base (with
    `kind: Literal["name"]`) and registers it with its kind (autograde/checks/base.py); a
    task's `checks` validate against the models registered at that time."""

    kind: str
    visible: Literal["public", "hidden"] | None = None
    weight: float = Field(1.0, ge=0, description="share of the task's points; 0: a gate only")
    tag: str | None = Field(None, description="cell tag where the student's answer belongs")
    name: str | None = Field(None, description="a short label shown in feedback")

    def subject(self) -> str:
        """What the check looks at (a function, a variable, a model): its name in reports."""
        return ""

    def display_name(self) -> str:
        """The one name the check has in every report: its rubric `name`, else its kind and
        subject (``value loss``), whether it was graded, rejected or never run."""
        return self.name or f"{self.kind} {self.subject()}".strip()

    def data_refs(self) -> list[tuple[str, str]]:
        """(field, hidden data set) pairs the check uses; each must be declared in `hidden_data`."""
        return []


def registered_check_models() -> tuple[type[CheckBase], ...]:
    from autograde.checks.base import registered_models  # importing the package registers the kinds

    return registered_models()


@functools.cache
def _union_of(models: tuple[type[CheckBase], ...]) -> TypeAdapter[CheckBase]:
    members: Any = Union.__getitem__(models)  # Union[A, B, ...]; one model stays itself
    return TypeAdapter(Annotated[members, Field(discriminator="kind")])


def _validate_check(value: Any) -> CheckBase:
    """A check against the union of the registered kinds' models, discriminated by `kind`.
    Its errors are those of a fixed union (an unknown kind lists the known ones; a bad field
    is named under the check), and a kind registered later joins the next validation."""
    return _union_of(registered_check_models()).validate_python(value)


Check = Annotated[SerializeAsAny[CheckBase], PlainValidator(_validate_check)]


class Task(Strict):
    id: str = Field(pattern=IDENT)
    title: str | None = None
    points: float = Field(ge=0, description="0: a self-check exercise that earns nothing")
    visible: Literal["public", "hidden"] = "public"
    all_or_nothing: bool = Field(False, description="full points only when every weighted check passes")
    checks: list[Check] = Field(min_length=1)

    @model_validator(mode="after")
    def _some_weight(self) -> Task:
        if self.points > 0 and not any(check.weight > 0 for check in self.checks):
            raise ValueError("at least one check of a task with points must carry weight > 0")
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


def support_path_problem(entry: str) -> str | None:
    """Why `entry` of a rubric's `files` is not a relative path inside the assignment folder."""
    if not entry.strip() or entry != entry.strip():
        return "a relative path, without spaces around it"
    if "\\" in entry or entry.startswith("/") or re.match(r"^[A-Za-z]:", entry):
        return "must be a relative path with forward slashes (data/train.csv)"
    parts = entry.rstrip("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "must stay inside the assignment folder (no '..', '.' or empty parts)"
    return None


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
    # support files and folders of the assignment folder, copied beside the notebook (public)
    files: list[str] = Field(default_factory=list)
    locked: list[str] = Field(default_factory=list)  # tags of read-only cells, restored before grading
    tasks: list[Task] = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    @field_validator("files")
    @classmethod
    def _relative_files(cls, entries: list[str]) -> list[str]:
        for index, entry in enumerate(entries):
            problem = support_path_problem(entry)
            if problem:
                raise ValueError(f"files.{index} {entry!r}: {problem}")
        return entries

    @field_validator("locked")
    @classmethod
    def _locked_tags(cls, tags: list[str]) -> list[str]:
        for index, tag in enumerate(tags):
            if not tag.strip() or tag != tag.strip():
                raise ValueError(f"locked.{index} {tag!r}: a cell tag, without spaces around it")
            if tag in tags[:index]:
                raise ValueError(f"locked.{index}: tag {tag!r} is listed twice")
        return tags

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
                for field_name, ref in check.data_refs():
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
