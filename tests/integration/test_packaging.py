"""The engine installs alone: the wheel and the sdist hold the package and nothing of the
course library, their metadata keeps the grader's parts in the `grader` extra, and the wheel
with only its default dependencies works on a student's Python (3.10, 3.13) without torch."""

from __future__ import annotations

import ast
import email.parser
import json
import re
import shutil
import subprocess
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from tests.student_env import ROOT, built_dists, make_student_venv, student_python

pytestmark = pytest.mark.integration

GRADER_ONLY = {"torch", "torchvision", "papermill", "docker", "matplotlib", "tqdm", "copydetect"}
SDIST_TOP = re.compile(r"^(autograde/.*|autograde_notebooks\.egg-info/.*|PKG-INFO|setup\.cfg|pyproject\.toml"
                       r"|README\.md|MANIFEST\.in|LICEN[CS]E.*|NOTICE.*)$")
WHEEL_TOP = re.compile(r"^(autograde/.*|autograde_notebooks-[^/]+\.dist-info/.*)$")
# course content, by where it lives or what it is
FORBIDDEN = re.compile(
    r"(^|/)(reference|rubrics|mutants|tests|bench|sandbox|examples)/"  # the library, tests, tools
    r"|\.ipynb$"  # solution, template and mutant notebooks
    r"|(^|/)rubric\.ya?ml$|(^|/)[^/]*_data\.py$|(^|/)test_[^/]*\.py$|(^|/)conftest\.py$"
)


def wheel_members() -> dict[str, bytes]:
    with zipfile.ZipFile(built_dists().wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}


def sdist_members() -> dict[str, bytes]:
    """By their path below the sdist's top folder."""
    found = {}
    with tarfile.open(built_dists().sdist) as archive:
        for member in archive.getmembers():
            if member.isfile():
                handle = archive.extractfile(member)
                assert handle is not None
                found[member.name.split("/", 1)[1]] = handle.read()
    return found


def reference_sources() -> dict[str, str]:
    """The source of every function and class of the reference library, by name."""
    found = {}
    for path in sorted((ROOT / "reference").glob("*.py")):
        text = path.read_text()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                segment = ast.get_source_segment(text, node) or ""
                if len(segment) > 120:  # long enough not to match by chance
                    found[f"{path.stem}.{node.name}"] = segment
    return found


@pytest.mark.parametrize("which", ["wheel", "sdist"])
def test_the_distribution_holds_only_the_engine(which):
    members = wheel_members() if which == "wheel" else sdist_members()
    allowed = WHEEL_TOP if which == "wheel" else SDIST_TOP
    assert "autograde/cli/main.py" in members and "autograde/runner/harness_src.py" in members
    assert [n for n in members if not allowed.match(n)] == []
    assert [n for n in members if FORBIDDEN.search(n)] == []
    leaked = [(name, ref) for ref, source in reference_sources().items()
              for name, data in members.items() if source.encode() in data]
    assert leaked == []
    if which == "wheel":
        size = built_dists().wheel.stat().st_size
        top = sorted({n.split("/")[1] if n.startswith("autograde/") and n.count("/") > 1 else n.split("/")[0]
                      for n in members})
        print(f"\nwheel {built_dists().wheel.name}: {size / 1024:.0f} KiB, {len(members)} files; {top}")


def test_the_patterns_catch_course_content():
    """The test of the test: each kind of course content is caught by its path."""
    for path in ("reference/ex02.py", "x/reference/__init__.py", "autograde/solution.ipynb",
                 "rubrics/ex02/rubric.yaml", "a/mutants/m1.ipynb", "autograde/ex03_data.py",
                 "tests/unit/test_x.py", "autograde/conftest.py", "sandbox/Dockerfile"):
        assert FORBIDDEN.search(path), path
    for path in ("autograde/rubric/loader.py", "autograde/checks/base.py", "autograde/runner/harness_src.py"):
        assert not FORBIDDEN.search(path), path
    assert len(reference_sources()) > 20


