"""`import_otter` on every otter file of the authoring corpus: the figures of
shared/authoring/SOURCES.md (section 2 and 3c), and the template against otter's own student
versions (`*-correct/student/`), cell by cell."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from autograde.authoring.draft import Draft
from autograde.authoring.otter import import_otter
from tests.authoring_data import authoring

FILES = "otter/test_assign/files"


def _import(relative: str) -> Draft:
    return import_otter(authoring(relative), "a")


def _tasks(draft: Draft) -> dict[str, dict[str, Any]]:
    return {task["id"]: task for task in draft.rubric["tasks"]}


def _cases(task: dict[str, Any]) -> list[dict[str, Any]]:
    return [check for check in task["checks"] if check["kind"] == "test_code"]


def _hidden(task: dict[str, Any]) -> int:
    return sum(check.get("visible") == "hidden" for check in _cases(task))


def _texts(nb: Any) -> str:
    return "\n".join(cell.source for cell in nb.cells)


def test_demo_three_automatic_points_over_thirteen_cases_and_two_manual_questions_at_zero() -> None:
    draft = _import("otter/docs/tutorial/demo.ipynb")
    tasks = _tasks(draft)
    assert list(tasks) == ["q1", "q2", "q3", "q4", "q5"]
    q1, q2, q3 = tasks["q1"], tasks["q2"], tasks["q3"]
    assert [len(_cases(t)) for t in (q1, q2, q3)] == [3, 2, 8]
    assert [_hidden(t) for t in (q1, q2, q3)] == [1, 1, 4]  # 7 public, 6 hidden
    assert [t["points"] for t in (q1, q2, q3)] == [1, 1, 1]
    assert [c["weight"] for c in _cases(q1)] == pytest.approx([1 / 3] * 3)
    assert [c["weight"] for c in _cases(q2)] == [0.5, 0.5]
    assert [c["weight"] for c in _cases(q3)] == [0.125] * 8
    assert [c["expect_output"] for c in _cases(q1)] == ["True"] * 3
    assert [c["expect_output"] for c in _cases(q2)] == ["", ""]  # assert-only, no stored output
    assert sum(c["expect_output"] == "True" for c in _cases(q3)) == 5
    for manual in ("q4", "q5"):
        assert tasks[manual]["points"] == 0
        assert tasks[manual]["checks"] == [{"kind": "manual", "cell_tag": manual}]
        assert any(note.startswith(f"{manual}: manual question without points") for note in draft.notes)
    assert any(note.startswith("requirements:") for note in draft.notes)
    template = {c.source for c in draft.template.cells}
    assert "data = ...\nprice_by_flavor = ...\nprice_by_flavor" in template
    assert "def square(x):\n    ..." in template
    assert "..." in template  # q4's `price_by_flavor.plot.bar(); # SOLUTION`
    assert "_Type your answer here, replacing this text._" in template  # q5
    assert "square(2.5) == 6.25" not in _texts(draft.template)  # a hidden case
    assert "mint is the highest" not in _texts(draft.template)
    assert "return x**2" in _texts(draft.solution)
    assert not any(c.cell_type == "raw" for c in draft.template.cells + draft.solution.cells)


def test_example_points_messages_hidden_cases_and_files() -> None:
    draft = _import(f"{FILES}/example.ipynb")
    tasks = _tasks(draft)
    assert list(tasks) == ["q1", "q2", "q3", "q4", "question5", "question6", "q7", "q8", "q9"]
    points = {tid: task["points"] for tid, task in tasks.items()}
    auto = ("q1", "q3", "question5", "q8", "q9")
    assert [points[q] for q in auto] == [16, 12, 1, 12, 1]
    assert sum(points[q] for q in auto) == 42
    assert sum(points[q] for q in ("q2", "q4", "question6", "q7")) == 104.5
    q1 = tasks["q1"]
    assert q1["all_or_nothing"] is True
    assert [c["weight"] for c in _cases(q1)] == [2, 3, 1, 10, 0, 0]
    assert [c.get("visible") for c in _cases(q1)] == [None, None, None, "hidden", "hidden", None]
    first = _cases(q1)[0]
    assert (first["name"], first["failure_message"]) == ("q1a-1", "This is not an int.")
    assert first["success_message"] == "Congrats you passed this test case!\\"
    assert "def identity(x):" in _cases(q1)[3]["code"]  # type hints stripped
    assert _cases(q1)[4]["expect_output"] == "2\n'None'"
    assert [c["weight"] for c in _cases(tasks["q3"])] == [0, 10, 2]
    assert [c["weight"] for c in _cases(tasks["q8"])] == [10, 2]
    hidden_q8 = _cases(tasks["q8"])[1]
    assert (hidden_q8["visible"], hidden_q8["expect_output"]) == ("hidden", "False")
    assert [c["weight"] for c in _cases(tasks["q9"])] == [0.5, 0.5]
    assert tasks["question5"]["checks"] == [{"kind": "manual", "cell_tag": "question5"}]
    assert draft.rubric["files"] == ["data.csv"]
    assert draft.files == {"data.csv": authoring(f"{FILES}/data.csv").read_bytes()}
    assert any("student_file.py is not beside the master" in note for note in draft.notes)
    assert any("a_nonexistent_variable" in note for note in draft.notes)
    template, solution = _texts(draft.template), _texts(draft.solution)
    assert "# SEED" not in template and "np.random.seed(42) # SEED" in solution
    assert "np.cos(y)" not in template + solution  # `# BEGIN IGNORE` block
    assert "neither will this" not in template + solution  # `# IGNORE` line
    assert "This markdown should be removed" not in template and "This markdown should be removed" in solution
    assert "square(1)" not in template and "identity" not in template  # hidden cases


_OTTER_CELL = re.compile(r"otter\.Notebook|grader\.(check|export)")


def _otter_student(relative: str) -> list[tuple[str, str]]:
    """otter's student version without otter's own cells (init, check, export, frames)."""
    nb = json.loads(authoring(relative).read_text())
    cells = []
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if _OTTER_CELL.search(source) or "## Submission" in source or "double-check your work" in source:
            continue
        source = re.sub(r"<!-- (BEGIN|END) QUESTION -->\n*", "", source)
        source = re.sub(r"\n*_Points:_ [\d.]+$", "", source).strip()
        if source:
            cells.append((cell["cell_type"], source))
    return cells


@pytest.mark.parametrize(
    ("master", "student"),
    [
        ("example.ipynb", "example-correct/student/example.ipynb"),
        ("exception-example.ipynb", "exception-correct/student/exception-example.ipynb"),
        ("generate-otter.ipynb", "otter-correct/student/generate-otter.ipynb"),
    ],
)
def test_the_template_is_otters_student_version_without_otters_cells(master: str, student: str) -> None:
    draft = _import(f"{FILES}/{master}")
    ours = [(c.cell_type, c.source.strip()) for c in draft.template.cells if c.source.strip()]
    assert ours == _otter_student(f"{FILES}/{student}")


def test_exception_example_tests_pass_when_they_raise_nothing() -> None:
    draft = _import(f"{FILES}/exception-example.ipynb")
    tasks = _tasks(draft)
    assert tasks["q1"]["points"] == 4 and tasks["q1"]["all_or_nothing"] is True
    assert [c["weight"] for c in _cases(tasks["q1"])] == [2, 2]
    assert [(tasks[q]["points"], _hidden(tasks[q])) for q in ("q3", "q8")] == [(1, 1), (1, 1)]
    assert tasks["question5"]["points"] == 1
    assert {q: tasks[q]["points"] for q in ("q2", "q4", "question6", "q7")} == {
        "q2": 0,
        "q4": 2,
        "question6": 0,
        "q7": 0,
    }
    assert all("expect_output" not in c for t in tasks.values() for c in _cases(t))
    assert "test_value" not in _texts(draft.template)  # hidden via TEST CONFIG
    assert "test_hidden" not in _texts(draft.template)  # hidden via `# HIDDEN`


def test_generate_otter_v1_and_v0_give_the_same_questions_v0_with_q8() -> None:
    v1 = _tasks(_import(f"{FILES}/generate-otter.ipynb"))
    v0_draft = _import("otter/v0-format/test-assign/generate-otter.ipynb")
    v0 = _tasks(v0_draft)
    assert list(v1) == ["q1", "q2", "q3", "q4", "question5", "question6", "q7"]
    assert list(v0) == [*v1, "q8"]
    for tasks in (v1, v0):
        assert tasks["q1"]["points"] == 3.75
        assert [c["weight"] for c in _cases(tasks["q1"])] == [0.75] * 5
        assert _hidden(tasks["q1"]) == 2
        assert _cases(tasks["q1"])[4]["expect_output"] == "2\n'None'"
        assert (tasks["q3"]["points"], len(_cases(tasks["q3"])), _hidden(tasks["q3"])) == (1, 3, 1)
        assert tasks["question5"]["points"] == 1
        assert tasks["q4"] == {**tasks["q4"], "points": 2, "checks": [{"kind": "manual", "cell_tag": "q4"}]}
        assert all(tasks[q]["points"] == 0 for q in ("q2", "question6", "q7"))
    assert (v0["q8"]["points"], len(_cases(v0["q8"])), _hidden(v0["q8"])) == (1, 2, 1)
    assert _cases(v0["q8"])[1]["expect_output"] == "False"
    assert v0_draft.rubric["files"] == ["data.csv"]
    template = _texts(v0_draft.template)
    assert "## Test ##" not in template and "BEGIN QUESTION" not in template and "x = ..." in template
    assert "**SOLUTION**" not in template and "some thing" not in template
    assert "_Write your thing here._" in template  # question6's prompt
    assert "some thing" in _texts(v0_draft.solution)


def test_cpsc330_student_notebook_public_tests_and_manual_blocks() -> None:
    draft = _import("courses/cpsc330-2023W1/hw/hw2/hw2.ipynb")
    tasks = _tasks(draft)
    auto = {tid: t["points"] for tid, t in tasks.items() if _cases(t)}
    assert auto == {
        "q1_1": 2,
        "q1_2": 2,
        "q1_3": 3,
        "q2_1": 2,
        "q2_2": 2,
        "q2_3": 2,
        "q2_4": 2,
        "q2_5": 2,
        "q2_6": 3,
        "q3_1": 5,
        "q3_4": 2,
        "q3_5": 3,
    }
    assert sum(auto.values()) == 30
    assert sum(len(_cases(t)) for t in tasks.values()) == 17
    assert [c["weight"] for c in _cases(tasks["q1_3"])] == [1, 2]
    manual = [t["points"] for t in tasks.values() if t["checks"][0]["kind"] == "manual"]
    assert manual == [3, 5, 3, 4, 2, 5, 2, 5, 3]
    assert sum(manual) + sum(auto.values()) == 62
    assert not any("nbgrader" in cell.metadata for cell in draft.template.cells)
    assert not any(_OTTER_CELL.search(cell.source) for cell in draft.template.cells)
    tagged = {t for cell in draft.template.cells for t in cell.metadata.get("tags", [])}
    assert set(tasks) <= tagged  # every task's cells are tagged
    assert _texts(draft.solution) == _texts(draft.template)
    assert any("no solutions" in note for note in draft.notes)
