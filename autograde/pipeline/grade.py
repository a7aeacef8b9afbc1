"""Grading one submission end to end:

ingest -> plan probes (host, secret seed) -> parameterize (papermill) -> sandbox run
-> read data back (no pickle) -> judge every check on the host -> score -> GradeReport
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import platform
import secrets
import shutil
import stat
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograde import __version__
from autograde.backends import Job, RunOutcome, get_backend
from autograde.backends.base import BackendOptions, SandboxLimits
from autograde.backends.local.orphans import job_folder_prefix, write_owner
from autograde.checks.base import (
    GRADER_ERROR,
    NOT_RUN,
    PASS,
    HiddenSet,
    PlanContext,
    ProbeResult,
    Verdict,
    kind_for,
)
from autograde.errors import AutogradeError, SubmissionError, WireError
from autograde.pipeline.ingest import Submission, parameterize, read_notebook, tagged_source
from autograde.pipeline.inputs import InputStore, check_rng
from autograde.pipeline.scoring import score_task
from autograde.pipeline.wire import read_arrays, read_json, save_arrays, write_json_atomic
from autograde.results import GRADED, GRADER_FAULT, CheckResult, GradeReport, ManualAnswer, TaskResult
from autograde.rubric import Assignment
from autograde.rubric.datasets import hidden_set, prepare_data_dir
from autograde.rubric.loader import default_library
from autograde.rubric.schema import ManualCheck


@dataclass
class GradeOptions:
    backend: str = "local"
    overrides: dict[str, Any] = field(default_factory=dict)  # -p name=value
    grading_seed: int | None = None  # None: a fresh secret seed per run
    public_only: bool = False  # student self-check: hidden checks are not run
    keep_job: Path | None = None  # copy the sandbox folder here (debugging)
    gpu: str | None = None  # host GPU index for this submission; the notebook gets device="cuda"
    gpus: tuple[str, ...] = ()  # batch: GPUs handed out round-robin, one per job
    image: str | None = None  # docker backend: grading image (default: this version's tag)
    limits: dict[str, Any] = field(default_factory=dict)  # CLI overrides of the rubric's limits

    @property
    def device(self) -> str:
        return "cpu" if self.gpu is None else "cuda"

    def backend_options(self) -> BackendOptions:
        return BackendOptions(image=self.image, gpu=self.gpu is not None or bool(self.gpus))


@dataclass
class PlannedCheck:
    task_index: int
    check: Any
    state: Any


@dataclass
class Plan:
    probes: list[dict[str, Any]]
    store: InputStore
    checks: list[PlannedCheck]


def versions() -> dict[str, str]:
    import numpy
    import papermill

    found = {
        "autograde": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "papermill": papermill.__version__,
    }
    try:
        import torch

        found["torch"] = torch.__version__
    except ImportError:
        pass
    return found


def build_plan(assignment: Assignment, seed: int, public_only: bool, probe_timeout: float) -> Plan:
    rubric = assignment.rubric
    store = InputStore()
    probes: list[dict[str, Any]] = []
    cache: dict[str, HiddenSet] = {}

    def hidden(name: str) -> HiddenSet:
        if name not in cache:
            inputs, labels = hidden_set(name, rubric.hidden_data[name], seed)
            cache[name] = HiddenSet(store.add(inputs), labels)
        return cache[name]

    planned = []
    for t_index, task in enumerate(rubric.tasks):
        for c_index, check in enumerate(task.checks):
            if public_only and (check.visible or task.visible) == "hidden":
                continue
            ctx = PlanContext(
                prefix=f"t{t_index}c{c_index}",
                rng=check_rng(seed, t_index, c_index),
                store=store,
                probes=probes,
                hidden=hidden,
                probe_timeout=probe_timeout,
            )
            planned.append(PlannedCheck(t_index, check, kind_for(check.kind).plan(check, ctx)))
    return Plan(probes, store, planned)


class ProbeReader:
    """Reads probe results from out/probes lazily; what is missing says why."""

    def __init__(self, out_dir: Path, missing_reason: str) -> None:
        self.dir = out_dir / "probes"
        self.missing_reason = missing_reason
        self.cache: dict[str, ProbeResult] = {}

    def __call__(self, probe_id: str) -> ProbeResult:
        if probe_id not in self.cache:
            self.cache[probe_id] = self._read(probe_id)
        return self.cache[probe_id]

    def _read(self, probe_id: str) -> ProbeResult:
        path = self.dir / f"{probe_id}.json"
        if not path.exists():
            return ProbeResult("not-run", self.missing_reason, {}, {})
        try:
            record = read_json(path)
            arrays = read_arrays(self.dir / f"{probe_id}.npz")
        except WireError as exc:
            return ProbeResult("error", f"unusable result: {exc}", {}, {})
        if not isinstance(record, dict):
            return ProbeResult("error", "unusable result: not a JSON object", {}, {})
        return ProbeResult(
            str(record.get("status", "error")), str(record.get("message", ""))[:2000], record, arrays
        )


def _cell_hint(tag: str | None, cells: list[dict[str, Any]]) -> str:
    if not tag:
        return ""
    tagged = [c for c in cells if tag in c.get("tags", [])]
    if not tagged:
        return f" (no cell is tagged `{tag}`: your answer belongs in that cell)"
    for cell in tagged:
        if cell["status"] in {"error", "timeout", "crashed", "skipped", "not-run"}:
            what = {
                "error": f"raised {cell.get('ename')}: {cell.get('evalue')}",
                "timeout": "ran out of time",
                "crashed": "crashed the kernel",
                "skipped": "was skipped",
                "not-run": "did not run",
            }[cell["status"]]
            where = f", {cell['line']}" if cell.get("line") else ""
            return f" (the cell tagged `{tag}`, cell {cell.get('number')}, {what}{where})"
    return ""


def _empty_report(
    sub_path: Path, student: str, assignment: Assignment, status: str, note: str, opts: GradeOptions
) -> GradeReport:
    report = GradeReport(
        student=student,
        file=sub_path.name,
        assignment=assignment.id,
        status=status,
        score=0.0,
        max_score=assignment.rubric.max_points,
        notes=[note],
        backend=opts.backend,
        rubric_digest=assignment.digest,
    )
    for task in assignment.rubric.tasks:
        result = TaskResult(task.id, task.title, 0.0, task.points, task.visible)
        for check in task.checks:
            if opts.public_only and (check.visible or task.visible) == "hidden":
                continue
            result.checks.append(
                CheckResult(
                    check.kind,
                    check.name or check.kind,
                    NOT_RUN,
                    note,
                    check.weight,
                    check.visible or task.visible,
                )
            )
        report.tasks.append(result)
    return report


def grade_submission(
    path: Path, assignment: Assignment, opts: GradeOptions | None = None, student: str | None = None
) -> GradeReport:
    """Grade one uploaded file. Never raises for anything the student's file does."""
    from autograde.pipeline.ingest import student_id

    opts = opts or GradeOptions()
    started = time.monotonic()
    who = student or student_id(path)
    try:
        sub = read_notebook(path)
    except SubmissionError as exc:
        return _empty_report(path, who, assignment, exc.status, str(exc), opts)
    sub.student = who
    try:
        report = _grade(sub, assignment, opts)
    except AutogradeError as exc:
        report = _empty_report(path, who, assignment, GRADER_FAULT, f"grader error: {exc}", opts)
    except Exception as exc:  # a grader bug must cost this row only, never the batch
        detail = "".join(traceback.format_exception(exc)[-3:]).strip()
        report = _empty_report(
            path, who, assignment, GRADER_FAULT, f"grader error (a bug in autograde): {detail}", opts
        )
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _grade(sub: Submission, assignment: Assignment, opts: GradeOptions) -> GradeReport:
    rubric = assignment.rubric
    seed = opts.grading_seed if opts.grading_seed is not None else secrets.randbits(63)
    plan = build_plan(assignment, seed, opts.public_only, rubric.limits.probe_timeout)
    backend = get_backend(opts.backend, opts.backend_options())
    data_dir = prepare_data_dir(assignment.id, rubric.data_dir) if rubric.data_dir else None
    sandbox_limits = SandboxLimits.from_rubric(rubric.limits, **opts.limits)
    # named for (and marked as) this grader's: a later run removes it should this grader be killed
    with tempfile.TemporaryDirectory(prefix=job_folder_prefix()) as tmp:
        write_owner(Path(tmp))
        job = Job(Path(tmp), data_dir, sandbox_limits, opts.gpu, host_secrets(assignment))
        job.make_dirs()
        parameters = {**rubric.parameters, **opts.overrides}
        if data_dir is not None:
            parameters["data_dir"] = backend.sandbox_data_dir(job)
        if opts.gpu is not None or "device" not in parameters:
            parameters["device"] = opts.device
        nb = parameterize(sub, parameters)
        nbformat.write(nb, job.in_dir / "notebook.ipynb")
        save_arrays(job.in_dir / "inputs.npz", plan.store.arrays)
        limits = {**rubric.limits.model_dump(), **dataclasses.asdict(sandbox_limits)}
        write_json_atomic(
            job.in_dir / "plan.json",
            {
                "version": 1,
                "limits": limits,
                "probes": plan.probes,
                "device": opts.device,
                "seed": parameters.get("seed"),
            },
        )
        outcome = backend.run(job)
        if opts.keep_job is not None:
            keep_job_folder(job.root, opts.keep_job / sub.student)
        report = _judge(sub, assignment, plan, job, outcome, opts)
    report.grading_seed = seed
    report.parameters = parameters
    return report


