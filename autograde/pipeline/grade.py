"""Grading one upload, top to bottom as its data flows:

ingest (read, repair, validate) -> plan (inputs drawn from the secret seed, probes)
-> stage (papermill parameters; the job's in/ folder in the protocol's file names)
-> run (the backend: local or docker) -> judge (data read back, compared on the host)
-> scoring -> a GradeReport.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import secrets
import shutil
import stat
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import nbformat

from autograde.backends import Job, RunOutcome, get_backend
from autograde.backends.base import Backend, BackendOptions, SandboxLimits
from autograde.backends.forking import forking_enabled
from autograde.backends.warm import WarmKey, WarmSandbox, pool_for
from autograde.errors import AutogradeError, RubricError, SubmissionError
from autograde.library import default_library
from autograde.pipeline.ingest import Submission, parameterize, read_notebook, student_id
from autograde.pipeline.judge import judge
from autograde.pipeline.locked import restore_locked
from autograde.pipeline.plan import build_plan, is_hidden
from autograde.pipeline.preload import notebook_imports, preload_modules, stack_modules
from autograde.pipeline.wire import save_arrays, write_json_atomic
from autograde.results import CheckResult, GradeReport, TaskResult
from autograde.rubric import Assignment
from autograde.rubric.datasets import prepare_data_dir, unpacked_libraries
from autograde.rubric.schema import Limits
from autograde.rubric.support import support_files
from autograde.runner import protocol
from autograde.status import CheckStatus, SubmissionStatus

T = TypeVar("T")


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
    warm: bool = False  # run in a warm sandbox of the process's pool, and warm the next one
    run_as: tuple[int, int] | None = None  # local, as root without namespaces: the notebook's uid:gid

    @property
    def device(self) -> str:
        return "cpu" if self.gpu is None else "cuda"

    def backend_options(self) -> BackendOptions:
        gpu = self.gpu is not None or bool(self.gpus)
        return BackendOptions(image=self.image, gpu=gpu, run_as=self.run_as)


def grade_submission(
    path: Path, assignment: Assignment, opts: GradeOptions | None = None, student: str | None = None
) -> GradeReport:
    """Grade one uploaded file. Never raises for anything the student's file does."""
    opts = opts or GradeOptions()
    started = time.monotonic()
    who = student or student_id(path)
    try:
        sub = read_notebook(path)
        sub.student = who
        report = _grade(sub, assignment, opts)
    except SubmissionError as exc:
        report = empty_report(path, who, assignment, exc.status, str(exc), opts)
    except AutogradeError as exc:
        report = empty_report(
            path, who, assignment, SubmissionStatus.GRADER_ERROR, f"grader error: {exc}", opts
        )
    except Exception as exc:  # a grader bug must cost this row only, never the batch
        detail = "".join(traceback.format_exception(exc)[-3:]).strip()
        report = empty_report(
            path,
            who,
            assignment,
            SubmissionStatus.GRADER_ERROR,
            f"grader error (a bug in autograde): {detail}",
            opts,
        )
    report.seconds = round(time.monotonic() - started, 3)
    return report


def named_as(report: GradeReport, path: Path, origin: str) -> GradeReport:
    """The report of the copy at `path` made to name the upload as the instructor knows it
    (`export.zip!folder/x.ipynb`): its file and every note that names the copy."""
    report.file = origin
    report.notes = [note.replace(str(path), origin).replace(path.name, origin) for note in report.notes]
    return report


def _grade(sub: Submission, assignment: Assignment, opts: GradeOptions) -> GradeReport:
    rubric = assignment.rubric
    files = support_files(assignment)
    restore_locked(sub, assignment)
    seed = opts.grading_seed if opts.grading_seed is not None else secrets.randbits(63)
    plan = build_plan(assignment, seed, opts.public_only, rubric.limits.probe_timeout)
    data_dir = prepare_data_dir(assignment.id, rubric.data_dir) if rubric.data_dir else None
    staged = Staged(rubric.parameters, rubric.limits, plan.probes, plan.store.arrays, data_dir, files,
                    assignment.id, preload_modules(assignment))
    report, parameters = run_staged(
        sub,
        staged,
        opts,
        host_secrets(assignment),
        lambda job, outcome: judge(sub, assignment, plan, job, outcome, opts.backend),
    )
    report.grading_seed = seed
    report.parameters = parameters
    return report


@dataclass
class Staged:
    """What one run of a notebook needs besides the notebook: its parameters and limits, the
    probes with their inputs, the public data folder and the support files (from a rubric or a
    check bundle)."""

    parameters: dict[str, Any]
    limits: Limits
    probes: list[dict[str, Any]]
    arrays: dict[str, Any]  # the probes' inputs (inputs.npz)
    data_dir: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)  # relative name beside the notebook -> file
    assignment: str = ""  # what a warm sandbox is prepared for
    preload: tuple[str, ...] = ()  # the modules imported before the kernel is forked (pipeline.preload)


