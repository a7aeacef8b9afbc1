"""nbgrader's release rule (`nbgrader generate_assignment`), cell by cell: the student's version
of a source notebook and the instructor's solution.

Student version, as nbgrader makes it: each `### BEGIN SOLUTION` region becomes the code stub
at the indentation of its BEGIN line; a `solution: true` cell without markers is replaced
whole (code: the stub; markdown: `YOUR ANSWER HERE`); `### BEGIN HIDDEN TESTS` regions leave
test cells; `=== BEGIN MARK SCHEME ===` blocks leave task cells; outputs are cleared. nbgrader
cells keep their metadata (migrated to schema 3) and gain `deletable: false`, read-only, test
and task cells also `editable: false`, and each gains its grade id as a tag (our cells match
by tag). nbgrader's header notebook and its md5 checksums are not added.
Solution version: solution markers and hidden-test markers removed (their code kept).
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from autograde.authoring.markers import (
    NBGRADER_STUB,
    Cleared,
    MarkerError,
    Place,
    SplitTests,
    clear_solutions,
    split_blocks,
    split_hidden_tests,
)
from autograde.authoring.nbgrader.cells import SCHEMA_VERSION, NbgraderCell, where

TEXT_STUB = "YOUR ANSWER HERE"
_BEGIN_SCHEME = re.compile(r"=== BEGIN MARK SCHEME ===")
_END_SCHEME = re.compile(r"=== END MARK SCHEME ===")
_HIDDEN = re.compile(r"#+\s*(BEGIN|END) HIDDEN TESTS\b")
_AUTOTEST = re.compile(r"^\s*###\s*(HASHED\s+)?AUTOTEST\b")
_REGION_BEGIN = re.compile(r"^\s*#+\s*BEGIN SOLUTION\b")


@dataclass
class ReleasedCell:
    """Both versions of one nbgrader cell, and what the importer must know about it."""

    role: NbgraderCell
    student: str
    solution: str
    tests: SplitTests | None = None  # test cells: public and full code
    autotest_lines: list[int] = field(default_factory=list)  # 1-based lines of AUTOTEST directives
    answer_names: list[str] = field(default_factory=list)  # names the solution regions assign


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def strip_mark_scheme(source: str, place: str) -> str:
    """A task cell without its `=== BEGIN MARK SCHEME ===` ... `=== END MARK SCHEME ===` blocks."""
    kept, _, _ = split_blocks(
        source, _BEGIN_SCHEME, _END_SCHEME, "MARK SCHEME", lambda n: f"{place}, line {n}"
    )
    return "\n".join(kept)


def region_names(cleared: Cleared) -> list[str]:
    """The names the solution regions of a code cell assign or define, in order (a region
    inside a loop or function body is read dedented)."""
    names: list[str] = []
    for body in cleared.bodies:
        try:
            tree = ast.parse(body)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                name = node.id
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = node.name
            else:
                continue
            if name not in names:
                names.append(name)
    return names


def compiles(source: str) -> bool:
    """Whether a code cell compiles as the kernel would run it (IPython magics transformed)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        python = TransformerManager().transform_cell(source)  # type: ignore[no-untyped-call]
    except ImportError:  # without IPython: magics and shell lines read as comments
        python = "\n".join(
            "#" + line if line.lstrip()[:1] in ("%", "!") else line for line in source.splitlines()
        )
    try:
        compile(python, "<cell>", "exec", dont_inherit=True)
    except SyntaxError:
        return False
    return True


def release_cell(
    cell: Any, number: int, role: NbgraderCell | None, notebook: str, code_stub: Sequence[str], text_stub: str
) -> ReleasedCell | None:
    """The two versions of one nbgrader cell; None for an ordinary cell (kept as it is, but a
    marker in it is an error, as in nbgrader)."""
    source = _source(cell)
    lines = source.splitlines()
    named = where(notebook, number, role.grade_id if role else None)
    if any(_REGION_BEGIN.match(line) for line in lines) and not (role and role.solution):
        raise MarkerError(f"{named}: a solution region in a cell that is not a solution cell")
    if _HIDDEN.search(source) and not (role and role.is_test):
        raise MarkerError(f"{named}: a hidden-test region in a cell that is not a test cell")
    if (_BEGIN_SCHEME.search(source) or _END_SCHEME.search(source)) and not (role and role.task):
        raise MarkerError(f"{named}: a MARK SCHEME block in a cell that is not a task cell")
    if role is None:
        return None
    place = Place(notebook, number)
    released = ReleasedCell(role, source, source)
    if role.solution:
        stub = code_stub if role.cell_type == "code" else (text_stub,)
        cleared = clear_solutions(source, place, stub)
        if cleared.regions:
            released.student, released.solution = cleared.student, cleared.solution
        else:
            released.student = "\n".join(stub)
        if role.cell_type == "code":
            released.answer_names = region_names(cleared)
    elif role.is_test:
        released.tests = split_hidden_tests(source, place)
        released.student, released.solution = released.tests.public, released.tests.full
        released.autotest_lines = [
            line_no for line_no, line in enumerate(lines, start=1) if _AUTOTEST.match(line)
        ]
    elif role.task:
        released.student = strip_mark_scheme(source, named)
    return released


def nbgrader_metadata(cell: Any, role: NbgraderCell) -> dict[str, Any]:
    """The cell's nbgrader metadata as schema 3 (a migrated cell's is rewritten)."""
    meta: dict[str, Any] = copy.deepcopy(cell.metadata.get("nbgrader", {}))
    meta.update(
        grade=role.grade,
        grade_id=role.grade_id,
        locked=role.locked,
        solution=role.solution,
        schema_version=SCHEMA_VERSION,
    )
    if role.task or "task" in meta:
        meta["task"] = role.task
    if role.points is not None:
        stored = meta.get("points")
        meta["points"] = (
            stored if isinstance(stored, int | float) and not isinstance(stored, bool) else role.points
        )
    else:
        meta.pop("points", None)
    meta["cell_type"] = role.cell_type
    meta.pop("checksum", None)  # nbgrader's md5 of the source it released; ours differs
    return dict(sorted(meta.items()))


def shaped(cell: Any, role: NbgraderCell | None, source: str | None) -> Any:
    """A copy of the cell with the given source (None: unchanged), outputs cleared, and for an
    nbgrader cell its metadata, flags and grade-id tag."""
    out = copy.deepcopy(cell)
    if source is not None:
        out.source = source
    if out.cell_type == "code":
        out.outputs = []
        out.execution_count = None
    if role is None:
        return out
    out.metadata["nbgrader"] = nbgrader_metadata(cell, role)
    out.metadata["deletable"] = False
    if role.read_only:
        out.metadata["editable"] = False
    else:
        out.metadata.pop("editable", None)
    tags = list(out.metadata.get("tags", []))
    if role.grade_id not in tags:
        out.metadata["tags"] = [*tags, role.grade_id]
    return out


__all__ = ["NBGRADER_STUB", "TEXT_STUB", "ReleasedCell", "compiles", "release_cell", "shaped"]
