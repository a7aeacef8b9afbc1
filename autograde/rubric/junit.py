"""`autograde rubric test --junit FILE`: the library test as JUnit XML, which CI systems show
as test results (junitparser writes it).

One test suite per assignment, one test case per notebook (solution, template, each mutant):
`classname` is the assignment, `name` the notebook, `time` the grading's wall time. A notebook
that did not score as its rubric says is a failure whose text lists the problems.
"""

from __future__ import annotations

from pathlib import Path

from autograde.errors import AutogradeError
from autograde.rubric.selftest import Case


def write_junit(cases: list[Case], path: Path, name: str = "autograde rubric test") -> None:
    """Write `cases` (in library order) to `path` as JUnit XML."""
    from junitparser import Failure, JUnitXml, TestCase, TestSuite

    xml = JUnitXml(name)
    suites: dict[str, TestSuite] = {}
    for case in cases:
        suite = suites.get(case.assignment)
        if suite is None:
            suite = suites[case.assignment] = TestSuite(case.assignment)
            xml.add_testsuite(suite)
        test = TestCase(case.notebook, classname=case.assignment, time=round(case.seconds, 3))
        if case.problems:
            failure = Failure(case.problems[0][:200], "score")
            failure.text = "\n".join(case.problems)
            test.result = [failure]
        if case.report is not None:
            test.system_out = (
                f"{case.report.score:g}/{case.report.max_score:g} points, status {case.report.status}"
            )
        suite.add_testcase(test)
    for suite in suites.values():
        suite.update_statistics()  # type: ignore[no-untyped-call]
    xml.update_statistics()  # type: ignore[no-untyped-call]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        xml.write(str(path), pretty=True)
    except OSError as exc:
        raise AutogradeError(f"--junit {path}: cannot write it ({exc.strerror or exc})") from exc
