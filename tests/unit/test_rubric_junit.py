"""`rubric test --junit`: JUnit XML as CI systems read it (parsed back with junitparser and
with the standard library's XML parser, as a CI system's reader would)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml

from autograde.errors import AutogradeError
from autograde.results import GradeReport
from autograde.rubric.junit import write_junit
from autograde.rubric.selftest import Case

PROBLEM = 'task t: 10 points, expected 7 (value f: pass: <&> "quoted")'


def _case(assignment: str, notebook: str, problems: list[str], seconds: float, score: float) -> Case:
    report = GradeReport(student="s", file=notebook, assignment=assignment, status="graded", score=score,
                         max_score=10)
    return Case(assignment, notebook, {}, report=report, problems=problems, seconds=seconds)


def test_one_suite_per_assignment_one_case_per_notebook(tmp_path: Path) -> None:
    cases = [
        _case("ex01", "solution.ipynb", [], 2.5, 10),
        _case("ex01", "template.ipynb", [], 1.25, 0),
        _case("ex01", "mutants/a.ipynb", [PROBLEM], 3, 10),
        _case("ex02", "solution.ipynb", ["status 'failed': the kernel died", "grader error: x"], 0.5, 0),
    ]
    out = tmp_path / "reports" / "library.xml"
    write_junit(cases, out)

    xml = JUnitXml.fromfile(str(out))
    suites = {suite.name: suite for suite in xml}
    assert list(suites) == ["ex01", "ex02"]
    assert (suites["ex01"].tests, suites["ex01"].failures) == (3, 1)
    assert (suites["ex02"].tests, suites["ex02"].failures) == (1, 1)
    assert (xml.tests, xml.failures, xml.errors) == (4, 2, 0)
    by_name = {(case.classname, case.name): case for suite in xml for case in suite}
    assert set(by_name) == {("ex01", "solution.ipynb"), ("ex01", "template.ipynb"),
                            ("ex01", "mutants/a.ipynb"), ("ex02", "solution.ipynb")}
    assert by_name[("ex01", "solution.ipynb")].is_passed
    assert by_name[("ex01", "template.ipynb")].time == 1.25
    failed = by_name[("ex01", "mutants/a.ipynb")]
    [failure] = failed.result
    assert isinstance(failure, Failure)
    assert failure.text == PROBLEM
    both = by_name[("ex02", "solution.ipynb")].result[0].text
    assert both.splitlines() == ["status 'failed': the kernel died", "grader error: x"]
    assert "10/10 points" in (failed.system_out or "")

    root = ET.parse(out).getroot()  # plain XML: what a CI system's own reader gets
    assert root.tag == "testsuites"
    assert [s.get("name") for s in root.iter("testsuite")] == ["ex01", "ex02"]
    assert len(root.findall(".//testcase/failure")) == 2


def test_a_path_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    target = tmp_path / "a-file" / "library.xml"
    with pytest.raises(AutogradeError, match=f"--junit {re.escape(str(target))}: cannot write it"):
        write_junit([_case("ex01", "solution.ipynb", [], 1.0, 10)], target)