def run_staged(
    sub: Submission,
    staged: Staged,
    opts: GradeOptions,
    hidden: tuple[Path, ...],
    then: Callable[[Job, RunOutcome], T],
) -> tuple[T, dict[str, Any]]:
    """Run the notebook and its probes in a fresh job folder of the backend; `then` reads the
    results before the folder goes. Returns what `then` returned and the parameters given."""
    limits = SandboxLimits.from_rubric(staged.limits, **opts.limits)
    like = Job(Path(), staged.data_dir, limits, opts.gpu, hidden)  # the job, before its folder exists
    if not opts.warm:
        return _run_cold(sub, staged, opts, get_backend(opts.backend, opts.backend_options()), like, then)
    pool = pool_for(opts.backend, opts.backend_options())
    warm = pool.lease(warm_key(staged, opts, hidden))
    try:
        if warm is None or warm.sandbox is None:  # none was ready: a cold sandbox
            return _run_cold(sub, staged, opts, pool.backend, like, then)
        try:
            return _run_in(sub, staged, opts, pool.backend, warm.job, then, warm)
        finally:
            warm.remove_folder()
    finally:
        pool.release()


def warm_key(staged: Staged, opts: GradeOptions, hidden: tuple[Path, ...]) -> WarmKey:
    """The warm sandboxes a job of `staged` may run in."""
    limits = SandboxLimits.from_rubric(staged.limits, **opts.limits)
    return WarmKey(staged.assignment, staged.preload, opts.device, opts.gpu, limits, staged.data_dir, hidden)


def warm_ahead(staged: Staged, opts: GradeOptions, hidden: tuple[Path, ...]) -> None:
    """Warm a sandbox for a job of `staged` now, before one is asked for."""
    pool_for(opts.backend, opts.backend_options()).prepare(warm_key(staged, opts, hidden))


def _run_cold(
    sub: Submission, staged: Staged, opts: GradeOptions, backend: Backend, like: Job,
    then: Callable[[Job, RunOutcome], T],
) -> tuple[T, dict[str, Any]]:
    """In a sandbox launched now, in a fresh job folder (the job as `like`, in that folder)."""
    with backend.job_folder() as root:
        job = dataclasses.replace(like, root=root, warm=False)
        job.make_dirs()
        return _run_in(sub, staged, opts, backend, job, then)


def _run_in(
    sub: Submission, staged: Staged, opts: GradeOptions, backend: Backend, job: Job,
    then: Callable[[Job, RunOutcome], T], warm: WarmSandbox | None = None,
) -> tuple[T, dict[str, Any]]:
    """Stage the job, run it (in `warm`, launched ahead, when given), read it with `then`."""
    parameters = stage(sub, staged, job, backend, opts)
    outcome = backend.run(job, warm.sandbox if warm else None)
    if warm is not None:
        warm.check_record(staged.assignment)
    if opts.keep_job is not None:
        keep_job_folder(job.root, opts.keep_job / sub.student)
    return then(job, outcome), parameters


def stage(sub: Submission, staged: Staged, job: Job, backend: Backend, opts: GradeOptions) -> dict[str, Any]:
    """Write the job's in/ folder: the parameterized notebook, the plan, the inputs, the support
    files (in/files/, copied into the working folder by the runner). Returns the parameters
    the notebook was given."""
    parameters = {**staged.parameters, **opts.overrides}
    if job.data_dir is not None:
        parameters["data_dir"] = backend.sandbox_data_dir(job)
    if opts.gpu is not None or "device" not in parameters:
        parameters["device"] = opts.device
    nbformat.write(parameterize(sub, parameters), job.in_dir / protocol.NOTEBOOK)
    save_arrays(job.in_dir / protocol.INPUTS, staged.arrays)
    for name, source in staged.files.items():
        target = job.in_dir / protocol.FILES / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    limits = {**staged.limits.model_dump(), **dataclasses.asdict(job.limits)}
    write_json_atomic(
        job.in_dir / protocol.PLAN,
        {
            "version": protocol.PLAN_VERSION,
            "limits": limits,
            "probes": staged.probes,
            "device": opts.device,
            "seed": parameters.get("seed"),
            # the assignment's stack and the notebook's own: imported before its first cell,
            # outside the cells' time limits (the kernel is forked with them, or imports them first)
            "preload": list(stack_modules([*staged.preload, *notebook_imports(sub.nb)])),
            "fork": forking_enabled(),
        },
    )
    return parameters


def empty_report(
    sub_path: Path, student: str, assignment: Assignment, status: str, note: str, opts: GradeOptions
) -> GradeReport:
    """The report of an upload that was never run: every check not run, with the reason."""
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
        result = TaskResult(
            task.id, task.title, 0.0, task.points, task.visible, all_or_nothing=task.all_or_nothing
        )
        for check in task.checks:
            if opts.public_only and is_hidden(check, task):
                continue
            result.checks.append(
                CheckResult(
                    check.kind,
                    check.display_name(),
                    CheckStatus.NOT_RUN,
                    note,
                    check.weight,
                    check.visible or task.visible,
                )
            )
        report.tasks.append(result)
    return report


def host_secrets(assignment: Assignment) -> tuple[Path, ...]:
    """Folders a run on the host's own file system must not see: the assignment's folder,
    the rubric library it was loaded from and the default one, the reference package beside
    each (where a library is a checkout) and an installed one, the library parts a cluster
    worker unpacked (any batch's), the grader's home."""
    defaults = []
    with contextlib.suppress(RubricError):  # no default library: only the one it was loaded from
        defaults.append(default_library())
    libraries = dict.fromkeys(path.resolve() for path in (assignment.folder.parent, *defaults))
    found = [assignment.folder.resolve(), *libraries, *(lib.parent / "reference" for lib in libraries)]
    spec = importlib.util.find_spec("reference")  # an installed copy, beside the venv's packages
    if spec is not None and spec.submodule_search_locations:
        found += [Path(p) for p in spec.submodule_search_locations]
    found.append(unpacked_libraries())
    return (*dict.fromkeys(found), Path.home())


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
