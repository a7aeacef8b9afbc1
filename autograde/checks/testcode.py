"""`kind: test_code`: the instructor's test code, run in the student's kernel after the notebook
(as nbgrader's and otter's tests run), like a notebook cell: it passes when it raises nothing
and, with `expect_output`, prints (and shows as its last expression) that output.

The code runs where the student's code runs, so a notebook can fool it (it can rebind the
names the test uses, patch what it calls); `value` checks, judged on the host, are stronger.
A hidden test's feedback names the failing line's number, never its source.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field, field_validator

from autograde.checks.base import (
    ERROR,
    FAIL,
    CheckKind,
    Expected,
    PlanContext,
    ProbeResult,
    SelfCheck,
    Verdict,
    register,
)
from autograde.rubric.schema import CheckBase

_SHOWN = 300  # characters of an output line a message quotes
_SOURCE_IN_MESSAGE = re.compile(r" \(line (\d+): .*\Z", re.DOTALL)


def first_line(code: str) -> str:
    """The first line that is neither blank nor a comment, shortened for a report."""
    for line in code.splitlines():
        text = line.strip()
        if text and not text.startswith("#"):
            return text if len(text) <= 40 else text[:37] + "..."
    return ""


class TestCodeCheck(CheckBase):
    kind: Literal["test_code"]
    code: str = Field(description="Python run in the notebook's namespace after the notebook")
    expect_output: str | None = Field(None, description="what it prints (and its last expression shows)")
    failure_message: str | None = None
    success_message: str | None = None

    __test__ = False  # not a pytest test class, whatever its name

    @field_validator("code")
    @classmethod
    def _compiles(cls, code: str) -> str:
        if not code.strip():
            raise ValueError("the test code is empty")
        try:
            compile(code, "<test code>", "exec", dont_inherit=True)
        except SyntaxError as exc:
            lines = code.splitlines()
            number = exc.lineno or 0
            shown = f": {lines[number - 1].strip()!r}" if 0 < number <= len(lines) else ""
            raise ValueError(f"the test code does not compile: line {number}{shown}: {exc.msg}") from None
        return code

    def subject(self) -> str:
        return first_line(self.code)

    def display_name(self) -> str:
        if self.name:
            return self.name
        return "hidden test code" if self.visible == "hidden" else f"test code {self.subject()}".strip()


def lines_of(text: str) -> list[str]:
    """Output compared line by line: trailing whitespace and blank lines around it ignored."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _short(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def output_problem(expected: str, got: str, hidden: bool) -> str | None:
    """Why the output is not the expected one (None: it is). A hidden test's expected output
    is never quoted."""
    want, have = lines_of(expected), lines_of(got)
    if want == have:
        return None
    differ = (i for i, (a, b) in enumerate(zip(want, have, strict=False)) if a != b)
    at = next(differ, min(len(want), len(have)))
    shown = have[at] if at < len(have) else "(nothing)"
    if hidden:
        return f"its output differs from the expected output at line {at + 1}: got {_short(shown)}"
    wanted = want[at] if at < len(want) else "(nothing)"
    return f"expected output line {at + 1} {_short(wanted)}, got {_short(shown)}"


def error_text(record: dict[str, Any], hidden: bool) -> str:
    """The exception a test raised, with its line: the test's line (its source for a public
    test only) or the line of the notebook's code it was in."""
    text = str(record.get("raised"))
    line, source = record.get("line"), record.get("source")
    if not isinstance(line, int):
        return text
    if record.get("in_test"):
        shown = "" if hidden or not source else f": {source}"
        return f"{text} (test line {line}{shown})"
    return f"{text} (line {line} of the notebook's code: {source})" if source else text


@register
class TestCode(CheckKind):
    model = TestCodeCheck
    __test__ = False

    def plan(self, check: TestCodeCheck, ctx: PlanContext) -> dict[str, Any]:
        # the target names the test in the runner's messages (a crash): never a hidden test's code
        target = (check.name or "hidden test code") if ctx.secret else check.display_name()
        probe = ctx.probe("script", target, code=check.code)
        return {"probe": probe, "hidden": ctx.secret}

    def self_check(self, check: Any) -> str:
        return SelfCheck.FULL  # the code is in the rubric; a hidden test never reaches a bundle

    def judge(
        self,
        check: TestCodeCheck,
        planned: dict[str, Any],
        probe: Callable[[str], ProbeResult],
        expected: Expected | None = None,
    ) -> Verdict:
        hidden = bool(planned.get("hidden"))
        result = probe(str(planned["probe"]))
        failure = result.failure("the test")
        if failure:
            if hidden:
                failure.message = _SOURCE_IN_MESSAGE.sub(r" (line \1)", failure.message)
            return self._failed(check, failure)
        record = result.record
        if record.get("raised") is not None:
            status = FAIL if record.get("exception") == "AssertionError" else ERROR
            return self._failed(check, Verdict(status, error_text(record, hidden)))
        if check.expect_output is not None:
            problem = output_problem(check.expect_output, str(record.get("output", "")), hidden)
            if problem:
                return self._failed(check, Verdict.failed(problem))
        return Verdict.passed(check.success_message or "the test passed")

    @staticmethod
    def _failed(check: TestCodeCheck, verdict: Verdict) -> Verdict:
        if check.failure_message:
            verdict.message = f"{check.failure_message.strip()} ({verdict.message})"
        return verdict
