"""Repair: parsed JSON becomes a valid nbformat 4.5 notebook, or the reason it cannot.

A student's saved outputs and attachments never cost a grade: they are dropped before
anything is checked. Older versions are converted by nbformat as Jupyter does when it opens
a file (3 -> 4); each cell is then rebuilt with nbformat's own constructors from the fields a
grader needs (type, source, metadata, id), so unknown keys and "future" additions fall away.
What can be repaired without guessing is repaired with a note (missing or duplicate ids,
missing source or metadata, unknown cell types kept as raw cells that never run, metadata
that nbformat's schema refuses); what cannot (a cell that is no object, a source that is no
text) is rejected with the reason. nbformat's validator has the last word.
"""

from __future__ import annotations

import json
import re
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import nbformat
from nbformat import v4

from autograde.errors import NotANotebook, SubmissionTooLarge

MAX_CELLS = 2000
MAX_DEPTH = 64  # metadata nested deeper is dropped: deep copies of it would exhaust the stack
CELL_KEYS = {"id", "cell_type", "metadata", "source", "outputs", "execution_count", "attachments"}
TOP_KEYS = {"cells", "metadata", "nbformat", "nbformat_minor"}
# the 4.5 schema's `cell_id` (nbformat/v4/nbformat.v4.5.schema.json)
CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
KERNEL_KEYS = ("kernelspec", "language_info")  # replaced by the grader's own kernel


@dataclass
class Rebuilt:
    nb: Any  # nbformat.NotebookNode, version 4.5, valid
    notes: list[str]
    kernelspec: Any  # what the student's file declared, for the kernel note
    language: Any


@dataclass
class _Repairs:
    """Repairs grouped by kind, so a notebook with 40 source-less cells gets one note."""

    cells: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    notes: list[str] = field(default_factory=list)

    def cell(self, number: int, what: str) -> None:
        if number not in self.cells[what]:
            self.cells[what].append(number)

    def render(self) -> list[str]:
        out = list(self.notes)
        for what, numbers in self.cells.items():
            shown = ", ".join(str(n) for n in numbers[:10])
            more = f" and {len(numbers) - 10} more" if len(numbers) > 10 else ""
            out.append(f"{'cell' if len(numbers) == 1 else 'cells'} {shown}{more}: {what}")
        return out


def show(value: Any, width: int = 40) -> str:
    """A short repr for a note: student data may be huge."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def rebuild(data: Any, name: str) -> Rebuilt:
    """The notebook of a parsed upload, repaired; NotANotebook when it cannot be."""
    if not isinstance(data, dict) or "nbformat" not in data:
        raise NotANotebook(f"{name}: JSON but not a Jupyter notebook (no nbformat version)")
    repairs = _Repairs()
    version = data["nbformat"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise NotANotebook(f"{name}: nbformat {show(version)} is not a version number")
    if version > 4:
        raise NotANotebook(f"{name}: nbformat {version}; this grader reads versions up to 4")
    if version < 4:
        data = _convert(data, version, name, repairs)
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise NotANotebook(f"{name}: JSON but not a Jupyter notebook (`cells` is not a list)")
    if len(cells) > MAX_CELLS:
        raise SubmissionTooLarge(f"{name}: {len(cells)} cells, over the limit of {MAX_CELLS}")
    minor = data.get("nbformat_minor") if version == 4 else v4.nbformat_minor
    if version == 4:
        _minor(minor, repairs)
    unknown = sorted(str(key) for key in data if key not in TOP_KEYS)
    if unknown and version == 4:
        repairs.notes.append(f"top-level keys nbformat 4 does not know were ignored: {show(unknown, 80)}")
    metadata = _metadata(data.get("metadata"), "the notebook's metadata", repairs.notes)
    kernel = {key: metadata.pop(key, None) for key in KERNEL_KEYS}
    nb = v4.new_notebook()
    nb.metadata = nbformat.from_dict(metadata)
    nb.cells = [_cell(raw, number, name, repairs) for number, raw in enumerate(cells, start=1)]
    has_ids = version == 4 and isinstance(minor, int) and minor >= 5
    _ids(nb.cells, [raw.get("id") for raw in cells], has_ids, repairs)
    _validate(nb, name, repairs)
    language = kernel["language_info"].get("name") if isinstance(kernel["language_info"], dict) else None
    return Rebuilt(nb, repairs.render(), kernel["kernelspec"], language)


def _convert(data: dict[str, Any], version: int, name: str, repairs: _Repairs) -> dict[str, Any]:
    """Versions 1-3 through nbformat's own converters, saved outputs dropped first."""
    worksheets = data.get("worksheets")
    for sheet in worksheets if isinstance(worksheets, list) else []:
        for cell in sheet.get("cells", []) if isinstance(sheet, dict) else []:
            if isinstance(cell, dict) and "outputs" in cell:
                cell["outputs"] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            old = nbformat.reader.reads(json.dumps(data))  # joins v3's lists of lines
            converted = nbformat.convert(old, 4)
    except Exception as exc:  # nbformat's converters assume a well-formed old notebook
        raise NotANotebook(
            f"{name}: nbformat {version} file that nbformat cannot convert to version 4 "
            f"({type(exc).__name__}: {show(str(exc), 120)})"
        ) from None
    repairs.notes.append(
        f"saved as nbformat {version}; converted to nbformat 4 by nbformat, as Jupyter does when it opens it"
    )
    converted["metadata"].pop("orig_nbformat", None)
    converted["metadata"].pop("orig_nbformat_minor", None)
    return dict(converted)


