"""ex02 with other settings, written to a folder of its own: its rubric.yaml with the changes
asked for (no mutants unless kept) and the host-side modules the rubric names beside it
(`solution_code.py`, made by `autograde assign` from ex02's master)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
EX02 = ROOT / "rubrics" / "ex02_gradient_descent"


def ex02_variant(folder: Path, limits: dict[str, Any] | None = None, keep_mutants: bool = False) -> Path:
    """Write the variant into `folder` (created); returns its rubric.yaml."""
    data = yaml.safe_load((EX02 / "rubric.yaml").read_text())
    if limits is not None:
        data["limits"] = limits
    if not keep_mutants:
        data["mutants"] = []
    folder.mkdir(parents=True, exist_ok=True)
    for module in EX02.glob("*.py"):
        shutil.copy(module, folder)
    path = folder / "rubric.yaml"
    path.write_text(yaml.safe_dump(data))
    return path
