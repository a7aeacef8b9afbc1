"""The master-notebook format of `autograde assign`: tags, `# autograde:` blocks, the config
cell, default checks, mutant cells, the reference module, and errors naming cell and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from nbformat import v4

from autograde.authoring.draft import write_draft
from autograde.authoring.master import assign_master
from autograde.authoring.master.parse import MasterError
from autograde.errors import AutogradeError

CONFIG = "# autograde\ntitle: Tiny\nlimits: {cell_timeout: 20s}"
SQUARE = (
    "# autograde:\n"
    "#   task: square\n"
    "#   points: 2\n"
    "#   inputs: [{draw: uniform, shape: [3]}]\n"
    "def square(x):\n"
    '    """x squared, elementwise."""\n'
    "    ### BEGIN SOLUTION\n"
    "    return x * x\n"
    "    ### END SOLUTION"
)


def _master(tmp_path: Path, *cells: Any, name: str = "master.ipynb") -> Path:
    nb = v4.new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for number, cell in enumerate(nb.cells):
        cell["id"] = f"m{number}"
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def _base(tmp_path: Path, *more: Any) -> Path:
    return _master(
        tmp_path,
        v4.new_raw_cell(CONFIG),
        v4.new_markdown_cell("# Tiny assignment"),
        v4.new_code_cell("import numpy as np\nSCALE = 2.0"),
        v4.new_code_cell("seed = 0\nepochs = 3", metadata={"tags": ["parameters"]}),
        v4.new_code_cell(SQUARE),
        *more,
    )


def _sources(nb: Any) -> list[str]:
    return [cell.source for cell in nb.cells]


def test_defaults_give_exists_and_a_value_check_against_the_solution(tmp_path: Path):
    draft = assign_master(_base(tmp_path), "tiny")
    rubric = draft.rubric
    assert rubric["title"] == "Tiny" and rubric["limits"] == {"cell_timeout": "20s"}
    assert rubric["parameters"] == {"seed": 0, "epochs": 3}  # from the `parameters` cell
    (task,) = rubric["tasks"]
    assert task["id"] == "square" and task["points"] == 2
    assert task["checks"] == [
        {"kind": "exists", "target": "square", "type": "callable", "tag": "square"},
        {
            "kind": "value",
            "call": "square",
            "args": [{"draw": "uniform", "shape": [3]}],
            "repeat": 3,
            "reference": "solution_code.py:square",
            "tag": "square",
        },
    ]
    module = draft.files["solution_code.py"].decode()
    assert "import numpy as np\nSCALE = 2.0" in module and "return x * x" in module
    assert "BEGIN SOLUTION" not in module and "autograde:" not in module


def test_template_keeps_signature_and_docstring_and_drops_block_config_and_outputs(tmp_path: Path):
    cell = v4.new_code_cell(SQUARE)
    cell.outputs = [v4.new_output("stream", text="9\n")]
    cell.execution_count = 4
    draft = assign_master(
        _master(tmp_path, v4.new_raw_cell(CONFIG), cell, v4.new_code_cell("print(square(3))")), "tiny"
    )
    template, solution = draft.template, draft.solution
    assert template.cells[0].source == 'def square(x):\n    """x squared, elementwise."""\n    ...'
    assert template.cells[0].metadata["tags"] == ["square"]
    assert template.cells[0].outputs == [] and template.cells[0].execution_count is None
    assert solution.cells[0].source == 'def square(x):\n    """x squared, elementwise."""\n    return x * x'
    assert solution.cells[0].outputs == []
    assert "student.check('square')" in template.cells[1].source  # the task's self-check cell
    assert template.cells[2].source == "print(square(3))"
    assert len(solution.cells) == 2  # no config cell, no self-check cell
    assert "print" not in draft.files["solution_code.py"].decode()  # top-level statements stay out


def test_tags_and_only_cells_and_otter_markers(tmp_path: Path):
    otter = v4.new_code_cell(
        "def cube(x):\n    # BEGIN SOLUTION\n    return x ** 3\n    # END SOLUTION\nK = 3  # SOLUTION",
        metadata={"tags": ["task:cube", "points:1.5", "answer"], "autograde": {"inputs": {"args": [2.0]}}},
    )
    draft = assign_master(
        _base(
            tmp_path,
            otter,
            v4.new_code_cell("def helper():\n    return 1", metadata={"tags": ["solution-only"]}),
            v4.new_markdown_cell("Hint: use `**`.", metadata={"tags": ["template-only"]}),
        ),
        "tiny",
    )
    cube = draft.rubric["tasks"][1]
    yaml.safe_dump(draft.rubric)  # settings from notebook metadata are plain data
    assert cube["points"] == 1.5
    assert [c["tag"] for c in cube["checks"]] == ["answer", "answer"]  # its own tag, not the id
    assert cube["checks"][1]["args"] == [2.0] and "repeat" not in cube["checks"][1]
    template, solution = _sources(draft.template), _sources(draft.solution)
    assert "def cube(x):\n    ...\nK = ..." in template
    assert "def cube(x):\n    return x ** 3\nK = 3" in solution
    assert "Hint: use `**`." in template and "Hint: use `**`." not in solution
    assert not any("helper" in s for s in template) and any("helper" in s for s in solution)
    tags = [c.metadata.get("tags") for c in draft.template.cells if "def cube" in c.source]
    assert tags == [["answer"]]  # task:/points: tags are the master's own


def test_checks_declared_beside_the_code_get_implicit_references(tmp_path: Path):
    cell = v4.new_code_cell(
        "# autograde:\n"
        "#   task: norm\n"
        "#   points: 1\n"
        "#   title: the norm\n"
        "#   checks:\n"
        "#     - {kind: value, call: norm, args: [[3.0, 4.0]]}\n"
        "#     - {kind: value, call: norm, args: [[1.0]], expect: 1.0}\n"
        "# a plain comment ends the block\n"
        "def norm(v):\n"
        "    ### BEGIN SOLUTION\n"
        "    return float(np.sqrt(np.sum(np.square(v))))\n"
        "    ### END SOLUTION"
    )
    draft = assign_master(_base(tmp_path, cell), "tiny")
    task = draft.rubric["tasks"][1]
    assert task["title"] == "the norm"
    assert task["checks"][0]["reference"] == "solution_code.py:norm"
    assert "reference" not in task["checks"][1]  # it has its expected value
    assert _sources(draft.solution)[-1].startswith("# a plain comment ends the block\ndef norm(v):")


def test_mutant_cells_replace_the_cell_before_them(tmp_path: Path):
    mutant = v4.new_code_cell(
        "# autograde:\n#   mutant: plus\n#   description: adds instead\n#   loses: {square: 2}\n"
        "def square(x):\n    return x + x"
    )
    draft = assign_master(_base(tmp_path, mutant), "tiny")
    assert draft.rubric["mutants"] == [
        {"notebook": "mutants/plus.ipynb", "description": "adds instead", "loses": {"square": 2}}
    ]
    sources = _sources(draft.notebooks["mutants/plus.ipynb"])
    assert "def square(x):\n    return x + x" in sources
    assert len(sources) == len(draft.solution.cells)
    assert not any("x + x" in s for s in _sources(draft.solution) + _sources(draft.template))


def test_hidden_test_regions_stay_out_of_the_template(tmp_path: Path):
    tests = v4.new_code_cell(
        "# autograde: {task: square}\n"
        "assert square(2.0) == 4.0\n"
        "### BEGIN HIDDEN TESTS\n"
        "assert square(-3.0) == 9.0\n"
        "### END HIDDEN TESTS"
    )
    draft = assign_master(_base(tmp_path, tests), "tiny")
    assert _sources(draft.template)[-2] == "assert square(2.0) == 4.0"  # then the self-check
    check = draft.rubric["tasks"][0]["checks"][-1]
    assert check["kind"] == "test_code" and check["visible"] == "hidden"
    assert check["code"] == "assert square(2.0) == 4.0\nassert square(-3.0) == 9.0"


def _error(tmp_path: Path, *cells: Any) -> str:
    with pytest.raises(AutogradeError) as caught:
        assign_master(_master(tmp_path, v4.new_raw_cell(CONFIG), *cells), "tiny")
    return str(caught.value)


def test_a_task_without_points_names_its_cell_and_line(tmp_path: Path):
    message = _error(tmp_path, v4.new_code_cell(SQUARE.replace("#   points: 2\n", "")))
    assert "master.ipynb: cell 2, line 1" in message and "task 'square' has no points" in message


def test_a_check_on_a_name_the_solution_never_defines_names_the_cell(tmp_path: Path):
    cell = v4.new_code_cell(
        "# autograde:\n#   task: square\n#   points: 1\n"
        "#   checks: [{kind: value, call: sqaure, args: [2]}]\n" + SQUARE.split("\n", 4)[4]
    )
    message = _error(tmp_path, cell)
    assert "cell 2, line 1" in message and "`sqaure`" in message and "never defines" in message


def test_a_function_without_checks_or_inputs_is_an_error(tmp_path: Path):
    message = _error(
        tmp_path, v4.new_code_cell(SQUARE.replace("#   inputs: [{draw: uniform, shape: [3]}]\n", ""))
    )
    assert "cell 2, line 1" in message and "no `inputs` for `square`" in message


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("def f(x):\n    ### BEGIN SOLUTION\n    return x", 2, "never closed"),
        ("### BEGIN SOLUTION\nx = 1\n### BEGIN SOLUTION\n### END SOLUTION", 3, "cannot nest"),
        ("# autograde:\n#   task: [unclosed\ndef f(): pass", 2, "not valid YAML"),
        ("# autograde:\n#   taks: f\ndef f(): pass", 1, "unknown setting 'taks'"),
    ],
)
def test_marker_and_block_errors_name_cell_and_line(tmp_path: Path, source: str, line: int, words: str):
    message = _error(tmp_path, v4.new_markdown_cell("intro"), v4.new_code_cell(source))
    assert f"master.ipynb: cell 3, line {line}" in message and words in message


def test_a_config_error_names_its_line(tmp_path: Path):
    with pytest.raises(MasterError, match=r"cell 1, line 3: the config cell is not valid YAML"):
        assign_master(_master(tmp_path, v4.new_raw_cell("# autograde\ntitle: x\nlimits: {a: [")), "t")
    with pytest.raises(MasterError, match=r"unknown key\(s\) \['titel'\]"):
        assign_master(_master(tmp_path, v4.new_raw_cell("# autograde\ntitel: x")), "t")


def test_files_that_are_not_notebooks(tmp_path: Path):
    not_json = tmp_path / "broken.ipynb"
    not_json.write_text('{"cells": [\n')
    with pytest.raises(MasterError, match=r"broken.ipynb: not a notebook \(not JSON: .* line 2\)"):
        assign_master(not_json, "x")
    old = tmp_path / "old.ipynb"
    old.write_text(json.dumps({"nbformat": 3, "worksheets": []}))
    with pytest.raises(MasterError, match=r"old.ipynb: not a notebook in nbformat 4 \(nbformat: 3\)"):
        assign_master(old, "x")


def test_assigning_twice_gives_the_same_bytes_and_the_rubric_loads(tmp_path: Path):
    (tmp_path / "own").mkdir()
    master = _base(
        tmp_path / "own",
        v4.new_code_cell("# autograde: {mutant: zero, loses: {square: 2}}\ndef square(x):\n    return 0 * x"),
    )
    out = tmp_path / "lib" / "tiny"
    written = {}
    for attempt in range(2):
        write_draft(assign_master(master, "tiny"), out)
        written[attempt] = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert written[0] == written[1]
    assert {str(p) for p in written[0]} >= {
        "rubric.yaml", "template.ipynb", "solution.ipynb", "solution_code.py", "master.ipynb",
        "mutants/zero.ipynb",
    }  # fmt: skip
    # the master's own folder takes the assignment too (the master is kept, byte for byte)
    write_draft(assign_master(master, "tiny"), tmp_path / "own")
    assert (tmp_path / "own" / "master.ipynb").read_bytes() == written[0][Path("master.ipynb")]
    assert (tmp_path / "own" / "rubric.yaml").read_bytes() == written[0][Path("rubric.yaml")]


def test_the_instructors_own_modules_come_along_but_are_not_shipped(tmp_path: Path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "my_data.py").write_text(
        "def write(folder):\n    (folder / 'x.txt').write_text('1')\n"
    )
    config = v4.new_raw_cell(CONFIG + "\ndata_dir: {generator: my_data.py:write}")
    master = _master(tmp_path / "src", config, v4.new_code_cell(SQUARE))
    write_draft(assign_master(master, "tiny"), tmp_path / "out")
    assert (tmp_path / "out" / "my_data.py").read_bytes() == (tmp_path / "src" / "my_data.py").read_bytes()
    (tmp_path / "src" / "my_data.py").unlink()
    with pytest.raises(
        MasterError, match=r"'my_data.py:write' names my_data.py, which is not beside the master"
    ):
        assign_master(master, "tiny")
