"""Shared by every test folder: generated data sets go to a private cache."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """With CI set, a docker test (tests/docker, or a docker case elsewhere) that skips for
    any reason fails the run: CI starts the engine and builds the image first."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") and report.skipped and "docker" in item.nodeid:
        report.outcome = "failed"
        report.longrepr = f"a docker test was skipped in CI: {report.longrepr}"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Generated data sets go to a temporary cache, not the user's ~/.cache; no test leaves a
    student's check server running."""
    mp = pytest.MonkeyPatch()
    mp.setenv("AUTOGRADE_CACHE", str(tmp_path_factory.mktemp("cache")))
    mp.setenv("AUTOGRADE_CHECK_SERVER", "off")  # self-checks in the command (test_check_server starts one)
    yield
    mp.undo()
