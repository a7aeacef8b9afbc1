"""A student's environment for tests: a fresh venv of another Python (3.10, 3.13) holding
the built wheel with only its default dependencies (no torch, no papermill, no docker).

`built_dists()` builds the wheel and the sdist from a copy of the checkout (reproducibly:
SOURCE_DATE_EPOCH), once per test session; `make_student_venv(python)` makes the venv once
per wheel and Python, kept under .cache/student-venvs/<python>-<wheel hash>/ (ignored by git),
so that a later session with the same sources reuses it. pip reaches its usual index and
keeps its cache. `student_python(version)` finds this machine's interpreter, or skips the
test when it is absent, unless CI is set: then the test fails.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "student-venvs"
PYTHONS = {
    "3.10": Path("/root/.pyenv/versions/3.10.13/bin/python3.10"),
    "3.13": Path("/root/.pyenv/versions/3.13.0/bin/python3.13"),
}
# what a build copies: the checkout, less what is never part of it
_NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", ".cache", "results", "build", "dist", "*.egg-info", "__pycache__",
    ".mypy_cache", ".ruff_cache", ".pytest_cache",
)


@dataclass(frozen=True)
class Dists:
    wheel: Path
    sdist: Path

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.wheel.read_bytes()).hexdigest()[:16]


def student_python(version: str) -> Path:
    """This machine's Python `version`; absent: skip, or fail where CI is set."""
    python = PYTHONS[version]
    if not python.is_file():
        message = f"Python {version} not found at {python}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set: the student-environment tests must run)")
        pytest.skip(message)
    return python


@functools.cache
def built_dists() -> Dists:
    """The wheel and the sdist of the current sources, built once per session."""
    stage = CACHE / "build"
    shutil.rmtree(stage, ignore_errors=True)
    source = stage / "src"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCES)
    out = stage / "dist"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "315532800"}  # 1980: the same bytes for the same sources
    # --no-isolation: the build needs only setuptools, which this environment has
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return Dists(wheel, sdist)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def make_student_venv(python: Path) -> Path:
    """A venv of `python` with the wheel and its default dependencies, made once per wheel."""
    dists = built_dists()
    version = subprocess.run(
        [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    venv = CACHE / f"py{version}-{dists.digest}"
    ready = venv / ".ready"
    if ready.is_file():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([str(python), "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    pip = [str(venv_python(venv)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    install = subprocess.run([*pip, str(dists.wheel)], capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    for stale in CACHE.glob(f"py{version}-*"):  # venvs of older wheels
        if stale != venv:
            shutil.rmtree(stale, ignore_errors=True)
    ready.write_text(dists.wheel.name + "\n")
    return venv