def host_secrets(assignment: Assignment) -> tuple[Path, ...]:
    """Folders a run on the host's own file system must not see: the assignment's folder,
    the rubric library, the reference package beside it, the grader's home."""
    library = default_library()
    found = [library.parent / "reference"]
    spec = importlib.util.find_spec("reference")  # an installed copy, beside the venv's packages
    if spec is not None and spec.submodule_search_locations:
        found += [Path(p) for p in spec.submodule_search_locations]
    return (assignment.folder, library, *dict.fromkeys(found), Path.home())


def _read_cells(job: Job) -> list[dict[str, Any]]:
    try:
        cells = read_json(job.out_dir / "cells.json")
    except WireError:
        return []
    return cells if isinstance(cells, list) else []


def keep_job_folder(source: Path, dest: Path) -> None:
    """Copy a job folder for debugging: regular files and folders only (a killed kernel
    leaves unix sockets behind; links are not followed)."""

    def special(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if not (os.path.isdir(os.path.join(folder, n)) or _regular(folder, n))}

    shutil.copytree(source, dest, symlinks=True, ignore=special, dirs_exist_ok=True)


def _regular(folder: str, name: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(os.path.join(folder, name)).st_mode)
    except OSError:
        return False


def _read_summary(job: Job) -> dict[str, Any]:
    try:
        summary = read_json(job.out_dir / "run.json")
    except WireError:
        return {}
    return summary if isinstance(summary, dict) else {}


