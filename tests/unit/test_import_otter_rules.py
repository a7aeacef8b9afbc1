"""otter's point rules, its test cases, and bad masters: errors naming file, cell and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograde.authoring.markers import Place
from autograde.authoring.otter import import_otter
from autograde.authoring.otter.cases import Case, check_code, read_ok_case
from autograde.authoring.otter.config import OtterError
from autograde.authoring.otter.points import case_points, question_points
from autograde.errors import AutogradeError

W = "q"


@pytest.mark.parametrize(
    ("points", "given", "expected"),
    [
        (None, [None, None, None], [1 / 3] * 3),  # unpointed question: 1, split equally
        (None, [2, None, 1], [2, 0, 1]),  # case points as given, the rest 0
        (4, [1, None, None], [1, 1.5, 1.5]),  # the rest share what the total leaves
        ([10, 2], [None, None], [10, 2]),  # one value per case
        ({"each": 0.75}, [None] * 4, [0.75] * 4),
        ({"each": 0.75}, [1, None], [1, 0.5]),
        (2, [2, 0], [2, 0]),
    ],
)
def test_case_points(points: Any, given: list[float | None], expected: list[float]) -> None:
    assert case_points(points, given, W) == pytest.approx(expected)


def test_question_points_without_tests_and_manual() -> None:
    assert question_points(None, [], manual=False, where=W) == 1  # otter: a question without tests is 1
    assert question_points(None, [], manual=True, where=W) == 0  # a manual question without points: 0
    assert question_points(1.5, [], manual=True, where=W) == 1.5
    assert question_points(None, [None] * 3, manual=False, where=W) == 1  # 3 x 1/3, rounded as otter


@pytest.mark.parametrize(
    ("points", "given", "message"),
    [
        ([1, 2, 3], [None, None], "lists 3 values but the question has 2 test cases"),
        (2, [3, None], "exceed the question's points"),
        (5, [1, 1], "do not add up to the question's points"),
    ],
)
def test_point_errors(points: Any, given: list[float | None], message: str) -> None:
    with pytest.raises(OtterError, match=message):
        case_points(points, given, W)


PLACE = Place("m.ipynb", 3)


def test_a_scalar_expected_output_shows_a_numpy_scalar_as_the_python_scalar() -> None:
    np = pytest.importorskip("numpy")
    code = check_code(Case("import numpy as np\nnp.isclose(1.0, 1.0)", "True", False), PLACE)
    namespace: dict[str, Any] = {}
    *body, last = code.splitlines()
    exec("\n".join(body), namespace)
    shown = eval(last, namespace)
    assert repr(shown) == "True"  # numpy 2 itself shows `np.True_`
    assert type(shown) is bool and isinstance(np.isclose(1.0, 1.0), np.generic)
    # not a scalar expected: the code is left as it is
    assert check_code(Case("x\ny", "a\nb", False), PLACE) == "x\ny"
    assert check_code(Case("assert x", "", False), PLACE) == "assert x"


def test_type_hints_are_stripped() -> None:
    code = check_code(Case("def f(x: int) -> int:\n    y: int = x\n    return y\nf(2)", None, False), PLACE)
    assert code == "def f(x):\n    y = x\n    return y\nf(2)"


def test_an_ok_format_case_is_its_code_and_expected_output() -> None:
    code, want = read_ok_case(">>> def f(x):\n...     return x\n>>> f(2)\n2\n>>> print('a')\na\n", PLACE)
    assert code == "def f(x):\n    return x\nf(2)\nprint('a')"
    assert want == "2\na\n"


def _master(tmp_path: Path, *cells: tuple[str, str], outputs: dict[int, str] | None = None) -> Path:
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        maker = {"raw": nbformat.v4.new_raw_cell, "code": nbformat.v4.new_code_cell}.get(
            kind, nbformat.v4.new_markdown_cell
        )
        nb.cells.append(maker(source))
    for index, text in (outputs or {}).items():
        nb.cells[index].outputs = [
            nbformat.v4.new_output("execute_result", data={"text/plain": text}, execution_count=1)
        ]
    path = tmp_path / "m.ipynb"
    nbformat.write(nb, str(path))
    return path


def _question(
    name: str = "name: q1", tests: tuple[tuple[str, str], ...] = (("code", "f(1) == 1"),)
) -> list[Any]:
    return [
        ("raw", f"# BEGIN QUESTION\n{name}"),
        ("markdown", "**Q1** write f"),
        ("raw", "# BEGIN SOLUTION"),
        ("code", "def f(x):\n    return x # SOLUTION"),
        ("raw", "# END SOLUTION"),
        ("raw", "# BEGIN TESTS"),
        *tests,
        ("raw", "# END TESTS"),
        ("raw", "# END QUESTION"),
    ]


def test_a_small_master_and_its_otter_fenced_config(tmp_path: Path) -> None:
    master = _master(
        tmp_path,
        ("markdown", "```otter\n# ASSIGNMENT CONFIG\nname: hw\n```"),
        *_question(tests=(("code", "f(1) == 1"), ("code", "# HIDDEN\nf(2) == 2"))),
        outputs={7: "True"},
    )
    draft = import_otter(master, "hw")
    (task,) = draft.rubric["tasks"]
    assert draft.rubric["title"] == "hw"
    assert [(c["expect_output"], c.get("visible"), c["weight"]) for c in task["checks"]] == [
        ("True", None, 0.5),
        ("", "hidden", 0.5),
    ]
    assert [c.source for c in draft.template.cells] == ["**Q1** write f", "def f(x):\n    ..."]
    assert draft.template.cells[1].metadata["tags"] == ["q1"]
    assert [c.source for c in draft.solution.cells] == ["**Q1** write f", "def f(x):\n    return x"]


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ([("raw", "# ASSIGNMENT CONFIG\nname: [unclosed")], r"m\.ipynb: cell 1, line 2: not valid YAML"),
        ([("raw", "# ASSIGNMENT CONFIG\n- a list")], r"cell 1, line 2: a config must be a YAML mapping"),
        (_question()[:-1], r"cell 1: BEGIN QUESTION 'q1' is never closed by an END QUESTION"),
        (
            [("raw", "# BEGIN TESTS"), ("code", "1"), ("raw", "# END TESTS")],
            r"cell 1: BEGIN TESTS outside a question",
        ),
        (_question(name="points: 2"), r"cell 1: a question without a name"),
        ([*_question(), *_question()], r"cell 10: question name 'q1' is used twice \(cell 1\)"),
        ([*_question()[:-1], *_question()], r"cell 9: BEGIN QUESTION inside question 'q1' opened at cell 1"),
        (
            [*_question()[:7], ("raw", "# END QUESTION")],
            r"cell 8: END QUESTION while the TESTS block opened at cell 6 is open",
        ),
        ([*_question()[:5], ("raw", "# END TESTS")], r"cell 6: END TESTS without a BEGIN TESTS"),
        (_question(name="name: q1\npoints: {total: 2}"), r"cell 1, line 2: points: .*takes only `each`"),
        (
            [*_question()[:3], ("code", "# BEGIN SOLUTION\nx = 1"), *_question()[4:]],
            r"cell 4, line 1: BEGIN SOLUTION is never closed",
        ),
    ],
)
def test_bad_masters_name_the_file_cell_and_line(tmp_path: Path, cells: list[Any], message: str) -> None:
    with pytest.raises(AutogradeError, match=message):  # OtterError, or MarkerError for the markers
        import_otter(_master(tmp_path, *cells), "a")


def test_not_an_otter_notebook(tmp_path: Path) -> None:
    with pytest.raises(OtterError, match="not an otter notebook"):
        import_otter(_master(tmp_path, ("code", "x = 1")), "a")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    with pytest.raises(OtterError, match=r"bad\.ipynb: not a notebook"):
        import_otter(bad, "a")


def test_a_seed_variable_assigned_in_a_cell_becomes_a_parameter(tmp_path: Path) -> None:
    config = ("raw", "# ASSIGNMENT CONFIG\nseed:\n    variable: rng_seed\n    autograder_value: 7")
    draft = import_otter(_master(tmp_path, config, ("code", "rng_seed = 0"), *_question()), "a")
    assert draft.rubric["parameters"] == {"rng_seed": 7}
    for nb in (draft.template, draft.solution):
        assert nb.cells[0].source == "rng_seed = 0" and nb.cells[0].metadata["tags"] == ["parameters"]
    absent = import_otter(_master(tmp_path, config, *_question()), "a")
    assert "parameters" not in absent.rubric
    assert any("'rng_seed' is assigned in no cell" in note for note in absent.notes)
