"""`Backend.run`, the template every backend shares (base.py): the kill switch of an
interrupted batch, the folder watch, the shared notes, cleanup in every case, third-party
exceptions translated into SandboxError; the local and docker backends' launch failures
(no kernel, no engine); one limits model for the rubric and the sandbox."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from autograde.backends import fake
from autograde.backends.base import RUNNING, Job, SandboxLimits, get_backend
from autograde.errors import AutogradeError, EngineUnavailable, SandboxError
from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.rubric.schema import Limits
from autograde.status import SubmissionStatus
from tests.unit.fake_grading import grade, make_assignment, make_submission, responder


def _job(tmp_path: Path, **limits: Any) -> Job:
    job = Job(tmp_path / "job", None, SandboxLimits(total_timeout=30, **limits))
    job.make_dirs()
    (job.in_dir / "plan.json").write_text('{"probes": []}')
    return job


def _run(job: Job, script: fake.Script):
    with fake.scripted(script):
        return get_backend("fake").run(job)


# -- the template ------------------------------------------------------------------------


def test_the_kill_switch_stops_a_running_sandbox_at_once(tmp_path: Path):
    job = _job(tmp_path)
    killed = threading.Timer(0.3, RUNNING.kill_all)
    killed.start()
    started = time.monotonic()
    outcome = _run(job, fake.Script(hang=True))
    assert time.monotonic() - started < 10  # not the 45 s of its time limit and grace
    assert outcome.returncode == -9 and not outcome.timed_out
    assert RUNNING.kill_all() == 0  # its switch is gone with the run


def test_the_folder_watch_stops_a_run_that_writes_past_its_cap(tmp_path: Path):
    job = _job(tmp_path, out_bytes=2**20)
    script = fake.Script(hang=True, files={"big.bin": b"\0" * (2 * 2**20)})
    outcome = _run(job, script)
    assert outcome.returncode is None and not outcome.timed_out
    assert "the notebook wrote more than 1 MiB to its output folder and was stopped" in outcome.notes


def test_a_run_out_of_time_is_killed_and_says_so(tmp_path: Path):
    outcome = _run(_job(tmp_path), fake.Script(timed_out=True, returncode=0))
    assert outcome.timed_out and outcome.returncode is None


def test_the_backends_notes_come_first_then_the_shared_ones(tmp_path: Path):
    outcome = _run(_job(tmp_path, pids=64), fake.Script(pids_refused=7, notes=["isolation note"]))
    refused = "the notebook hit its limit of 64 processes and threads (7 refused)"
    assert outcome.notes == ("isolation note", refused)
    assert outcome.returncode == 0 and outcome.log_tail == ""


class _Sandbox(fake.FakeSandbox):
    calls: list[str] = []

    def launch(self) -> None:
        self.calls.append("launch")
        raise ConnectionResetError("the engine hung up")

    def cleanup(self) -> None:
        self.calls.append("cleanup")


class _Backend(fake.FakeBackend):
    name = "fake-broken"

    def open(self, job: Job) -> fake.FakeSandbox:
        return _Sandbox(job, fake.Script())

    def translate(self, exc: Exception) -> AutogradeError | None:
        return SandboxError(f"translated: {exc}") if isinstance(exc, ConnectionError) else None


def test_a_failed_launch_is_cleaned_up_and_translated_at_the_boundary(tmp_path: Path):
    _Sandbox.calls = []
    with pytest.raises(SandboxError, match="translated: the engine hung up") as caught:
        _Backend().run(_job(tmp_path))
    assert isinstance(caught.value.__cause__, ConnectionResetError)
    assert _Sandbox.calls == ["launch", "cleanup"]
    assert RUNNING.kill_all() == 0


def test_an_exception_no_backend_translates_stays_what_it_is(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(_Backend, "translate", lambda self, exc: None)
    with pytest.raises(ConnectionResetError):
        _Backend().run(_job(tmp_path))


def test_the_fake_backend_is_not_offered_by_the_cli():
    from autograde.cli.grade import sandbox_options

    params = sandbox_options(lambda **kw: None).__click_params__
    choices = next(p for p in params if p.name == "backend").type.choices
    assert "fake" not in choices and "local" in choices


# -- launch failures become SandboxError ---------------------------------------------------


def test_the_local_backend_that_cannot_start_the_runner_raises_sandbox_error(tmp_path: Path, monkeypatch):
    from autograde.backends.local import backend as local

    def no_fork(*args: Any, **kwargs: Any) -> Any:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(local.subprocess, "Popen", no_fork)
    with pytest.raises(SandboxError, match="could not start the runner") as caught:
        get_backend("local").run(_job(tmp_path))
    assert isinstance(caught.value.__cause__, OSError)
    report = grade_submission(make_submission(tmp_path), make_assignment(tmp_path / "lib"), GradeOptions())
    assert report.status == SubmissionStatus.GRADER_ERROR
    assert report.notes[0].startswith("grader error: the local backend could not start the runner")
    assert "a bug in autograde" not in report.notes[0]


class _Containers:
    def __init__(self, fail: Exception) -> None:
        self.fail = fail

    def create(self, **config: Any) -> Any:
        raise self.fail


class _Client:
    def __init__(self, fail: Exception) -> None:
        self.containers = _Containers(fail)


def _docker(fail: Exception) -> Any:
    backend = get_backend("docker")
    backend._client = _Client(fail)  # type: ignore[attr-defined]
    backend.options.image = "img:1"
    return backend


def test_docker_errors_become_sandbox_errors(tmp_path: Path):
    import docker.errors
    import requests.exceptions

    with pytest.raises(SandboxError, match="docker could not start the sandbox: no such runtime"):
        _docker(docker.errors.APIError("500", explanation="no such runtime")).run(_job(tmp_path))
    with pytest.raises(SandboxError, match="image img:1 not found"):
        _docker(docker.errors.ImageNotFound("gone")).run(_job(tmp_path))
    with pytest.raises(SandboxError, match="graded again when the batch is rerun") as caught:
        _docker(requests.exceptions.ConnectionError("reset")).run(_job(tmp_path))
    assert isinstance(caught.value.__cause__, requests.exceptions.ConnectionError)


def test_an_unreachable_engine_is_a_sandbox_error_that_names_the_rerun(tmp_path: Path, monkeypatch):
    from autograde.backends import image

    def away() -> Any:
        raise EngineUnavailable("cannot reach the Docker daemon")

    monkeypatch.setattr(image, "docker_client", away)
    monkeypatch.setattr(image, "_SHARED", {})  # no client an earlier test of this process made
    backend = get_backend("docker")
    backend.options.image = "img:1"
    with pytest.raises(EngineUnavailable, match="daemon; this upload is graded again") as caught:
        backend.run(_job(tmp_path))
    assert isinstance(caught.value, SandboxError)


# -- one limits model ----------------------------------------------------------------------


@pytest.fixture
def changed_default():
    """The rubric's default pids limit changed, in `Limits` only."""
    info = Limits.model_fields["pids"]
    before = info.default
    info.default = 300
    Limits.model_rebuild(force=True)
    yield 300
    info.default = before
    Limits.model_rebuild(force=True)


