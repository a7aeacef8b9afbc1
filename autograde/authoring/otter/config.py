"""otter's assignment, question and test-case configs, as pydantic models with otter's keys.

The YAML of an `# ASSIGNMENT CONFIG` cell (and the `config_file` it names), of a
`# BEGIN QUESTION` cell and of a `\"\"\" # BEGIN TEST CONFIG` header. A key otter knows and
we do not use becomes a note; a key otter does not know is noted too, never fatal (otter's
own fixtures carry some, e.g. `private_points`). A YAML error or a config that is not a
mapping is an `OtterError` naming the file, the cell and the line.
"""

from __future__ import annotations

from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from autograde.authoring.markers import Place
from autograde.errors import AutogradeError


class OtterError(AutogradeError):
    """An otter notebook this importer cannot read; the message names file, cell and line."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    def unknown_keys(self) -> list[str]:
        return sorted(self.model_extra or {})


class SeedConfig(_Config):
    variable: str | None = None
    autograder_value: int | None = None
    student_value: int | None = None


class TestsConfig(_Config):
    files: bool = False
    ok_format: bool = True
    url_prefix: str | None = None

    __test__ = False  # not a pytest class


class AssignmentConfig(_Config):
    """otter assign's assignment config (v1 keys; the v0 spellings are known keys too)."""

    name: str | None = None
    config_file: str | None = None
    requirements: str | list[str] | None = None
    overwrite_requirements: bool = False
    environment: str | None = None
    run_tests: bool = True
    solutions_pdf: Any = False
    template_pdf: bool = False
    init_cell: bool = True
    check_all_cell: bool = False
    export_cell: Any = True
    seed: int | SeedConfig | None = None
    generate: Any = False
    save_environment: bool = False
    variables: dict[str, Any] | None = None
    ignore_modules: list[str] | None = None
    files: list[str] = []
    student_files: list[str] = []
    autograder_files: list[str] = []
    plugins: list[Any] | None = None
    tests: TestsConfig = TestsConfig()
    show_question_points: bool = False
    runs_on: str | None = None
    python_version: str | float | None = None
    channel_priority_strict: bool = True
    exclude_conda_defaults: bool = False
    jupyterlite: bool = False
    lang: str | None = None
    test_files: bool | None = None  # v0's spelling of tests.files

    @field_validator("files", "student_files", "autograder_files", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


M = TypeVar("M", bound=_Config)

# keys that change nothing in the assignment folder we write: (key, why)
NOT_USED = {
    "requirements": "requirements are not installed by the grader; the kernel's packages are used",
    "overwrite_requirements": "requirements are not installed by the grader",
    "environment": "the grader's kernel is used, not a conda environment",
    "run_tests": "not used (`autograde rubric test` checks the solution)",
    "solutions_pdf": "PDFs are not made",
    "template_pdf": "PDFs are not made",
    "init_cell": "not used: otter is not installed in the grading kernel, no init cell is written",
    "check_all_cell": "not used: no otter check cells are written (students run `autograde check`)",
    "export_cell": "not used: no otter export cell is written (submissions are uploaded as notebooks)",
    "generate": "not used: `autograde` grades instead of an otter autograder zip",
    "save_environment": "not used",
    "variables": "not used (otter's serialized-variable checks)",
    "ignore_modules": "not used",
    "autograder_files": "not used",
    "plugins": "otter plugins are not run",
    "tests": "not used: tests become rubric checks",
    "test_files": "not used: tests become rubric checks",
    "show_question_points": "not used: the rubric shows each task's points",
    "runs_on": "not used",
    "python_version": "not used: the grader's Python runs the notebook",
    "channel_priority_strict": "not used",
    "exclude_conda_defaults": "not used",
    "jupyterlite": "not used",
}


class QuestionConfig(_Config):
    name: str | None = None
    manual: bool = False
    points: float | list[float] | dict[str, float] | None = None
    check_cell: bool = True
    export: bool = False
    all_or_nothing: bool = False

    @field_validator("points")
    @classmethod
    def _each_only(cls, value: Any) -> Any:
        if isinstance(value, dict) and set(value) - {"each"}:
            raise ValueError(f"a points mapping takes only `each`, not {sorted(set(value) - {'each'})}")
        return value


class TestCaseConfig(_Config):
    name: str | None = None
    points: float | None = None
    hidden: bool | None = None
    success_message: str | None = None
    failure_message: str | None = None

    __test__ = False


def load_yaml(text: str, place: Place, first_line: int = 1) -> dict[str, Any]:
    """A YAML mapping (an empty text is {}); errors name the notebook, cell and line
    (`first_line`: the cell line the text starts on)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise OtterError(f"{place.at(line)}: not valid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise OtterError(
            f"{place.at(first_line)}: a config must be a YAML mapping, got {type(data).__name__}"
        )
    return data


def parse(model: type[M], data: dict[str, Any], place: Place, line: int = 1) -> M:
    """The config as `model`; a wrong value is an OtterError naming the key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'config'}: {error['msg']}" for error in exc.errors()
        )
        raise OtterError(f"{place.at(line)}: {problems}") from None
