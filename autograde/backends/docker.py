"""The `docker` backend: the same runner entry point, in a fresh locked-down container.

Defaults for untrusted code: no network, memory with swap equal to it, a pids limit, a CPU
quota, a read-only root, size-limited tmpfs for /tmp, HOME and the working folder, a
non-root user, every capability dropped, no-new-privileges, an init process, core dumps
off, a capped log, the inputs and data mounted read-only, an output folder watched for
size, and a wall-clock kill from the host (the last two by `Backend.run`). The container is
removed in every case, also when the grader is interrupted (`docker_cleanup`).

A warm sandbox's container is created and started before its job exists (its runner starts
with ``--warm``); in/ is a bind mount of the host's job folder, so the job's files and
in/start, written there later, are seen inside. The host waits on the engine (no polling
interval is added to a run), one client serves the whole process, and a finished container
is removed in the background once its result is read.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from typing import Any

from autograde.backends.base import (
    MAX_FILE_BYTES,
    NOFILE,
    RUNNER_ARGS,
    Backend,
    Ended,
    Job,
    Sandbox,
    register_backend,
)
from autograde.backends.docker_cgroup import PidsWatch
from autograde.backends.docker_cleanup import (
    LABEL,
    OWNER_LABEL,
    PENDING_REMOVAL,
    REMOVAL,
    remove_now,
    remove_orphans,
)
from autograde.backends.docker_cleanup import remove_pending as _remove_pending
from autograde.errors import AutogradeError, EngineUnavailable, SandboxError

__all__ = ["LABEL", "OWNER_LABEL", "PENDING_REMOVAL", "DockerBackend", "DockerSandbox", "container_config",
           "remove_orphans"]

WAIT_SLICE = 0.5  # seconds of one blocking wait on the engine; the pids count is read between slices
STATE_SECONDS = 0.05  # `ended` asks the engine at most this often (a lease polls a warming sandbox)
IN, OUT, WORK, DATA, HOME = "/job/in", "/job/out", "/job/work", "/data", "/home/sandbox"


def sandbox_user() -> str:
    """Non-root inside; the grader's own uid when it is not root, so it can clean up out/."""
    uid, gid = os.getuid(), os.getgid()
    return "65534:65534" if uid == 0 else f"{uid}:{gid}"


def container_config(job: Job, image: str, marker: str, runner: list[str] | None = None) -> dict[str, Any]:
    """Keyword arguments for `client.containers.create` (a pure function, unit-tested).
    `runner`: the runner's arguments (`Sandbox.runner_args`; default a cold run's)."""
    from docker.types import DeviceRequest, LogConfig, Ulimit

    limits = job.limits
    tmpfs_opts = f"rw,nosuid,nodev,size={limits.tmp_bytes},mode=1777"
    volumes: dict[str, dict[str, str]] = {
        str(job.in_dir): {"bind": IN, "mode": "ro"},
        str(job.out_dir): {"bind": OUT, "mode": "rw"},
    }
    if job.data_dir is not None:
        volumes[str(job.data_dir)] = {"bind": DATA, "mode": "ro"}
    environment = {
        "HOME": HOME,
        "TMPDIR": "/tmp",
        "IPYTHONDIR": f"{HOME}/.ipython",
        "JUPYTER_RUNTIME_DIR": f"{HOME}/.jupyter-runtime",
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONHASHSEED": "0",
        "AUTOGRADE_JOB": marker,
        "CUDA_VISIBLE_DEVICES": "" if job.gpu is None else "0",
        "NVIDIA_VISIBLE_DEVICES": "void" if job.gpu is None else job.gpu,
    }
    config: dict[str, Any] = {
        "image": image,
        "command": ["python", *(runner or [*RUNNER_ARGS, "--in", IN, "--out", OUT, "--work", WORK])],
        "user": sandbox_user(),
        "working_dir": WORK,
        "environment": environment,
        "network_mode": "bridge" if limits.network else "none",
        "mem_limit": limits.memory,
        "memswap_limit": limits.memory,  # swap equal to memory: no swap at all
        "pids_limit": limits.pids,
        "nano_cpus": int(limits.cpus * 1e9),
        "read_only": True,
        "tmpfs": {"/tmp": tmpfs_opts, HOME: tmpfs_opts, WORK: tmpfs_opts},
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "init": True,
        "ulimits": [
            Ulimit(name="core", soft=0, hard=0),
            Ulimit(name="fsize", soft=MAX_FILE_BYTES, hard=MAX_FILE_BYTES),
            Ulimit(name="nofile", soft=NOFILE, hard=NOFILE),
        ],
        "log_config": LogConfig(type="json-file", config={"max-size": "1m", "max-file": "1"}),
        "volumes": volumes,
        "labels": {LABEL: marker, OWNER_LABEL: f"{os.uname().nodename}:{os.getpid()}"},
        "name": f"autograde-{marker}",
        "detach": True,
        "stdin_open": False,
        "ipc_mode": "private",
    }
    if job.gpu is not None:
        config["device_requests"] = [DeviceRequest(device_ids=[job.gpu], capabilities=[["gpu"]])]
    return config


