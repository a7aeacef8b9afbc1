"""The student-environment tests skip where this machine lacks that Python, except in CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import student_env


def test_a_missing_python_skips_outside_ci(monkeypatch, tmp_path):
    monkeypatch.setitem(student_env.PYTHONS, "3.10", tmp_path / "python3.10")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"Python 3\.10 not found"):
        student_env.student_python("3.10")


def test_a_missing_python_fails_in_ci(monkeypatch, tmp_path):
    monkeypatch.setitem(student_env.PYTHONS, "3.13", tmp_path / "python3.13")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        student_env.student_python("3.13")


def test_a_present_python_is_returned(monkeypatch, tmp_path):
    python = tmp_path / "python3.10"
    python.write_text("")
    monkeypatch.setitem(student_env.PYTHONS, "3.10", python)
    monkeypatch.setenv("CI", "1")
    assert student_env.student_python("3.10") == Path(python)
