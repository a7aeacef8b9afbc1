"""Batch grading: every upload gets a row, one upload stops nothing, a rerun resumes.

Uploads (folders, files, LMS zips) are collected and staged by `autograde.batch.uploads`; each is
graded by a worker thread (the sandbox is a separate process or container, so threads only
wait); every result is written and journaled the moment it exists and the gradebook
rewritten (`autograde.batch.rows`, through the `ResultsFolder`), so an interruption (Ctrl-C,
kill -9) loses nothing graded. Whatever goes wrong for one upload (reading, grading, writing,
journaling it) is that upload's row, with the reason. Rerunning the same command grades only
what is missing or whose file, rubric, parameters or seed changed, and what the grader
failed on. With `--cluster` the uploads are graded on Dask workers instead
(`autograde.cluster`); this process still writes every report, the journal and the gradebook.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from autograde import __version__
from autograde.backends import SandboxLimits, get_backend
from autograde.backends.base import RUNNING
from autograde.backends.local.orphans import remove_orphan_folders, staging_folder_prefix, write_owner
from autograde.backends.warm import close_pools
from autograde.batch.journal import GradeKey, config_digest
from autograde.batch.results_folder import ResultsFolder
from autograde.batch.rows import AGAIN, Rows, fault_report
from autograde.batch.uploads import IdRule, Roster, Upload, collect, file_digest
from autograde.cluster.settings import ClusterSettings, ClusterSpec
from autograde.errors import AutogradeError
from autograde.history.record import GRADE, now, run_record
from autograde.lateness.apply import Lateness
from autograde.lateness.settings import DeadlineOptions, read_deadline
from autograde.manual.carry import carry_hand_grades
from autograde.pipeline.grade import GradeOptions, empty_report, grade_submission, named_as
from autograde.results import GradeReport
from autograde.rubric import Assignment
from autograde.rubric.datasets import prepare_data_dir
from autograde.status import SubmissionStatus


@dataclass
class BatchOptions:
    workers: int | None = None  # None: what the machine and the limits allow
    regrade: bool = False  # grade everything again, journal or not
    id_pattern: str | None = None
    roster: Path | None = None
    warm: bool = True  # each upload in a sandbox made ahead (see autograde.backends.warm)
    canvas_assignment: str | None = None  # the Canvas import's column, "Title (ID)" (default: the title)
    deadlines: DeadlineOptions = field(default_factory=DeadlineOptions)  # none given: the folder's
    cluster: ClusterSpec | None = None  # grade on Dask workers (None: this machine's threads)
    cluster_settings: ClusterSettings = field(default_factory=lambda: ClusterSettings())
    cluster_gpus: bool = False  # with a cluster: each job on one GPU of a worker that declares one


@dataclass
class Progress:
    total: int
    done: int = 0  # graded in this run
    failed: int = 0  # of those, not "graded" (invalid, grader error, ...)
    reused: int = 0  # already in the journal
    rejected: int = 0  # never run: not a notebook, links, zip problems, no submission
    started: float = field(default_factory=time.monotonic)
    by_worker: dict[str, int] = field(default_factory=dict)  # a cluster's workers: uploads each graded
    worker_of: dict[str, str] = field(default_factory=dict)  # student -> the worker that graded them

    @property
    def remaining(self) -> int:
        return self.total - self.done - self.reused - self.rejected

    @property
    def rate(self) -> float:
        """Graded uploads per second in this run."""
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 and self.done else 0.0

    @property
    def eta(self) -> float | None:
        return self.remaining / self.rate if self.rate else None


def default_workers(opts: GradeOptions, memory: int, cpus: float) -> int:
    """As many parallel sandboxes as cores and memory allow (one per GPU for GPU jobs)."""
    if opts.gpus:
        return len(opts.gpus)
    cores = os.cpu_count() or 1
    by_cpu = max(1, int(cores // max(cpus, 1.0)))
    by_memory = max(1, int(_available_memory() * 0.8 // max(memory, 1)))
    return max(1, min(by_cpu, by_memory, 32))


def _available_memory() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 4 * 2**30


def grade_batch(
    sources: list[Path],
    assignment: Assignment,
    out_dir: Path,
    opts: GradeOptions,
    batch: BatchOptions | None = None,
    progress: Callable[[GradeReport | None, Progress], None] | None = None,
) -> list[GradeReport]:
    """Grade every upload of `sources` into `out_dir`; returns one report per upload."""
    batch = batch or BatchOptions()
    started = now()
    rubric = assignment.rubric
    id_rule = IdRule(batch.id_pattern)  # bad options fail before anything is written
    roster = Roster.read(batch.roster) if batch.roster else None
    folder = ResultsFolder(out_dir)
    deadline = read_deadline(folder, assignment.id, batch.deadlines)
    limits = SandboxLimits.from_rubric(rubric.limits, **opts.limits)
    image = opts.image
    if batch.cluster is None:  # a cluster's workers check their own backend (autograde.cluster.job)
        backend = get_backend(opts.backend, opts.backend_options())
        backend.preflight()
        image = image or backend.pinned_image()
    folder.write_lms_settings(batch.canvas_assignment, roster.details if roster else None)
    seed = folder.batch_seed(assignment.id, opts.grading_seed)
    # every job of the batch runs on the image checked now, whatever changes meanwhile
    opts = dataclasses.replace(opts, grading_seed=seed, image=image)
    if rubric.data_dir is not None:
        prepare_data_dir(assignment.id, rubric.data_dir)  # once, before the workers race for it
    parameters = {**rubric.parameters, **opts.overrides}
    run_config = {
        "backend": opts.backend,
        "public_only": opts.public_only,
        "limits": opts.limits,
        "image": opts.image,
        "autograde": __version__,
    }
    config = config_digest(assignment.digest, parameters, seed, run_config)
    remove_orphan_folders()  # what a grader killed outright left in the temp folder, any backend
    staging = Path(tempfile.mkdtemp(prefix=staging_folder_prefix()))
    write_owner(staging)
    try:
        uploads = collect(sources, staging, id_rule, roster)
        lateness = Lateness(deadline, uploads, roster)  # extensions naming nobody: an error, here
        lateness.keep(folder)
        rows = Rows(folder, folder.journal(), assignment, settle=lateness.apply)
        state = Progress(total=len(uploads))
        todo: list[tuple[Upload, GradeKey]] = []
        for upload in uploads:
            key = _sort_upload(upload, assignment, opts, config, batch, rows, state)
            if key is not None:
                todo.append((upload, key))
        for report in rows.results.values():
            rows.settle(report)
            rows.write_files(report)
        rows.write_gradebook()
        if progress:
            progress(None, state)
        workers: int | None = None  # a cluster's: as many as join it
        if batch.cluster is None:
            workers = batch.workers or default_workers(opts, limits.memory, limits.cpus)
        interrupted = True  # until the workers are done
        try:
            job_opts = dataclasses.replace(opts, warm=batch.warm and len(todo) > 1)
            if batch.cluster is not None:
                _run_cluster(todo, assignment, job_opts, batch, rows, state, progress)
            else:
                _run_workers(todo, assignment, job_opts, workers or 1, rows, state, progress)
            interrupted = False
        finally:
            close_pools()  # the sandboxes warmed for uploads that never came (or a Ctrl-C)
            rows.write_gradebook()
            run_options = {**run_config, "regrade": batch.regrade, "workers": workers, "warm": batch.warm,
                           "cluster": batch.cluster.describe() if batch.cluster else None,
                           "graded_by": dict(sorted(state.by_worker.items())) if batch.cluster else None,
                           "id_pattern": batch.id_pattern,
                           "roster": str(batch.roster) if batch.roster else None}
            recorded = _record_run(
                folder, rows, assignment, started, seed, parameters, run_options, interrupted
            )
            folder.write_class_files(list(rows.results.values()), assignment)
            if recorded is not None and not interrupted:
                raise recorded
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(rows.results.values(), key=lambda r: r.student)


def _record_run(
    folder: ResultsFolder,
    rows: Rows,
    assignment: Assignment,
    started: datetime,
    seed: int,
    parameters: dict[str, Any],
    options: dict[str, Any],
    interrupted: bool,
) -> Exception | None:
    """Keep this run as the folder's next numbered run; the failure, if any, is returned (the
    grades are journaled and written whatever happens here)."""
    try:
        record = run_record(
                kind=GRADE,
            started=started,
            assignment=assignment.id,
            rubric_digest=assignment.digest,
            reports=rows.results,
            digests=rows.digests(),
            graded_now=rows.graded_now,
            seed=seed,
            parameters=parameters,
            backend=str(options.get("backend")),
            options=options,
            interrupted=interrupted,
        )
        folder.write_run(record)
    except Exception as exc:
        return AutogradeError(f"{folder.root}: this run could not be kept in runs/ ({exc!r}); "
                              "its grades are journaled and written")
    return None


def _sort_upload(
    upload: Upload,
    assignment: Assignment,
    opts: GradeOptions,
    config: str,
    batch: BatchOptions,
    rows: Rows,
    state: Progress,
) -> GradeKey | None:
    """The key to grade an upload under; None when its row is made here: a rejected upload's,
    an unchanged one's from the journal, or, when this fails, one that says why."""
    try:
        if not upload.graded:
            report = empty_report(
                Path(upload.origin), upload.student, assignment, upload.status, upload.problem or "", opts
            )
            report.file = upload.origin  # the whole origin, `export.zip!folder/x.ipynb` too
            report.notes.extend(upload.notes)
            rows.results[upload.student] = report
            state.rejected += 1
            return None
        assert upload.path is not None
        key = GradeKey(upload.student, file_digest(upload.path), config)
        previous = None if batch.regrade else rows.journal.done(key)
        if previous is None:
            return key
        rows.results[upload.student] = previous
        state.reused += 1
        return None
    except Exception as exc:
        reason = f"{upload.origin}: the grader could not read it ({exc!r}); {AGAIN}"
        rows.results[upload.student] = fault_report(upload.student, upload.origin, assignment, opts, reason)
        state.rejected += 1
        return None