_TAGS: dict[str, str] = {}  # variant -> this version's image tag, as the shared client found it


@register_backend
class DockerBackend(Backend):
    name = "docker"

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self._client: Any = None
        self._image: str | None = None

    # -- set-up ---------------------------------------------------------------------
    @property
    def client(self) -> Any:
        """The process's client of the engine (made once, shared by every backend and thread)."""
        if self._client is None:
            from autograde.backends.image import shared_client

            self._client = shared_client()
        return self._client

    def image(self) -> str:
        """The grading image: the one named in the options, else this version's tag of the
        variant the jobs need (checked by `preflight`, used by every `run`; found once per
        process with the shared client)."""
        if self.options.image:
            return self.options.image
        if self._image is None:
            from autograde.backends import image

            variant = "gpu" if self.options.gpu else "cpu"
            shared = self.client is image.shared_client(make=False)
            self._image = _TAGS.get(variant) if shared else None
            if self._image is None:
                self._image = image.default_image(self.client, variant)
                if shared:
                    _TAGS[variant] = self._image
        return self._image

    def pinned_image(self) -> str | None:
        return self.image()

    def preflight(self) -> None:
        import docker.errors

        tag = self.image()
        remove_orphans(self.client)
        _remove_pending(self.client)
        try:
            self.client.images.get(tag)
        except docker.errors.ImageNotFound as exc:
            raise SandboxError(
                f"sandbox image {tag} not found: build it with `autograde sandbox build`"
            ) from exc

    def sandbox_data_dir(self, job: Job) -> str:
        return DATA if job.data_dir is not None else f"{WORK}/data"

    # -- one run ----------------------------------------------------------------------
    def open(self, job: Job) -> DockerSandbox:
        _remove_pending(self.client)
        return DockerSandbox(job, self.client, self.image())

    def translate(self, exc: Exception) -> AutogradeError | None:
        """A run the engine fails under (the daemon restarted or died) is a grader error
        that names the engine: the journal does not keep it, so a rerun grades it again."""
        import docker.errors
        import requests.exceptions

        if isinstance(exc, EngineUnavailable):  # gone before this upload's container was made
            return EngineUnavailable(f"{exc}; this upload is graded again when the batch is rerun")
        if isinstance(exc, docker.errors.DockerException | requests.exceptions.RequestException):
            detail = str(getattr(exc, "explanation", None) or exc).splitlines()[0][:300]
            return SandboxError(
                f"the Docker engine failed while this upload was graded ({type(exc).__name__}: "
                f"{detail}); it is graded again when the batch is rerun"
            )
        return None


