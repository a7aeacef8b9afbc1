"""Probes in batches (one execute request runs many) on real kernels: a probe that hangs, one
that ignores the interrupt and one that kills the kernel each cost only themselves, the time
limit stops a batch, and every record is what the probe gets when run alone (ex02's solution
and mutants, compared with the runner's one-probe-per-request mode)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.rubric.schema import Limits
from autograde.runner import protocol
from autograde.runner.probe_phase import BATCH_ENV

pytestmark = pytest.mark.integration

EX02 = Path(__file__).resolve().parents[2] / "rubrics" / "ex02_gradient_descent"


def call(probe_id: str, target: str) -> dict[str, Any]:
    return {"id": probe_id, "op": "call", "target": target, "args": [{"json": 3}]}


def lookup(probe_id: str, target: str) -> dict[str, Any]:
    return {"id": probe_id, "op": "lookup", "target": target, "value": True}


def lay_out(root: Path, source: str, probes: list[dict[str, Any]], **limits: float) -> Path:
    """in/ as the host writes it, for a one-cell notebook; returns in/."""
    in_dir = root / protocol.IN_DIR
    in_dir.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, in_dir / protocol.NOTEBOOK)
    plan = {"version": protocol.PLAN_VERSION, "limits": Limits(**limits).model_dump(),
            "probes": probes, "device": "cpu", "seed": 0}
    (in_dir / protocol.PLAN).write_text(json.dumps(plan))
    return in_dir


def run_runner(in_dir: Path, root: Path, batched: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """`python -m autograde.runner` on in/: (run.json, {probe id: (record, arrays)})."""
    out, work = root / protocol.OUT_DIR, root / protocol.WORK_DIR
    for folder in (out, work):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    env = {**os.environ, BATCH_ENV: "1" if batched else "0"}
    done = subprocess.run(
        [sys.executable, "-m", "autograde.runner", "--in", str(in_dir), "--out", str(out),
         "--work", str(work)],
        capture_output=True, text=True, timeout=180, check=False, env=env,
    )
    assert done.returncode == 0, done.stderr
    records = {}
    for path in sorted((out / protocol.PROBES).glob("*.json")):
        arrays_path = path.with_suffix(".npz")
        arrays = {}
        if arrays_path.exists():
            with np.load(arrays_path) as npz:
                arrays = {key: npz[key].tolist() for key in npz.files}
        records[path.stem] = (json.loads(path.read_text()), arrays)
    return json.loads((out / protocol.RUN_SUMMARY).read_text()), records


def verdicts(records: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {probe_id: (record["status"], record.get("message")) for probe_id, (record, _) in records.items()}


NOTEBOOK = """import os, time
VALUE = 41
def double(x):
    return 2 * x
def spin(x):
    while True:
        pass
def stubborn(x):
    while True:
        try:
            time.sleep(60)
        except KeyboardInterrupt:
            pass
def boom(x):
    os._exit(1)
