"""`autograde assign MASTER --out DIR`: an assignment folder from one master notebook.

The master (format: rubrics/README.md, "Writing an assignment as one notebook") gives the
template (solution regions replaced by `...` with signatures and docstrings kept, hidden
tests, solution-only cells and outputs removed, a self-check cell after each public task),
the solution (markers removed), one notebook per mutant, `rubric.yaml`, and the host-side
reference module `solution_code.py` made from the solution's code. The master itself and the
`files:` it lists are copied beside them, so assigning into the master's own folder works.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from nbformat import v4

from autograde.authoring.draft import MADE_BY, Draft
from autograde.authoring.master.parse import Master, MasterCell, MasterError, parse_master
from autograde.authoring.master.reference_module import MODULE_FILE, SolutionCode, solution_code
from autograde.authoring.master.rubric import RubricBuilder, answer_tag
from autograde.authoring.master.selfcheck_cells import public_tasks, self_check_places, self_check_source

_MUTANT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_TOP_ORDER = ("parameters", "limits", "data_dir", "hidden_data", "files", "locked")
_RESERVED = {"rubric.yaml", "template.ipynb", "solution.ipynb", MODULE_FILE, MADE_BY}


def _notebook(master: Master, cells: list[Any]) -> Any:
    nb = v4.new_notebook()
    nb.metadata = master.metadata
    nb.cells = cells
    return nb


def _out_cell(cell: MasterCell, source: str, extra_tag: str | None = None) -> Any:
    """A cell of a made notebook: the given source, outputs cleared, the master's settings and
    special tags left out, the answer tag added."""
    meta = {k: v for k, v in cell.node.metadata.items() if k not in ("autograde", "tags")}
    tags = list(cell.tags)
    if extra_tag and extra_tag not in tags:
        tags.append(extra_tag)
    if tags:
        meta["tags"] = tags
    if cell.kind == "code":
        return v4.new_code_cell(source, metadata=meta)
    if cell.kind == "markdown":
        made = v4.new_markdown_cell(source, metadata=meta)
        if "attachments" in cell.node:
            made["attachments"] = cell.node["attachments"]
        return made
    return v4.new_raw_cell(source, metadata=meta)


def _solution_cells(master: Master) -> list[MasterCell]:
    return [cell for cell in master.cells if cell.in_solution]


def _template(master: Master, rubric: dict[str, Any]) -> Any:
    cells = [cell for cell in master.cells if cell.in_template]
    tags = [[*cell.tags, *filter(None, [answer_tag(cell)])] for cell in cells]
    places = self_check_places(tags, public_tasks(rubric))
    made = []
    for index, cell in enumerate(cells):
        made.append(_out_cell(cell, cell.student, answer_tag(cell)))
        if index in places:
            made.append(v4.new_code_cell(self_check_source(places[index])))
    return _notebook(master, made)


def _mutants(
    master: Master,
) -> tuple[dict[str, list[tuple[MasterCell, MasterCell]]], dict[str, dict[str, Any]]]:
    """Each mutant's (replaced cell, mutant cell) pairs and its settings, in master order."""
    swaps: dict[str, list[tuple[MasterCell, MasterCell]]] = {}
    settings: dict[str, dict[str, Any]] = {}
    replaced: MasterCell | None = None
    for cell in master.cells:
        name = cell.settings.get("mutant")
        if name is None:
            if cell.in_solution and cell.kind == "code":
                replaced = cell
            continue
        if not isinstance(name, str) or not _MUTANT_NAME.match(name):
            raise MasterError(f"{cell.at()}: mutant name {name!r}: letters, digits, _ . - only")
        if replaced is None or cell.kind != "code":
            raise MasterError(
                f"{cell.at()}: a mutant cell is a code cell right after the solution cell it replaces"
            )
        if any(old is replaced for old, _ in swaps.get(name, [])):
            raise MasterError(f"{cell.at()}: mutant {name!r} replaces cell {replaced.place.cell} twice")
        swaps.setdefault(name, []).append((replaced, cell))
        entry = settings.setdefault(name, {})
        for key in ("description", "loses"):
            if key in cell.settings:
                if key in entry and entry[key] != cell.settings[key]:
                    raise MasterError(f"{cell.at()}: mutant {name!r}: {key} differs from its earlier cell")
                entry[key] = cell.settings[key]
    options = master.config.get("mutants") or {}
    where = master.config_place.at() if master.config_place else master.name
    if not isinstance(options, dict):
        raise MasterError(f"{where}: config: mutants is a mapping name -> description, loses")
    for name, values in options.items():
        if name not in settings:
            raise MasterError(f"{where}: config: mutants.{name}: no cell is tagged mutant:{name}")
        if not isinstance(values, dict) or set(values) - {"description", "loses"}:
            raise MasterError(f"{where}: config: mutants.{name}: a mapping with description and loses")
        settings[name].update(values)
    for name, entry in settings.items():
        if "loses" not in entry:
            first = swaps[name][0][1]
            raise MasterError(f"{first.at()}: mutant {name!r} says nothing of what it loses (`loses:`)")
    return swaps, settings


