"""Results are data: one `GradeReport` per submission. Formatting lives in reporters."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from autograde.status import CheckStatus, SubmissionStatus


@dataclass
class CheckResult:
    kind: str
    name: str
    status: str  # a `CheckStatus` (stored as its value)
    message: str
    weight: float
    visible: str  # public | hidden
    earned: float = 0.0  # fraction of the weight, 0..1
    published: str | None = None  # its status at a check bundle's published inputs (public checks)


@dataclass
class TaskResult:
    id: str
    title: str | None
    points: float
    max_points: float
    visible: str
    checks: list[CheckResult] = field(default_factory=list)
    all_or_nothing: bool = False  # the rubric's: full points only when every weighted check passes


@dataclass
class ManualAnswer:
    task: str
    cell_tag: str
    source: str | None  # None: no cell carries the tag


@dataclass
class GradeReport:
    student: str
    file: str
    assignment: str
    status: str  # a `SubmissionStatus` (stored as its value)
    score: float
    max_score: float
    tasks: list[TaskResult] = field(default_factory=list)
    cells: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manual: list[ManualAnswer] = field(default_factory=list)
    backend: str | None = None
    seconds: float = 0.0
    rubric_digest: str | None = None
    grading_seed: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GradeReport:
        """The inverse of `to_json` (for reports this grader wrote: the journal, results.json)."""
        values = dict(data)
        values["tasks"] = [
            TaskResult(**{**t, "checks": [CheckResult(**c) for c in t.get("checks", [])]})
            for t in data.get("tasks", [])
        ]
        values["manual"] = [ManualAnswer(**m) for m in data.get("manual", [])]
        return cls(**values)

    def task(self, task_id: str) -> TaskResult:
        return next(t for t in self.tasks if t.id == task_id)

    @property
    def grader_errors(self) -> list[str]:
        found = [
            f"{t.id}/{c.name}: {c.message}"
            for t in self.tasks
            for c in t.checks
            if c.status == CheckStatus.GRADER_ERROR
        ]
        if self.status == SubmissionStatus.GRADER_ERROR:
            found.extend(self.notes)
        return found