def test_the_wheel_metadata():
    metadata = next(data for name, data in wheel_members().items() if name.endswith(".dist-info/METADATA"))
    message = email.parser.BytesParser().parsebytes(metadata)
    assert message["Name"] == "autograde-notebooks"
    assert message["Requires-Python"] == ">=3.10"
    requires = message.get_all("Requires-Dist") or []
    name = re.compile(r"^[A-Za-z0-9_.-]+")

    def names(extra: str | None) -> set[str]:
        marker = f'extra == "{extra}"'
        return {
            name.match(r).group(0).lower().replace("_", "-")  # type: ignore[union-attr]
            for r in requires if (marker in r if extra else "extra ==" not in r)
        }

    default = names(None)
    assert not default & GRADER_ONLY, default
    assert {"numpy", "nbformat", "nbclient", "ipykernel", "jupyter-client", "pyyaml", "pydantic", "click",
            "rich"} <= default
    assert names("grader") == GRADER_ONLY
    assert "torch==2.14.1" in "".join(r.replace(" ", "") for r in requires if r.startswith("torch"))
    assert names("cluster") == {"distributed", "dask-jobqueue"}  # the grader's, on every worker
    assert set(message.get_all("Provides-Extra") or []) == {"grader", "cluster", "dev"}
    entry_points = next(data for name, data in wheel_members().items() if name.endswith("entry_points.txt"))
    assert b"autograde = autograde.cli.main:main" in entry_points


# -- a student's Python: the wheel and its default dependencies only -------------------------

PROBE = """
import importlib.util, json
import autograde.status, autograde.runner.protocol, autograde.checks, autograde.rubric
import autograde.backends.local.backend, autograde.pipeline.grade
from autograde.status import CheckStatus
print(json.dumps({
    "absent": [m for m in ("torch", "torchvision", "papermill", "docker", "reference")
               if importlib.util.find_spec(m) is not None],
    "status": f"{CheckStatus.PASS}|{CheckStatus.parse('nonsense')}|{CheckStatus.known('fail')!s}",
}))
"""


def run(venv: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    command = [str(venv / "bin" / args[0]), *args[1:]]
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(cwd), "COLUMNS": "200", **env}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module", params=["3.10", "3.13"])
def student_venv(request: pytest.FixtureRequest) -> Path:
    python = student_python(request.param)
    started = time.monotonic()
    venv = make_student_venv(python)
    print(f"\nstudent venv {venv.name}: ready in {time.monotonic() - started:.1f} s")
    return venv


@pytest.mark.student_env
def test_the_default_install_works_without_torch(student_venv, tmp_path):
    helped = run(student_venv, "autograde", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "check" in helped.stdout, helped.stderr
    version = run(student_venv, "autograde", "--version", cwd=tmp_path)
    assert version.returncode == 0 and "0.1.0" in version.stdout, version.stderr
    probe = run(student_venv, "python", "-c", PROBE, cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert found == {"absent": [], "status": "pass|grader-error|fail"}


@pytest.mark.student_env
def test_an_installed_autograde_needs_a_library(student_venv, tmp_path):
    none = run(student_venv, "autograde", "list", cwd=tmp_path)
    assert none.returncode == 2
    assert "no course library: pass --library DIR or set AUTOGRADE_LIBRARY" in none.stderr


@pytest.mark.student_env
def test_grades_with_a_library_beside_it(student_venv, tmp_path):
    """The local backend, papermill's cell built without papermill, a kernel of that Python."""
    library = tmp_path / "course"
    shutil.copytree(ROOT / "rubrics" / "ex02_gradient_descent", library / "rubrics" / "ex02_gradient_descent")
    shutil.copytree(ROOT / "reference", library / "reference", ignore=shutil.ignore_patterns("__pycache__"))
    solution = library / "rubrics" / "ex02_gradient_descent" / "solution.ipynb"
    done = run(student_venv, "autograde", "grade", str(solution), "-a", "ex02_gradient_descent",
               "--out", str(tmp_path / "out"), cwd=tmp_path, AUTOGRADE_LIBRARY=str(library))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(next((tmp_path / "out").glob("students/*/report.json")).read_text())
    assert (report["status"], report["score"], report["max_score"]) == ("graded", 10, 10)
    assert "papermill" not in report["versions"] and "torch" not in report["versions"]
    assert report["versions"]["python"].startswith(student_venv.name.split("-")[0].removeprefix("py") + ".")
