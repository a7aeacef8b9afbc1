"""Helpers of the notebook builder: cells to notebooks, deterministically.

A cell is `(kind, source, tag)`: kind "md" or "code"; tag None for an untagged cell.
Output is deterministic (fixed cell ids, no outputs), so regenerating gives byte-identical
files, and `tests/unit/test_notebooks_built.py` can tell a hand-edited notebook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat
from nbformat import v4

from autograde.authoring.master.selfcheck_cells import self_check_places, self_check_source

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
LANGUAGE_INFO = {"name": "python"}

Cell = tuple[str, str, str | None]


def build(cells: Sequence[Cell], *, metadata: bool = True) -> nbformat.NotebookNode:
    nb = v4.new_notebook()
    for index, (kind, source, tag) in enumerate(cells):
        cell_id = f"{index:02d}-{tag or kind}"
        meta: dict[str, Any] = {"tags": [tag]} if tag else {}
        if kind == "md":
            nb.cells.append(v4.new_markdown_cell(source.strip("\n"), id=cell_id, metadata=meta))
        elif kind == "code":
            nb.cells.append(v4.new_code_cell(source.strip("\n"), id=cell_id, metadata=meta))
        else:
            raise ValueError(f"cell {index}: kind must be 'md' or 'code', not {kind!r}")
    nb.metadata = (
        {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)} if metadata else {}
    )
    nbformat.validate(nb)
    return nb


def text(nb: nbformat.NotebookNode) -> str:
    out = nbformat.writes(nb)
    return out if out.endswith("\n") else out + "\n"


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text(nb), encoding="utf-8")


def replace(cells: Sequence[Cell], overrides: Mapping[str, str]) -> list[Cell]:
    """Swap the source of the cells whose tag is in `overrides`."""
    unknown = set(overrides) - {tag for _, _, tag in cells}
    if unknown:
        raise KeyError(f"no cells tagged {sorted(unknown)}")
    return [(kind, overrides.get(tag, src) if tag else src, tag) for kind, src, tag in cells]


def check_mutants(base: Sequence[Cell], mutants: Mapping[str, Mapping[str, str]]) -> None:
    sources = {tag: src for _, src, tag in base if tag}
    for name, overrides in mutants.items():
        for tag, src in overrides.items():
            if src == sources.get(tag):
                raise ValueError(f"mutant {name}: cell {tag!r} is unchanged")


def with_self_checks(cells: Sequence[Cell], tasks: Sequence[tuple[str, set[str]]]) -> list[Cell]:
    """The cells with a self-check cell after the last code cell of each task (by its tags)."""
    last = self_check_places([[tag] if tag else [] for _, _, tag in cells], tasks)
    out: list[Cell] = []
    for index, cell in enumerate(cells):
        out.append(cell)
        if index in last:
            out.append(("code", self_check_source(last[index]), None))
    return out


def assignment_notebooks(
    cells: Sequence[Cell],
    template: Mapping[str, str],
    mutants: Mapping[str, Mapping[str, str]],
    tasks: Sequence[tuple[str, set[str]]] = (),
) -> dict[str, nbformat.NotebookNode]:
    """Every notebook of one assignment folder, by path relative to the folder. `tasks`
    (public task id, its answer-cell tags) puts a self-check cell after each task in the
    template."""
    check_mutants(cells, mutants)
    notebooks = {
        "solution.ipynb": build(cells),
        "template.ipynb": build(with_self_checks(replace(cells, template), tasks)),
    }
    for name, overrides in mutants.items():
        notebooks[f"mutants/{name}.ipynb"] = build(replace(cells, overrides))
    return notebooks
