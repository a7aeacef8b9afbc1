"""The engine's wheels for the Gradescope archive: a wheel of autograde built from this
checkout, and (offline archives) the wheels of everything it installs with its grader extra,
picked from a wheelhouse by pip's own resolver for CPython 3.11 on manylinux x86_64.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from autograde.backends.image import PACKAGE_DIR, PYTHON_VERSION, platform_args
from autograde.errors import AutogradeError

EXTRA = "grader"
# Ubuntu 22.04 (Gradescope's default image) has glibc 2.35: no wheel may need a newer one
GLIBC_MINOR = 35
# files of the checkout a wheel is built from (what the sdist's MANIFEST.in names for the engine)
_WHEEL_SOURCES = ("pyproject.toml", "README.md", "MANIFEST.in", "autograde")


def _pip_env() -> dict[str, str]:
    """The environment for a pip that sees only what the command names: no configuration
    file, no PIP_* variable (an index or find-links of this machine would leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["SOURCE_DATE_EPOCH"] = "315532800"  # 1980-01-01: the wheel's file times, for a reproducible archive
    return env


def _run_pip(args: list[str], what: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True,
                          env=_pip_env(), check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise AutogradeError(f"{what} failed:\n" + "\n".join(lines[-12:]))


def checkout_root() -> Path:
    """The source checkout the running package is imported from (the wheel is built from it)."""
    root = PACKAGE_DIR.parent
    if not (root / "pyproject.toml").is_file():
        raise AutogradeError(
            f"autograde at {PACKAGE_DIR} is not a source checkout (no pyproject.toml beside it): "
            "make the Gradescope archive from a checkout of autograde"
        )
    return root


def build_engine_wheel(dest: Path) -> Path:
    """`pip wheel --no-deps` of the checkout's engine, from a copy of its sources (nothing is
    written into the checkout); the wheel in `dest`."""
    root = checkout_root()
    with tempfile.TemporaryDirectory(prefix="autograde-wheel-") as tmp:
        source = Path(tmp, "src")
        source.mkdir()
        for name in _WHEEL_SOURCES:
            path = root / name
            if path.is_dir():
                shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            elif path.is_file():
                shutil.copy2(path, source / name)
        out = Path(tmp, "out")
        _run_pip(["wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                  "-w", str(out), str(source)], "building the autograde wheel (pip wheel)")
        wheels = sorted(out.glob("*.whl"))
        if len(wheels) != 1:
            raise AutogradeError(f"pip wheel made {len(wheels)} wheels of autograde, expected one")
        dest.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheels[0], dest / wheels[0].name))


def closure_wheels(engine_wheel: Path, wheelhouse: Path) -> list[Path]:
    """The wheels of `wheelhouse` that installing `engine_wheel[grader]` on CPython 3.11
    (manylinux, glibc <= 2.35) takes, resolved by pip offline. A wheelhouse lacking one is an
    AutogradeError naming the wheelhouse and pip's reason."""
    if not wheelhouse.is_dir():
        raise AutogradeError(f"--wheelhouse {wheelhouse}: not a folder")
    with tempfile.TemporaryDirectory(prefix="autograde-resolve-") as tmp:
        report = Path(tmp, "report.json")
        args = [
            "install", "--quiet", "--dry-run", "--ignore-installed", "--no-index",
            "--find-links", str(wheelhouse.resolve()), "--only-binary=:all:",
            "--python-version", PYTHON_VERSION, "--implementation", "cp", *platform_args(GLIBC_MINOR),
            "--target", str(Path(tmp, "target")),  # what pip wants with a --platform; a dry run writes none
            "--report", str(report), f"{engine_wheel.resolve()}[{EXTRA}]",
        ]  # fmt: skip
        try:
            _run_pip(args, f"--wheelhouse {wheelhouse}: resolving autograde[{EXTRA}] from its wheels")
        except AutogradeError as exc:
            raise AutogradeError(
                f"{exc}\n(the wheelhouse must hold every package autograde[{EXTRA}] installs, as "
                f"CPython {PYTHON_VERSION} manylinux wheels: `pip download --only-binary=:all: "
                f"--python-version {PYTHON_VERSION} -d {wheelhouse} <the autograde wheel>[{EXTRA}]`)"
            ) from None
        installs = json.loads(report.read_text(encoding="utf-8")).get("install", [])
    found: list[Path] = []
    for item in installs:
        url = str(item.get("download_info", {}).get("url", ""))
        path = Path(unquote(urlparse(url).path))
        if path.resolve() == engine_wheel.resolve():
            continue
        if not path.is_file() or path.suffix != ".whl":
            raise AutogradeError(f"--wheelhouse {wheelhouse}: pip chose {url}, not a wheel of the wheelhouse")
        found.append(path)
    return sorted(found, key=lambda p: p.name)