def _parameters(master: Master) -> dict[str, Any] | None:
    """The config's parameters, else the literal assignments of the `parameters` cell."""
    if "parameters" in master.config:
        found = master.config["parameters"]
        return dict(found) if isinstance(found, dict) else found
    for cell in master.cells:
        if cell.kind == "code" and "parameters" in cell.tags:
            values: dict[str, Any] = {}
            for node in ast.parse(cell.solution).body:
                if (
                    isinstance(node, ast.Assign)
                    and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                ):
                    try:
                        values[node.targets[0].id] = ast.literal_eval(node.value)
                    except ValueError:
                        continue
            return values or None
    return None


def _title(master: Master, assignment: str) -> str:
    if master.config.get("title"):
        return str(master.config["title"])
    for cell in master.cells:
        if cell.kind == "markdown":
            heading = re.search(r"^#\s+(.+?)\s*$", cell.solution, re.MULTILINE)
            if heading:
                return heading.group(1)
    return assignment


def _support_files(source: Path, master: Master) -> dict[str, bytes]:
    """The master itself and the `files:` it lists, from the master's folder."""
    if source.name in _RESERVED or source.name.startswith("mutants"):
        raise MasterError(f"{source.name}: a master notebook cannot be named like a file it makes")
    files = {source.name: source.read_bytes()}
    where = master.config_place.at() if master.config_place else master.name
    listed = master.config.get("files") or []
    if not isinstance(listed, list):
        raise MasterError(f"{where}: config: files is a list of paths beside the master")
    for entry in listed:
        path = source.parent / str(entry)
        if not path.exists():
            raise MasterError(f"{where}: config: files: {entry!r} is not beside the master ({path})")
        found = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in found:
            files[file.relative_to(source.parent).as_posix()] = file.read_bytes()
    return files


_LOCAL_SPEC = re.compile(r"^(?P<module>[A-Za-z0-9_/]+)\.py:[A-Za-z_][A-Za-z0-9_.]*$")


def _local_modules(rubric: dict[str, Any], source: Path) -> dict[str, bytes]:
    """The instructor's own modules the rubric names (`my_data.py:make`), from beside the master."""
    specs = [rubric.get("data_dir") or {}, *(rubric.get("hidden_data") or {}).values()]
    found = [s.get("generator") for s in specs if isinstance(s, dict)]
    found += [c.get(k) for t in rubric["tasks"] for c in t["checks"] for k in ("reference", "judge")]
    files: dict[str, bytes] = {}
    for spec in found:
        match = _LOCAL_SPEC.match(spec) if isinstance(spec, str) else None
        if match is None or f"{match.group('module')}.py" == MODULE_FILE:
            continue
        name = f"{match.group('module')}.py"
        path = source.parent / name
        if not path.is_file():
            raise MasterError(f"{source.name}: {spec!r} names {name}, which is not beside the master")
        files[name] = path.read_bytes()
    return files


def _code(master: Master, assignment: str) -> SolutionCode:
    cells = [
        (
            cell.place,
            cell.solution,
            cell.settings.get("reference", True) is not False and not cell.settings.get("test"),
        )
        for cell in _solution_cells(master)
        if cell.kind == "code"
    ]
    return solution_code(cells, assignment, master.name)


def assign_master(source: Path, assignment: str) -> Draft:
    """The assignment folder the master notebook at `source` describes (MasterError when it
    is not a notebook or a marker, a setting or a check is wrong)."""
    master = parse_master(source)
    code = _code(master, assignment)
    builder = RubricBuilder(master, code)
    for cell in master.cells:
        builder.add_cell(cell)
    builder.add_config_tasks()
    swaps, mutant_settings = _mutants(master)
    rubric: dict[str, Any] = {"schema": 1, "assignment": assignment, "title": _title(master, assignment)}
    parameters = _parameters(master)
    if parameters is not None:
        rubric["parameters"] = parameters
    for key in _TOP_ORDER[1:]:
        if key in master.config:
            rubric[key] = master.config[key]
    if mutant_settings:
        rubric["mutants"] = [
            {
                "notebook": f"mutants/{name}.ipynb",
                **{k: entry[k] for k in ("description", "loses") if k in entry},
            }
            for name, entry in mutant_settings.items()
        ]
    rubric["tasks"] = builder.rubric_tasks()
    solution_cells = _solution_cells(master)
    solution = _notebook(master, [_out_cell(c, c.solution, answer_tag(c)) for c in solution_cells])
    notebooks = {}
    for name, pairs in swaps.items():
        swapped = {id(old): new for old, new in pairs}
        cells = [
            _out_cell(c, swapped[id(c)].solution if id(c) in swapped else c.solution, answer_tag(c))
            for c in solution_cells
        ]
        notebooks[f"mutants/{name}.ipynb"] = _notebook(master, cells)
    files = _support_files(source, master) | _local_modules(rubric, source)
    files[MODULE_FILE] = code.text.encode()
    return Draft(
        assignment, rubric, _template(master, rubric), solution, source.name,
        files=files, notebooks=notebooks, notes=code.notes,
    )  # fmt: skip
