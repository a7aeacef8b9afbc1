"""The adversarial suite runs every attack on the local backend and, against the real
engine, on the docker backend. With CI set, a docker case that skips fails the run."""

from __future__ import annotations

from tests.docker.conftest import docker_client, sandbox_image  # noqa: F401
from tests.integration.conftest import solution_nb  # noqa: F401
