"""The built-in parameters cell (a student's install has no papermill) is the cell papermill
writes: same place, tag, source and metadata, for every JSON-like value."""

from __future__ import annotations

import copy
import logging
import math
import sys
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from papermill.parameterize import parameterize_notebook

from autograde.pipeline import ingest
from autograde.pipeline.inject import inject_parameters

PARAMETERS: dict[str, Any] = {
    "seed": 42,
    "big": 2**70,
    "negative": -3,
    "eta": 0.05,
    "tiny": 1e-300,
    "whole": 3.0,
    "inf": math.inf,
    "minus_inf": -math.inf,
    "name": "ex02",
    "quoted": 'say "hi" \\ it\'s',
    "lines": "a\nb\tc",
    "unicode": "Grüße ✓",
    "empty": "",
    "yes": True,
    "no": False,
    "nothing": None,
    "sizes": [1, 2.5, "x", None, True, [3, [4]]],
    "options": {"lr": 0.1, "layers": [8, 4], "nested": {"on": False, "name": "n\"m"}, "none": None},
    "empty_list": [],
    "empty_dict": {},
}


def notebook(tagged: str | None = "parameters") -> Any:
    cells = [new_markdown_cell("# ex"), new_code_cell("import numpy as np")]
    cells += [new_code_cell("seed = 0\neta = 1.0"), new_code_cell("print(seed)")]
    for cell in cells:  # papermill reads every cell's tags
        cell.metadata["tags"] = []
    if tagged:
        cells[2].metadata["tags"] = [tagged]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["papermill"] = {}
    return nb


def comparable(nb: Any) -> Any:
    """The notebook without the random cell ids."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.pop("id", None)
    return nb


def by_papermill(nb: Any, parameters: dict[str, Any]) -> Any:
    logging.getLogger("papermill").setLevel(logging.ERROR)
    return parameterize_notebook(copy.deepcopy(nb), parameters, kernel_name="python3", language="python")


@pytest.mark.parametrize("tagged", ["parameters", "injected-parameters", None])
def test_the_same_notebook_as_papermill(tagged):
    nb = notebook(tagged)
    ours = inject_parameters(copy.deepcopy(nb), PARAMETERS)
    assert comparable(ours) == comparable(by_papermill(nb, PARAMETERS))


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_each_value_as_papermill_spells_it(name):
    one = {name: PARAMETERS[name]}
    ours = inject_parameters(notebook(), one)
    theirs = by_papermill(notebook(), one)
    assert ours.cells[3].source == theirs.cells[3].source
    assert ours.cells[3].metadata == {"tags": ["injected-parameters"]}


def test_the_cell_gives_back_the_values():
    source = inject_parameters(notebook(), PARAMETERS).cells[3].source
    assert source.startswith("# Parameters\n")
    scope: dict[str, Any] = {}
    exec(source, scope)
    assert {k: scope[k] for k in PARAMETERS} == PARAMETERS
    nan: dict[str, Any] = {}
    exec(inject_parameters(notebook(), {"x": math.nan}).cells[3].source, nan)
    assert math.isnan(nan["x"])


def test_ingest_uses_it_without_papermill(monkeypatch, tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook(), path)
    with_papermill = ingest.parameterize(ingest.read_notebook(path), PARAMETERS)
    monkeypatch.setitem(sys.modules, "papermill.parameterize", None)  # import papermill... fails
    without = ingest.parameterize(ingest.read_notebook(path), PARAMETERS)
    assert comparable(without) == comparable(with_papermill)
    assert [c.metadata.get("tags") for c in without.cells].count(["injected-parameters"]) == 1
