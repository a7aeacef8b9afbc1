"""Dask workers in SLURM jobs (`--cluster slurm`): dask-jobqueue's SLURMCluster from the
cluster file's `slurm` settings.

Each job runs one worker process whose threads are the job's cores (that many uploads graded
at a time); a job with GPUs asks for them with `--gres=gpu:N` and its worker declares them as
its `GPU` resource. The jobs are named `autograde-worker` (`squeue -n autograde-worker`).

dask-jobqueue submits the jobs in the background and only logs a failed `sbatch`; here the
submissions are awaited, so that a wrong partition or account, or resources the cluster does
not have, stop the command with sbatch's own message instead of a wait for workers that never
come.
"""

from __future__ import annotations

import copy
import shutil
import sys
from typing import TYPE_CHECKING, Any

from autograde.cluster.settings import SlurmSettings
from autograde.errors import ClusterError

if TYPE_CHECKING:
    from dask_jobqueue.slurm import SLURMCluster

JOB_NAME = "autograde-worker"
_PLACEHOLDER = "tcp://<scheduler-address>:8786"  # job_script(): no scheduler is started


def _options(settings: SlurmSettings, security: object | None) -> dict[str, Any]:
    directives = list(settings.directives)
    worker_args: list[str] = []
    if settings.gpus_per_job:
        directives.append(f"--gres=gpu:{settings.gpus_per_job}")
        worker_args = ["--resources", f"GPU={settings.gpus_per_job}"]
    options: dict[str, Any] = {
        "processes": 1,
        "cores": settings.cores,
        "memory": settings.memory,
        "walltime": settings.walltime,
        "queue": settings.queue,
        "account": settings.account,
        "python": settings.python or sys.executable,
        "job_script_prologue": list(settings.env),
        "job_extra_directives": directives,
        "worker_extra_args": worker_args,
        "local_directory": settings.local_directory,
        "interface": settings.interface,
        "job_name": JOB_NAME,
    }
    if security is not None:
        options["security"] = _worker_key(security)
    return options


def _worker_key(security: object) -> object:
    """dask-jobqueue writes `--tls-key None` into the job script for a worker whose key is in
    its certificate's file (which the worker refuses): that file is named as the key too."""
    cert = getattr(security, "tls_worker_cert", None)
    if cert and not getattr(security, "tls_worker_key", None):
        security = copy.copy(security)
        security.tls_worker_key = cert  # type: ignore[attr-defined]
    return security


def _job_class() -> Any:
    try:
        from dask_jobqueue.slurm import SLURMJob
        from distributed.core import Status
    except ImportError as exc:
        raise ClusterError(
            "--cluster slurm needs dask-jobqueue: pip install 'autograde[cluster]'"
        ) from exc

    class Job(SLURMJob):
        """A worker job that keeps sbatch's error rather than raise it in the background,
        where dask-jobqueue only logs it."""

        submit_error: str | None = None  # the message: the exception would hold the job in a cycle

        async def start(self) -> None:
            try:
                await super().start()  # type: ignore[no-untyped-call]
            except RuntimeError as exc:
                self.submit_error = str(exc)
                self.status = Status.running  # nothing to cancel: close() is a no-op without a job id

        async def close(self) -> None:
            # scancel; dask-jobqueue leaves the status as it was, which SpecCluster.close() refuses
            await super().close()  # type: ignore[no-untyped-call]
            self.status = Status.closed

    return Job


def job_script(settings: SlurmSettings) -> str:
    """The batch script each worker job runs (the scheduler's address a placeholder)."""
    job = _job_class()(scheduler=_PLACEHOLDER, name="dummy-name", **_options(settings, None))
    script: str = job.job_script()
    return script


def slurm_cluster(settings: SlurmSettings, security: object | None) -> SLURMCluster:
    """A started SLURMCluster with `settings.jobs` worker jobs submitted (not yet running:
    the caller waits for the workers); a ClusterError when they cannot be submitted."""
    if shutil.which("sbatch") is None:
        raise ClusterError(
            "sbatch not found: is this a SLURM login node? (--cluster slurm submits its workers with sbatch)"
        )
    job_cls = _job_class()
    from dask_jobqueue.slurm import SLURMCluster

    cluster: Any = SLURMCluster(job_cls=job_cls, **_options(settings, security))
    try:
        cluster.scale(jobs=settings.jobs)
        # scale() submits in the background; this waits for those submissions to end
        cluster.sync(cluster._correct_state)
        errors = [w.submit_error for w in cluster.workers.values() if w.submit_error is not None]
    except BaseException:
        cluster.close()
        raise
    if errors:
        cluster.close()
        raise ClusterError(_refused(settings, errors[0], len(errors)))
    result: SLURMCluster = cluster
    return result


def _refused(settings: SlurmSettings, message: str, count: int) -> str:
    """sbatch's own words (dask-jobqueue's message ends with its stderr) and what to check."""
    stderr = message.rpartition("stderr:\n")[2].strip() or message.strip()
    asked = [f"partition {settings.queue!r}" if settings.queue else "the default partition"]
    if settings.account:
        asked.append(f"account {settings.account!r}")
    asked.append(f"cores {settings.cores}, memory {settings.memory}, walltime {settings.walltime}")
    if settings.gpus_per_job:
        asked.append(f"GPUs {settings.gpus_per_job}")
    return (
        f"sbatch refused {count} of {settings.jobs} worker jobs ({', '.join(asked)}):\n{stderr}\n"
        "Check the cluster file's slurm settings against the cluster "
        "(`sinfo -s` lists the partitions, `sacctmgr show assoc user=$USER` the accounts)."
    )
