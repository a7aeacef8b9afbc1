"""otter test cases: what a test cell holds (its TEST CONFIG header, the `# HIDDEN` first
line, `# IGNORE` lines, its stored output) and what an OK-format case of a student notebook
holds (doctest text), turned into the code and expected output of a `test_code` check.

Also the parts every otter reader shares: a `Case`, a `Question` and what a reader gives
(`Parsed`: the questions, the template's and the solution's cells, notes).
"""

from __future__ import annotations

import ast
import doctest
import re
from dataclasses import dataclass, field
from typing import Any

from autograde.authoring.markers import Place
from autograde.authoring.otter.config import (
    AssignmentConfig,
    OtterError,
    QuestionConfig,
    TestCaseConfig,
    load_yaml,
    parse,
)

_BEGIN_TEST_CONFIG = re.compile(r'^(?:.\s*=\s*)?"""?\s*#\s*BEGIN\s*TEST\s*CONFIG', re.IGNORECASE)
_END_TEST_CONFIG = re.compile(r'^"""?\s*#\s*END\s*TEST\s*CONFIG', re.IGNORECASE)
_HIDDEN = re.compile(r"\bhidden\b", re.IGNORECASE)
_BEGIN_IGNORE = re.compile(r"^\s*#\s*BEGIN\s*IGNORE\s*$", re.IGNORECASE)
_SCALAR = re.compile(r"^(True|False|-?\d+(\.\d*)?([eE][-+]?\d+)?)$")
VALUE = "_otter_value"  # the name the scalar display of a rewritten case goes through


@dataclass
class Case:
    """One test case: its code, expected output (None: not compared), hidden, points given."""

    code: str
    output: str | None
    hidden: bool
    points: float | None = None
    name: str | None = None
    success_message: str | None = None
    failure_message: str | None = None


@dataclass
class Question:
    name: str
    config: QuestionConfig
    place: Place
    title: str | None = None
    cases: list[Case] = field(default_factory=list)
    tag: str = ""  # the answer cells' tag (the task id)
    answer_cells: int = 0  # template cells tagged as its answer
    label_points: float | None = None  # a student notebook's `_Points:_` line


@dataclass
class Parsed:
    """What a reader found: the config, the questions in order, both notebooks' cells, notes."""

    config: AssignmentConfig
    questions: list[Question]
    template: list[Any]
    solution: list[Any]
    notes: list[str] = field(default_factory=list)
    has_solution: bool = True


def remove_ignored_lines(lines: list[str], place: Place) -> list[str]:
    """otter's `# IGNORE` lines and `# BEGIN IGNORE` / `# END IGNORE` blocks, removed."""
    kept: list[str] = []
    opened: int | None = None
    for number, line in enumerate(lines, start=1):
        text = line.rstrip()
        if text.endswith("# END IGNORE"):
            if opened is None:
                raise OtterError(f"{place.at(number)}: END IGNORE without a BEGIN IGNORE")
            opened = None
            continue
        if _BEGIN_IGNORE.match(line):
            if opened is not None:
                raise OtterError(f"{place.at(number)}: BEGIN IGNORE inside the one opened at line {opened}")
            opened = number
            continue
        if opened is not None or text.endswith("# IGNORE"):
            continue
        kept.append(line)
    if opened is not None:
        raise OtterError(f"{place.at(opened)}: BEGIN IGNORE is never closed by an END IGNORE")
    return kept


def stored_output(cell: Any) -> str:
    """A test cell's recorded output, read as otter reads it: stream text and text/plain results."""
    out = ""
    for output in cell.get("outputs", []):
        text = output.get("text", "")
        out += "".join(text) if isinstance(text, list) else text
        plain = output.get("data", {}).get("text/plain")
        if isinstance(plain, list):
            out += "".join(plain)
        elif plain:
            out += plain
    return out


def read_test_cell(cell: Any, place: Place, ok_format: bool = True) -> Case:
    """A v1 test cell: the `# HIDDEN` first line, the TEST CONFIG header, `# IGNORE` lines; its
    stored output is the expected output (none stored: none expected), except for otter's
    exception-style tests (`ok_format: false`), which pass when they raise nothing."""
    lines = str(cell.get("source", "")).splitlines()
    if not lines or not any(line.strip() for line in lines):
        raise OtterError(f"{place.at()}: an empty test cell")
    hidden = lines[0].lstrip().startswith("#") and bool(_HIDDEN.search(lines[0]))
    start = 1 if hidden else 0
    config = TestCaseConfig()
    if _BEGIN_TEST_CONFIG.match(lines[0]):
        end = next((i for i, line in enumerate(lines) if i and _END_TEST_CONFIG.match(line)), None)
        if end is None:
            raise OtterError(f"{place.at(1)}: BEGIN TEST CONFIG is never closed by an END TEST CONFIG")
        data = load_yaml("\n".join(lines[1:end]), place, first_line=2)
        config = parse(TestCaseConfig, data, place, 1)
        start = end + 1
    code = "\n".join(remove_ignored_lines(lines[start:], place)).strip("\n")
    if not code.strip():
        raise OtterError(f"{place.at()}: a test cell without code")
    return Case(
        code=code,
        output=stored_output(cell) if ok_format else None,
        hidden=config.hidden if config.hidden is not None else hidden,
        points=config.points,
        name=config.name,
        success_message=config.success_message,
        failure_message=config.failure_message,
    )


def read_ok_case(text: str, place: Place) -> tuple[str, str]:
    """An OK-format doctest case: (its code, its expected output)."""
    try:
        examples = doctest.DocTestParser().get_examples(text)
    except ValueError as exc:
        raise OtterError(f"{place.at()}: not a doctest case: {exc}") from None
    code = "".join(example.source for example in examples)
    return code.rstrip("\n"), "".join(example.want for example in examples)


class _StripHints(ast.NodeTransformer):
    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.annotation = None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.returns = None
        self.generic_visit(node)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | None:
        if node.value is None:
            return None
        return ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)


def _has_hints(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            return True
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            return True
        if isinstance(node, ast.AnnAssign):
            return True
    return False


def check_code(case: Case, place: Place) -> str:
    """The code a check runs: type hints stripped as otter strips them, and, where the expected
    output is one scalar (`True`, `9`), a numpy scalar shown as the Python scalar it equals
    (numpy 2 shows `np.True_` where the recording, made with numpy 1, shows `True`)."""
    try:
        tree = ast.parse(case.code)
    except SyntaxError as exc:
        raise OtterError(f"{place.at(exc.lineno)}: the test code does not compile: {exc.msg}") from None
    code = case.code
    if _has_hints(tree):
        tree = ast.fix_missing_locations(_StripHints().visit(tree))
        code = ast.unparse(tree)
        tree = ast.parse(code)
    if case.output is None or not _SCALAR.match(case.output.strip()):
        return code
    last = tree.body[-1] if tree.body else None
    lines = code.splitlines()
    if not isinstance(last, ast.Expr) or last.col_offset or last.end_lineno is None:
        return code
    if any(node.end_lineno == last.lineno for node in tree.body[:-1] if node.end_lineno):
        return code  # `a; b` on one line
    expression = ast.get_source_segment(code, last.value)
    if expression is None or any(line.strip() for line in lines[last.end_lineno :]):
        return code
    shown = (
        f"{VALUE}.item() if isinstance({VALUE}, "
        f'getattr(__import__("sys").modules.get("numpy"), "generic", ())) else {VALUE}'
    )
    value = f"{VALUE} = {expression}" if "\n" not in expression else f"{VALUE} = (\n{expression}\n)"
    return "\n".join([*lines[: last.lineno - 1], value, shown])
