"""(being written)"""

from __future__ import annotations

from pathlib import Path

from autograde.authoring.draft import Draft


def import_otter(source: Path, assignment: str) -> Draft:
    raise NotImplementedError
