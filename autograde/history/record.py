"""One run of a results folder, as RESULTS_DIR/runs/NNNN.json holds it.

A record is data about a run, small enough to keep for every run: per student the score,
the status, the upload's sha256, what it was graded with (rubric digest, seed, parameters,
engine versions) and every check's status with the start of its message. The full reports
stay in the journal (`autograde.batch.journal`), which only ever grows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from autograde.results import GradeReport
from autograde.status import CheckStatus

RunKind = Literal["grade", "hand grades merged"]
GRADE: Final = "grade"
HAND_GRADES: Final = "hand grades merged"
MESSAGE_CHARS = 200  # of each check's message: enough to say why, small enough for 500 students


class CheckState(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: str
    message: str = ""


class StudentState(BaseModel):
    """What one run left for one student."""

    status: str
    score: float
    max_score: float
    file_sha256: str | None = None  # None: no file was graded (rejected, not submitted)
    rubric_digest: str | None = None
    seed: int | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    engine: dict[str, str] = Field(default_factory=dict)  # backend and versions
    checks: dict[str, CheckState] = Field(default_factory=dict)  # "task/check" -> state
    raw_score: float | None = None  # before a late penalty (None: no deadline in force)
    late: str | None = None  # the late block's verdict, deadline and policy (`autograde.lateness`)
    graded_now: bool = False  # graded in this run (else carried from the journal or the folder)

    def hand_grades(self) -> dict[str, str]:
        """The checks a person graded, with the message the grade left ("1.5 / 2 points, ...")."""
        return {name: c.message for name, c in self.checks.items() if c.status == CheckStatus.GRADED_BY_HAND}


class RunRecord(BaseModel):
    number: int = Field(ge=1)
    kind: RunKind
    started: datetime
    finished: datetime
    interrupted: bool = False
    assignment: str
    rubric_digest: str
    seed: int | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    backend: str | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)  # how it was asked for (--regrade, ...)
    students: dict[str, StudentState] = Field(default_factory=dict)

    @property
    def graded_now(self) -> int:
        return sum(state.graded_now for state in self.students.values())


def now() -> datetime:
    return datetime.now(timezone.utc)


def student_state(report: GradeReport, file_sha256: str | None, graded_now: bool) -> StudentState:
    engine = {**report.versions}
    if report.backend:
        engine["backend"] = report.backend
    checks = {
        f"{task.id}/{check.name}": CheckState(status=check.status, message=check.message[:MESSAGE_CHARS])
        for task in report.tasks
        for check in task.checks
    }
    return StudentState(
        status=report.status,
        score=report.score,
        max_score=report.max_score,
        file_sha256=file_sha256,
        rubric_digest=report.rubric_digest,
        seed=report.grading_seed,
        parameters=dict(report.parameters),
        engine=engine,
        checks=checks,
        raw_score=report.raw_score,
        late=(f"{report.late.verdict} (deadline {report.late.deadline}, policy {report.late.policy})"
              if report.late is not None else None),
        graded_now=graded_now,
    )


def run_record(
    *,
    kind: RunKind,
    started: datetime,
    assignment: str,
    rubric_digest: str,
    reports: Mapping[str, GradeReport],
    digests: Mapping[str, str],
    graded_now: set[str],
    seed: int | None = None,
    parameters: Mapping[str, Any] | None = None,
    backend: str | None = None,
    options: Mapping[str, Any] | None = None,
    interrupted: bool = False,
) -> RunRecord:
    """The record of a run that left `reports` (by student); `digests`: each graded upload's
    sha256; `graded_now`: the students graded (or hand graded) in this run. It is numbered
    when the results folder keeps it (`ResultsFolder.write_run`)."""
    known = [report for report in reports.values() if report.versions]
    # the versions of this run's grading, else of any report
    source = next((r for r in known if r.student in graded_now), known[0] if known else None)
    return RunRecord(
        number=1,

        kind=kind,
        started=started,
        finished=now(),
        interrupted=interrupted,
        assignment=assignment,
        rubric_digest=rubric_digest,
        seed=seed,
        parameters=dict(parameters or {}),
        backend=backend,
        versions=dict(source.versions) if source is not None else {},
        options=dict(options or {}),
        students={
            student: student_state(report, digests.get(student), student in graded_now)
            for student, report in sorted(reports.items())
        },
    )
