"""The template is nbgrader's release: compared cell by cell with the releases nbgrader made
(docs ps1, introPy tutorials, ml-tutorial), and the release rule on small notebooks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograde.authoring.nbgrader import import_nbgrader
from tests.authoring_data import authoring

DOCS = "nbgrader/docs-example-course"
ML_STUB = (
    "##### Implement this part of the code #####\n"
    'raise NotImplementedError("Code not implemented, follow the instructions.")'
)
HEADER = 3  # nbgrader's header notebook (source/header.ipynb), prepended to the docs release only


def _release(relative: str) -> list[dict[str, Any]]:
    cells: list[dict[str, Any]] = json.loads(authoring(relative).read_text())["cells"]
    return cells


def _differences(template: Any, release: list[dict[str, Any]]) -> list[int]:
    """1-based numbers of the cells whose source, flags or nbgrader metadata (checksum aside) differ."""
    assert len(template.cells) == len(release)
    differ = []
    for number, (ours, theirs) in enumerate(zip(template.cells, release, strict=True), start=1):
        meta = dict(theirs["metadata"].get("nbgrader", {}))
        meta.pop("checksum", None)
        same = (
            ours.source == "".join(theirs["source"])
            and ours.cell_type == theirs["cell_type"]
            and all(ours.metadata.get(k) == theirs["metadata"].get(k) for k in ("deletable", "editable"))
            and ours.metadata.get("nbgrader", {}) == meta
        )
        if not same:
            differ.append(number)
    return differ


@pytest.mark.parametrize("problem", ["problem1", "problem2"])
def test_docs_ps1_matches_nbgrader_release(problem: str) -> None:
    draft = import_nbgrader(authoring(f"{DOCS}/source/ps1/{problem}.ipynb"), problem)
    release = _release(f"{DOCS}/release/ps1/{problem}.ipynb")
    assert _differences(draft.template, release[HEADER:]) == []
    assert all(c.get("outputs", []) == [] for c in draft.template.cells)


def test_intropy_matches_its_tutorial_but_the_one_cell_the_course_changed_since() -> None:
    source = "courses/introPy/intropy/solutions/week_1/4_numpy.ipynb"
    draft = import_nbgrader(authoring(source), "intropy")
    release = _release("courses/introPy/intropy/tutorials/week_1/4_numpy.ipynb")
    assert _differences(draft.template, release) == [137]  # `np.float` in the release, `np.float64` now
    assert "dtype=np.float)" in "".join(release[136]["source"])
    assert "dtype=np.float64)" in draft.template.cells[136].source


def test_ml_tutorial_with_its_custom_stub_and_a_warning_for_the_cell_that_does_not_compile() -> None:
    draft = import_nbgrader(
        authoring("courses/ml-tutorial/source/1/anomaly_detection.ipynb"), "ml", code_stub=ML_STUB
    )
    assert (
        _differences(draft.template, _release("courses/ml-tutorial/release/1/anomaly_detection.ipynb")) == []
    )
    warned = [n for n in draft.notes if "does not compile" in n]
    assert len(warned) == 1 and warned[0].startswith("anomaly_detection.ipynb: cell 17 (ad_model)")
    # no graded cell: 0-point practice tasks on the names each answer assigns
    tasks = draft.rubric["tasks"]
    assert [(t["id"], t["points"]) for t in tasks] == [
        ("ad_min_max", 0),
        ("ad_reshaped_past", 0),
        ("ad_avg_past", 0),
        ("ad_model", 0),
        ("ad_delta", 0),
    ]
    assert [c["target"] for c in tasks[0]["checks"]] == ["maximum", "minimum"]
    assert [c["target"] for c in tasks[3]["checks"]] == ["model"]


def _nb(*cells: tuple[str, str, dict[str, Any] | None]) -> Any:
    nb = nbformat.v4.new_notebook()
    for kind, source, meta in cells:
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        cell = make(source)
        if meta is not None:
            cell.metadata["nbgrader"] = meta
        nb.cells.append(cell)
    return nb


def _import(tmp_path: Path, nb: Any, **options: Any) -> Any:
    path = tmp_path / "hw.ipynb"
    nbformat.write(nb, path)
    return import_nbgrader(path, "hw", **options)


ANSWER = {"solution": True, "grade": False, "grade_id": "f", "locked": False, "schema_version": 3}


def test_hidden_tests_leave_the_template_and_become_an_all_or_nothing_hidden_check(tmp_path: Path) -> None:
    test = "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS\nprint('ok')"
    nb = _nb(
        ("code", "def f(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION", ANSWER),
        ("code", test, {"grade": True, "solution": False, "grade_id": "t", "points": 2, "schema_version": 3}),
    )
    draft = _import(tmp_path, nb)
    assert (
        draft.template.cells[0].source == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    )
    assert draft.solution.cells[0].source == "def f(x):\n    return x * x"
    assert draft.template.cells[1].source == "assert f(1) == 1\nprint('ok')"
    assert draft.template.cells[1].metadata["editable"] is False
    (task,) = draft.rubric["tasks"]
    assert task["all_or_nothing"] is True and task["points"] == 2
    public, hidden = task["checks"]
    assert (public["code"], public.get("visible"), public["tag"]) == (
        "assert f(1) == 1\nprint('ok')",
        None,
        "f",
    )
    assert (hidden["code"], hidden["visible"]) == (
        "assert f(1) == 1\nassert f(2) == 4\nprint('ok')",
        "hidden",
    )


def test_whole_cell_answers_mark_schemes_outputs_and_custom_stubs(tmp_path: Path) -> None:
    code = nbformat.v4.new_code_cell("print(6 * 7)")
    code.metadata["nbgrader"] = {**ANSWER, "grade": True, "grade_id": "code", "points": 2}
    code.outputs = [nbformat.v4.new_output("stream", text="42\n")]
    code.execution_count = 3
    nb = _nb(
        ("markdown", "The answer is 42.", {**ANSWER, "grade": True, "grade_id": "text", "points": 1}),
        (
            "markdown",
            "Explain.\n=== BEGIN MARK SCHEME ===\n1 mark: says 42\n=== END MARK SCHEME ===\nBe brief.",
            {
                "grade": False,
                "solution": False,
                "task": True,
                "locked": True,
                "grade_id": "task",
                "points": 3,
            },
        ),
    )
    nb.cells.insert(1, code)
    draft = _import(tmp_path, nb, code_stub="pass  # yours", text_stub="Write here.")
    text, answer, task = draft.template.cells
    assert (text.source, answer.source, task.source) == (
        "Write here.",
        "pass  # yours",
        "Explain.\nBe brief.",
    )
    assert (answer.outputs, answer.execution_count) == ([], None)
    assert draft.solution.cells[1].source == "print(6 * 7)" and draft.solution.cells[1].outputs == []
    assert "1 mark: says 42" in draft.solution.cells[2].source  # the instructor's copy keeps it
    assert [
        (t["id"], t["points"], t["checks"][0]["kind"], t["checks"][0]["cell_tag"])
        for t in draft.rubric["tasks"]
    ] == [("text", 1, "manual", "text"), ("code", 2, "manual", "code"), ("task", 3, "manual", "task")]
    assert draft.rubric["locked"] == ["task"]
    assert [c.metadata.get("editable") for c in draft.template.cells] == [None, None, False]
    assert all(c.metadata["deletable"] is False for c in draft.template.cells)


def test_autotest_lines_are_reported_and_never_run(tmp_path: Path) -> None:
    draft = import_nbgrader(authoring(f"{DOCS}/source/ps1_autotest/problem1.ipynb"), "auto")
    ids = [t["id"] for t in draft.rubric["tasks"]]
    assert ids == ["sum_of_squares_equation", "sum_of_squares_application", "cell_938593c4a215c6cc"]
    autotest = [n for n in draft.notes if "AUTOTEST" in n]
    assert [n.split(":")[1].strip() for n in autotest] == [
        "cell 6 (correct_squares)",
        "cell 7 (squares_invalid_input)",
        "cell 12 (correct_sum_of_squares)",
        "cell 13 (sum_of_squares_uses_squares)",
        "cell 21 (cell-6e9ff83aa5dfaf17)",
    ]
    assert "lines 11, 12" in autotest[1] and "(1 point left out)" in autotest[1]
    assert "(0 points left out)" in autotest[4]
    codes = [c.get("code", "") for t in draft.rubric["tasks"] for c in t["checks"]]
    assert not any("AUTOTEST" in code for code in codes)
