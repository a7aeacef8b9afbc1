"""Dask workers in real SLURM jobs (autograde.cluster.slurm) on the single-node SLURM of
tests/cluster/slurm/start-slurm.sh: the workers join and run work inside their jobs (over TCP
and TLS), a wrong partition is a ClusterError at once, and no job of ours outlives a test."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograde.cluster.settings import ClusterError, SlurmSettings
from autograde.cluster.slurm import JOB_NAME, slurm_cluster

pytestmark = [pytest.mark.slurm, pytest.mark.usefixtures("slurm")]


def _our_jobs() -> list[str]:
    out = subprocess.run(
        ["squeue", "-h", "-n", JOB_NAME, "-o", "%i"], capture_output=True, text=True, check=True
    ).stdout
    return out.split()


def _jobs_after_close(wait: float = 30.0) -> list[str]:
    """Our jobs still queued, running or completing `wait` s after the cluster closed
    (scancel returns at once; slurmd ends a job's processes and reports it a moment later)."""
    deadline = time.monotonic() + wait
    while (left := _our_jobs()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


@pytest.fixture(autouse=True)
def no_job_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The jobs' slurm-N.out files go to the test's folder; the scheduler's HTTP server on a
    free port; after the test no job of ours remains, pending or running (any left is
    cancelled, and the test fails).

    Another Dask on this machine may hold 8787, the default: distributed then leaks the
    socket it failed to bind and warns, both errors here. dask_jobqueue is imported first, so
    that its defaults, which it adds to the config on import, outlive the `set`."""
    import dask
    import dask_jobqueue  # noqa: F401

    monkeypatch.chdir(tmp_path)
    options = {"dashboard_address": ":0"}
    with dask.config.set({"jobqueue.slurm.scheduler-options": options}):
        yield
    left = _jobs_after_close()
    if left:
        subprocess.run(["scancel", *left], check=False)
    assert not left, f"SLURM jobs left behind: {left}"


JOB_ID = "SLURM_JOB_ID"  # the workers run `os.getenv(JOB_ID)`: a function they can import (this
# module is not importable in a job's environment)


def test_workers_run_in_slurm_jobs() -> None:
    from distributed import Client

    start = time.monotonic()
    settings = SlurmSettings(jobs=2, queue="grading", cores=1, memory="1GiB", walltime="00:10:00")
    cluster = slurm_cluster(settings, None)
    try:
        jobs = {w.job_id for w in cluster.workers.values()}
        assert len(jobs) == 2 and all(j and j.isdigit() for j in jobs)
        assert set(_our_jobs()) == jobs  # a user finds them by name: squeue -n autograde-worker
        with Client(cluster) as client:
            client.wait_for_workers(2, timeout=120)
            in_jobs = client.run(os.getenv, JOB_ID)
            assert sorted(in_jobs.values()) == sorted(jobs)  # each worker in its own job
            assert client.submit(os.getenv, JOB_ID, pure=False).result(timeout=60) in jobs
            threads = client.nthreads()
            assert sorted(threads.values()) == [1, 1]
    finally:
        cluster.close()
    closed = time.monotonic()
    assert not _jobs_after_close()
    print(
        f"2 SLURM workers up, used and closed in {closed - start:.1f} s; "
        f"their jobs gone from squeue {time.monotonic() - closed:.1f} s later"
    )


def test_workers_over_tls(tmp_path: Path) -> None:
    """A worker certificate whose file holds its key too (the cluster file's `tls.key` unset)."""
    trustme = pytest.importorskip("trustme")
    from distributed import Client
    from distributed.security import Security

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "node.pem")
    )
    node = str(tmp_path / "node.pem")
    security = Security(
        tls_ca_file=str(tmp_path / "ca.pem"),
        tls_client_cert=node,
        tls_scheduler_cert=node,
        tls_worker_cert=node,
        require_encryption=True,
    )
    settings = SlurmSettings(jobs=1, queue="grading", cores=1, memory="1GiB", walltime="00:10:00")
    cluster = slurm_cluster(settings, security)
    try:
        assert cluster.scheduler_address.startswith("tls://")
        with Client(cluster, security=security) as client:
            client.wait_for_workers(1, timeout=120)
            assert list(client.run(os.getenv, JOB_ID).values()) == [
                w.job_id for w in cluster.workers.values()
            ]
    finally:
        cluster.close()


def test_wrong_partition_is_a_cluster_error() -> None:
    start = time.monotonic()
    settings = SlurmSettings(jobs=2, queue="nope", cores=1, memory="1GiB", walltime="00:10:00")
    with pytest.raises(ClusterError) as caught:
        slurm_cluster(settings, None)
    assert time.monotonic() - start < 60
    message = str(caught.value)
    assert "partition 'nope'" in message
    assert "sbatch: error:" in message and "nvalid partition" in message
