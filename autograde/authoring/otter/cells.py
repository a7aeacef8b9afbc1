"""Cells of the notebooks an otter import writes: copies without outputs and otter's tags,
answer cells tagged with their task id, the student's version of a code cell."""

from __future__ import annotations

import re
from typing import Any

import nbformat

from autograde.authoring.markers import OTTER_STUB, Place, clear_solutions
from autograde.authoring.otter.cases import remove_ignored_lines

MD_PROMPT = "_Type your answer here, replacing this text._"  # otter's default written-answer prompt
_OTTER_TAGS = {"otter_include", "otter_answer_cell", "otter_assign_solution_cell", "otter_ignore"}
_KEPT_METADATA = ("tags", "slideshow")


def task_id(name: str) -> str:
    """A rubric task id from an otter question name (`q1.1` -> `q1_1`)."""
    ident = re.sub(r"\W+", "_", name).strip("_")
    return ident if ident and not ident[0].isdigit() else f"q_{ident}"


def source_of(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def copy_cell(cell: Any, source: str | None = None, tag: str | None = None) -> Any:
    """A fresh cell of the same type: the source (or `source`), no outputs, no otter or
    nbgrader metadata, tagged `tag` when given."""
    text = source_of(cell) if source is None else source
    kind = cell.get("cell_type")
    if kind == "code":
        out = nbformat.v4.new_code_cell(text)
    elif kind == "raw":
        out = nbformat.v4.new_raw_cell(text)
    else:
        out = nbformat.v4.new_markdown_cell(text)
    metadata = cell.get("metadata", {})
    for key in _KEPT_METADATA:
        if key in metadata:
            out.metadata[key] = metadata[key]
    tags = [t for t in out.metadata.get("tags", []) if t not in _OTTER_TAGS]
    if tag and tag not in tags:
        tags.append(tag)
    if tags:
        out.metadata["tags"] = tags
    else:
        out.metadata.pop("tags", None)
    return out


def has_tag(cell: Any, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def without_seed_lines(source: str) -> str:
    """The student's version drops otter's `# SEED` lines (the grader seeds, not the student)."""
    return "\n".join(line for line in source.splitlines() if not line.rstrip().endswith("# SEED"))


def code_versions(cell: Any, place: Place, markers: bool) -> tuple[str, str]:
    """(student, solution) sources of a code cell: `# IGNORE` lines removed from both, `# SEED`
    lines from the student's, and, in a solution block (`markers`), solutions cleared."""
    source = "\n".join(remove_ignored_lines(source_of(cell).splitlines(), place))
    if not markers:
        return without_seed_lines(source), source
    cleared = clear_solutions(source, place, OTTER_STUB)
    return without_seed_lines(cleared.student), cleared.solution
