"""`grade --cluster --backend docker` on real `dask worker` processes: a worker that cannot
reach Docker, or lacks the grading image, hands its jobs to the others with a note (never a
silent 0); Ctrl-C leaves no container on any worker."""

from __future__ import annotations

import signal
import time
from typing import Any

import pytest

from autograde.backends.docker import LABEL
from tests.batch_tools import grade, gradebook
from tests.cluster.dask_processes import dask_cluster, start_grade
from tests.cluster.test_dask_grading import EXAMPLES, copies, reports

pytestmark = pytest.mark.docker


def _addresses(cluster: Any) -> dict[str, str]:
    with cluster.client() as client:
        return {info["name"]: address for address, info in client.scheduler_info()["workers"].items()}


def test_a_worker_without_docker_or_image_hands_its_jobs_on(tmp_path, docker_client, sandbox_image):
    uploads = copies(tmp_path / "uploads", 4, None, EXAMPLES / "alice.ipynb")
    workers = {"docker": {}, "nodocker": {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}}
    with dask_cluster(tmp_path / "dask", workers) as cluster:
        names = _addresses(cluster)
        args = [
            str(uploads),
            "-a",
            "ex02_gradient_descent",
            "--backend",
            "docker",
            "--cluster",
            cluster.address,
        ]
        grade(*args, "--out", str(tmp_path / "out"))
        rows = gradebook(tmp_path / "out")
        assert len(rows) == 4 and all(r["status"] == "graded" and r["total"] == "10" for r in rows.values())
        notes = [n for r in reports(tmp_path / "out").values() for n in r["notes"]]
        moved = [n for n in notes if n.startswith(f"graded on worker {names['docker']}: ")]
        assert moved, notes  # the worker without Docker got jobs first, and gave them on
        assert all(f"{names['nodocker']} could not (the docker backend cannot run here" in n for n in moved)
        # an image no worker has: every row says why, naming each worker, and is graded again later
        missing = grade(*args, "--out", str(tmp_path / "missing"), "--image", "autograde-grading:absent")
        assert missing.returncode == 0
        for report in reports(tmp_path / "missing").values():
            assert report["status"] == "grader error"
            [note] = [n for n in report["notes"] if "no worker of the cluster could grade it" in n]
            assert "autograde-grading:absent not found" in note and names["docker"] in note, note
            assert "graded again on the next run" in note


def test_ctrl_c_leaves_no_container_on_any_worker(tmp_path, docker_client, sandbox_image):
    uploads = copies(tmp_path / "uploads", 3, "import time\ntime.sleep(3600)", EXAMPLES / "alice.ipynb")
    with dask_cluster(tmp_path / "dask", {"w1": {}, "w2": {}}) as cluster:
        process = start_grade(
            str(uploads),
            "-a",
            "ex02_gradient_descent",
            "--out",
            str(tmp_path / "out"),
            "--backend",
            "docker",
            "--cluster",
            cluster.address,
        )
        deadline = time.monotonic() + 180
        while len(docker_client.containers.list(filters={"label": LABEL, "status": "running"})) < 2:
            assert time.monotonic() < deadline and process.poll() is None, "the jobs did not start"
            time.sleep(0.5)
        time.sleep(2)  # the notebooks run their sleep
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 130, output
        deadline = time.monotonic() + 30
        while (
            docker_client.containers.list(all=True, filters={"label": LABEL}) and time.monotonic() < deadline
        ):
            time.sleep(0.5)
        left = docker_client.containers.list(all=True, filters={"label": LABEL})
        assert not left, f"containers left after Ctrl-C: {[c.name for c in left]}"
