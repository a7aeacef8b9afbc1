"""The Gradescope archive in a container laid out as Gradescope documents it: the archive
unzipped in /autograder/source, setup.sh run once as root (in an image layer, offline from
the archive's wheels/), then run_autograder per submission in a fresh container with
Docker's default capabilities, /autograder/submission, /autograder/results and
/autograder/submission_metadata.json mounted. Expected scores come from the rubric files
(task points, the mutants' declared `loses`), not from the grader.

ex02's image is built FROM the project's base image, ex08's on top of it (its setup.sh then
finds the venv and installs only what differs: one large image instead of two); each is
tagged by its archive's digest and its base (the archive is reproducible): a second run
reuses them. The wheelhouse (the engine's closure,
CPython 3.11) is made once with `pip download` under ~/.cache/autograde/wheelhouse.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from autograde.backends.image import (
    DEFAULT_BASE,
    _stream_build,
    default_wheelhouse,
    platform_args,
    sandbox_dir,
    serve_folder,
)
from autograde.gradescope.archive import build_archive
from autograde.gradescope.wheels import build_engine_wheel
from autograde.rubric import load_assignment

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
REPOSITORY = "autograde-gradescope-test"
LABEL = "org.autograde.gradescope-test"

UNZIP = """\
import hashlib, os, sys, urllib.request, zipfile
url, digest = sys.argv[1:3]
path, _ = urllib.request.urlretrieve(url, "/tmp/autograder.zip")
sha = hashlib.sha256()
with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        sha.update(chunk)
assert sha.hexdigest() == digest, "the archive served is not the one built"
with zipfile.ZipFile(path) as archive:  # as unzip does: the modes the zip records
    for info in archive.infolist():
        target = archive.extract(info, "/autograder/source")
        if (info.external_attr >> 16) & 0o777:
            os.chmod(target, (info.external_attr >> 16) & 0o777)
os.unlink(path)
"""

DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG ARCHIVE_URL
ARG ARCHIVE_SHA
COPY unzip_autograder.py /tmp/unzip_autograder.py
RUN rm -rf /autograder/source \\
 && mkdir -p /autograder/source /autograder/submission /autograder/results \\
 && python3 /tmp/unzip_autograder.py "$ARCHIVE_URL" "$ARCHIVE_SHA" \\
 && cp /autograder/source/run_autograder /autograder/run_autograder \\
 && cd /autograder/source && bash ./setup.sh \\
 && rm -rf /autograder/source/wheels
"""
# (the wheels are setup.sh's alone: dropped in the same layer, the image is 3 GB smaller)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The engine's closure with its grader extra (CPython 3.11 manylinux wheels), made once."""
    engine = build_engine_wheel(tmp_path_factory.mktemp("engine"))
    with zipfile.ZipFile(engine) as wheel:
        metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        requires = sorted(line for line in wheel.read(metadata).decode().splitlines()
                          if line.startswith("Requires-Dist:"))
    key = hashlib.sha256("\n".join(requires).encode()).hexdigest()[:12]
    # the user's cache, not the tests' private one (AUTOGRADE_CACHE): the wheels outlive a run
    folder = Path.home() / ".cache" / "autograde" / "wheelhouse" / f"gradescope-{key}"
    if (folder / ".complete").is_file():
        return folder
    # the grading image's wheelhouse, where it was made: torch & co. without a download
    sandbox_wheels = folder.parent / default_wheelhouse(sandbox_dir() / "requirements.txt").name
    links = ["--find-links", str(sandbox_wheels)] if sandbox_wheels.is_dir() else []
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--python-version",
         "3.11", "--implementation", "cp", *platform_args(), *links, "-d", str(folder), f"{engine}[grader]"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for stale in folder.glob("autograde_notebooks-*.whl"):  # the engine goes in engine/, built fresh
        stale.unlink()
    (folder / ".complete").write_text("\n".join(requires))
    return folder


