"""An assignment folder before it is written: what `assign` and the importers produce.

`write_draft` writes it the same way every time (stable cell ids, sorted notebook keys, the
rubric's keys in the order given), so running a conversion twice gives the same files, and
it refuses to overwrite a folder it did not write. The rubric is validated by loading it
back: a draft that is not a valid assignment is a bug of its maker, never a silent file.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import yaml

from autograde.errors import AutogradeError

MADE_BY = "made-by.txt"  # marks a folder as written by a conversion (safe to overwrite)


class DraftError(AutogradeError):
    """The output folder cannot take the assignment (it holds other files)."""


@dataclass
class Draft:
    """One assignment folder: the rubric (plain data, keys in the order they are written),
    the student's template, the solution, support files, and what the conversion noted."""

    assignment: str
    rubric: dict[str, Any]
    template: Any  # nbformat.NotebookNode
    solution: Any
    source: str  # what it was made from, for the header of rubric.yaml and made-by.txt
    files: dict[str, bytes] = field(default_factory=dict)  # relative path -> content
    notebooks: dict[str, Any] = field(default_factory=dict)  # relative path -> notebook (mutants)
    notes: list[str] = field(default_factory=list)  # what did not convert, and why


def stable_ids(nb: Any) -> Any:
    """Number the cells' ids `cell-<n>`: nbformat's constructors draw random ones, and a
    conversion must give the same file every time."""
    for number, cell in enumerate(nb.cells, start=1):
        cell["id"] = f"cell-{number}"
    nb.nbformat, nb.nbformat_minor = 4, max(5, int(nb.get("nbformat_minor", 5)))
    return nb


def notebook_text(nb: Any) -> str:
    """The file's text: nbformat's own layout (sorted keys, one-space indent), valid."""
    stable_ids(nb)
    nbformat.validate(nb)
    text: str = nbformat.writes(nb)
    return text + "\n"


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (test code, descriptions) as literal `|` blocks, as a person writes them."""


def _string(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    literal = "\n" in text and not any(line != line.rstrip() for line in text.splitlines())
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if literal else None)


_Dumper.add_representer(str, _string)


def rubric_text(draft: Draft) -> str:
    header = (
        f"# Made by autograde from {draft.source}.\n"
        "# Edit the source and convert it again rather than this file.\n"
    )
    body = yaml.dump(draft.rubric, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return header + body


def _contents(draft: Draft) -> dict[str, bytes]:
    out = {
        "rubric.yaml": rubric_text(draft).encode(),
        "template.ipynb": notebook_text(draft.template).encode(),
        "solution.ipynb": notebook_text(draft.solution).encode(),
    }
    for name, nb in sorted(draft.notebooks.items()):
        out[name] = notebook_text(nb).encode()
    for name, data in sorted(draft.files.items()):
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise DraftError(f"{draft.source}: support file {name!r} is not inside the assignment folder")
        out[name] = data
    notes = "".join(f"- {note}\n" for note in draft.notes)
    out[MADE_BY] = f"{draft.source}\n{notes}".encode()
    return out


def _only_ours(out: Path, contents: dict[str, bytes]) -> bool:
    """Whether every file in `out` is one the draft writes, with the same bytes (a master
    notebook alone in the folder it is assigned into, say): writing loses nothing."""
    return all(
        contents.get(path.relative_to(out).as_posix()) == path.read_bytes()
        for path in out.rglob("*")
        if not path.is_dir()
    )


def write_draft(draft: Draft, out: Path) -> list[Path]:
    """Write the assignment folder `out` (created; a folder an earlier conversion wrote is
    replaced whole) and check that it loads. Returns the files written."""
    contents = _contents(draft)
    if out.exists():
        if not out.is_dir():
            raise DraftError(f"{out}: exists and is not a folder")
        if not (out / MADE_BY).is_file() and not _only_ours(out, contents):
            raise DraftError(
                f"{out}: the folder holds files that autograde did not write; choose an empty or new folder"
            )
    staging = out.with_name(f".{out.name}.writing")
    shutil.rmtree(staging, ignore_errors=True)
    written: list[Path] = []
    for name, data in contents.items():
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(out / name)
    from autograde.rubric.loader import load_rubric_file

    try:
        load_rubric_file(staging / "rubric.yaml")
    except AutogradeError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise type(exc)(str(exc).replace(str(staging), str(out))) from None
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return written