"""


def test_a_hanging_probe_and_one_that_ignores_the_interrupt_cost_only_themselves(tmp_path):
    probes = [call("p0", "double"), call("p1", "spin"), lookup("p2", "VALUE"),
              call("p3", "stubborn"), call("p4", "double"), lookup("p5", "VALUE")]
    probes += [lookup(f"q{n}", "VALUE") for n in range(10)]  # the limits add up to 32s
    in_dir = lay_out(tmp_path, NOTEBOOK, probes, probe_timeout=2, total_timeout=120)
    started = time.monotonic()
    summary, records = run_runner(in_dir, tmp_path)
    elapsed = time.monotonic() - started
    late = "did not finish within 2s"
    assert verdicts(records) == {
        "p0": ("ok", None), "p1": ("timeout", late), "p2": ("ok", None),
        "p3": ("timeout", late), "p4": ("ok", None), "p5": ("ok", None),
        **{f"q{n}": ("ok", None) for n in range(10)},
    }
    assert records["p0"][1] == {"a0": 6} and records["p5"][1] == {"a0": 41}
    # the interrupted probe ends its batch and the next one goes on from there; the stubborn
    # one's kernel was killed and the notebook replayed for the last two (one more request)
    assert summary["round_trips"] == 3
    assert summary["replays"] == 0 and not summary["notes"]
    assert set(summary["probes"]) == set(records)
    assert 2 <= summary["probes"]["p1"] < 4 and 7 <= summary["probes"]["p3"] < 10
    # 2s of the first, 2s + 5s (the interrupt's grace) of the second, a replay: not the 32s
    assert summary["probe_seconds"] < 20 and elapsed < 40


def test_a_probe_that_kills_the_kernel_mid_batch_is_crashed_and_the_rest_graded_after_recovery(tmp_path):
    probes = [call("p0", "double"), call("p1", "boom"), call("p2", "double"), lookup("p3", "VALUE")]
    in_dir = lay_out(tmp_path, NOTEBOOK, probes, probe_timeout=5, total_timeout=120)
    summary, records = run_runner(in_dir, tmp_path)
    assert verdicts(records) == {
        "p0": ("ok", None), "p1": ("crashed", "the kernel died while this was being checked"),
        "p2": ("ok", None), "p3": ("ok", None),
    }
    assert records["p2"][1] == {"a0": 6} and records["p3"][1] == {"a0": 41}  # the notebook was replayed
    assert summary["round_trips"] == 2  # the batch that crashed, and the rest's after recovery
    alone_summary, alone = run_runner(in_dir, tmp_path, batched=False)
    assert alone == records
    assert alone_summary["round_trips"] == 4


PLOTS = """import matplotlib.pyplot as plt
def scribble(x):
    plt.plot([x, 2 * x])  # on the current figure, left open
    return x
def draw():
    plt.plot([0, 1])
    return plt.gcf()
"""


def test_a_figure_one_probe_left_open_is_closed_before_the_next_as_between_cells(tmp_path):
    probes = [call("p0", "scribble"), {"id": "p1", "op": "figure", "target": "draw", "call": True}]
    in_dir = lay_out(tmp_path, PLOTS, probes, probe_timeout=20, total_timeout=120)
    summary, records = run_runner(in_dir, tmp_path)
    assert summary["round_trips"] == 1
    assert [line["label"] for line in records["p1"][0]["lines"]] == ["_child0"]  # draw's own line only
    assert run_runner(in_dir, tmp_path, batched=False)[1] == records


def test_the_time_limit_stops_a_batch_and_the_rest_are_not_run(tmp_path):
    source = "import time\ndef slow(x):\n    time.sleep(1)\n    return x\n"
    probes = [call(f"p{n}", "slow") for n in range(12)]
    in_dir = lay_out(tmp_path, source, probes, probe_timeout=5, total_timeout=8)  # deadline: 6.4s
    summary, records = run_runner(in_dir, tmp_path)
    statuses = [records[f"p{n}"][0]["status"] for n in range(12)]
    assert summary["round_trips"] == 1
    assert "not-run" in statuses and statuses == sorted(statuses, key=lambda s: s == "not-run")
    late = "not run: the submission's time limit (8s) left no time for it"
    for n, status in enumerate(statuses):
        if status == "not-run":
            assert records[f"p{n}"][0]["message"] == late
            assert f"p{n}" not in summary["probes"]
    assert summary["seconds"] < 8


MUTANTS = sorted(path.name for path in (EX02 / "mutants").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", ["solution.ipynb", *MUTANTS])
def test_ex02_probe_records_are_the_same_batched_and_one_at_a_time(tmp_path, ex02, notebook):
    folder = EX02 / "mutants" if notebook != "solution.ipynb" else EX02
    grade_submission(folder / notebook, ex02, GradeOptions(grading_seed=11, keep_job=tmp_path / "job"))
    (job,) = (tmp_path / "job").iterdir()
    in_dir = job / protocol.IN_DIR
    probes = json.loads((in_dir / protocol.PLAN).read_text())["probes"]
    batched_summary, batched = run_runner(in_dir, tmp_path / "batched")
    alone_summary, alone = run_runner(in_dir, tmp_path / "alone", batched=False)
    assert set(batched) == {probe["id"] for probe in probes}
    assert batched == alone  # statuses, messages, values: byte for byte the same data
    assert alone_summary["round_trips"] == len(probes) == 18
    assert batched_summary["round_trips"] == 1
    assert set(batched_summary["probes"]) == set(alone_summary["probes"]) == set(batched)
