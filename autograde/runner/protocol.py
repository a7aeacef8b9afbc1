"""The sandbox protocol: the files that cross the boundary, and the plan's format version.

One dependency-free module (standard library only), read by the host that writes a job
and judges it, by the runner inside the sandbox, and by the probe harness in the student's
kernel, so that no file name is spelled in two places.

Host -> sandbox, in the job's ``in/`` folder (read-only inside):
    notebook.ipynb   the parameterized submission
    plan.json        limits, device, seed and the probes to run (``version`` = PLAN_VERSION)
    inputs.npz       the probe inputs drawn on the host (one array per key, loaded lazily)
    files/...        the assignment's support files, copied into the working folder (work/)
                     before the first cell runs, so the notebook reads them by relative paths
    warm.json        (a warm sandbox only, written before launch) what to prepare before the
                     job exists: the modules to import in the kernel, the device
    start            (a warm sandbox only) written last, empty: the job's files are complete

Sandbox -> host, in ``out/`` (size-capped, read back without unpickling):
    cells.json       the execution record of every cell
    run.json         the runner's summary (timings, notes, a fatal reason)
    probes/<id>.json and probes/<id>.npz   one probe's status, message, values
    executed.ipynb   the notebook with (capped) outputs, for the instructor
    warm.json        (a warm sandbox only) the kernel is up and waiting for the job
"""

from __future__ import annotations

from pathlib import Path

from autograde.runner.compat import StrEnum

PLAN_VERSION = 4  # 4: warm sandboxes (in/warm.json, in/start); 3: the `script` probe, in/files/

IN_DIR, OUT_DIR, WORK_DIR = "in", "out", "work"

NOTEBOOK = "notebook.ipynb"
PLAN = "plan.json"
INPUTS = "inputs.npz"
FILES = "files"
WARM = "warm.json"
START = "start"

CELLS = "cells.json"
RUN_SUMMARY = "run.json"
PROBES = "probes"
EXECUTED = "executed.ipynb"


class ProbeStatus(StrEnum):
    """What a probe record's ``status`` says (the host maps each to a check status)."""

    OK = "ok"  # the harness wrote what the student's objects gave
    ERROR = "error"  # the student's code raised, or gave nothing usable
    MISSING = "missing"  # the target is not defined in the notebook
    TIMEOUT = "timeout"
    CRASHED = "crashed"  # the kernel died while this probe ran
    NOT_RUN = "not-run"  # never reached: an earlier crash, the time limit


class CellStatus(StrEnum):
    """What a cell's record in cells.json says."""

    OK = "ok"
    ERROR = "error"  # the cell raised
    TIMEOUT = "timeout"  # interrupted at the cell time limit
    CRASHED = "crashed"  # the kernel died in this cell
    SKIPPED = "skipped"  # left out of a replay after it lost the kernel
    NOT_RUN = "not-run"  # never reached


def probe_record(out_dir: Path, probe_id: str) -> Path:
    """Where a probe's status and message go (written last: its presence means done)."""
    return out_dir / PROBES / f"{probe_id}.json"


def probe_arrays(out_dir: Path, probe_id: str) -> Path:
    return out_dir / PROBES / f"{probe_id}.npz"


def plan_problem(plan: object) -> str | None:
    """Why a plan cannot be run by this runner, or None."""
    if not isinstance(plan, dict):
        return "the grading plan is not a JSON object"
    version = plan.get("version")
    if version != PLAN_VERSION:
        return (
            f"the grading plan has format version {version!r} but this runner reads version "
            f"{PLAN_VERSION}: the grader and the sandbox image are of different autograde versions "
            "(rebuild the image with `autograde sandbox build`)"
        )
    return None
