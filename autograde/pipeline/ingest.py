"""Ingest: an uploaded file becomes a notebook ready for the sandbox, or a clear verdict.

Size and shape caps apply before and after parsing; the file is read once and never
executed here. Saved outputs are dropped and what can be repaired without guessing is
repaired (`autograde.pipeline.repair`), each with a note. The grader's own Python kernel is
always used; a missing or foreign kernelspec is reported, not trusted.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograde.errors import NotANotebook, SubmissionTooLarge
from autograde.pipeline.inject import inject_parameters
from autograde.pipeline.repair import kind, rebuild, show

MAX_NOTEBOOK_BYTES = 20 * 2**20
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (autograde)", "language": "python"}


@dataclass
class Submission:
    path: Path
    student: str
    nb: Any  # nbformat.NotebookNode, outputs cleared, cells numbered
    notes: list[str] = field(default_factory=list)


def safe_id(text: str) -> str:
    """NFKC (unicode look-alikes fold to one form), ASCII-safe, no path parts, at most 100."""
    folded = unicodedata.normalize("NFKC", text)
    safe = re.sub(r"[^A-Za-z0-9_.@-]+", "_", folded).strip("._") or "unnamed"
    return safe[:100]


def student_id(path: Path) -> str:
    """A safe, stable id from an upload name."""
    name = unicodedata.normalize("NFKC", path.name)
    return safe_id(name[: -len(".ipynb")] if name.lower().endswith(".ipynb") else name)


def read_notebook(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> Submission:
    """Read, repair and validate one upload; NotANotebook / SubmissionTooLarge name the file."""
    if path.is_symlink():
        raise NotANotebook(f"{path.name}: is a symbolic link; links are never followed")
    if not path.is_file():
        raise NotANotebook(f"{path.name}: not a regular file")
    size = path.stat().st_size
    if size > max_bytes:
        raise SubmissionTooLarge(f"{path.name}: {size} bytes, over the limit of {max_bytes}")
    notes: list[str] = []
    data = parse_json(path.name, path.read_bytes(), notes)
    rebuilt = rebuild(data, path.name)
    nb = rebuilt.nb
    _check_text(nb, path.name)
    notes += rebuilt.notes
    note = kernel_note(rebuilt.kernelspec, rebuilt.language)
    if note:
        notes.append(note)
    tag_grade_ids(nb)
    _normalise(nb)
    return Submission(path, student_id(path), nb, notes=notes)


def parse_json(name: str, raw: bytes, notes: list[str]) -> Any:
    """UTF-8 JSON (a UTF-8 byte-order mark is accepted, with a note); anything else is refused."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
        notes.append("the file starts with a UTF-8 byte-order mark (as some Windows editors write); ignored")
    elif raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise NotANotebook(f"{name}: UTF-32 text; notebooks are UTF-8 (save it again as UTF-8)")
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise NotANotebook(f"{name}: UTF-16 text; notebooks are UTF-8 (save it again as UTF-8)")
    elif b"\x00" in raw[:4]:
        raise NotANotebook(f"{name}: NUL bytes, as in UTF-16 or UTF-32 text; notebooks are UTF-8")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise NotANotebook(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise NotANotebook(f"{name}: not valid JSON ({where}: {exc.msg})") from None
    except RecursionError:
        raise NotANotebook(f"{name}: JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise NotANotebook(f"{name}: not valid JSON ({str(exc)[:200]})") from None


def _check_text(nb: Any, name: str) -> None:
    """JSON may escape lone surrogates, which no UTF-8 file can hold: the staged copy could not be written."""
    try:
        json.dumps(nb, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = ascii(exc.object[exc.start : exc.end])
        raise NotANotebook(
            f"{name}: holds text that is not valid Unicode (a lone surrogate, {bad})"
        ) from None


def kernel_note(spec: Any, language: Any) -> str | None:
    """Why the notebook's declared kernel is not the one it ran on, if it is not a Python one."""
    grader = "it was run on the grader's Python 3 kernel"
    if not spec:
        return f"the notebook declares no kernel; {grader}"
    if not isinstance(spec, dict):
        return f"the notebook's kernelspec is {kind(spec)}, not an object; {grader}"
    declared = spec.get("language", language or "python")
    if declared != "python" or not str(spec.get("name", "")).startswith("python"):
        return f"the notebook asks for kernel {show(spec.get('name'))} ({str(declared)[:40]}); {grader}"
    return None


def tag_grade_ids(nb: Any) -> None:
    """An nbgrader cell (`metadata.nbgrader.grade_id`) carries its grade id as a tag too, so that
    nbgrader-released notebooks match by tag everywhere (answers, manual and locked cells)."""
    for cell in nb.cells:
        nbgrader = cell.metadata.get("nbgrader")
        grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
        if not isinstance(grade_id, str) or not grade_id.strip() or "," in grade_id:
            continue
        tags = cell.metadata.get("tags")
        if not isinstance(tags, list):
            tags = cell.metadata["tags"] = []
        if grade_id not in tags:
            tags.append(grade_id)


def _normalise(nb: Any) -> None:
    """Number the cells (reports name cells by these numbers) and force the grader's kernel."""
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for number, cell in enumerate(nb.cells, start=1):
        cell.metadata["autograde"] = {"cell": number}


def parameterize(sub: Submission, parameters: dict[str, Any]) -> Any:
    """Inject the grading parameters after the cell tagged `parameters`: with papermill where
    it is installed (the grader), else with the same cell built here (a student's install)."""
    nb = sub.nb
    if not any("parameters" in cell.metadata.get("tags", []) for cell in nb.cells):
        sub.notes.append(
            "no cell is tagged `parameters`; the grading parameters were injected at the top of the notebook"
        )
    nb.metadata.setdefault("papermill", {})
    try:
        from papermill.parameterize import parameterize_notebook
    except ImportError:
        return inject_parameters(nb, parameters)
    logging.getLogger("papermill").setLevel(logging.ERROR)
    return parameterize_notebook(nb, parameters, kernel_name="python3", language="python")


def tagged_source(nb: Any, tag: str) -> str | None:
    sources = [cell.source for cell in nb.cells if tag in cell.metadata.get("tags", [])]
    return "\n\n".join(sources) if sources else None
