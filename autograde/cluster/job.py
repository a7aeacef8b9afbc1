"""What a Dask worker runs for one upload: `grade_job`, the one function the coordinator submits.

The worker grades exactly as one machine does (`grade_submission`, the same backends and
limits) and returns the report as JSON text, never an object of its own. Before it grades, it
proves itself fit: the library part unpacked with the coordinator's digest, the rubric the
coordinator grades with, the data folder with the coordinator's digest, a backend that passes
its preflight (Docker reachable, the grading image there). An unfit worker answers `unfit`
with the reason, and the coordinator sends the job elsewhere. Everything slow is done once per
worker process and remembered.
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograde.cluster.library import (
    LibraryPart,
    activate,
    check_reference,
    files_digest,
    tree_digest,
    unpack,
)
from autograde.errors import ClusterError
from autograde.pipeline.grade import GradeOptions
from autograde.rubric import Assignment

REPORT, UNFIT, STOPPED = "report", "unfit", "stopped"
PREFLIGHT_RETRY_SECONDS = 60.0  # a failed backend preflight is remembered this long


@dataclass(frozen=True)
class Job:
    """One upload as the coordinator sends it (the notebook's bytes travel with it)."""

    batch: str  # the batch's id: Ctrl-C stops its jobs on every worker
    student: str
    origin: str  # the upload as the instructor knows it: notes name it
    staged_name: str  # the file name grading sees (as on one machine)
    notebook: bytes
    opts: GradeOptions  # gpu and gpus unset: a GPU job gets one of the worker's devices
    gpu: bool = False
    data_digest: str | None = None  # the coordinator's data folder (tree_digest)
    engine: str = ""  # the coordinator's autograde version: a worker grades with the same one


_LOCK = threading.Lock()
_ASSIGNMENTS: dict[tuple[str, str, str | None], Assignment] = {}
_DATA: dict[str, tuple[Path, str]] = {}  # assignment -> its data folder and the folder's digest
_PREFLIGHT: dict[tuple[str, str | None, bool], tuple[float, str | None]] = {}
_STOPPED: set[str] = set()
_DEVICES: list[queue.Queue[str]] = []
_RUNNING: dict[str, int] = {}  # batch -> its jobs grading in this process now


def grade_job(job: Job, part: LibraryPart) -> str:
    """Grade one upload on this worker: JSON with `kind` report, unfit or stopped."""
    who = _who()
    if job.batch in _STOPPED:
        return json.dumps({**who, "kind": STOPPED})
    try:
        _same_engine(job.engine)
        assignment = _assignment(part)
        _check_data(assignment, job.data_digest)
        _preflight(job.opts, job.gpu)
    except Exception as exc:
        reason = str(exc) if isinstance(exc, ClusterError) else f"{type(exc).__name__}: {exc}"
        return json.dumps({**who, "kind": UNFIT, "reason": reason})
    with _LOCK:
        _RUNNING[job.batch] = _RUNNING.get(job.batch, 0) + 1
    device = _devices().get() if job.gpu else None
    try:
        if job.batch in _STOPPED:
            return json.dumps({**who, "kind": STOPPED})
        report = _grade(job, assignment, device)
    finally:
        if device is not None:
            _devices().put(device)
        with _LOCK:
            _RUNNING[job.batch] -= 1
    return json.dumps({**who, "kind": REPORT, "report": report})


def stop_batch(batch: str) -> int:
    """Ctrl-C on the coordinator: no job of `batch` starts here any more, and every sandbox
    running in this worker is killed; the number of its jobs still running here (a cancelled
    Dask task runs on until its function returns)."""
    from autograde.backends.base import RUNNING

    _STOPPED.add(batch)
    RUNNING.kill_all()
    with _LOCK:
        return _RUNNING.get(batch, 0)


def close_sandboxes() -> None:
    """The batch is over: the warm sandboxes this worker made ahead are killed."""
    from autograde.backends.warm import close_pools

    close_pools()


def _same_engine(wanted: str) -> None:
    from autograde import __version__

    if wanted and wanted != __version__:
        raise ClusterError(f"it runs autograde {__version__}, the coordinator {wanted}: install the same "
                           "version on every worker")


def _who() -> dict[str, str]:
    try:
        from distributed import get_worker

        worker = get_worker()
        address, name = worker.address, str(worker.name)
    except ValueError:  # not in a worker (a unit test)
        address, name = "", ""
    return {"worker": address, "name": name, "host": socket.gethostname(), "pid": str(os.getpid())}


def _assignment(part: LibraryPart) -> Assignment:
    from autograde.rubric.datasets import unpacked_libraries
    from autograde.rubric.library_part import library_part
    from autograde.rubric.loader import load_rubric_file

    with _LOCK:
        cached = _ASSIGNMENTS.get((part.digest, part.folder, part.shared))
        if cached is not None:
            activate(cached.folder.parent.parent)
            return cached
        if part.shared is not None:
            root = Path(part.shared)
            if not (root / "rubrics" / part.folder / "rubric.yaml").is_file():
                raise ClusterError(f"the shared library {root} holds no rubrics/{part.folder}/rubric.yaml")
        else:
            root = unpack(part, unpacked_libraries())
        activate(root)
        check_reference(root)
        assignment = load_rubric_file(root / "rubrics" / part.folder / "rubric.yaml")
        if assignment.digest != part.rubric_digest:
            raise ClusterError(f"{root}/rubrics/{part.folder}/rubric.yaml is not the rubric the coordinator "
                               f"grades with (digest {assignment.digest}, not {part.rubric_digest})")
        if part.shared is not None:
            digest = files_digest(library_part(assignment))
            if digest != part.digest:
                raise ClusterError(f"the shared library {root} differs from the coordinator's for "
                                   f"{part.folder} (digest {digest[:12]}, not {part.digest[:12]})")
        _ASSIGNMENTS[(part.digest, part.folder, part.shared)] = assignment
        return assignment


def data_digest(assignment: Assignment) -> str | None:
    """The digest of the assignment's generated data folder (made here when missing)."""
    found = _data_folder(assignment)
    return None if found is None else found[1]


def _data_folder(assignment: Assignment) -> tuple[Path, str] | None:
    """The assignment's data folder and its digest, made and hashed once per process."""
    from autograde.rubric.datasets import prepare_data_dir

    if assignment.rubric.data_dir is None:
        return None
    key = f"{assignment.folder}:{assignment.digest}"
    with _LOCK:
        if key not in _DATA:
            folder = prepare_data_dir(assignment.id, assignment.rubric.data_dir)
            _DATA[key] = (folder, tree_digest(folder))
        return _DATA[key]


def _check_data(assignment: Assignment, expected: str | None) -> None:
    found = None if expected is None else _data_folder(assignment)
    if expected is not None and found is not None and found[1] != expected:
        folder, got = found
        raise ClusterError(f"its data folder {folder} has digest {got[:12]}, "
                           f"not the coordinator's {expected[:12]}")


def _preflight(opts: GradeOptions, gpu: bool) -> None:
    from autograde.backends import get_backend

    key = (opts.backend, opts.image, gpu)
    with _LOCK:
        when, failure = _PREFLIGHT.get(key, (0.0, None))
        if when and (failure is None or time.monotonic() - when < PREFLIGHT_RETRY_SECONDS):
            if failure is not None:
                raise ClusterError(failure)
            return
    try:
        options = dataclasses.replace(opts.backend_options(), gpu=gpu)
        get_backend(opts.backend, options).preflight()
        failure = None
    except Exception as exc:
        failure = f"the {opts.backend} backend cannot run here: {exc}"
    with _LOCK:
        _PREFLIGHT[key] = (time.monotonic(), failure)
    if failure is not None:
        raise ClusterError(failure)


def _devices() -> queue.Queue[str]:
    """This worker's GPUs, one job each at a time: CUDA_VISIBLE_DEVICES (host indices) or as
    many as its `GPU` resource declares."""
    with _LOCK:
        if not _DEVICES:
            devices: queue.Queue[str] = queue.Queue()
            visible = [d.strip() for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
            if not visible:
                count = 1
                try:
                    from distributed import get_worker

                    count = int(get_worker().state.total_resources.get("GPU", 1))
                except (ValueError, AttributeError):
                    pass
                visible = [str(i) for i in range(max(1, count))]
            for device in visible:
                devices.put(device)
            _DEVICES.append(devices)
        return _DEVICES[0]


def _grade(job: Job, assignment: Assignment, device: str | None) -> dict[str, Any]:
    from autograde.backends.local.orphans import staging_folder_prefix, write_owner
    from autograde.pipeline.grade import grade_submission, named_as

    staging = Path(tempfile.mkdtemp(prefix=staging_folder_prefix()))
    try:
        write_owner(staging)
        path = staging / job.staged_name
        path.write_bytes(job.notebook)
        opts = dataclasses.replace(job.opts, gpu=device, gpus=(device,) if device is not None else ())
        report = grade_submission(path, assignment, opts, student=job.student)
        return named_as(report, path, job.origin).to_json()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