def test_a_default_changed_in_the_rubric_is_the_sandboxs_default(changed_default):
    assert Limits().pids == changed_default  # type: ignore[call-arg]
    assert SandboxLimits().pids == changed_default
    assert SandboxLimits.from_rubric(Limits.model_validate({})).pids == changed_default


def test_every_sandbox_limit_defaults_to_the_rubrics():
    rubric = Limits.model_validate({})
    for name in SandboxLimits.__dataclass_fields__:
        assert getattr(SandboxLimits(), name) == getattr(rubric, name), name


@pytest.mark.parametrize(("override", "field"), [({"pids": 5}, "pids"), ({"cpus": 0}, "cpus"),
                                                 ({"memory": "lots"}, "memory")])
def test_cli_overrides_are_validated_as_the_rubric_is(override, field):
    with pytest.raises(AutogradeError, match=f"invalid sandbox limits: {field}"):
        SandboxLimits.from_rubric(Limits.model_validate({}), **override)
    with pytest.raises(ValidationError, match=field):
        Limits.model_validate(override)  # as the rubric itself would be refused
    with pytest.raises(AutogradeError, match=f"invalid sandbox limits: {field}"):
        SandboxLimits(**override)


def test_cli_overrides_are_parsed_as_the_rubric_is():
    limits = SandboxLimits.from_rubric(Limits.model_validate({}), memory="3GiB", total_timeout="2m")
    assert limits.memory == 3 * 2**30 and limits.total_timeout == 120.0


def test_a_batch_with_an_invalid_override_is_a_grader_error_row(tmp_path: Path):
    opts = GradeOptions(backend="fake", limits={"pids": 1})
    with fake.scripted(fake.Script(respond=responder())):
        report = grade_submission(make_submission(tmp_path), make_assignment(tmp_path / "lib"), opts)
    assert report.status == SubmissionStatus.GRADER_ERROR
    assert "invalid sandbox limits: pids" in report.notes[0]


def test_the_fake_run_sees_the_limits_it_was_given(tmp_path: Path):
    script = fake.Script(respond=responder())
    grade(tmp_path, script, pids=100)
    assert script.runs[0].limits.pids == 100
