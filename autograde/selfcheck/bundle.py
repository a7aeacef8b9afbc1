"""The check bundle file (`<assignment>.check`): a zip with a manifest, the published inputs,
the plan states and expected values, and the small public data a notebook reads.

    bundle.json     the manifest (`Manifest`): format and version, the assignment, its
                    rubric digest, the public checks (rubric fields without answers, how
                    each runs, its plan and expected values as codec data), the probes
    bundle.sha256   sha256 of bundle.json, which names the sha256 of every other member
    inputs.npz      the probes' inputs at the published seed (no pickle)
    arrays.npz      the arrays of the plan states and expected values (no pickle)
    data/...        the public data folder the notebook reads (`data_dir`), when it is small
    files/...       the assignment's support files (the rubric's `files`), put beside the notebook

A bundle holds no reference code, no solution, no hidden check, no hidden input or label
and no grading seed: `selfcheck.build` writes only what the public checks need.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autograde.errors import AutogradeError

FORMAT = "autograde-check-bundle"
FORMAT_VERSION = 1
SUFFIX = ".check"
MANIFEST, DIGEST, INPUTS, ARRAYS, DATA = "bundle.json", "bundle.sha256", "inputs.npz", "arrays.npz", "data/"
FILES = "files/"
MAX_MEMBER_BYTES = 512 * 2**20  # a member larger than this is not a bundle this grader wrote


class BundleError(AutogradeError):
    """A bundle that cannot be used: missing, of another assignment or format, damaged."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BundleCheck(_Model):
    task: int = Field(ge=0)
    index: int = Field(ge=0)  # the check's index in its task
    kind: str
    name: str
    weight: float = Field(ge=0)
    tag: str | None = None
    mode: Literal["full", "published", "answered", "after-submission"]
    reason: str | None = None  # why it waits for the submission
    model: dict[str, Any] | None = None  # the rubric fields, without answer fields
    state: Any = None  # the kind's plan (codec data)
    expected: Any = None  # the kind's `expect` at the published inputs (codec data)
    template_digest: str | None = None  # a free-text answer: sha256 of the template's cell


class BundleTask(_Model):
    id: str
    title: str | None = None
    points: float
    visible: Literal["public", "hidden"]
    checks: list[BundleCheck] = Field(default_factory=list)
    hidden_checks: int = Field(0, ge=0)  # checks of a public task graded after submission


class Manifest(_Model):
    format: Literal["autograde-check-bundle"]
    version: int
    assignment: str
    title: str
    rubric_digest: str
    autograde: str  # the version that wrote it
    parameters: dict[str, Any]
    limits: dict[str, Any]
    probes: list[dict[str, Any]]
    tasks: list[BundleTask]
    members: dict[str, str]  # member name -> sha256
    data: bool = False  # data/ holds the notebook's public data folder
    data_note: str | None = None  # why the data is not in the bundle
    tags: list[str] = Field(default_factory=list)  # the answer-cell tags of the template
    template: str | None = None  # the template's file name, as handed out

    @property
    def max_points(self) -> float:
        return sum(task.points for task in self.tasks)

    def task(self, task_id: str) -> BundleTask:
        for task in self.tasks:
            if task.id == task_id:
                return task
        known = ", ".join(t.id for t in self.tasks)
        raise BundleError(f"assignment {self.assignment} has no task {task_id!r} (tasks: {known})")


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def read_npz(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def answer_digest(text: str) -> str:
    """A free-text cell's digest (`BundleCheck.template_digest`): blank lines around it ignored."""
    return sha256(text.strip().encode())


def write_bundle(
    path: Path,
    manifest: dict[str, Any],
    members: dict[str, bytes],
    data_dir: Path | None,
    support: dict[str, Path] | None = None,
) -> None:
    """Write the zip: every member, the manifest naming their digests, and its digest."""
    files = dict(members)
    if data_dir is not None:
        for file in sorted(p for p in data_dir.rglob("*") if p.is_file()):
            files[DATA + file.relative_to(data_dir).as_posix()] = file.read_bytes()
    for name, source in (support or {}).items():
        files[FILES + name] = source.read_bytes()
    manifest = {**manifest, "members": {name: sha256(body) for name, body in files.items()}}
    Manifest.model_validate(manifest)  # never write what the reader refuses
    text = json.dumps(manifest, indent=1, sort_keys=True).encode()
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, text)
        archive.writestr(DIGEST, sha256(text) + "\n")
        for name, body in files.items():
            archive.writestr(name, body)
    tmp.replace(path)


