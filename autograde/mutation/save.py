"""`rubric mutate --save`: chosen mutants become declared mutants of their assignment.

Each is written as `mutants/mut_<id>.ipynb` and appended to the `mutants:` list of rubric.yaml
with a description and the points it was measured to lose, so `autograde rubric test` checks
it from then on. rubric.yaml is edited as text (its comments stay). In a folder built from
`cells.py` by `rubrics/_build_notebooks.py`, the mutant is added to `cells.py` too (an entry
of `MUTANTS` with the mutated cell) and its notebook is built the way the builder builds it,
so rebuilding the library gives the same file.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import nbformat

from autograde.errors import AutogradeError
from autograde.mutation.operators import OPERATORS
from autograde.mutation.run import Mutant, mutant_notebook
from autograde.rubric import Assignment, load_rubric_file

BUILDER = "_build_notebooks.py"


def name_of(mutant: Mutant) -> str:
    return "mut_" + mutant.id.replace("-", "_")


def description(mutant: Mutant) -> str:
    return (
        f"generated ({OPERATORS[mutant.operator]}), cell {mutant.cell} line {mutant.line}: {mutant.changed}"
    )


def _number(value: float) -> str:
    return f"{value:g}"


def _key(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", text) else json.dumps(text)


def entry(notebook: str, mutant: Mutant, indent: str) -> str:
    loses = ", ".join(f"{_key(t)}: {_number(p)}" for t, p in mutant.loses.items())
    return (
        f"{indent}- notebook: {notebook}\n"
        f"{indent}  description: {json.dumps(description(mutant))}\n"
        f"{indent}  loses: {{{loses}}}\n"
    )


def append_mutants(text: str, entries: list[tuple[str, Mutant]]) -> str:
    """rubric.yaml's text with the entries added at the end of its top-level `mutants:` list
    (a new list at the end of the file if it has none); everything else kept as it is."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    head = next(
        (i for i, line in enumerate(lines) if re.match(r"mutants:\s*(\[\s*\])?\s*(#.*)?$", line)), None
    )
    if head is None:
        block = "".join(entry(nb, m, "  ") for nb, m in entries)
        return "".join(lines) + "mutants:\n" + block
    end, indent = head + 1, None
    for index in range(head + 1, len(lines)):
        line = lines[index]
        if line.strip() and not line[0].isspace() and not line.startswith("#"):
            break  # the next top-level key
        if line.strip() and not line.lstrip().startswith("#"):
            end = index + 1
            if indent is None and line.lstrip().startswith("- "):
                indent = line[: len(line) - len(line.lstrip())]
    lines[head] = "mutants:\n" if "[" in lines[head] else lines[head]
    block = "".join(entry(nb, m, indent if indent is not None else "  ") for nb, m in entries)
    return "".join(lines[:end]) + block + "".join(lines[end:])


def _load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise AutogradeError(f"{path}: cannot load it")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _literal(source: str) -> str:
    """A cells.py string literal whose value, stripped of newlines at both ends, is `source`."""
    if '"""' not in source and not source.endswith("\\"):
        return 'r"""\n' + source + '\n"""'
    return repr(source)


def _cells_entry(name: str, mutant: Mutant) -> str:
    literal = _literal(mutant.source)
    head = f"MUTANTS[{json.dumps(name)}] = {{  # saved by `autograde rubric mutate --save`"
    return f"\n{head}\n    {json.dumps(mutant.cell)}: {literal},\n}}\n"


def _built_notebook(folder: Path, name: str) -> str:
    """The mutant's notebook as the library builder makes it from cells.py."""
    sys.path.insert(0, str(folder.parent))
    try:
        tools = _load_module(folder.parent / "_nbtools.py", "_autograde_nbtools")
        cells = _load_module(folder / "cells.py", f"_autograde_cells_{folder.name}")
    finally:
        sys.path.remove(str(folder.parent))
    if name not in cells.MUTANTS:
        raise AutogradeError(f"{folder / 'cells.py'}: the mutant {name} did not reach MUTANTS")
    text: str = tools.text(tools.build(tools.replace(cells.CELLS, cells.MUTANTS[name])))
    return text


def save(assignment: Assignment, mutants: list[Mutant]) -> list[str]:
    """Write the graded mutants as declared mutants; returns their notebook paths. A mutant that
    lost nothing cannot be declared (strengthen the rubric first)."""
    rubric_file = assignment.folder / "rubric.yaml"
    declared = {m.notebook for m in assignment.rubric.mutants}
    for mutant in mutants:
        if not mutant.graded or not mutant.loses:
            raise AutogradeError(
                f"{rubric_file}: mutant {mutant.id} keeps full points ({mutant.note or 'it survives'}); "
                "a declared mutant must lose points: strengthen the rubric first"
            )
        if f"mutants/{name_of(mutant)}.ipynb" in declared:
            raise AutogradeError(f"{rubric_file}: mutants/{name_of(mutant)}.ipynb is already declared")
    built = (assignment.folder / "cells.py").is_file() and (assignment.folder.parent / BUILDER).is_file()
    original_rubric = rubric_file.read_text(encoding="utf-8")
    cells_file = assignment.folder / "cells.py"
    original_cells = cells_file.read_text(encoding="utf-8") if built else ""
    written = []
    try:
        for mutant in mutants:
            name = name_of(mutant)
            path = assignment.folder / "mutants" / f"{name}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            if built:
                with cells_file.open("a", encoding="utf-8") as handle:
                    handle.write(_cells_entry(name, mutant))
                path.write_text(_built_notebook(assignment.folder, name), encoding="utf-8")
            else:
                nbformat.write(mutant_notebook(assignment, mutant), path)
            written.append(path)
        entries = [(f"mutants/{name_of(m)}.ipynb", m) for m in mutants]
        rubric_file.write_text(append_mutants(original_rubric, entries), encoding="utf-8")
        load_rubric_file(rubric_file)  # still a valid rubric
    except Exception:
        rubric_file.write_text(original_rubric, encoding="utf-8")
        if built:
            cells_file.write_text(original_cells, encoding="utf-8")
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return [str(path.relative_to(assignment.folder)) for path in written]
