"""The batch script of a SLURM worker job (autograde.cluster.slurm.job_script): no SLURM needed,
sbatch is never called."""

from __future__ import annotations

import sys

import pytest

from autograde.cluster import slurm
from autograde.cluster.settings import ClusterError, SlurmSettings

pytest.importorskip("dask_jobqueue")  # the cluster extra


def _lines(script: str, prefix: str) -> list[str]:
    return [line for line in script.splitlines() if line.startswith(prefix)]


def test_job_script_carries_every_setting() -> None:
    settings = SlurmSettings(
        queue="gpu-short",
        account="cs101",
        cores=4,
        memory="8GiB",
        walltime="02:30:00",
        gpus_per_job=2,
        python="/opt/course/venv/bin/python",
        env=["source /opt/course/venv/bin/activate", "export OMP_NUM_THREADS=1"],
        directives=["--constraint=v100", "--qos=teaching"],
        local_directory="/scratch/autograde",
    )
    script = slurm.job_script(settings)
    assert _lines(script, "#SBATCH") == [
        "#SBATCH -J autograde-worker",
        "#SBATCH -p gpu-short",
        "#SBATCH -A cs101",
        "#SBATCH -n 1",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH --mem=8G",
        "#SBATCH -t 02:30:00",
        "#SBATCH --constraint=v100",
        "#SBATCH --qos=teaching",
        "#SBATCH --gres=gpu:2",
    ]
    assert "source /opt/course/venv/bin/activate\nexport OMP_NUM_THREADS=1\n" in script
    (command,) = _lines(script, "/opt/course/venv/bin/python -m distributed.cli.dask_worker ")
    args = command.split()
    assert args[args.index("--nthreads") + 1] == "4"  # one worker process, its threads the cores
    assert "--nworkers" not in args
    assert args[args.index("--memory-limit") + 1] == "8.00GiB"
    assert args[args.index("--resources") + 1] == "GPU=2"
    assert args[args.index("--local-directory") + 1] == "/scratch/autograde"


def test_job_script_defaults() -> None:
    script = slurm.job_script(SlurmSettings())
    headers = _lines(script, "#SBATCH")
    assert "#SBATCH -J autograde-worker" in headers
    assert not [h for h in headers if h.startswith(("#SBATCH -p", "#SBATCH -A", "#SBATCH --gres"))]
    assert "--resources" not in script
    assert f"{sys.executable} -m distributed.cli.dask_worker " in script
    assert "--nthreads 1 " in script


def test_no_sbatch_is_a_cluster_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slurm.shutil, "which", lambda name: None)
    with pytest.raises(ClusterError, match="sbatch not found: is this a SLURM login node"):
        slurm.slurm_cluster(SlurmSettings(), None)


def test_refusal_quotes_sbatch() -> None:
    error = (
        "Command exited with non-zero exit code.\nExit code: 1\nCommand:\nsbatch /tmp/x.sh\nstdout:\n\n"
        "stderr:\nsbatch: error: Batch job submission failed: Invalid account or account/partition"
        " combination specified\n\n"
    )
    message = slurm._refused(SlurmSettings(jobs=3, queue="grading", account="nobody"), error, 3)
    assert message.startswith("sbatch refused 3 of 3 worker jobs (partition 'grading', account 'nobody',")
    assert "Invalid account or account/partition combination specified" in message
    assert "Command exited" not in message
