"""Loading rubrics: YAML -> validated `Rubric`, errors that name the file and the field.

The one parser of rubrics. PyYAML, pydantic and the schema are imported when a rubric is
loaded, not with this module: `discover` and the summary cache (`autograde list`) need neither.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograde.errors import AssignmentNotFound, RubricError
from autograde.library import default_library

if TYPE_CHECKING:
    from pydantic import ValidationError

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


def _yaml_path(data: Any, loc: tuple[Any, ...], missing: bool = False) -> str:
    """pydantic's location minus the union tags it adds: only real keys and indices.

    Tags can coincide with keys (the `draw` tag of a probe argument, say), so the longest
    walk through the data wins; for a `missing` error the absent key at the end is kept (a
    required field), never for a rule on the whole check (whose location ends at its tag).
    """

    def walk(node: Any, rest: tuple[Any, ...]) -> list[str]:
        if not rest:
            return []
        part, tail = rest[0], rest[1:]
        best = walk(node, tail)  # treat `part` as a tag
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            descended = [str(part), *walk(node[part], tail)]
            if len(descended) >= len(best):
                best = descended
        elif missing and not tail and isinstance(node, dict) and isinstance(part, str) and not best:
            best = [part]  # a required key that is missing
        return best

    return ".".join(walk(data, loc))


def _format_error(path: Path, data: Any, exc: ValidationError) -> str:
    lines: list[str] = []
    for error in exc.errors():
        where = _yaml_path(data, tuple(error["loc"]), missing=error["type"] == "missing")
        message = str(error["msg"]).removeprefix("Value error, ")
        got = error.get("input")
        shown = "" if isinstance(got, dict | list) or not where else f" (got {got!r})"
        line = f"  - {where}: {message}{shown}" if where else f"  - {message}"
        if line not in lines:
            lines.append(line)
    return "\n".join([f"{path}: invalid rubric ({len(lines)} problem(s))", *lines])


def read_rubric_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RubricError(f"{path}: cannot read rubric ({exc.strerror})") from exc


def load_rubric_file(path: Path) -> Assignment:
    return load_rubric_bytes(path, read_rubric_bytes(path))


def load_rubric_bytes(path: Path, raw: bytes) -> Assignment:
    """The rubric `path` whose bytes are `raw` (read once by the caller: what it hashed is
    what is validated), parsed and validated in full."""
    import yaml
    from pydantic import ValidationError

    from autograde.rubric.local_refs import resolve_local_specs
    from autograde.rubric.schema import Rubric

    try:  # libyaml's safe loader when PyYAML has it: the same data as yaml.safe_load, faster
        data = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        try:  # the pure-Python parser again: its message quotes the offending line
            data = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise RubricError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RubricError(f"{path}: a rubric must be a mapping with keys schema, assignment, tasks")
    if data.get("schema") not in (1, None):
        raise RubricError(
            f"{path}: schema: version {data.get('schema')!r} is not supported (this autograde reads schema 1)"
        )
    data = resolve_local_specs(data, path)  # `solution_code.py:loss`: a module of this folder
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as exc:
        raise RubricError(_format_error(path, data, exc)) from None
    assignment = Assignment(rubric, path.parent, hashlib.sha256(raw).hexdigest()[:16])
    if rubric.files:
        from autograde.rubric.support import support_files  # it imports this module

        support_files(assignment)  # each exists inside the folder and is no secret of it
    return assignment


def ensure_reference_importable(library: Path) -> None:
    """The reference package sits beside the rubric folder `library`, in the course library's
    root: that root goes first on sys.path (host only, never in a sandbox). A rubric folder
    without a reference/ beside it (a copy of some rubrics, `--rubrics DIR`) uses the default
    library's. The one way `reference` becomes importable: it is never installed."""
    candidates = [library]
    with contextlib.suppress(RubricError):
        candidates.append(default_library())
    for rubrics in candidates:
        root = rubrics.resolve().parent
        if (root / "reference").is_dir():
            if str(root) not in sys.path:
                sys.path.insert(0, str(root))
            return


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
