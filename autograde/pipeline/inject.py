"""The grading parameters as a notebook cell, as papermill writes it, without papermill.

The grader parameterizes with papermill (its `[grader]` extra); a student's install has no
papermill, and `autograde check` must run the notebook as the grader would. The parameters
are JSON-like (numbers, strings, booleans, None, lists, dicts): each becomes a line
``name = value`` under papermill's ``# Parameters`` header, spelled as papermill's Python
translator spells it, in a code cell tagged ``injected-parameters`` right after the first
cell tagged ``parameters`` (or replacing an earlier injected cell, or at the top).
"""

from __future__ import annotations

import math
from typing import Any

import nbformat

INJECTED_TAG = "injected-parameters"
PARAMETERS_TAG = "parameters"
HEADER = "# Parameters"


def python_literal(value: Any) -> str:
    """`value` as Python source, as papermill's PythonTranslator writes it."""
    if value is None or isinstance(value, bool | int):
        return f"{value}"
    if isinstance(value, float):
        if math.isfinite(value):
            return f"{value}"
        if math.isnan(value):
            return "float('nan')"
        return "float('-inf')" if value < 0 else "float('inf')"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_string(k)}: {python_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    return _string(value)


def _string(value: Any) -> str:
    """A double-quoted string literal (papermill's escaping: unicode_escape, then quotes)."""
    if isinstance(value, str):
        value = value.encode("unicode_escape").decode("utf-8").replace('"', r"\"")
    return f'"{value}"'


def parameters_source(parameters: dict[str, Any]) -> str:
    return "".join([f"{HEADER}\n", *(f"{name} = {python_literal(v)}\n" for name, v in parameters.items())])


def _first_tagged(nb: Any, tag: str) -> int:
    return next((i for i, cell in enumerate(nb.cells) if tag in cell.metadata.get("tags", [])), -1)


def inject_parameters(nb: Any, parameters: dict[str, Any]) -> Any:
    """`nb` (upgraded to the latest v4) with the parameters cell; papermill's metadata too."""
    nb = nbformat.v4.upgrade(nb)
    cell = nbformat.v4.new_code_cell(source=parameters_source(parameters))
    cell.metadata["tags"] = [INJECTED_TAG]
    injected, declared = _first_tagged(nb, INJECTED_TAG), _first_tagged(nb, PARAMETERS_TAG)
    if injected >= 0:
        before, after = nb.cells[:injected], nb.cells[injected + 1 :]
    elif declared >= 0:
        before, after = nb.cells[: declared + 1], nb.cells[declared + 1 :]
    else:
        before, after = [], nb.cells
    nb.cells = [*before, cell, *after]
    nb.metadata.setdefault("papermill", {})["parameters"] = parameters
    return nb
