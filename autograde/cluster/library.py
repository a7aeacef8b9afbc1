"""The course library as a cluster's workers get it: verified, and never more than grading needs.

The coordinator packs one assignment's part of the library (`autograde.rubric.library_part`:
the rubric, its template and support files, the `reference` modules the rubric names; never a
solution, a mutant or another assignment) into one tar archive with a digest over its files'
names and contents. A worker unpacks it once per digest into its cache, checks the digest of
what it unpacked, and grades from there with that `reference` package first on `sys.path`.
With a shared file system the workers read the library at one path instead, and check that
its part for the assignment has the coordinator's digest. Either way the data folder a worker
generates must have the coordinator's digest (`tree_digest`). Nothing here reaches a sandbox.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sys
import tarfile
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from autograde.errors import ClusterError
from autograde.rubric import Assignment
from autograde.rubric.library_part import library_part


@dataclass(frozen=True)
class LibraryPart:
    """What the coordinator sends: the archive (None with a shared library), its digest, and
    where the assignment sits in it."""

    digest: str
    folder: str  # the assignment's folder name under rubrics/
    rubric_digest: str  # Assignment.digest: the rubric file the coordinator grades with
    archive: bytes | None = None
    shared: str | None = None  # the shared library's root, the same path on every worker


def files_digest(files: dict[str, Path]) -> str:
    """sha256 over the sorted names and the sha256 of each file's content."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + _file_sha256(files[name]))
    return digest.hexdigest()


def tree_digest(folder: Path) -> str:
    """A folder's files (names relative to it, contents) as one digest; links count as names."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            digest.update(b"L" + name.encode() + b"\0" + os.readlink(path).encode() + b"\0")
        elif path.is_file():
            digest.update(b"F" + name.encode() + b"\0" + _file_sha256(path))
        elif path.is_dir():
            digest.update(b"D" + name.encode() + b"\0")
    return digest.hexdigest()


def _file_sha256(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.digest()


def pack(assignment: Assignment, shared: Path | None = None) -> LibraryPart:
    """The library part the workers get for `assignment`: an archive, or the shared root."""
    files = library_part(assignment)
    digest = files_digest(files)
    if shared is not None:
        return LibraryPart(digest, assignment.folder.name, assignment.digest, shared=str(shared))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(files):
            data = files[name].read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    return LibraryPart(digest, assignment.folder.name, assignment.digest, archive=buffer.getvalue())


_INSTALL = threading.Lock()


def unpack(part: LibraryPart, cache: Path) -> Path:
    """The archive unpacked under `cache/<digest>` (once; atomically), its digest checked: the
    library root, holding rubrics/ and reference/."""
    if part.archive is None:
        raise ClusterError("no library archive was sent with the job")
    target = cache / part.digest
    with _INSTALL:
        if target.is_dir() and _digest_of_root(target) == part.digest:
            return target
        shutil.rmtree(target, ignore_errors=True)  # a damaged or tampered copy is made again
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=cache))
        try:
            with tarfile.open(fileobj=io.BytesIO(part.archive), mode="r:gz") as archive:
                archive.extractall(staging, filter="data")  # no links out, no absolute names
            got = _digest_of_root(staging)
            if got != part.digest:
                raise ClusterError(
                    f"the library archive's digest is {got[:12]}, not the {part.digest[:12]} sent"
                )
            staging.rename(target)
        except (tarfile.TarError, OSError) as exc:
            raise ClusterError(f"the library archive could not be unpacked ({exc})") from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _digest_of_root(root: Path) -> str:
    files = {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}
    return files_digest(files)


_ACTIVE: list[str] = []  # the library root whose `reference` package this process imports


def activate(root: Path) -> None:
    """Make `root`'s reference package the one this process imports (a worker may grade for
    several libraries, one after another)."""
    with _INSTALL:
        wanted = str(root)
        if [wanted] == _ACTIVE:
            return
        for name in [n for n in sys.modules if n == "reference" or n.startswith("reference.")]:
            del sys.modules[name]
        for old in _ACTIVE:
            while old in sys.path:
                sys.path.remove(old)
        sys.path.insert(0, wanted)
        _ACTIVE[:] = [wanted]


def check_reference(root: Path) -> None:
    """The `reference` package imported is the one under `root`, not another on sys.path."""
    import importlib

    if not (root / "reference").is_dir():
        return  # this assignment names no reference module
    module = importlib.import_module("reference")
    origin = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", [])), "")
    if not Path(origin).resolve().is_relative_to(root.resolve()):
        raise ClusterError(f"the reference package imported is {origin}, not the library's at {root}")
