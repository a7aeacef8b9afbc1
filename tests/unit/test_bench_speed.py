"""bench/speed.py's pieces that need no timing: the script of a notebook's cells, the target
table, and the OK-format test files it hands otter-grader (run here against ex02's reference
and a wrong gradient, with the doctest module otter itself uses)."""

from __future__ import annotations

import doctest
import sys
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import speed_otter  # noqa: E402
from speed_plain import script_of_cells  # noqa: E402
from speed_table import Figure, Table, Target  # noqa: E402

from reference import ex02  # noqa: E402


def test_script_of_cells_is_the_code_cells_in_order_without_ipython_lines() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# not code"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport math"),
        nbformat.v4.new_code_cell("x = math.sqrt(16)\n!ls\nprint(x)"),
    ]
    script = script_of_cells(nb)
    assert script == "# %matplotlib inline\nimport math\n\nx = math.sqrt(16)\n# !ls\nprint(x)\n"
    namespace: dict[str, Any] = {}
    exec(compile(script, "<cells>", "exec"), namespace)
    assert namespace["x"] == 4.0


def _table(plain: float, graded: float, one: float, two: float) -> Table:
    table = Table()
    table.add(Figure("plain", [plain]))
    table.add(Figure("1w", [graded, 99.0, one], "plain", Target("ratio_at_most", 2.5)))  # median: middle
    table.add(Figure("2w", [two], "1w", Target("speedup_at_least", 1.8), speedup=True))
    table.add(Figure("check", [0.8], target=Target("seconds_under", 1.0)))
    return table


def test_targets_met_and_missed_on_given_numbers() -> None:
    met = {row["name"]: row["met"] for row in _table(10.0, 20.0, 24.0, 13.0).as_json()["figures"]}
    # 1w median 24 s = 2.4x plain (<= 2.5); 24 / 13 = 1.85x faster (>= 1.8); 0.8 s < 1 s
    assert met == {"plain": None, "1w": True, "2w": True, "check": True}
    rows = {row["name"]: row for row in _table(10.0, 26.0, 27.0, 15.0).as_json()["figures"]}
    # 2.7x plain; 27 / 15 = 1.8x exactly: met; the plain figure has no target
    assert (rows["1w"]["met"], rows["1w"]["ratio"], rows["2w"]["met"]) == (False, 2.7, True)
    assert Target("speedup_at_least", 1.8).met(16.0, 27.0) is False  # 1.69x
    assert Target("seconds_under", 1.0).met(1.0, None) is False
    assert Target("ratio_at_most", 2.5).met(5.0, None) is None  # no baseline measured


def test_rendered_table_says_yes_and_no() -> None:
    text = _table(10.0, 26.0, 27.0, 15.0).render()
    line_1w = next(line for line in text.splitlines() if line.startswith("1w "))
    line_2w = next(line for line in text.splitlines() if line.startswith("2w "))
    assert "2.70x" in line_1w and line_1w.rstrip().endswith("NO")
    assert "1.80x" in line_2w and line_2w.rstrip().endswith("yes")  # printed as the speed-up


def _otter_tests(folder: Path) -> list[dict[str, Any]]:
    specs = []
    for path in speed_otter.write_ok_tests(folder):
        env: dict[str, Any] = {}
        exec(path.read_text(), env)  # as otter reads them
        assert env["OK_FORMAT"] is True
        specs.append(env["test"])
    return specs


def _passed_points(spec: dict[str, Any], namespace: dict[str, Any]) -> float:
    """Points otter would give: the file's points shared evenly by its cases that pass."""
    cases = spec["suites"][0]["cases"]
    passed = 0
    for index, case in enumerate(cases):
        test = doctest.DocTestParser().get_doctest(case["code"], dict(namespace), f"{spec['name']}{index}",
                                                   None, 0)
        runner = doctest.DocTestRunner(optionflags=doctest.REPORT_ONLY_FIRST_FAILURE)
        result = runner.run(test, out=lambda _: None)
        passed += result.failed == 0 and result.attempted > 0
    return spec["points"] * passed / len(cases)


def test_otter_files_are_ok_format_and_pass_only_a_right_solution(tmp_path: Path) -> None:
    specs = _otter_tests(tmp_path)
    assert [s["name"] for s in specs] == ["loss", "gradient", "descent", "regression"]
    assert sum(s["points"] for s in specs) == 10  # ex02's rubric: 2 + 3 + 2 + 3
    for spec in specs:  # what otter's OKTestFile.from_spec asserts
        (suite,) = spec["suites"]
        assert suite["type"] == "doctest" and not suite["setup"] and not suite["teardown"]
        assert all(case["code"].lstrip().startswith(">>>") for case in suite["cases"])
    right = {"np": np, "loss": ex02.loss, "gradient": ex02.gradient,
             "gradient_descent": ex02.gradient_descent, "fit_line": ex02.fit_line}
    assert [_passed_points(s, right) for s in specs] == [2, 3, 2, 3]

    def wrong_sign(w: Any) -> Any:
        return ex02.gradient(w) * np.array([1.0, -1.0])

    def in_place(w: Any, eta: float, epochs: int) -> Any:
        w -= 0
        for _ in range(epochs):
            w -= eta * ex02.gradient(w)
        return w

    wrong = {**right, "gradient": wrong_sign}
    assert _passed_points(specs[1], wrong) == pytest.approx(1.0)  # callable only
    changed = {**right, "gradient_descent": in_place}
    # float input arrays: the in-place update gives the right result but changes the caller's array
    assert _passed_points(specs[2], changed) == pytest.approx(1.0)


def test_the_machine_cpu_figure_counts_a_busy_loop() -> None:
    import time

    import speed

    before = speed.machine_cpu_seconds()
    begun = time.process_time()
    while time.process_time() - begun < 0.3:
        pass
    assert speed.machine_cpu_seconds() - before >= 0.25  # this process's 0.3 s, at least
