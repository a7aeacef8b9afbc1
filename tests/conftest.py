"""Shared by every test folder: generated data sets go to a private cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Generated data sets go to a temporary cache, not the user's ~/.cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("AUTOGRADE_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()