def _minor(minor: Any, repairs: _Repairs) -> None:
    if isinstance(minor, bool) or not isinstance(minor, int):
        repairs.notes.append(f"nbformat_minor {show(minor)} is not a number; read as 4.{v4.nbformat_minor}")
    elif minor > v4.nbformat_minor:
        repairs.notes.append(
            f"saved as nbformat 4.{minor}, newer than the 4.{v4.nbformat_minor} this grader knows; "
            f"read as 4.{v4.nbformat_minor}, what 4.{v4.nbformat_minor} does not know ignored"
        )


def _metadata(value: Any, where: str, notes: list[str]) -> dict[str, Any]:
    """A metadata object: missing becomes {}; no object, or entries nested too deeply, dropped."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        notes.append(f"{where} was {kind(value)}, not an object; it was ignored")
        return {}
    deep = [key for key, item in value.items() if _too_deep(item, MAX_DEPTH)]
    if deep:
        notes.append(f"{where}: {show(deep, 80)} nested over {MAX_DEPTH} levels deep, ignored")
    return {key: item for key, item in value.items() if key not in deep}


def _too_deep(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def _cell(raw: Any, number: int, name: str, repairs: _Repairs) -> Any:
    if not isinstance(raw, dict):
        raise NotANotebook(f"{name}: cell {number} is {kind(raw)}, not a notebook cell")
    source = _source(raw, number, name, repairs)
    notes: list[str] = []
    metadata = _metadata(raw.get("metadata"), "metadata", notes)
    for note in notes:
        repairs.cell(number, note)
    if "metadata" not in raw:
        repairs.cell(number, "no metadata; read as empty")
    metadata["tags"] = _tags(metadata.get("tags"), number, repairs)
    cell_type = raw.get("cell_type")
    if cell_type == "code":
        cell = v4.new_code_cell(source)  # outputs [] and execution_count None
    elif cell_type == "markdown":
        cell = v4.new_markdown_cell(source)  # attachments dropped, like outputs
    elif cell_type == "raw":
        cell = v4.new_raw_cell(source)
    else:
        repairs.cell(number, f"unknown cell type {show(cell_type)}; kept as a raw cell, never run")
        cell = v4.new_raw_cell(source)
    cell.metadata = nbformat.from_dict(metadata)
    unknown = sorted(str(key) for key in raw if key not in CELL_KEYS)
    if unknown:
        repairs.cell(number, f"keys nbformat 4 does not know ignored ({show(unknown, 60)})")
    return cell


def _source(raw: dict[str, Any], number: int, name: str, repairs: _Repairs) -> str:
    source = raw.get("source")
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)  # Jupyter stores sources as lists of lines
    if source is None:
        repairs.cell(number, "no source; read as empty")
        return ""
    what = "a list holding something other than text" if isinstance(source, list) else kind(source)
    raise NotANotebook(f"{name}: cell {number}: its source is {what}, not text")


def _tags(tags: Any, number: int, repairs: _Repairs) -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list):
        repairs.cell(number, f"tags were {kind(tags)}, not a list; ignored")
        return []
    kept = [tag for tag in tags if isinstance(tag, str) and tag and "," not in tag]
    if len(kept) != len(tags):
        repairs.cell(number, "tags that are not text without commas ignored")
    return kept


def _ids(cells: list[Any], raw_ids: list[Any], has_ids: bool, repairs: _Repairs) -> None:
    """Keep the file's ids where valid and unique; nbformat's constructors gave the rest new ones.
    Files older than 4.5 have no ids: nothing to note."""
    seen: set[str] = set()
    for number, (cell, raw_id) in enumerate(zip(cells, raw_ids, strict=True), start=1):
        if isinstance(raw_id, str) and CELL_ID.fullmatch(raw_id) and raw_id not in seen:
            cell.id = raw_id
        elif raw_id is not None and not (isinstance(raw_id, str) and CELL_ID.fullmatch(raw_id)):
            repairs.cell(number, f"id {show(raw_id)} is not a valid cell id; a new one was given")
        elif raw_id is not None:
            repairs.cell(number, f"id {show(raw_id)} repeats an earlier cell's; a new one was given")
        elif has_ids:
            repairs.cell(number, "no id; a new one was given")
        seen.add(cell.id)


def _validate(nb: Any, name: str, repairs: _Repairs) -> None:
    """nbformat's validator on the rebuilt notebook; metadata entries it refuses are dropped
    (metadata never changes what runs), anything else rejects the file."""
    try:
        nbformat.validate(nb)
        return
    except nbformat.ValidationError:
        pass
    for number, cell in enumerate(nb.cells, start=1):
        check = partial(nbformat.validate, cell, ref=f"{cell.cell_type}_cell", version=4)
        for key in _refused_metadata(cell, check):
            repairs.cell(number, f"metadata {show(key)} refused by nbformat's schema; ignored")
    for key in _refused_metadata(nb, partial(nbformat.validate, nb)):
        repairs.notes.append(f"notebook metadata {show(key)} refused by nbformat's schema; ignored")
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotANotebook(f"{name}: not a valid nbformat 4 notebook: {first[:300]}") from None


def _refused_metadata(node: Any, validate: Callable[[], None]) -> list[str]:
    """Drop, one by one, the metadata entries `validate` refuses; stop at an error elsewhere."""
    dropped: list[str] = []
    for _ in range(len(node.metadata) + 1):
        try:
            validate()
            break
        except nbformat.ValidationError as exc:
            path = list(exc.relative_path)
            if len(path) < 2 or path[0] != "metadata" or path[1] not in node.metadata:
                break
            del node.metadata[path[1]]
            dropped.append(str(path[1]))
    return dropped
