"""Judging a bundle's checks, for both ways of checking: a fresh run's probe files (`local`)
or the live kernel (`live`). The check kinds' own judges decide; a check that needs the
reference reads the expected values the bundle carries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autograde.checks.base import CheckKind, ProbeResult, SelfCheck, Verdict, kind_for
from autograde.errors import RubricError
from autograde.results import CheckResult, GradeReport, TaskResult
from autograde.selfcheck.bundle import Bundle, BundleCheck, BundleError, answer_digest
from autograde.selfcheck.codec import CodecError, decode
from autograde.status import CheckStatus, SubmissionStatus

Probe = Callable[[str], ProbeResult]
Answers = Callable[[str], "str | None"]  # a cell tag -> that cell's source (None: no such cell)


@dataclass
class BundledCheck:
    """One check of a bundle, ready to judge: its kind, rubric model, plan and expectation."""

    entry: BundleCheck
    kind: CheckKind
    model: Any
    state: Any
    expected: Any


def bundled_checks(bundle: Bundle) -> list[BundledCheck]:
    """The bundle's checks decoded; an unknown kind or unreadable data is a BundleError."""
    arrays = bundle.arrays()
    found = []
    for task in bundle.manifest.tasks:
        for entry in task.checks:
            try:
                kind = kind_for(entry.kind)
            except RubricError:
                raise BundleError(
                    f"{bundle.path}: check kind {entry.kind!r} is not known to this autograde: upgrade "
                    "autograde-notebooks (pip install -U autograde-notebooks)"
                ) from None
            try:
                model = kind.model.model_construct(**entry.model) if entry.model is not None else None
                state = decode(entry.state, arrays)
                expected = decode(entry.expected, arrays)
            except (CodecError, TypeError) as exc:
                raise BundleError(f"{bundle.path}: damaged check data ({exc})") from None
            found.append(BundledCheck(entry, kind, model, state, expected))
    return found


def _answered(item: BundledCheck, probe: Probe, answers: Answers | None) -> Verdict:
    entry = item.entry
    if entry.kind != "manual":
        return item.kind.judge_answered(item.model, item.state, probe)
    tag = str((entry.model or {}).get("cell_tag", entry.tag or ""))
    if answers is None:
        return Verdict(
            CheckStatus.AFTER_SUBMISSION,
            f"your answer in the cell tagged `{tag}` is graded by a person; save the notebook and run "
            "`autograde check` to see whether it is found",
        )
    source = answers(tag)
    if source is None:
        return Verdict.failed(f"no cell is tagged `{tag}`: your answer belongs in that cell")
    if not source.strip() or answer_digest(source) == entry.template_digest:
        return Verdict.failed(f"the cell tagged `{tag}` still holds the template's text: write your answer")
    return Verdict(CheckStatus.ANSWERED, "answered; a person grades it after submission")


def judge_one(item: BundledCheck, probe: Probe, answers: Answers | None) -> Verdict:
    entry = item.entry
    try:
        if entry.mode == SelfCheck.AFTER_SUBMISSION:
            return Verdict(CheckStatus.AFTER_SUBMISSION, f"checked after submission: {entry.reason}")
        if entry.mode == SelfCheck.ANSWERED:
            return _answered(item, probe, answers)
        if entry.mode == SelfCheck.PUBLISHED:
            return item.kind.judge(item.model, item.state, probe, lambda: item.expected)
        return item.kind.judge(item.model, item.state, probe)
    except Exception as exc:  # a bug in a check kind or damaged bundle data: never the student's fault
        return Verdict(CheckStatus.GRADER_ERROR, f"the check itself failed: {exc!r}")


def judge_bundle(
    bundle: Bundle,
    probe: Probe,
    answers: Answers | None,
    tasks: list[str] | None = None,
    hint: Callable[[str | None], str] = lambda tag: "",
) -> GradeReport:
    """The self-check's report: every public check of the chosen tasks (all by default)."""
    manifest = bundle.manifest
    wanted = set(tasks) if tasks is not None else None
    if wanted is not None:
        for task_id in wanted:
            manifest.task(task_id)  # an unknown task id: a BundleError naming the known ones
    items = bundled_checks(bundle)
    report = GradeReport(
        student="self-check",
        file="",
        assignment=manifest.assignment,
        status=SubmissionStatus.GRADED,
        score=0.0,
        max_score=manifest.max_points,
        rubric_digest=manifest.rubric_digest,
    )
    for t_index, task in enumerate(manifest.tasks):
        if wanted is not None and task.id not in wanted:
            continue
        result = TaskResult(task.id, task.title, 0.0, task.points, task.visible)
        for item in (i for i in items if i.entry.task == t_index):
            verdict = judge_one(item, probe, answers)
            message = verdict.message
            if verdict.status in (
                CheckStatus.FAIL,
                CheckStatus.ERROR,
                CheckStatus.TIMEOUT,
                CheckStatus.CRASHED,
            ):
                message += hint(item.entry.tag)
            result.checks.append(
                CheckResult(
                    item.entry.kind,
                    item.entry.name,
                    verdict.status,
                    message,
                    item.entry.weight,
                    "public",
                    verdict.fraction,
                )
            )
        report.tasks.append(result)
    return report


def counted(report: GradeReport) -> tuple[int, int]:
    """(passed, judged): the checks with a verdict now, answered and later ones left out."""
    later = (CheckStatus.ANSWERED, CheckStatus.AFTER_SUBMISSION)
    judged = [c for t in report.tasks for c in t.checks if CheckStatus.parse(c.status) not in later]
    return sum(c.status == CheckStatus.PASS for c in judged), len(judged)


def after_submission(bundle: Bundle, report: GradeReport) -> list[str]:
    """What the self-check cannot say, per task: hidden tasks and hidden checks."""
    shown = {t.id for t in report.tasks}
    lines = []
    for task in bundle.manifest.tasks:
        if task.id not in shown:
            continue
        if task.visible == "hidden":
            lines.append(f"{task.id}: {task.points:g} points graded after submission")
        elif task.hidden_checks:
            lines.append(f"{task.id}: {task.hidden_checks} more checks run after submission")
    return lines
