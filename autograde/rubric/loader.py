"""Loading rubrics: YAML -> validated `Rubric`, errors that name the file and the field."""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from autograde.errors import AssignmentNotFound, RubricError
from autograde.rubric.schema import Rubric

RUBRIC_FILE = "rubric.yaml"


@dataclass(frozen=True)
class Assignment:
    """A rubric with the folder it lives in (template, solution, mutants beside it)."""

    rubric: Rubric
    folder: Path
    digest: str  # sha256 of the rubric file: reports say which rubric graded them

    @property
    def id(self) -> str:
        return self.rubric.assignment

    def path(self, relative: str) -> Path:
        return self.folder / relative


def default_library() -> Path:
    """$AUTOGRADE_RUBRICS, else the `rubrics/` folder of this checkout."""
    env = os.environ.get("AUTOGRADE_RUBRICS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "rubrics"


def _format_error(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: invalid rubric ({exc.error_count()} problem(s))"]
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        got = error.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
        lines.append(f"  - {where}: {error['msg']}{shown}")
    return "\n".join(lines)


def load_rubric_file(path: Path) -> Assignment:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RubricError(f"{path}: cannot read rubric ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise RubricError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RubricError(f"{path}: a rubric must be a mapping with keys schema, assignment, tasks")
    if data.get("schema") not in (1, None):
        raise RubricError(
            f"{path}: schema: version {data.get('schema')!r} is not supported (this autograde reads schema 1)"
        )
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as exc:
        raise RubricError(_format_error(path, exc)) from None
    return Assignment(rubric, path.parent, hashlib.sha256(raw).hexdigest()[:16])


def ensure_reference_importable(library: Path) -> None:
    """The reference package sits beside the rubric library (host only, never in a sandbox)."""
    root = str(library.resolve().parent)
    if (library.resolve().parent / "reference").is_dir() and root not in sys.path:
        sys.path.insert(0, root)


def discover(library: Path | None = None) -> list[Path]:
    library = library or default_library()
    if not library.is_dir():
        raise RubricError(f"{library}: rubric library folder not found")
    return sorted(library.glob(f"*/{RUBRIC_FILE}"))


def load_assignment(assignment: str, library: Path | None = None) -> Assignment:
    """Load by id (folder name or `assignment:` field) or by a path to a rubric file."""
    candidate = Path(assignment)
    if candidate.suffix in {".yaml", ".yml"} and candidate.is_file():
        ensure_reference_importable(candidate.resolve().parent.parent)
        return load_rubric_file(candidate)
    library = library or default_library()
    ensure_reference_importable(library)
    direct = library / assignment / RUBRIC_FILE
    if direct.is_file():
        return load_rubric_file(direct)
    for path in discover(library):
        loaded = load_rubric_file(path)
        if loaded.id == assignment:
            return loaded
    known = ", ".join(p.parent.name for p in discover(library)) or "none"
    raise AssignmentNotFound(f"no rubric for assignment {assignment!r} in {library} (known: {known})")
