"""Judge: after the run, on the host. The sandbox's files are read back as data (never
unpickled); each planned check's kind compares them with the reference; a check whose
probe left nothing says why (a crash, the memory limit, the time limit)."""

from __future__ import annotations

import contextlib
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from autograde import __version__
from autograde.backends import Job, RunOutcome
from autograde.checks.base import ProbeResult, Verdict, kind_for
from autograde.checks.basic import ManualCheck
from autograde.errors import WireError
from autograde.pipeline.ingest import Submission, tagged_source
from autograde.pipeline.plan import Plan, PlannedCheck
from autograde.pipeline.scoring import score_task
from autograde.pipeline.wire import read_arrays, read_json
from autograde.results import CheckResult, GradeReport, ManualAnswer, TaskResult
from autograde.rubric import Assignment
from autograde.runner import protocol
from autograde.runner.protocol import CellStatus, ProbeStatus
from autograde.status import CheckStatus, SubmissionStatus


def versions() -> dict[str, str]:
    """The versions a report names, read from the installed distributions' metadata: torch
    is not imported for its version (seconds, on a machine that never needed it)."""
    found = {"autograde": __version__, "python": platform.python_version()}
    for name in ("numpy", "papermill", "torch"):  # the grader's extra: absent from a student's install
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


class ProbeReader:
    """Reads probe results from out/probes lazily; what is missing says why."""

    def __init__(self, out_dir: Path, missing_reason: str) -> None:
        self.out_dir = out_dir
        self.missing_reason = missing_reason
        self.cache: dict[str, ProbeResult] = {}

    def __call__(self, probe_id: str) -> ProbeResult:
        if probe_id not in self.cache:
            self.cache[probe_id] = self._read(probe_id)
        return self.cache[probe_id]

    def _read(self, probe_id: str) -> ProbeResult:
        path = protocol.probe_record(self.out_dir, probe_id)
        if not path.exists():
            return ProbeResult(ProbeStatus.NOT_RUN, self.missing_reason, {}, {})
        try:
            record = read_json(path)
            arrays = read_arrays(protocol.probe_arrays(self.out_dir, probe_id))
        except WireError as exc:
            return ProbeResult(ProbeStatus.ERROR, f"unusable result: {exc}", {}, {})
        if not isinstance(record, dict):
            return ProbeResult(ProbeStatus.ERROR, "unusable result: not a JSON object", {}, {})
        return ProbeResult(
            str(record.get("status", ProbeStatus.ERROR)),
            str(record.get("message", ""))[:2000],
            record,
            arrays,
        )


_CELL_TROUBLE: dict[str, str] = {
    CellStatus.TIMEOUT: "ran out of time",
    CellStatus.CRASHED: "crashed the kernel",
    CellStatus.SKIPPED: "was skipped",
    CellStatus.NOT_RUN: "did not run",
}


def cell_hint(tag: str | None, cells: list[dict[str, Any]]) -> str:
    """Where a failed check's answer cell went wrong, for the student's message."""
    if not tag:
        return ""
    tagged = [c for c in cells if tag in c.get("tags", [])]
    if not tagged:
        return f" (no cell is tagged `{tag}`: your answer belongs in that cell)"
    for cell in tagged:
        status = cell.get("status")
        if status == CellStatus.ERROR or status in _CELL_TROUBLE:
            what = (
                f"raised {cell.get('ename')}: {cell.get('evalue')}"
                if status == CellStatus.ERROR
                else _CELL_TROUBLE[str(status)]
            )
            where = f", {cell['line']}" if cell.get("line") else ""
            return f" (the cell tagged `{tag}`, cell {cell.get('number')}, {what}{where})"
    return ""


def read_cells(out_dir: Path) -> list[dict[str, Any]]:
    try:
        cells = read_json(out_dir / protocol.CELLS)
    except WireError:
        return []
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def read_summary(out_dir: Path) -> dict[str, Any]:
    try:
        summary = read_json(out_dir / protocol.RUN_SUMMARY)
    except WireError:
        return {}
    return summary if isinstance(summary, dict) else {}


