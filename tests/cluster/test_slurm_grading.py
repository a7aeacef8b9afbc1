"""`grade --cluster slurm` on the single-node SLURM of tests/cluster/slurm/start-slurm.sh: a
batch of 10 uploads graded by Dask workers in SLURM jobs gives the threads' gradebook, and no
job of ours is left when the command ends."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml

from autograde.cluster.slurm import JOB_NAME
from tests.batch_tools import gradebook, journal_students
from tests.cluster.dask_processes import CLI
from tests.cluster.test_dask_grading import EXAMPLES, checks_of, copies, reports

pytestmark = [pytest.mark.slurm, pytest.mark.integration, pytest.mark.usefixtures("slurm")]


def _our_jobs() -> list[str]:
    done = subprocess.run(
        ["squeue", "-h", "-n", JOB_NAME, "-o", "%i"], capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_a_batch_through_slurm_jobs_gives_the_threads_gradebook(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    copies(uploads, 1)  # the six examples: graded, partial, failing, invalid
    for index, path in enumerate(sorted(EXAMPLES.glob("*.ipynb"))[:4]):
        (uploads / f"again_{index}.ipynb").write_bytes(path.read_bytes())
    assert len(list(uploads.iterdir())) == 10
    config = tmp_path / "cluster.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "slurm": {
                    "jobs": 2,
                    "queue": "grading",
                    "cores": 1,
                    "memory": "2GiB",
                    "walltime": "00:20:00",
                },
                "wait_for_workers": 180,
            }
        )
    )
    common = [str(uploads), "-a", "ex02_gradient_descent", "--seed", "21"]
    threads = subprocess.run(
        [CLI, "grade", *common, "--out", str(tmp_path / "threads"), "-j", "2"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert threads.returncode == 0, threads.stdout + threads.stderr
    slurm = subprocess.run(
        [
            CLI,
            "grade",
            *common,
            "--out",
            str(tmp_path / "slurm"),
            "--cluster",
            "slurm",
            "--cluster-config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,  # the jobs' slurm-N.out go here
    )
    assert slurm.returncode == 0, slurm.stdout + slurm.stderr
    assert "grading on Dask workers in SLURM jobs" in slurm.stdout
    assert gradebook(tmp_path / "slurm") == gradebook(tmp_path / "threads")
    by_slurm, by_threads = reports(tmp_path / "slurm"), reports(tmp_path / "threads")
    assert len(by_slurm) == 10 and all(checks_of(r) == checks_of(by_threads[s]) for s, r in by_slurm.items())
    assert sorted(journal_students(tmp_path / "slurm")) == sorted(by_slurm)
    outputs = list(tmp_path.glob("slurm-*.out"))
    assert outputs, "no SLURM job ran"  # each worker job's log, written by slurmd
    deadline = time.monotonic() + 30
    while _our_jobs() and time.monotonic() < deadline:
        time.sleep(0.5)
    left = _our_jobs()
    if left:
        subprocess.run(["scancel", *left], check=False)
    assert not left, f"SLURM jobs left after the command: {left}"