def _grade_upload(
    upload: Upload, assignment: Assignment, opts: GradeOptions, earlier: GradeReport | None
) -> GradeReport:
    """Grade one staged upload; the report names the upload as the instructor knows it."""
    assert upload.path is not None
    report = grade_submission(upload.path, assignment, opts, student=upload.student)
    return _finish(upload, named_as(report, upload.path, upload.origin), earlier)


def _finish(upload: Upload, report: GradeReport, earlier: GradeReport | None) -> GradeReport:
    """What the coordinator adds to a report, wherever it was graded: the upload's notes and
    the hand grades of the last run."""
    report.notes[:0] = list(upload.notes)
    if earlier is not None:
        try:
            report.notes.extend(carry_hand_grades(earlier, report))
        except Exception as exc:
            report.notes.append(f"the hand grades of the last run could not be carried over ({exc!r})")
    return report


def _keep_answers(folder: ResultsFolder, upload: Upload, assignment: Assignment, report: GradeReport) -> None:
    """students/<id>/answers.json for a similarity check later; a failure is a note on the
    report, never the grade's."""
    from autograde.similarity.answers import answers_of

    assert upload.path is not None
    try:
        folder.write_answers(upload.student, assignment.id, answers_of(upload.path, assignment))
    except Exception as exc:
        report.notes.append(f"the answers were not kept for a similarity check ({exc!r})")


