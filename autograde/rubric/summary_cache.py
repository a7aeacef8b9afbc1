"""What `autograde list` shows of a rubric (its tasks, points and check kinds), cached by content.

A full load parses the YAML and validates it against the schema and every check kind's
model (pydantic, numpy through the kinds' modules): most of the time `list` took. A summary
is made only from a rubric the loader (the one parser of rubrics) loaded in full, and kept
under a key that covers everything that load depended on: the rubric file's bytes, the
listing of its assignment folder (support files and local modules must exist; a notebook
name makes a file secret), and the engine's own code and its validation libraries. So an
edited rubric, a removed support file or an upgraded autograde is loaded in full again,
and an invalid rubric is never cached: it fails on every run, naming the file and field.

The cache lies in `$AUTOGRADE_CACHE`, else `$XDG_CACHE_HOME/autograde`, else
`~/.cache/autograde` (folder `rubric-summaries/`); a cache that cannot be read or written
only costs the full load. Standard library only, unless a rubric has to be loaded.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograde.rubric.loader import load_rubric_bytes, read_rubric_bytes

if TYPE_CHECKING:
    from autograde.rubric.schema import Rubric

FORMAT = b"autograde rubric summary 1"
FOLDER = "rubric-summaries"
KEEP = 512  # entries kept (the newest): each edit of a rubric or of the engine adds some


@dataclass(frozen=True)
class CheckSummary:
    kind: str
    weight: float


@dataclass(frozen=True)
class TaskSummary:
    id: str
    title: str | None
    points: float
    visible: str
    checks: tuple[CheckSummary, ...]


@dataclass(frozen=True)
class RubricSummary:
    """The fields of a `Rubric` that the assignment table shows, under the same names."""

    assignment: str
    title: str
    tasks: tuple[TaskSummary, ...]

    @property
    def max_points(self) -> float:
        return sum(task.points for task in self.tasks)

    @classmethod
    def of(cls, rubric: Rubric) -> RubricSummary:
        return cls(
            rubric.assignment,
            rubric.title,
            tuple(
                TaskSummary(
                    t.id,
                    t.title,
                    t.points,
                    t.visible,
                    tuple(CheckSummary(c.kind, c.weight) for c in t.checks),
                )
                for t in rubric.tasks
            ),
        )

    @classmethod
    def from_json(cls, data: Any) -> RubricSummary:
        """The summary written by `asdict`; a TypeError, KeyError or ValueError for anything else."""

        def text(value: Any, optional: bool = False) -> Any:
            if not (isinstance(value, str) or (optional and value is None)):
                raise TypeError(f"expected a string, got {value!r}")
            return value

        def number(value: Any) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"expected a number, got {value!r}")
            return float(value)

        return cls(
            text(data["assignment"]),
            text(data["title"]),
            tuple(
                TaskSummary(
                    text(t["id"]),
                    text(t["title"], optional=True),
                    number(t["points"]),
                    text(t["visible"]),
                    tuple(CheckSummary(text(c["kind"]), number(c["weight"])) for c in t["checks"]),
                )
                for t in data["tasks"]
            ),
        )


def cache_folder() -> Path:
    root = os.environ.get("AUTOGRADE_CACHE")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
        root = os.path.join(base, "autograde")
    return Path(root) / FOLDER


def _tree(folder: Path) -> list[str]:
    """Every entry under `folder` by relative path, with its type (and a link's target)."""
    lines: list[str] = []
    for top, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted([*dirs, *files]):
            path = os.path.join(top, name)
            relative = os.path.relpath(path, folder)
            if os.path.islink(path):
                lines.append(f"l {relative} -> {os.readlink(path)}")
            else:
                lines.append(
                    f"{'d' if os.path.isdir(path) else 'f' if os.path.isfile(path) else '?'} {relative}"
                )
    return lines


@functools.cache
def engine_fingerprint() -> str:
    """The engine's code (every module of the autograde package, by size and modification
    time), the Python version, and where PyYAML and pydantic are installed and when."""
    package = Path(__file__).resolve().parents[1]
    parts = [sys.version, str(package)]
    for top, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                stat = os.stat(os.path.join(top, name))
                parts.append(
                    f"{os.path.relpath(os.path.join(top, name), package)} {stat.st_size} {stat.st_mtime_ns}"
                )
    for library in ("yaml", "pydantic", "pydantic_core"):
        spec = importlib.util.find_spec(library)
        origin = spec.origin if spec is not None else None
        stat_text = ""
        if origin:
            with contextlib.suppress(OSError):
                stat = os.stat(origin)
                stat_text = f"{stat.st_size} {stat.st_mtime_ns}"
        parts.append(f"{library} {origin} {stat_text}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def summary_key(path: Path, raw: bytes) -> str:
    """The cache key of the rubric `path` whose bytes are `raw`."""
    folder = path.parent.resolve()
    digest = hashlib.sha256(FORMAT + b"\0" + engine_fingerprint().encode() + b"\0")
    digest.update("\n".join([str(folder), *_tree(folder)]).encode() + b"\0")
    digest.update(raw)
    return digest.hexdigest()


def _read(entry: Path) -> RubricSummary | None:
    try:
        return RubricSummary.from_json(json.loads(entry.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        return None  # absent, unreadable or not a summary: load the rubric


def _write(entry: Path, summary: RubricSummary) -> None:
    with contextlib.suppress(OSError):  # a cache that cannot be written costs the next full load
        entry.parent.mkdir(parents=True, exist_ok=True)
        temporary = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")  # then renamed: never half a file
        try:
            temporary.write_text(json.dumps(asdict(summary)), encoding="utf-8")
            os.replace(temporary, entry)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        _prune(entry.parent)


def _prune(folder: Path) -> None:
    """Remove all but the KEEP newest entries (a miss only: the cache is being written)."""
    entries = []
    for path in folder.glob("*.json"):
        with contextlib.suppress(OSError):
            entries.append((path.stat().st_mtime_ns, path))
    for _, path in sorted(entries, reverse=True)[KEEP:]:
        with contextlib.suppress(OSError):
            path.unlink()


def summarize(path: Path) -> RubricSummary:
    """The summary of the rubric file `path`: from the cache when nothing it depends on
    changed, else from a full load (a RubricError for an invalid rubric, never cached)."""
    raw = read_rubric_bytes(path)
    entry: Path | None = None
    with contextlib.suppress(OSError, RuntimeError):  # no home folder, say: no cache, the load decides
        entry = cache_folder() / f"{summary_key(path, raw)}.json"
    cached = _read(entry) if entry is not None else None
    if cached is not None:
        return cached
    summary = RubricSummary.of(load_rubric_bytes(path, raw).rubric)
    if entry is not None:
        _write(entry, summary)
    return summary
