"""Ingest: an uploaded file becomes a notebook ready for the sandbox, or a clear verdict.

Size and shape caps apply before and after parsing; the file is read once and never
executed here. The grader's own Python kernel is always used; a missing or foreign
kernelspec is reported, not trusted.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from papermill.parameterize import parameterize_notebook

from autograde.errors import NotANotebook, SubmissionTooLarge

MAX_NOTEBOOK_BYTES = 20 * 2**20
MAX_CELLS = 2000
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
    if path.is_symlink():
        raise NotANotebook(f"{path.name}: is a symbolic link; links are never followed")
    if not path.is_file():
        raise NotANotebook(f"{path.name}: not a regular file")
    size = path.stat().st_size
    if size > max_bytes:
        raise SubmissionTooLarge(f"{path.name}: {size} bytes, over the limit of {max_bytes}")
    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise NotANotebook(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise NotANotebook(
            f"{path.name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise NotANotebook(f"{path.name}: JSON nested too deeply") from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise NotANotebook(f"{path.name}: JSON but not a Jupyter notebook (no nbformat version)")
    if data.get("nbformat") != 4:
        raise NotANotebook(f"{path.name}: nbformat {data.get('nbformat')!r}; only version 4 is accepted")
    if not isinstance(data.get("cells"), list):
        raise NotANotebook(f"{path.name}: JSON but not a Jupyter notebook (`cells` is not a list)")
    if len(data["cells"]) > MAX_CELLS:
        raise SubmissionTooLarge(f"{path.name}: {len(data['cells'])} cells, over the limit of {MAX_CELLS}")
    try:
        nb = nbformat.from_dict(data)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat.ValidationError and malformed structures
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotANotebook(f"{path.name}: not a valid nbformat 4 notebook: {first[:300]}") from None
    return Submission(path, student_id(path), nb, notes=_normalise(nb))


def _normalise(nb: Any) -> list[str]:
    """Clear outputs, number cells, force the grader's kernel; report what was changed."""
    notes = []
    spec = nb.metadata.get("kernelspec")
    language = (nb.metadata.get("language_info") or {}).get("name")
    if not spec:
        notes.append("the notebook declares no kernel; it was run on the grader's Python 3 kernel")
    elif spec.get("language", language or "python") != "python" or not str(spec.get("name", "")).startswith(
        "python"
    ):
        notes.append(
            f"the notebook asks for kernel {spec.get('name')!r} "
            f"({spec.get('language', language)}); it was run on the grader's Python 3 kernel"
        )
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for number, cell in enumerate(nb.cells, start=1):
        cell.metadata["autograde"] = {"cell": number}
        if isinstance(cell.source, list):  # Jupyter stores sources as lists of lines
            cell.source = "".join(str(part) for part in cell.source)
        tags = cell.metadata.get("tags")
        cell.metadata["tags"] = [str(t) for t in tags] if isinstance(tags, list) else []
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return notes


def parameterize(sub: Submission, parameters: dict[str, Any]) -> Any:
    """Inject the grading parameters with papermill, after the cell tagged `parameters`."""
    nb = sub.nb
    if not any("parameters" in cell.metadata.get("tags", []) for cell in nb.cells):
        sub.notes.append(
            "no cell is tagged `parameters`; the grading parameters were injected at the top of the notebook"
        )
    nb.metadata.setdefault("papermill", {})
    logging.getLogger("papermill").setLevel(logging.ERROR)
    return parameterize_notebook(nb, parameters, kernel_name="python3", language="python")


def tagged_source(nb: Any, tag: str) -> str | None:
    sources = [cell.source for cell in nb.cells if tag in cell.metadata.get("tags", [])]
    return "\n\n".join(sources) if sources else None
