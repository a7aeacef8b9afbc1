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
class LateBlock:
    """How late a submission was and what it cost (`autograde.lateness`). Computed after grading
    by every run from its deadline settings, never by grading: `raw_score` beside it is the sum
    of the task points, `score` that less `points`."""

    policy: str  # the late policy's text, e.g. "10%/day,max=50%"
    deadline: str  # the deadline in force for this student (ISO 8601 with offset), extension included
    submitted_at: str | None  # ISO 8601 with offset; None: unknown
    source: str  # where the submission time comes from (`autograde.lateness.times`)
    source_text: str  # the same in words, for the reports
    late_seconds: float | None = None  # > 0: late by; <= 0: on time; None: unknown
    extension: str | None = None  # e.g. "2d (extensions.csv, line 3)"; None: the class deadline
    fraction: float = 0.0  # of `base` deducted, 0..1
    base: str = "score"  # the fraction is of the raw score ("score") or of the maximum ("max")
    points: float = 0.0  # points deducted
    verdict: str = ""  # one line: "on time", "late by 1d 12h: 20% deducted", ...
    notes: list[str] = field(default_factory=list)

    @property
    def late(self) -> bool | None:
        return None if self.late_seconds is None else self.late_seconds > 0


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
    raw_score: float | None = None  # before a late penalty; None: no deadline was in force
    late: LateBlock | None = None  # the deadline, the submission time and the penalty

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
        late = data.get("late")
        values["late"] = LateBlock(**late) if isinstance(late, dict) else None  # older reports: none
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
