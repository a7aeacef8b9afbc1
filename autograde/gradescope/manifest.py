"""manifest.json of a Gradescope archive: which assignment, which rubric (its digest), which
autograde, how setup.sh installs it, and every file the archive's library holds."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from autograde.errors import AutogradeError

MANIFEST = "manifest.json"
FORMAT = 1


@dataclass(frozen=True)
class Manifest:
    assignment: str
    rubric_digest: str  # Assignment.digest: sha256 of rubric.yaml, 16 hex digits
    autograde_version: str
    engine_wheel: str  # engine/<name>
    offline: bool  # wheels/ holds every dependency; setup.sh uses no index
    python: str = "3.11"
    wheels: list[str] = field(default_factory=list)
    library: list[str] = field(default_factory=list)  # library/<name>
    format: int = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


def read_manifest(path: Path) -> Manifest:
    """The manifest at `path`; an AutogradeError naming the file when it is missing or wrong."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AutogradeError(f"{path}: cannot read the archive's manifest ({exc.strerror})") from exc
    except ValueError as exc:
        raise AutogradeError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        got = data.get("format") if isinstance(data, dict) else None
        raise AutogradeError(f"{path}: manifest format {got!r} is not {FORMAT} (made by another autograde?)")
    try:
        return Manifest(**data)
    except TypeError as exc:
        raise AutogradeError(f"{path}: not an autograde manifest ({exc})") from exc
