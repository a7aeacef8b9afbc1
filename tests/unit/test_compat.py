"""The 3.10 stand-in for enum.StrEnum behaves as 3.11's does where the package relies on it."""

from __future__ import annotations

import enum
import importlib.util
import json
import sys
from pathlib import Path

import pytest

import autograde.runner.compat

SOURCE = Path(autograde.runner.compat.__file__)


@pytest.fixture
def backport(monkeypatch: pytest.MonkeyPatch) -> type:
    """compat.StrEnum as the module defines it on Python 3.10."""
    monkeypatch.setattr(sys, "version_info", (3, 10, 13, "final", 0))
    spec = importlib.util.spec_from_file_location("compat_on_310", SOURCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls: type = module.StrEnum
    return cls


def test_the_backport_is_not_the_standard_one(backport):
    assert backport is not getattr(enum, "StrEnum", None)
    assert issubclass(backport, str) and issubclass(backport, enum.Enum)


@pytest.mark.parametrize("which", ["backport", "standard"])
def test_members_are_their_values(which, backport):
    base = backport if which == "backport" else enum.StrEnum

    class Status(base):  # type: ignore[misc, valid-type]
        PASS = "pass"
        NOT_RUN = "not-run"

    assert str(Status.PASS) == "pass" and f"{Status.NOT_RUN}" == "not-run"
    assert f"[{Status.PASS:>6}]" == "[  pass]" and "%s" % Status.PASS == "pass"  # noqa: UP031
    assert Status.PASS == "pass" and Status("not-run") is Status.NOT_RUN
    assert json.dumps({"s": Status.PASS}) == '{"s": "pass"}'
    assert Status.PASS.value == "pass" and sorted([Status.PASS, Status.NOT_RUN]) == ["not-run", "pass"]