class Bundle:
    """A bundle read back and verified: its manifest and members."""

    def __init__(self, path: Path, manifest: Manifest, files: dict[str, bytes]) -> None:
        self.path = path
        self.manifest = manifest
        self._files = files

    @property
    def inputs(self) -> bytes:
        return self._files.get(INPUTS, npz_bytes({}))

    def arrays(self) -> dict[str, np.ndarray]:
        return read_npz(self._files[ARRAYS]) if ARRAYS in self._files else {}

    def data_files(self) -> dict[str, bytes]:
        return {name[len(DATA) :]: body for name, body in self._files.items() if name.startswith(DATA)}

    def extract_data(self, dest: Path) -> Path:
        """The public data folder, written under `dest` (safe relative names only)."""
        self._extract(self.data_files(), dest, "data")
        return dest

    def support_files(self) -> dict[str, bytes]:
        """The assignment's support files, by their path beside the notebook."""
        return {name[len(FILES) :]: body for name, body in self._files.items() if name.startswith(FILES)}

    def extract_support(self, dest: Path) -> dict[str, Path]:
        """The support files, written under `dest` (safe relative names only): name -> file."""
        return self._extract(self.support_files(), dest, "support file")

    def _extract(self, members: dict[str, bytes], dest: Path, what: str) -> dict[str, Path]:
        """Check every name first, then write: a bad name writes nothing."""
        for name in members:
            relative = PurePosixPath(name)
            if not name or relative.is_absolute() or ".." in relative.parts or "\\" in name:
                raise BundleError(f"{self.path}: {what} member {name!r} escapes its folder")
        written = {}
        for name, body in members.items():
            target = dest.joinpath(*PurePosixPath(name).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            written[name] = target
        return written


_WHAT_TO_DO = "download the bundle of this assignment again from your course page"


def read_bundle(path: Path, assignment: str | None = None) -> Bundle:
    """Read and verify a bundle; every problem is a BundleError naming the file and what to do."""
    if not path.is_file():
        hint = f"; the instructor publishes it as <assignment>{SUFFIX}" if path.suffix != SUFFIX else ""
        raise BundleError(f"{path}: no such check bundle{hint} ({_WHAT_TO_DO})")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if any(info.file_size > MAX_MEMBER_BYTES for info in infos):
                raise BundleError(f"{path}: not a check bundle (a member is too large); {_WHAT_TO_DO}")
            files = {info.filename: archive.read(info) for info in infos if not info.is_dir()}
    except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as exc:
        raise BundleError(
            f"{path}: not a readable check bundle (truncated or damaged: {exc}); {_WHAT_TO_DO}"
        ) from None
    if MANIFEST not in files or DIGEST not in files:
        raise BundleError(f"{path}: not a check bundle (no {MANIFEST}); {_WHAT_TO_DO}")
    text = files.pop(MANIFEST)
    if files.pop(DIGEST).decode(errors="replace").strip() != sha256(text):
        raise BundleError(
            f"{path}: the bundle was changed after it was published (its digest does not match); "
            + _WHAT_TO_DO
        )
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise BundleError(f"{path}: damaged manifest ({exc}); {_WHAT_TO_DO}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        found = raw.get("format") if isinstance(raw, dict) else None
        raise BundleError(f"{path}: not a check bundle (format {found!r}); {_WHAT_TO_DO}")
    if raw.get("version") != FORMAT_VERSION:
        raise BundleError(
            f"{path}: bundle format version {raw.get('version')!r}, but this autograde reads version "
            f"{FORMAT_VERSION}: upgrade autograde-notebooks (pip install -U autograde-notebooks) or "
            "ask for a bundle made by this version"
        )
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        raise BundleError(f"{path}: damaged manifest ({exc.error_count()} problems); {_WHAT_TO_DO}") from None
    if set(files) != set(manifest.members):
        raise BundleError(f"{path}: members missing or added since it was published; {_WHAT_TO_DO}")
    for name, digest in manifest.members.items():
        if sha256(files[name]) != digest:
            raise BundleError(f"{path}: {name} was changed after the bundle was published; {_WHAT_TO_DO}")
    if assignment is not None and manifest.assignment != assignment:
        raise BundleError(
            f"{path}: this bundle checks assignment {manifest.assignment}, not {assignment}: use the "
            f"bundle of {assignment}"
        )
    return Bundle(path, manifest, files)