def _run_workers(
    todo: list[tuple[Upload, GradeKey]],
    assignment: Assignment,
    opts: GradeOptions,
    workers: int,
    rows: Rows,
    state: Progress,
    progress: Callable[[GradeReport | None, Progress], None] | None,
) -> None:
    if not todo:
        return
    devices: queue.Queue[str] | None = None
    if opts.gpus:  # one job per device at a time, handed out round-robin
        devices = queue.Queue()
        for gpu in opts.gpus:
            devices.put(gpu)
    cancelled = threading.Event()
    earlier = {student: entry[1] for student, entry in rows.journal.entries.items()}  # before any append

    def grade_one(upload: Upload) -> GradeReport | None:
        if cancelled.is_set():
            return None
        gpu = devices.get() if devices is not None else None
        try:
            job_opts = dataclasses.replace(opts, gpu=gpu) if gpu is not None else opts
            report = _grade_upload(upload, assignment, job_opts, earlier.get(upload.student))
            _keep_answers(rows.folder, upload, assignment, report)
        except Exception as exc:  # a bug, a failed job: this upload's row, never the batch's end
            reason = f"{upload.origin}: grading failed ({exc!r}); {AGAIN}"
            report = fault_report(upload.student, upload.origin, assignment, opts, reason)
        finally:
            if devices is not None and gpu is not None:
                devices.put(gpu)
        return None if cancelled.is_set() else report

    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="autograde-worker")
    futures: dict[Future[GradeReport | None], GradeKey] = {
        pool.submit(grade_one, upload): key for upload, key in todo
    }
    try:
        for future in as_completed(futures):
            report = future.result()
            if report is not None:
                _save(futures[future], report, rows, state, progress)
    except BaseException:
        # Ctrl-C (or any failure here): no new job starts, running sandboxes are killed, and
        # their half-finished grades are discarded (never journaled)
        cancelled.set()
        pool.shutdown(wait=False, cancel_futures=True)
        RUNNING.kill_all()
        # a sandbox that a worker starts after all (a warm one leased while Ctrl-C came) is
        # killed as well; a cancelled future never counts as done for wait(), so it is left out
        while wait([f for f in futures if not f.cancelled()], timeout=0.2).not_done:
            RUNNING.kill_all()
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)