def run_verdict(
    job: Job, outcome: RunOutcome, summary: dict[str, Any]
) -> tuple[SubmissionStatus, str, list[str]]:
    """The submission's status, the reason a check without a result gets, and the notes."""
    notes = list(outcome.notes)
    status = SubmissionStatus.GRADED
    if outcome.timed_out:
        reason = f"the submission ran over its total time limit ({job.total_timeout:g}s)"
        notes.append(reason)
    elif outcome.returncode not in (0, None) and outcome.returncode > 0:
        reason = f"the grader's runner failed (exit {outcome.returncode})"
        status = SubmissionStatus.GRADER_ERROR
        notes.append(f"{reason}: {outcome.log_tail[-1500:]}")
    elif outcome.returncode not in (0, None):
        reason = f"the sandbox was killed by signal {-outcome.returncode} before this check ran"
        notes.append(reason)
    else:
        reason = "no result was produced for this check"
    notes.extend(str(n)[:500] for n in summary.get("notes", []) if isinstance(n, str))
    fatal = summary.get("fatal")
    if isinstance(fatal, str) and fatal:
        status = SubmissionStatus.GRADER_ERROR
        reason = fatal[:1000]
        notes.append(reason)
    if outcome.oom_killed:
        limit = f"{job.limits.memory / 2**30:.3g} GiB"
        notes.append(f"the notebook ran out of memory (limit {limit}); the process using it was killed")
        reason = f"the sandbox ran out of memory (limit {limit}) before this check ran"
    return status, reason, notes


def judge_state(item: PlannedCheck, state: Any, probe: ProbeReader) -> Verdict:
    """One kind's verdict on one plan of a check; a failing kind is a grader error."""
    try:
        return kind_for(item.check.kind).judge(item.check, state, probe)
    except Exception as exc:  # a bug in a check kind or reference: never the student's fault
        return Verdict(CheckStatus.GRADER_ERROR, f"the check itself failed: {exc!r}")


def judge_planned(item: PlannedCheck, probe: ProbeReader) -> tuple[Verdict, Verdict | None]:
    """The check's verdict, and its verdict at the published inputs where it was planned there
    too. It passes only where it passes at both: an answer that works only at the inputs a
    check bundle publishes earns nothing. Where both fail, the fresh inputs' verdict is shown
    (their probes ran first: a crash there is what the student must see)."""
    verdict = judge_state(item, item.state, probe)
    if item.published is None:
        return verdict, None
    at_published = judge_state(item, item.published, probe)
    if verdict.status == CheckStatus.PASS:
        return at_published, at_published
    if at_published.status == CheckStatus.PASS:
        verdict.message += " (it passes at the self-check's published inputs, not at fresh ones)"
    return verdict, at_published


def judge(
    sub: Submission, assignment: Assignment, plan: Plan, job: Job, outcome: RunOutcome, backend: str
) -> GradeReport:
    rubric = assignment.rubric
    cells = read_cells(job.out_dir)
    status, reason, run_notes = run_verdict(job, outcome, read_summary(job.out_dir))
    probe = ProbeReader(job.out_dir, reason)
    report = GradeReport(
        student=sub.student,
        file=sub.path.name,
        assignment=assignment.id,
        status=status,
        score=0.0,
        max_score=rubric.max_points,
        cells=cells,
        notes=[*sub.notes, *run_notes],
        backend=backend,
        rubric_digest=assignment.digest,
        versions=versions(),
    )
    tasks = [
        TaskResult(t.id, t.title, 0.0, t.points, t.visible, all_or_nothing=t.all_or_nothing)
        for t in rubric.tasks
    ]
    for item in plan.checks:
        task = rubric.tasks[item.task_index]
        check = item.check
        verdict, at_published = judge_planned(item, probe)
        message = verdict.message
        if verdict.status not in (CheckStatus.PASS, CheckStatus.MANUAL):
            message += cell_hint(check.tag, cells)
        tasks[item.task_index].checks.append(
            CheckResult(
                check.kind,
                check.display_name(),
                verdict.status,
                message,
                check.weight,
                check.visible or task.visible,
                verdict.fraction,
                None if at_published is None else at_published.status,
            )
        )
        if isinstance(check, ManualCheck):
            report.manual.append(ManualAnswer(task.id, check.cell_tag, tagged_source(sub.nb, check.cell_tag)))
    for task_result in tasks:
        task_result.points = score_task(task_result)
    report.tasks = tasks
    report.score = round(sum(t.points for t in tasks), 6)
    if report.grader_errors and report.status == SubmissionStatus.GRADED:
        report.status = SubmissionStatus.GRADER_ERROR
    return report
