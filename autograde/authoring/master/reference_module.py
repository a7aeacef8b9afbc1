"""The reference module `autograde assign` makes from a master's solution code.

It keeps, in cell order, the imports, the function and class definitions and the module-level
constants (an assignment whose value calls nothing and uses only names already kept) of the
solution's code cells, never the top-level statements that train, print or plot. The module
runs on the host only, as every reference does; the rubric names it `solution_code.py:NAME`.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from autograde.authoring.markers import Place
from autograde.authoring.master.parse import MasterError

MODULE_FILE = "solution_code.py"
_MAGIC = re.compile(r"^\s*[%!]")
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_BUILTINS = frozenset(dir(builtins))


@dataclass
class SolutionCode:
    """What the solution defines: every name its code binds, the module's text and names."""

    bound: set[str] = field(default_factory=set)  # every top-level name of every solution cell
    kept: set[str] = field(default_factory=set)  # the reference module's top-level names
    callables: set[str] = field(default_factory=set)  # its functions and classes
    text: str = ""
    notes: list[str] = field(default_factory=list)


def parse_cell(source: str, place: Place) -> ast.Module:
    """A solution cell's code (IPython magics and shell lines blanked), or a MasterError."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        return ast.Module(body=[], type_ignores=[])
    code = "\n".join("" if _MAGIC.match(line) else line for line in lines)
    try:
        return ast.parse(code)
    except SyntaxError as exc:
        raise MasterError(
            f"{place.at(exc.lineno)} (of the solution's code): not valid Python: {exc.msg}"
        ) from None


def _bindings(nodes: Sequence[ast.stmt]) -> Iterator[str]:
    """The names top-level statements bind (inside if/for/while/with/try too)."""
    for node in nodes:
        if isinstance(node, _DEFS):
            yield node.name
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                yield (alias.asname or alias.name).partition(".")[0]
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    yield sub.id
                if isinstance(sub, _DEFS) and sub is not node:
                    yield sub.name


def _is_constant(node: ast.stmt, known: set[str]) -> bool:
    if isinstance(node, ast.Assign):
        value: ast.expr | None = node.value
        targets = node.targets
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        value, targets = node.value, [node.target]
    else:
        return False
    if not all(isinstance(t, ast.Name | ast.Tuple) for t in targets) or value is None:
        return False
    for sub in ast.walk(value):
        if isinstance(sub, ast.Call | ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr | ast.Lambda):
            return False
        if isinstance(sub, ast.Name) and sub.id not in known and sub.id not in _BUILTINS:
            return False
    return True


def _free_names(node: ast.stmt) -> set[str]:
    """Names a function or class reads that it does not bind itself (roughly: its globals)."""
    loaded: set[str] = set()
    stored: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            (loaded if isinstance(sub.ctx, ast.Load) else stored).add(sub.id)
        elif isinstance(sub, ast.arg):
            stored.add(sub.arg)
        elif isinstance(sub, _DEFS):
            stored.add(sub.name)
        elif isinstance(sub, ast.Import | ast.ImportFrom):
            stored.update((a.asname or a.name).partition(".")[0] for a in sub.names)
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            stored.add(sub.name)
    return loaded - stored - _BUILTINS


def solution_code(cells: Sequence[tuple[Place, str, bool]], assignment: str, master: str) -> SolutionCode:
    """The module made of the solution's code cells: (place, solution source, whether the
    cell goes into the module) for each, in order."""
    out = SolutionCode()
    chunks: list[tuple[int, bool, str]] = []  # (cell, is a definition, its text)
    defs: list[tuple[Place, ast.stmt]] = []
    for place, source, wanted in cells:
        tree = parse_cell(source, place)
        out.bound.update(_bindings(tree.body))
        if not wanted:
            continue
        lines = "\n".join("" if _MAGIC.match(line) else line for line in source.splitlines()).splitlines()
        for node in tree.body:
            if isinstance(node, _DEFS):
                defs.append((place, node))
                out.callables.add(node.name)
                out.kept.add(node.name)
            elif isinstance(node, ast.Import | ast.ImportFrom) or _is_constant(node, out.kept):
                out.kept.update(_bindings([node]))
            else:
                continue
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            text = "\n".join(lines[first - 1 : node.end_lineno]).rstrip()
            chunks.append((place.cell, isinstance(node, _DEFS), text))
    for place, node in defs:
        missing = sorted(_free_names(node) - out.kept)
        if missing:
            name = getattr(node, "name", "?")
            out.notes.append(
                f"{place.at(node.lineno)}: {MODULE_FILE}: `{name}` uses {', '.join(missing)}, which the "
                "module does not define (only imports, definitions and constants are kept)"
            )
    header = (
        f'"""Reference code of {assignment}, made by `autograde assign` from {master}.\n\n'
        "The imports, functions, classes and constants of the solution's cells; host side only.\n"
        'Edit the master notebook and assign it again rather than this file.\n"""\n'
    )
    body = ""
    previous: tuple[int, bool] | None = None
    for cell, is_def, text in chunks:
        if previous is None:
            gap = "\n"
        elif is_def or previous[1]:
            gap = "\n\n\n"
        else:
            gap = "\n" if cell == previous[0] else "\n\n"
        body += gap + text
        previous = (cell, is_def)
    out.text = header + body + "\n"
    return out