class DockerSandbox(Sandbox):
    """One container: created and started by `launch`, removed by `cleanup` in every case."""

    def __init__(self, job: Job, client: Any, image: str) -> None:
        super().__init__(job)
        self.client = client
        os.chmod(job.out_dir, 0o777)  # the non-root sandbox user writes here
        self.config = container_config(job, image, uuid.uuid4().hex, self.runner_args(IN, OUT, WORK))
        self.container: Any = None
        self.pids: PidsWatch | None = None
        self._state_lock = threading.Lock()
        self._state_at = -STATE_SECONDS
        self._stopped = False
        self.ran = False  # a job ran (waited for), not a warm sandbox discarded unused

    def launch(self) -> None:
        """Create and start the container. Should either fail, it never runs: it counts as
        ended, and goes now (by its name, when the engine made it but failed to answer)."""
        import docker.errors

        try:
            self.container = self.client.containers.create(**self.config)
            self.pids = PidsWatch(self.container.id)
            self.container.start()
        except BaseException as exc:
            self._stopped = True
            if self.container is None:
                remove_now(self.client, self.config["name"])
            if isinstance(exc, docker.errors.ImageNotFound):
                raise SandboxError(
                    f"sandbox image {self.config['image']} not found: run `autograde sandbox build`"
                ) from exc
            if isinstance(exc, docker.errors.APIError):
                raise _launch_error(self.job, exc) from exc
            raise

    def wait(self, seconds: float) -> bool:
        self.ran = True
        return _wait(self.container, seconds, self.pids)

    def ended(self) -> bool:
        """Whether the container stopped, without waiting: one look at its state, at most
        every STATE_SECONDS (the last answer in between)."""
        if self.container is None:
            return self._stopped  # True: its launch failed
        with self._state_lock:
            if not self._stopped and time.monotonic() - self._state_at >= STATE_SECONDS:
                self._state_at = time.monotonic()
                try:
                    self._stopped = _stopped(self.container)
                except Exception:  # the engine failed: this sandbox can run nothing more
                    self._stopped = True
            return self._stopped

    def processes(self) -> list[int]:
        """The host's pids of the container's processes (its cgroup; else the engine's `top`),
        so that `begin` gives a warm-up's lowered priority back."""
        if self.container is None:
            return []
        found = self.pids.processes() if self.pids is not None else None
        if found is None:
            try:
                top = self.container.top(ps_args="-eo pid")
                found = [int(row[0]) for row in top.get("Processes") or [] if row and str(row[0]).isdigit()]
            except Exception:  # the engine failed: the run that follows reports it
                found = []
        return found

    def kill(self) -> None:
        import docker.errors

        with contextlib.suppress(docker.errors.APIError):
            self.container.kill()

    def collect(self) -> Ended:
        self._stopped = _wait(self.container, 30)  # a container that was killed: until it is gone
        self.container.reload()
        state = self.container.attrs.get("State", {})
        tail = self.container.logs(tail=200).decode("utf-8", "replace")[-4000:]
        refused = self.pids.refused if self.pids is not None else 0
        return Ended(_returncode(state.get("ExitCode")), tail, bool(state.get("OOMKilled")), refused)

    def cleanup(self) -> None:
        """After a run the stopped container goes in the background (its result is read by
        then); any other (a failed launch, a warm sandbox discarded unused, one still
        running) is removed here and now."""
        if self.container is None:
            return
        if self.ran and (self._stopped or self.ended()):
            REMOVAL.submit(self.client, self.container.id)
        else:
            remove_now(self.client, self.container.id)


def _stopped(container: Any) -> bool:
    container.reload()
    return container.status in {"exited", "dead"}


def _wait(container: Any, seconds: float, pids: PidsWatch | None = None) -> bool:
    """True when the container stopped within `seconds`: the engine's own wait, in slices
    (the pids count is read between them, and a kill from another thread ends a slice)."""
    import requests.exceptions

    deadline = time.monotonic() + seconds
    while True:
        if pids is not None:
            pids.poll()
        left = deadline - time.monotonic()
        if left <= 0:
            return _stopped(container)
        try:
            container.wait(timeout=min(WAIT_SLICE, left))
            return True
        except requests.exceptions.RequestException:  # the slice's read timed out, or the engine went
            if _stopped(container):  # raises when the engine is gone
                return True


def _launch_error(job: Job, exc: Any) -> SandboxError:
    detail = str(getattr(exc, "explanation", None) or exc)
    if job.gpu is not None and "device driver" in detail:
        return SandboxError(
            f"Docker cannot give the sandbox GPU {job.gpu} ({detail}): install the NVIDIA "
            "container toolkit on this machine, or grade without --gpus"
        )
    return SandboxError(f"docker could not start the sandbox: {detail}")


def _returncode(code: Any) -> int | None:
    if not isinstance(code, int):
        return None
    return -(code - 128) if code > 128 else code  # 137 -> killed by signal 9
