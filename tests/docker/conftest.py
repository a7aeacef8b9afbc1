"""Fixtures for tests against a real Docker engine and the real grading image.

Without a daemon or image these tests skip with the reason; when CI is set a skip is a
failure (CI must have started the engine and built the image, see .ci/run; the hook is in
tests/conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from autograde.backends.docker import LABEL
from autograde.errors import AutogradeError


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"docker tests cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker_client() -> Any:
    from autograde.backends.image import docker_client as connect

    try:
        return connect()
    except AutogradeError as exc:
        _unavailable(str(exc))


@pytest.fixture(scope="session")
def sandbox_image(docker_client: Any) -> str:
    import docker.errors

    from autograde.backends.image import default_image

    try:
        tag = default_image(docker_client)
        docker_client.images.get(tag)
    except (AutogradeError, docker.errors.ImageNotFound) as exc:
        _unavailable(f"grading image missing ({exc}); run `autograde sandbox build`")
    return tag


@pytest.fixture(autouse=True)
def no_container_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every docker test: no sandbox container may remain, running or stopped."""
    yield
    if "docker_client" not in request.fixturenames:
        return
    from autograde.backends.docker_cleanup import REMOVAL
    from autograde.backends.warm import close_pools

    close_pools()  # idle warm containers are removed by design at a batch's end
    REMOVAL.drain()  # and finished ones in the background, just after their run
    client = request.getfixturevalue("docker_client")
    left = client.containers.list(all=True, filters={"label": LABEL})
    assert not left, f"containers left behind: {[c.name for c in left]}"


from tests.integration.conftest import ex02, ex02_fast, make_nb, solution_nb  # noqa: E402, F401