def _save(
    key: GradeKey,
    report: GradeReport,
    rows: Rows,
    state: Progress,
    progress: Callable[[GradeReport | None, Progress], None] | None,
) -> None:
    """A report that came back: written and journaled now, the gradebook rewritten."""
    rows.save(key, report)
    state.done += 1
    state.failed += report.status != SubmissionStatus.GRADED
    rows.write_gradebook(strict=False)
    if progress:
        progress(report, state)


def _run_cluster(
    todo: list[tuple[Upload, GradeKey]],
    assignment: Assignment,
    opts: GradeOptions,
    batch: BatchOptions,
    rows: Rows,
    state: Progress,
    progress: Callable[[GradeReport | None, Progress], None] | None,
) -> None:
    """Grade `todo` on the Dask workers of `batch.cluster`; each report is saved here as it comes."""
    from autograde.cluster.dispatch import Outcome, connect, grade_jobs, new_batch_id
    from autograde.cluster.job import Job, data_digest
    from autograde.cluster.library import pack

    if not todo:
        return
    assert batch.cluster is not None
    settings = batch.cluster_settings
    part = pack(assignment, settings.library if isinstance(settings.library, Path) else None)
    data = data_digest(assignment)
    earlier = {student: entry[1] for student, entry in rows.journal.entries.items()}
    job_opts = dataclasses.replace(opts, gpu=None, gpus=())
    batch_id = new_batch_id()

    def job_at(index: int) -> Job:  # when it is sent: the notebook is read then
        upload = todo[index][0]
        assert upload.path is not None
        return Job(batch_id, upload.student, upload.origin, upload.path.name, upload.path.read_bytes(),
                   job_opts, gpu=batch.cluster_gpus, data_digest=data, engine=__version__)

    def done(outcome: Outcome) -> None:
        upload, key = todo[outcome.index]
        report, reason = outcome.report, outcome.fault
        if report is not None:
            try:
                report = _finish(upload, report, earlier.get(upload.student))
                _keep_answers(rows.folder, upload, assignment, report)
            except Exception as exc:
                report, reason = None, f"grading failed ({exc!r})"
        if report is None:
            report = fault_report(upload.student, upload.origin, assignment, opts,
                                  f"{upload.origin}: {reason}; {AGAIN}")
        if outcome.worker:
            state.by_worker[outcome.worker] = state.by_worker.get(outcome.worker, 0) + 1
            state.worker_of[upload.student] = outcome.worker
        _save(key, report, rows, state, progress)

    with connect(batch.cluster, settings) as client:
        grade_jobs(client, batch.cluster, batch_id, len(todo), job_at, part, done, gpu=batch.cluster_gpus,
                   patience=settings.wait_for_workers)


def grade_folder(
    uploads: Path,
    assignment: Assignment,
    out_dir: Path,
    opts: GradeOptions,
    progress: Callable[[GradeReport], None] | None = None,
) -> list[GradeReport]:
    """One folder, one worker: the simple API (see `grade_batch` for the rest)."""

    def each(report: GradeReport | None, _state: Progress) -> None:
        if report is not None and progress is not None:
            progress(report)

    return grade_batch([uploads], assignment, out_dir, opts, BatchOptions(workers=1), each)
