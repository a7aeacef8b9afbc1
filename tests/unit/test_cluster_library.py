"""The library part a cluster's workers get: only what grading needs, packed with a digest the
worker checks, unpacked safely; the data folders every worker makes are the coordinator's."""

from __future__ import annotations

import io
import json
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograde.cluster import job
from autograde.cluster.library import LibraryPart, files_digest, pack, tree_digest, unpack
from autograde.cluster.settings import ClusterError
from autograde.rubric import discover, load_assignment, load_rubric_file
from autograde.rubric.datasets import prepare_data_dir


def names_in(part: LibraryPart) -> list[str]:
    assert part.archive is not None
    with tarfile.open(fileobj=io.BytesIO(part.archive)) as archive:
        return archive.getnames()


def test_the_archive_holds_what_grading_needs_and_no_solution() -> None:
    ex08 = load_assignment("ex08_open_set")
    names = names_in(pack(ex08))
    assert "rubrics/ex08_open_set/rubric.yaml" in names
    assert any(n.startswith("reference/") for n in names)
    assert not [n for n in names if "solution" in n or "mutant" in n or "master" in n], names
    assert not [n for n in names if n.startswith("rubrics/") and not n.startswith("rubrics/ex08_open_set/")]
    assert pack(ex08).archive == pack(ex08).archive  # the same library, the same bytes


def test_unpacked_once_per_digest_and_a_tampered_copy_is_made_again(tmp_path: Path) -> None:
    part = pack(load_assignment("ex02_gradient_descent"))
    root = unpack(part, tmp_path)
    assert (
        root == tmp_path / part.digest
        and (root / "rubrics" / "ex02_gradient_descent" / "rubric.yaml").is_file()
    )
    rubric = root / "rubrics" / "ex02_gradient_descent" / "rubric.yaml"
    rubric.write_text(rubric.read_text() + "\n# changed on the worker\n")
    unpack(part, tmp_path)
    assert "changed on the worker" not in rubric.read_text()


def test_an_archive_whose_files_are_not_the_digest_is_refused(tmp_path: Path) -> None:
    part = pack(load_assignment("ex02_gradient_descent"))
    forged = LibraryPart("0" * 64, part.folder, part.rubric_digest, archive=part.archive)
    with pytest.raises(ClusterError, match="the library archive's digest is"):
        unpack(forged, tmp_path)
    assert not (tmp_path / ("0" * 64)).exists()


def test_an_archive_with_a_name_outside_its_folder_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("../escaped.py")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"x\n"))
    with pytest.raises(ClusterError, match="could not be unpacked"):
        unpack(LibraryPart("1" * 64, "ex02", "d", archive=buffer.getvalue()), tmp_path / "cache")
    assert not (tmp_path / "escaped.py").exists()


@pytest.fixture
def worker_process() -> Iterator[None]:
    """grade_job changes this process as it would a worker's (sys.path, the reference modules,
    its caches): all put back afterwards."""
    from autograde.cluster import library

    path, modules, active = list(sys.path), dict(sys.modules), list(library._ACTIVE)
    yield
    sys.path[:] = path
    for name in [n for n in sys.modules if n not in modules]:
        del sys.modules[name]
    sys.modules.update(modules)
    library._ACTIVE[:] = active
    job._ASSIGNMENTS.clear()


@pytest.mark.usefixtures("worker_process")
def test_the_worker_refuses_a_rubric_that_is_not_the_coordinators(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AUTOGRADE_CACHE", str(tmp_path))
    part = pack(load_assignment("ex02_gradient_descent"))
    other = LibraryPart(part.digest, part.folder, "f" * 16, archive=part.archive)
    answer = json.loads(job.grade_job(_job(), other))
    assert answer["kind"] == "unfit" and "is not the rubric the coordinator grades with" in answer["reason"]


@pytest.mark.usefixtures("worker_process")
def test_a_shared_library_that_differs_is_named(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AUTOGRADE_CACHE", str(tmp_path / "cache"))
    assignment = load_assignment("ex02_gradient_descent")
    part = pack(assignment, shared=tmp_path / "nowhere")
    answer = json.loads(job.grade_job(_job(), part))
    assert (
        answer["kind"] == "unfit"
        and f"the shared library {tmp_path / 'nowhere'} holds no" in answer["reason"]
    )


def _job(engine: str = "") -> job.Job:
    from autograde.pipeline.grade import GradeOptions

    return job.Job("b", "s", "s.ipynb", "s.ipynb", b"{}", GradeOptions(), engine=engine)


def test_a_worker_with_another_autograde_is_unfit() -> None:
    from autograde import __version__

    part = pack(load_assignment("ex02_gradient_descent"))
    answer = json.loads(job.grade_job(_job(engine="0.0.1"), part))
    assert answer["kind"] == "unfit"
    assert answer["reason"] == (f"it runs autograde {__version__}, the coordinator 0.0.1: install the same "
                                "version on every worker")


def test_files_digest_changes_with_a_name_or_a_byte(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("1")
    (tmp_path / "b").write_text("1")
    one = files_digest({"a": tmp_path / "a"})
    assert one != files_digest({"b": tmp_path / "a"}) and one == files_digest({"a": tmp_path / "b"})
    (tmp_path / "b").write_text("2")
    assert one != files_digest({"a": tmp_path / "b"})


@pytest.mark.parametrize(
    "rubric", [p for p in discover() if "data_dir" in p.read_text()], ids=lambda p: p.parent.name
)
def test_every_data_folder_is_made_the_same_on_every_machine(
    tmp_path: Path, rubric: Path, monkeypatch
) -> None:
    """A worker's data folder must have the coordinator's digest: each generator of the library
    makes the same files in two caches (else a cluster would refuse every worker)."""
    assignment = load_rubric_file(rubric)
    assert assignment.rubric.data_dir is not None
    digests = set()
    for cache in ("one", "two"):
        monkeypatch.setenv("AUTOGRADE_CACHE", str(tmp_path / cache))
        folder = prepare_data_dir(assignment.id, assignment.rubric.data_dir)
        assert str(folder).startswith(str(tmp_path / cache)) and any(folder.iterdir())
        digests.add(tree_digest(folder))
    assert len(digests) == 1