def gradescope_image(client: Any, assignment: str, wheelhouse: Path, base: str = DEFAULT_BASE) -> str:
    """The image Gradescope would build from the assignment's archive (setup.sh run) on `base`,
    reused when one of the same archive and base exists."""
    import docker.errors

    with tempfile.TemporaryDirectory(prefix="gs-archive-") as tmp:
        archive = Path(tmp) / "autograder.zip"
        build_archive(load_assignment(assignment), archive, wheelhouse, log=lambda _: None)
        digest = sha256(archive)
        recipe = f"{digest} {base} {client.images.get(base).id} {DOCKERFILE} {UNZIP}"
        key = hashlib.sha256(recipe.encode()).hexdigest()
        tag = f"{REPOSITORY}:{assignment.replace('_', '-')}-{key[:12]}"
        try:
            client.images.get(tag)
            return tag
        except docker.errors.ImageNotFound:
            pass
        context = Path(tmp) / "context"
        context.mkdir()
        (context / "Dockerfile").write_text(DOCKERFILE)
        (context / "unzip_autograder.py").write_text(UNZIP)
        with serve_folder(Path(tmp), port=0) as url:
            args = {"BASE_IMAGE": base, "ARCHIVE_URL": url + archive.name, "ARCHIVE_SHA": digest}
            _stream_build(client, str(context), tag, args, lambda _: None)
    for image in client.images.list(name=REPOSITORY):  # older archives of this assignment
        for other in image.tags:
            if other != tag and other.startswith(f"{REPOSITORY}:{assignment.replace('_', '-')}-"):
                client.images.remove(other)
    return tag


@pytest.fixture(scope="module")
def images(docker_client: Any, wheelhouse: Path) -> dict[str, str]:
    """ex02's from the base image, as Gradescope builds it; ex08's on top of ex02's, so that its
    setup.sh finds the venv made and installs only what differs (one 9 GB image, not two)."""
    ex02 = gradescope_image(docker_client, "ex02_gradient_descent", wheelhouse)
    return {"ex02_gradient_descent": ex02,
            "ex08_open_set": gradescope_image(docker_client, "ex08_open_set", wheelhouse, base=ex02)}


METADATA = {
    "id": 123456, "created_at": "2026-12-01T10:00:00.000000-08:00",
    "assignment": {"title": "Exercise", "total_points": "10.0"},
    "users": [{"email": "ada@uni.edu", "id": 42, "name": "Ada L", "sid": "s123"}],
}


def run_autograder(client: Any, image: str, notebook: Path, tmp_path: Path) -> tuple[dict[str, Any], str]:
    """results.json and the log of run_autograder on `notebook`, in a fresh container."""
    submission, results = tmp_path / "submission", tmp_path / "results"
    tmp_path.mkdir(parents=True, exist_ok=True)
    submission.mkdir()
    results.mkdir()
    shutil.copy(notebook, submission / notebook.name)
    metadata = tmp_path / "submission_metadata.json"
    metadata.write_text(json.dumps(METADATA))
    container = client.containers.run(
        image, ["/autograder/run_autograder"], detach=True, labels={LABEL: "1"},
        volumes={str(submission): {"bind": "/autograder/submission", "mode": "ro"},
                 str(results): {"bind": "/autograder/results", "mode": "rw"},
                 str(metadata): {"bind": "/autograder/submission_metadata.json", "mode": "rw"}},
    )
    try:
        status = container.wait(timeout=600)
        log = container.logs().decode("utf-8", "replace")
    finally:
        container.remove(force=True)
    assert status["StatusCode"] == 0, log
    return json.loads((results / "results.json").read_text()), log


def rubric_of(assignment: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "rubrics" / assignment / "rubric.yaml").read_text())