def _judge(
    sub: Submission, assignment: Assignment, plan: Plan, job: Job, outcome: RunOutcome, opts: GradeOptions
) -> GradeReport:
    rubric = assignment.rubric
    cells = _read_cells(job)
    notes = list(sub.notes)
    status = GRADED
    notes.extend(outcome.notes)
    if outcome.timed_out:
        reason = f"the submission ran over its total time limit ({job.total_timeout:g}s)"
        notes.append(reason)
    elif outcome.returncode not in (0, None) and outcome.returncode > 0:
        reason = f"the grader's runner failed (exit {outcome.returncode})"
        status = GRADER_FAULT
        notes.append(f"{reason}: {outcome.log_tail[-1500:]}")
    elif outcome.returncode not in (0, None):
        reason = f"the sandbox was killed by signal {-outcome.returncode} before this check ran"
        notes.append(reason)
    else:
        reason = "no result was produced for this check"
    summary = _read_summary(job)
    notes.extend(str(n)[:500] for n in summary.get("notes", []) if isinstance(n, str))
    fatal = summary.get("fatal")
    if isinstance(fatal, str) and fatal:
        status = GRADER_FAULT
        reason = fatal[:1000]
        notes.append(reason)
    if outcome.oom_killed:
        limit = f"{job.limits.memory / 2**30:.3g} GiB"
        notes.append(f"the notebook ran out of memory (limit {limit}); the process using it was killed")
        reason = f"the sandbox ran out of memory (limit {limit}) before this check ran"
    probe = ProbeReader(job.out_dir, reason)
    report = GradeReport(
        student=sub.student,
        file=sub.path.name,
        assignment=assignment.id,
        status=status,
        score=0.0,
        max_score=rubric.max_points,
        cells=cells,
        notes=notes,
        backend=opts.backend,
        rubric_digest=assignment.digest,
        versions=versions(),
    )
    tasks = [TaskResult(t.id, t.title, 0.0, t.points, t.visible) for t in rubric.tasks]
    for item in plan.checks:
        task = rubric.tasks[item.task_index]
        check = item.check
        try:
            verdict = kind_for(check.kind).judge(check, item.state, probe)
        except Exception as exc:  # a bug in a check kind or reference: never the student's fault
            verdict = Verdict(GRADER_ERROR, f"the check itself failed: {exc!r}")
        message = verdict.message
        if verdict.status != PASS and verdict.status != "manual":
            message += _cell_hint(check.tag, cells)
        tasks[item.task_index].checks.append(
            CheckResult(
                check.kind,
                check.name or _default_name(check),
                verdict.status,
                message,
                check.weight,
                check.visible or task.visible,
                verdict.fraction,
            )
        )
        if isinstance(check, ManualCheck):
            report.manual.append(ManualAnswer(task.id, check.cell_tag, tagged_source(sub.nb, check.cell_tag)))
    for task_result in tasks:
        task_result.points = score_task(task_result)
    report.tasks = tasks
    report.score = round(sum(t.points for t in tasks), 6)
    if report.grader_errors and report.status == GRADED:
        report.status = GRADER_FAULT
    return report


def _default_name(check: Any) -> str:
    target = (
        getattr(check, "call", None)
        or getattr(check, "variable", None)
        or getattr(check, "target", None)
        or getattr(check, "function", None)
        or getattr(check, "grad", None)
        or getattr(check, "model", None)
        or getattr(check, "cell_tag", None)
        or ""
    )
    return f"{check.kind} {target}".strip()
