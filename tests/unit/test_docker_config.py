"""The docker backend's request payload and the image's content-addressed tag (no engine)."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from autograde.backends import image
from autograde.backends.base import Job, SandboxLimits
from autograde.backends.docker import DATA, IN, OUT, container_config

LIMITS = SandboxLimits(total_timeout=60, memory=2 * 2**30, pids=128, cpus=1.5, tmp_bytes=2**28)


def job(tmp_path: Path, gpu: str | None = None, data: bool = True, **limits: object) -> Job:
    fields = {**LIMITS.__dict__, **limits}
    return Job(tmp_path, tmp_path / "data" if data else None, SandboxLimits(**fields), gpu)  # type: ignore[arg-type]


def test_cpu_job_is_locked_down(tmp_path):
    config = container_config(job(tmp_path), "img:tag", "m1")
    assert config["image"] == "img:tag"
    assert config["network_mode"] == "none"
    assert config["mem_limit"] == 2 * 2**30 and config["memswap_limit"] == 2 * 2**30
    assert config["pids_limit"] == 128
    assert config["nano_cpus"] == 1_500_000_000
    assert config["read_only"] is True
    assert config["cap_drop"] == ["ALL"]
    assert config["security_opt"] == ["no-new-privileges"]
    assert config["init"] is True
    assert not config["user"].startswith("0:") and config["user"] != "root"
    assert set(config["tmpfs"]) == {"/tmp", "/home/sandbox", "/job/work"}
    assert all(f"size={2**28}" in opts for opts in config["tmpfs"].values())
    ulimits = {u["Name"]: (u["Soft"], u["Hard"]) for u in config["ulimits"]}
    assert ulimits["core"] == (0, 0)
    assert ulimits["fsize"][0] > 0 and ulimits["nofile"][0] > 0
    assert config["log_config"]["Config"]["max-size"] == "1m"
    volumes = config["volumes"]
    assert volumes[str(tmp_path / "in")] == {"bind": IN, "mode": "ro"}
    assert volumes[str(tmp_path / "data")] == {"bind": DATA, "mode": "ro"}
    assert volumes[str(tmp_path / "out")] == {"bind": OUT, "mode": "rw"}
    assert "device_requests" not in config
    assert config["environment"]["CUDA_VISIBLE_DEVICES"] == ""
    assert config["environment"]["NVIDIA_VISIBLE_DEVICES"] == "void"
    assert config["labels"]["org.autograde.job"] == "m1"
    assert config["name"] == "autograde-m1"  # removable by name should the engine not answer a create
    assert config["command"][:3] == ["python", "-m", "autograde.runner"]


def test_no_data_folder_means_no_data_mount(tmp_path):
    config = container_config(job(tmp_path, data=False), "img", "m")
    assert all(v["bind"] != DATA for v in config["volumes"].values())


def test_network_only_when_the_rubric_asks(tmp_path):
    assert container_config(job(tmp_path, network=True), "img", "m")["network_mode"] == "bridge"


def test_gpu_job_requests_exactly_its_device(tmp_path):
    config = container_config(job(tmp_path, gpu="3"), "img", "m")
    (request,) = config["device_requests"]
    assert request["DeviceIDs"] == ["3"]
    assert request["Capabilities"] == [["gpu"]]
    assert "Count" not in request or request["Count"] in (0, None)
    assert config["environment"]["NVIDIA_VISIBLE_DEVICES"] == "3"
    assert config["environment"]["CUDA_VISIBLE_DEVICES"] == "0"  # the one device it sees


def test_root_grader_runs_sandbox_as_nobody(monkeypatch, tmp_path):
    monkeypatch.setattr("os.getuid", lambda: 0)
    monkeypatch.setattr("os.getgid", lambda: 0)
    assert container_config(job(tmp_path), "img", "m")["user"] == "65534:65534"
    monkeypatch.setattr("os.getuid", lambda: 1000)
    monkeypatch.setattr("os.getgid", lambda: 100)
    assert container_config(job(tmp_path), "img", "m")["user"] == "1000:100"


def test_limits_from_rubric_with_cli_overrides():
    from autograde.rubric.schema import Limits

    rubric = Limits.model_validate({"memory": "3GiB", "pids": 100, "total_timeout": "2m"})
    limits = SandboxLimits.from_rubric(rubric, memory=2**30, cpus=None)
    assert limits.memory == 2**30  # the CLI wins
    assert limits.pids == 100 and limits.total_timeout == 120.0 and limits.cpus == 1.0


# ---------------------------------------------------------------- the image tag


@pytest.fixture
def sandbox_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "sandbox"
    shutil.copytree(image.sandbox_dir(), folder)
    return folder


def test_tag_is_stable_and_names_variant(sandbox_copy):
    tag = image.image_tag("cpu", "sha256:base", sandbox_copy)
    assert tag == image.image_tag("cpu", "sha256:base", sandbox_copy)
    assert tag.startswith("autograde-sandbox:cpu-")
    assert image.image_tag("gpu", "sha256:base", sandbox_copy).startswith("autograde-sandbox:gpu-")
    assert image.image_tag("gpu", "sha256:base", sandbox_copy).split("-")[-1] != tag.split("-")[-1]


@pytest.mark.parametrize("change", ["Dockerfile", "requirements.txt", "base"])
def test_tag_changes_with_what_goes_in(sandbox_copy, change):
    before = image.image_tag("cpu", "sha256:base", sandbox_copy)
    base = "sha256:base"
    if change == "base":
        base = "sha256:other"
    else:
        path = sandbox_copy / change
        path.write_text(path.read_text() + "\n# changed\n")
    assert image.image_tag("cpu", base, sandbox_copy) != before


def test_tag_changes_with_the_runner(sandbox_copy, monkeypatch, tmp_path):
    before = image.image_tag("cpu", "b", sandbox_copy)
    extra = tmp_path / "runner_extra.py"
    extra.write_text("x = 1\n")
    real = image.runner_sources

    def sources() -> list[Path]:
        return [*real()[:-1], extra]

    monkeypatch.setattr(image, "runner_sources", sources)
    monkeypatch.setattr(image, "PACKAGE_DIR", Path("/"))
    assert image.image_tag("cpu", "b", sandbox_copy) != before


def test_reference_and_rubrics_never_enter_the_build_context(tmp_path):
    context = tmp_path / "ctx"
    context.mkdir()
    image.build_context(context, image.sandbox_dir())
    files = sorted(str(p.relative_to(context)) for p in context.rglob("*") if p.is_file())
    assert "Dockerfile" in files and "requirements.txt" in files
    assert "autograde/runner/__main__.py" in files and "autograde/runner/harness_src.py" in files
    assert not [f for f in files if f.startswith(("reference", "rubrics")) or "/rubric/" in f]
    assert not [f for f in files if f.startswith("autograde/") and not f.startswith("autograde/runner/")
                and f != "autograde/__init__.py"]


def test_unknown_variant_is_refused(sandbox_copy):
    from autograde.errors import AutogradeError

    with pytest.raises(AutogradeError, match="variant"):
        image.image_tag("tpu", "b", sandbox_copy)


# ---------------------------------------------------------------- wheelhouse and lock


def test_lock_lines_and_missing_wheels(tmp_path):
    wheels = tmp_path / "wh"
    wheels.mkdir()
    for name in ("torch-2.14.1-cp311-cp311-manylinux_2_28_x86_64.whl", "Jinja2-3.1.6-py3-none-any.whl",
                 "typing_extensions-4.16.0-py3-none-any.whl"):
        (wheels / name).write_bytes(b"")
    assert image.lock_lines(wheels) == ["jinja2==3.1.6", "torch==2.14.1", "typing-extensions==4.16.0"]
    req = tmp_path / "requirements.txt"
    req.write_text("# pins\ntorch==2.14.1\ntyping_extensions==4.16.0\nnumpy==2.4.6  # needed\n")
    assert image.missing_wheels(wheels, req) == ["numpy==2.4.6"]
    assert not image.lock_satisfied(wheels, req)
    (wheels / "numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.whl").write_bytes(b"")
    assert image.lock_satisfied(wheels, req)


def test_platforms_never_exceed_the_base_glibc():
    args = image.platform_args()
    tags = args[1::2]
    assert "manylinux_2_36_x86_64" in tags and "manylinux_2_37_x86_64" not in tags
    assert "manylinux2014_x86_64" in tags


def test_committed_lock_pins_the_requested_versions():
    folder = image.sandbox_dir()
    pins = image.requirement_pins(folder / "requirements.txt")
    wanted = image.requirement_pins(folder / "requirements.in")
    assert wanted and all(pins.get(name) == version for name, version in wanted.items())
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"


def test_wheel_server_serves_the_folder(tmp_path):
    import urllib.request

    (tmp_path / "a-1.0-py3-none-any.whl").write_bytes(b"wheel")
    with image.serve_folder(tmp_path) as url:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=5) as response:
            assert "a-1.0-py3-none-any.whl" in response.read().decode()
        with urllib.request.urlopen(url + "a-1.0-py3-none-any.whl", timeout=5) as response:
            assert response.read() == b"wheel"


def test_no_daemon_is_a_clear_error(monkeypatch, tmp_path):
    from autograde.errors import AutogradeError

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(AutogradeError, match=r"cannot reach the Docker daemon.*--backend local"):
        image.docker_client()


def test_cli_reports_a_missing_daemon_with_exit_2(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from autograde.cli.main import main

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    result = CliRunner().invoke(
        main, ["grade", str(uploads), "-a", "ex02_gradient_descent", "--out", str(tmp_path / "r"),
               "--backend", "docker"],
    )
    assert result.exit_code == 2
    assert "cannot reach the Docker daemon" in result.output


def test_wheel_server_falls_back_when_its_port_is_taken(tmp_path):
    with image.serve_folder(tmp_path) as first, image.serve_folder(tmp_path) as second:
        assert first == f"http://127.0.0.1:{image.WHEEL_PORT}/"
        assert second != first and second.startswith("http://127.0.0.1:")


@pytest.mark.parametrize(("gpus", "gpu", "variant"), [((), None, "cpu"), (("0", "1"), None, "gpu"),
                                                      ((), "0", "gpu")])
def test_gpu_jobs_use_the_gpu_variant_of_the_image(monkeypatch, gpus, gpu, variant):
    from autograde.backends.base import get_backend
    from autograde.pipeline.grade import GradeOptions

    monkeypatch.setattr(image, "default_image", lambda client, wanted: f"tag-{wanted}")
    backend = get_backend("docker", GradeOptions(backend="docker", gpus=gpus, gpu=gpu).backend_options())
    backend._client = object()  # type: ignore[attr-defined]
    assert backend.image() == f"tag-{variant}"  # type: ignore[attr-defined]
    named = get_backend("docker", GradeOptions(backend="docker", gpus=gpus, image="mine:1").backend_options())
    assert named.image() == "mine:1"  # type: ignore[attr-defined]


# ---------------------------------------------------------------- warm containers, waiting, removal


class FakeContainer:
    """A container as the SDK shows it: running until `stops_at` (monotonic seconds)."""

    def __init__(self, stops_at: float) -> None:
        self.id, self.stops_at, self.status, self.reloads = "c0ffee", stops_at, "running", 0

    def reload(self) -> None:
        self.reloads += 1
        self.status = "exited" if time.monotonic() >= self.stops_at else "running"

    def wait(self, timeout: float) -> dict[str, int]:
        left = self.stops_at - time.monotonic()
        if left > timeout:
            time.sleep(timeout)
            raise requests.exceptions.ConnectionError("Read timed out.")
        time.sleep(max(0.0, left))
        return {"StatusCode": 0}


class FakeClient:
    def __init__(self) -> None:
        self.removed: list[tuple[str, str]] = []
        self.api = self

    def remove_container(self, container_id: str, force: bool, v: bool) -> None:
        self.removed.append((container_id, threading.current_thread().name))


def sandbox(tmp_path: Path, container: FakeContainer | None, warm: bool = False) -> tuple[Any, FakeClient]:
    from autograde.backends.docker import DockerSandbox

    the_job = Job(tmp_path, None, LIMITS, warm=warm)
    the_job.make_dirs()
    client = FakeClient()
    box = DockerSandbox(the_job, client, "img")
    box.container = container
    return box, client


def test_a_warm_job_starts_the_runner_in_warm_mode(tmp_path):
    cold, _ = sandbox(tmp_path / "c", None)
    warm, _ = sandbox(tmp_path / "w", None, warm=True)
    runner = ["python", "-m", "autograde.runner", "--in", IN, "--out", OUT, "--work", "/job/work"]
    assert cold.config["command"] == runner
    assert warm.config["command"] == [*runner, "--warm"]


def test_ended_says_a_stopped_container_stopped_without_waiting(tmp_path):
    box, _ = sandbox(tmp_path, FakeContainer(stops_at=0.0))
    started = time.monotonic()
    assert box.ended() is True
    running, _ = sandbox(tmp_path / "r", FakeContainer(stops_at=time.monotonic() + 60))
    assert running.ended() is False
    assert time.monotonic() - started < 0.2


def test_ended_asks_the_engine_at_most_every_few_milliseconds(tmp_path):
    container = FakeContainer(stops_at=time.monotonic() + 60)
    box, _ = sandbox(tmp_path, container)
    for _ in range(50):
        box.ended()
    assert container.reloads == 1


def test_wait_returns_when_the_container_stops_not_at_the_next_poll(tmp_path):
    box, _ = sandbox(tmp_path, FakeContainer(stops_at=time.monotonic() + 0.05))
    started = time.monotonic()
    assert box.wait(10) is True
    assert time.monotonic() - started < 0.3  # a 0.5 s poll took at least 0.5 s
    late, _ = sandbox(tmp_path / "late", FakeContainer(stops_at=time.monotonic() + 60))
    started = time.monotonic()
    assert late.wait(0.7) is False
    assert 0.7 <= time.monotonic() - started < 1.5


def test_a_finished_run_is_removed_in_the_background_an_unused_warm_one_at_once(tmp_path):
    from autograde.backends.docker_cleanup import REMOVAL

    ran, client = sandbox(tmp_path / "ran", FakeContainer(stops_at=0.0))
    assert ran.wait(1)
    ran.cleanup()
    REMOVAL.drain()
    assert [name.startswith("autograde-docker-rm") for _, name in client.removed] == [True]
    unused, client = sandbox(tmp_path / "unused", FakeContainer(stops_at=0.0), warm=True)
    unused.cleanup()
    assert client.removed == [("c0ffee", threading.current_thread().name)]


class RefusingClient(FakeClient):
    """An engine that went away: every create fails (the container may have been made)."""

    def __init__(self) -> None:
        super().__init__()
        self.containers = self

    def create(self, **config: Any) -> None:
        raise requests.exceptions.ConnectionError("Connection aborted.")


def test_a_launch_the_engine_failed_counts_as_ended_and_removes_by_name(tmp_path):
    from autograde.backends.docker import DockerSandbox

    the_job = Job(tmp_path, None, LIMITS, warm=True)
    the_job.make_dirs()
    client = RefusingClient()
    box = DockerSandbox(the_job, client, "img")
    with pytest.raises(requests.exceptions.ConnectionError):
        box.launch()
    assert box.ended() is True and box.ready() is False  # never waited for as a warming sandbox
    assert [name for name, _ in client.removed] == [box.config["name"]]
