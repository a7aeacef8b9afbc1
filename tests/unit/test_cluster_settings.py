"""`--cluster`'s value and the cluster file: what is accepted, and errors that name the file
and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from autograde.cli.main import main as cli
from autograde.cluster.settings import ClusterError, parse_cluster, read_settings


@pytest.mark.parametrize(
    ("value", "kind", "address", "workers"),
    [
        ("tcp://10.0.0.5:8786", "address", "tcp://10.0.0.5:8786", 0),
        ("tls://sched.example.org:8786", "address", "tls://sched.example.org:8786", 0),
        ("local:3", "local", "", 3),
        ("slurm", "slurm", "", 0),
    ],
)
def test_cluster_values(value: str, kind: str, address: str, workers: int) -> None:
    spec = parse_cluster(value)
    assert (spec.kind, spec.address, spec.workers) == (kind, address, workers)


@pytest.mark.parametrize("value", ["local", "local:0", "local:x", "http://h:1", "tcp://host", "SLURM", ""])
def test_bad_cluster_values_say_what_is_expected(value: str) -> None:
    with pytest.raises(ValueError, match="expected tcp://HOST:PORT, tls://HOST:PORT, local:N"):
        parse_cluster(value)


def test_cluster_file_paths_are_the_files_own(tmp_path: Path) -> None:
    for name in ("ca.pem", "me.pem"):
        (tmp_path / name).write_text("pem")
    (tmp_path / "cluster.yaml").write_text(
        "tls: {ca_file: ca.pem, cert: me.pem}\n"
        "library: shared/course\n"
        "slurm: {jobs: 4, queue: gpu, gpus_per_job: 1, env: ['source /opt/venv/bin/activate']}\n"
    )
    settings = read_settings(tmp_path / "cluster.yaml")
    assert (
        settings.tls is not None and settings.tls.ca_file == tmp_path / "ca.pem" and settings.tls.key is None
    )
    assert settings.library == tmp_path / "shared" / "course"
    assert (settings.slurm.jobs, settings.slurm.queue, settings.slurm.gpus_per_job) == (4, "gpu", 1)
    assert read_settings(None).library == "archive"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("slurm: {jobs: 0}\n", "slurm.jobs: Input should be greater than or equal to 1"),
        ("slurm: {queues: x}\n", "slurm.queues: Extra inputs are not permitted"),
        ("wait_for_workers: -1\n", "wait_for_workers: Input should be greater than 0"),
        ("- a\n- b\n", "a cluster file is a mapping"),
        ("tls: {ca_file: nowhere.pem, cert: nowhere.pem}\n", "tls.ca_file: "),
        ("slurm: [\n", "not valid YAML"),
    ],
)
def test_cluster_file_errors_name_the_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(text)
    with pytest.raises(ClusterError) as caught:
        read_settings(path)
    assert str(caught.value).startswith(str(path)) and message in str(caught.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cluster", "local:2", "-j", "2"], "leave out --workers"),
        (["--cluster", "local:2", "--gpus", "0"], "with --cluster, --gpus all"),
        (["--cluster", "local:2", "--gpus", "all"], "local:N workers declare no GPUs"),
        (["--cluster", "nowhere"], "expected tcp://HOST:PORT"),
    ],
)
def test_grade_refuses_cluster_options_that_do_not_fit(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(
        cli, ["grade", str(tmp_path), "-a", "ex02_gradient_descent", "--out", str(tmp_path / "o"), *args]
    )
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "o").exists()


def test_a_cluster_file_without_a_cluster_is_refused(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("{}\n")
    result = CliRunner().invoke(
        cli,
        [
            "grade",
            str(tmp_path),
            "-a",
            "ex02_gradient_descent",
            "--out",
            str(tmp_path / "o"),
            "--cluster-config",
            str(tmp_path / "c.yaml"),
        ],
    )
    assert result.exit_code == 2 and "a cluster file needs --cluster" in result.output
