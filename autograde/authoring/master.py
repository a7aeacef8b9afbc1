"""(being written)"""

from __future__ import annotations

from pathlib import Path

from autograde.authoring.draft import Draft


def assign_master(source: Path, assignment: str) -> Draft:
    raise NotImplementedError