def expected_scores(assignment: str, loses: dict[str, float] | None = None) -> dict[str, float]:
    """Each task's points from the rubric file, less what the mutant loses; manual tasks 0
    (awaiting a person)."""
    scores = {}
    for task in rubric_of(assignment)["tasks"]:
        manual = all(c["kind"] == "manual" for c in task["checks"])
        lost = float((loses or {}).get(task["id"], 0))
        scores[task["id"]] = 0.0 if manual else float(task["points"]) - lost
    return scores


def check_results(found: dict[str, Any], assignment: str, expected: dict[str, float]) -> None:
    tasks = rubric_of(assignment)["tasks"]
    by_id = {t["name"].split(":")[0]: t for t in found["tests"]}
    assert list(by_id) == [t["id"] for t in tasks]
    assert {k: t["score"] for k, t in by_id.items()} == expected
    assert found["score"] == pytest.approx(sum(t["score"] for t in found["tests"]))
    assert found["max_score"] == sum(t["points"] for t in tasks)
    hidden = {t["id"] for t in tasks if t.get("visible") == "hidden"}
    assert hidden, "the rubric has a hidden task"
    assert {k for k, t in by_id.items() if t["visibility"] == "after_published"} == hidden
    assert "Status: graded" in found["output"]


@pytest.mark.parametrize(
    ("assignment", "notebook", "mutant"),
    [
        ("ex02_gradient_descent", "solution.ipynb", None),
        ("ex02_gradient_descent", "mutants/gradient_sign.ipynb", "mutants/gradient_sign.ipynb"),
        ("ex08_open_set", "solution.ipynb", None),
        ("ex08_open_set", "mutants/backward_ignores_grad.ipynb", "mutants/backward_ignores_grad.ipynb"),
    ],
)
def test_run_autograder_grades_the_submission_as_the_rubric_says(
    docker_client, images, tmp_path, assignment, notebook, mutant
):
    path = ROOT / "rubrics" / assignment / notebook
    found, log = run_autograder(docker_client, images[assignment], path, tmp_path)
    loses = None
    if mutant is not None:
        loses = next(m["loses"] for m in rubric_of(assignment)["mutants"] if m["notebook"] == mutant)
    check_results(found, assignment, expected_scores(assignment, loses))
    assert "local sandbox confinement in this container:" in log  # what the instructor's log shows
    # Docker's default capabilities: no namespaces, a read-only /sys/fs/cgroup
    assert "namespaces (a read-only file system with the library hidden, no network): missing" in log
    assert "Note: file system not fully protected" in found["output"]


PEEK = """\
import glob
readable = []
for path in glob.glob("/autograder/source/**", recursive=True) + ["/autograder/submission_metadata.json"]:
    try:
        with open(path, "rb"):
            readable.append(path)
    except OSError:  # a folder, or no permission
        pass
if readable:  # every answer goes: the checks fail (a cell's error alone would not stop grading)
    for _name in [n for n in globals() if not n.startswith("_")]:
        del globals()[_name]
"""


def test_the_notebook_cannot_read_the_archive_or_the_metadata(docker_client, images, tmp_path):
    import nbformat

    notebook = nbformat.read(ROOT / "rubrics" / "ex02_gradient_descent" / "solution.ipynb", as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PEEK))
    path = tmp_path / "peek.ipynb"
    nbformat.write(notebook, path)
    found, log = run_autograder(docker_client, images["ex02_gradient_descent"], path, tmp_path / "run")
    # had the last cell read anything, it would have removed every answer
    check_results(found, "ex02_gradient_descent", expected_scores("ex02_gradient_descent"))
    assert "user: the notebook runs as uid 65534; the archive is readable by root alone" in log
    assert "the notebook ran as the grader's user" not in found["output"]


def test_a_submission_without_a_notebook_is_a_zero_that_says_so(docker_client, images, tmp_path):
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "answers.py").write_text("print('hi')\n")
    found, _log = run_autograder(docker_client, images["ex02_gradient_descent"], upload / "answers.py",
                                 tmp_path / "run")
    assert found["score"] == 0
    assert "no notebook was uploaded (found: answers.py)" in found["output"]
