"""What changed between two runs of a results folder, per student, and why.

A student is listed when the score, the upload's status or any check's status differs. The
reasons come from what the two runs recorded for that student: the upload's digest, the
rubric's digest, the seed, the parameters, the hand grades, the late penalty (deadline,
extension, policy) and the engine (backend and versions). A result that changed with none of
these changed is named as such: grading the same upload with the same rubric and seed gave
another result, so something in the notebook or the rubric is not reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograde.history.record import RunRecord, StudentState

_EPS = 1e-9
UPLOAD_CHANGED = "upload changed"
RUBRIC_CHANGED = "rubric changed"
SEED_CHANGED = "seed changed"
PARAMETERS_CHANGED = "parameters changed"
HAND_GRADE = "hand grade merged"
ENGINE_CHANGED = "engine changed"
LATENESS_CHANGED = "late penalty changed"
NOT_REPRODUCIBLE = "not reproducible: graded again with the same upload, rubric, seed and parameters"
FIRST_GRADED = "first graded"
LEFT_OUT = "not in the later run"


@dataclass(frozen=True)
class CheckChange:
    check: str  # "task/check"
    before: str | None  # its status; None: the check did not exist
    after: str | None
    message: str  # the later run's message (the earlier one's when the check is gone)


@dataclass
class StudentChange:
    student: str
    before: float | None  # score; None: not in the earlier run
    after: float | None
    max_score: float
    status_before: str | None
    status_after: str | None
    reasons: list[str]
    checks: list[CheckChange] = field(default_factory=list)

    @property
    def delta(self) -> float:
        return (self.after or 0.0) - (self.before or 0.0)

    @property
    def score_changed(self) -> bool:
        return self.before is None or self.after is None or abs(self.delta) > _EPS


@dataclass
class RunDiff:
    before: RunRecord
    after: RunRecord
    changes: list[StudentChange]
    unchanged: int

    @property
    def scores_changed(self) -> list[StudentChange]:
        return [change for change in self.changes if change.score_changed]


def _short(digest: str | None) -> str:
    return (digest or "none")[:12]


def reasons(before: StudentState, after: StudentState) -> list[str]:
    """Why a student's result may differ between two runs (empty: nothing recorded differs)."""
    found = []
    if before.file_sha256 != after.file_sha256:
        if before.file_sha256 is None:
            found.append(f"{UPLOAD_CHANGED} (a notebook was graded this time)")
        elif after.file_sha256 is None:
            found.append(f"{UPLOAD_CHANGED} (no notebook was graded this time)")
        else:
            found.append(UPLOAD_CHANGED)
    if before.rubric_digest != after.rubric_digest:
        found.append(f"{RUBRIC_CHANGED} ({_short(before.rubric_digest)} -> {_short(after.rubric_digest)})")
    if before.seed != after.seed:
        found.append(SEED_CHANGED)
    if before.parameters != after.parameters:
        names = sorted(
            name for name in {*before.parameters, *after.parameters}
            if before.parameters.get(name) != after.parameters.get(name)
        )
        found.append(f"{PARAMETERS_CHANGED} ({', '.join(names)})")
    if before.hand_grades() != after.hand_grades():
        found.append(HAND_GRADE)
    if before.late != after.late:
        found.append(f"{LATENESS_CHANGED} ({before.late or 'no deadline'} -> {after.late or 'no deadline'})")
    engine = [
        f"{name} {before.engine.get(name, '-')} -> {after.engine.get(name, '-')}"
        for name in sorted({*before.engine, *after.engine})
        if before.engine.get(name) != after.engine.get(name)
    ]
    if engine and (before.file_sha256 or after.file_sha256):
        found.append(f"{ENGINE_CHANGED} ({', '.join(engine)})")
    return found


def _check_changes(before: StudentState, after: StudentState) -> list[CheckChange]:
    changes = []
    for name in sorted({*before.checks, *after.checks}):
        old, new = before.checks.get(name), after.checks.get(name)
        if old is not None and new is not None and old.status == new.status:
            continue
        latest = new if new is not None else old
        assert latest is not None  # the name is one of the two runs'
        changes.append(
            CheckChange(name, old.status if old else None, new.status if new else None, latest.message)
        )
    return changes


def _student_change(
    student: str, before: StudentState | None, after: StudentState | None
) -> StudentChange | None:
    if before is None:
        assert after is not None
        return StudentChange(student, None, after.score, after.max_score, None, after.status, [FIRST_GRADED])
    if after is None:
        return StudentChange(student, before.score, None, before.max_score, before.status, None, [LEFT_OUT])
    checks = _check_changes(before, after)
    same = abs(before.score - after.score) <= _EPS and before.status == after.status and not checks
    if same:
        return None
    why = reasons(before, after) or [NOT_REPRODUCIBLE if after.graded_now else "no recorded cause"]
    return StudentChange(student, before.score, after.score, after.max_score, before.status, after.status,
                         why, checks)


def diff_runs(before: RunRecord, after: RunRecord) -> RunDiff:
    """Every student whose result differs from `before` to `after` (by student id)."""
    changes: list[StudentChange] = []
    unchanged = 0
    for student in sorted({*before.students, *after.students}):
        change = _student_change(student, before.students.get(student), after.students.get(student))
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    return RunDiff(before, after, changes, unchanged)
