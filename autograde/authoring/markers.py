"""Solution and hidden-test regions of an instructor's notebook, as nbgrader and otter mark them.

Solution markers (in code cells; `#` and `###` both work, any indentation):
    ### BEGIN SOLUTION / ### END SOLUTION      nbgrader; otter writes `# BEGIN SOLUTION`
    # BEGIN SOLUTION NO PROMPT                 otter: the student gets nothing in its place
    ''' # BEGIN PROMPT ... ''' # END PROMPT    otter: what the student gets instead
    x = 2  # SOLUTION                          otter: one line; the student gets `x = ...`
    plt.plot(x)  # SOLUTION NO PROMPT          otter: one line, removed for the student
    (a PROMPT block may follow a line marker as it follows an END SOLUTION line; otter also
    closes one with `'''; # END PROMPT`)
Hidden tests (in test code): `### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS` (nbgrader).

`clear_solutions` gives both versions of a cell: the student's (each region replaced by the
stub at the indentation of its BEGIN line) and the solution's (marker and prompt lines
removed). With `keep_signatures`, a region that defines functions leaves the student their
signatures and docstrings. Every marker error names the notebook, the cell and the line.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from autograde.errors import AutogradeError

_BEGIN = re.compile(r"^\s*#+\s*BEGIN SOLUTION(?P<no_prompt>\s+NO PROMPT)?\s*$")
_END = re.compile(r"^\s*#+\s*END SOLUTION\s*$")
_BEGIN_PROMPT = re.compile(r"^\s*(?P<quote>\"\"\"|''')\s*#\s*BEGIN PROMPT\s*$")
_END_PROMPT = re.compile(r"^\s*(?P<quote>\"\"\"|''')\s*;?\s*#\s*END PROMPT\s*$")  # otter: `"""; # END PROMPT`
_LINE = re.compile(r"^(?P<code>.*?\S)\s*#\s*SOLUTION(?P<no_prompt>\s+NO PROMPT)?\s*$")
_ASSIGNMENT = re.compile(r"^(?P<lhs>\s*[A-Za-z_][\w.\[\], ]*?\s*(?:[-+*/%@&|^]|//|\*\*)?=)(?!=)\s*\S")
_BEGIN_HIDDEN = re.compile(r"^\s*#+\s*BEGIN HIDDEN TESTS\s*$")
_END_HIDDEN = re.compile(r"^\s*#+\s*END HIDDEN TESTS\s*$")
_ANY_MARKER = re.compile(r"#+\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS|PROMPT)\b")

OTTER_STUB: tuple[str, ...] = ("...",)
NBGRADER_STUB: tuple[str, ...] = ("# YOUR CODE HERE", "raise NotImplementedError()")


class MarkerError(AutogradeError):
    """A marker is unclosed, nested, stray or misplaced; the message names file, cell and line."""


@dataclass(frozen=True)
class Place:
    """Where a cell is, for messages: the notebook's name and the cell's 1-based number."""

    notebook: str
    cell: int

    def at(self, line: int | None = None) -> str:
        where = f"{self.notebook}: cell {self.cell}"
        return f"{where}, line {line}" if line is not None else where


@dataclass
class Cleared:
    """The two versions of one cell's source, and what the markers said."""

    student: str
    solution: str
    regions: int = 0  # BEGIN/END SOLUTION regions
    solution_lines: int = 0  # `# SOLUTION` line markers
    defined: list[str] = field(default_factory=list)  # functions defined inside regions
    bodies: list[str] = field(default_factory=list)  # each region's solution code, dedented

    @property
    def marked(self) -> bool:
        return bool(self.regions or self.solution_lines)


def has_markers(source: str) -> bool:
    """Whether the source holds any region or line marker at all."""
    return bool(_ANY_MARKER.search(source)) or any(_LINE.match(line) for line in source.splitlines())


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _stubbed(region: list[str], indent: str, stub: Sequence[str], keep_signatures: bool) -> list[str]:
    """What the student gets for one solution region."""
    stub_lines = [indent + line if line else line for line in stub]
    if not keep_signatures:
        return stub_lines
    kept = _signatures(region)
    if kept is None:
        return stub_lines
    return kept


def _signatures(region: list[str]) -> list[str] | None:
    """The signatures and docstrings of the functions a region defines, each with a `...`
    body; None when the region defines no function or holds other statements too."""
    try:
        tree = ast.parse(textwrap.dedent("\n".join(region)))
    except SyntaxError:
        return None
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    if not tree.body or not all(isinstance(node, functions) for node in tree.body):
        return None
    out: list[str] = []
    for node in tree.body:
        assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        body_start = node.body[0]
        doc = ast.get_docstring(node, clean=False) is not None
        end = (body_start.end_lineno or body_start.lineno) if doc else body_start.lineno - 1
        out.extend(region[first - 1 : end])
        out.append(_indent(region[body_start.lineno - 1]) + "...")
        if node is not tree.body[-1]:
            out.append("")
    return out


def _line_marker(line: str) -> tuple[str | None, str] | None:
    """A `# SOLUTION` line: (student line or None when removed, solution line)."""
    match = _LINE.match(line)
    if not match or _BEGIN.match(line) or _END.match(line):
        return None
    code = match.group("code")
    if match.group("no_prompt"):
        return None, code
    assignment = _ASSIGNMENT.match(code)
    if assignment:
        return f"{assignment.group('lhs')} ...", code
    return f"{_indent(code)}...", code


def _defined(region: list[str]) -> list[str]:
    try:
        tree = ast.parse(textwrap.dedent("\n".join(region)))
    except SyntaxError:
        return []
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]


def clear_solutions(
    source: str, place: Place, stub: Sequence[str] = OTTER_STUB, keep_signatures: bool = False
) -> Cleared:
    """Both versions of one code cell's source (see the module docstring)."""
    lines = source.splitlines()
    student: list[str] = []
    solution: list[str] = []
    cleared = Cleared("", "")
    number = 0
    while number < len(lines):
        line = lines[number]
        begin = _BEGIN.match(line)
        if begin:
            number, region, prompt = _region(lines, number, place)
            cleared.regions += 1
            cleared.bodies.append(textwrap.dedent("\n".join(region)))
            cleared.defined += _defined(region)
            solution.extend(region)
            if prompt is not None:
                student.extend(prompt)
            elif not begin.group("no_prompt"):
                student.extend(_stubbed(region, _indent(line), stub, keep_signatures))
            continue
        if _END.match(line):
            raise MarkerError(f"{place.at(number + 1)}: END SOLUTION without a BEGIN SOLUTION before it")
        if _BEGIN_PROMPT.match(line) or _END_PROMPT.match(line):
            raise MarkerError(f"{place.at(number + 1)}: a PROMPT block outside a solution region")
        marked = _line_marker(line)
        if marked is not None:
            cleared.solution_lines += 1
            shown, kept = marked
            solution.append(kept)
            follows = _prompt(lines, number + 1, place)
            if follows is not None:  # otter: a PROMPT block may follow a line marker too
                number = follows[0]
                student.extend(follows[1])
                continue
            if shown is not None:
                student.append(shown)
        else:
            student.append(line)
            solution.append(line)
        number += 1
    cleared.student = "\n".join(student)
    cleared.solution = "\n".join(solution)
    return cleared


def _region(lines: list[str], begin: int, place: Place) -> tuple[int, list[str], list[str] | None]:
    """The region opened at `begin`: (index after its END, its solution lines, the prompt's
    lines when a PROMPT block follows the END, else None)."""
    region: list[str] = []
    number = begin + 1
    while number < len(lines):
        line = lines[number]
        if _END.match(line):
            break
        if _BEGIN.match(line):
            raise MarkerError(
                f"{place.at(number + 1)}: BEGIN SOLUTION inside the region opened at line {begin + 1} "
                "(regions cannot nest)"
            )
        if _BEGIN_PROMPT.match(line):
            raise MarkerError(f"{place.at(number + 1)}: a PROMPT block must follow its END SOLUTION line")
        region.append(line)
        number += 1
    else:
        raise MarkerError(f"{place.at(begin + 1)}: BEGIN SOLUTION is never closed by an END SOLUTION")
    prompt = _prompt(lines, number + 1, place)
    if prompt is not None:
        return prompt[0], region, prompt[1]
    return number + 1, region, None


def _prompt(lines: list[str], number: int, place: Place) -> tuple[int, list[str]] | None:
    """The PROMPT block opened at `number`, if one is: (index after its END, its lines)."""
    if number >= len(lines) or not _BEGIN_PROMPT.match(lines[number]):
        return None
    opened = number
    prompt: list[str] = []
    number += 1
    while number < len(lines) and not _END_PROMPT.match(lines[number]):
        prompt.append(lines[number])
        number += 1
    if number == len(lines):
        raise MarkerError(f"{place.at(opened + 1)}: BEGIN PROMPT is never closed by an END PROMPT")
    return number + 1, prompt


@dataclass
class SplitTests:
    """Test code with its hidden regions: what a student sees, and what the grader runs."""

    public: str
    full: str
    hidden_regions: int = 0


def split_blocks(
    source: str, begin: re.Pattern[str], end: re.Pattern[str], what: str, at: Callable[[int], str]
) -> tuple[list[str], list[str], int]:
    """Lines outside the `begin` ... `end` blocks of `source`, all lines but the markers, and
    how many blocks; `at(line)` says where a line is for an error (a block unclosed, nested or
    ended without a beginning). `what` names the block: "HIDDEN TESTS", "MARK SCHEME"."""
    outside: list[str] = []
    kept: list[str] = []
    opened: int | None = None
    blocks = 0
    for number, line in enumerate(source.splitlines(), start=1):
        if begin.search(line):
            if opened is not None:
                raise MarkerError(f"{at(number)}: BEGIN {what} inside the one opened at line {opened}")
            opened = number
            blocks += 1
            continue
        if end.search(line):
            if opened is None:
                raise MarkerError(f"{at(number)}: END {what} without a BEGIN {what}")
            opened = None
            continue
        kept.append(line)
        if opened is None:
            outside.append(line)
    if opened is not None:
        raise MarkerError(f"{at(opened)}: BEGIN {what} is never closed by an END {what}")
    return outside, kept, blocks


def split_hidden_tests(source: str, place: Place) -> SplitTests:
    """nbgrader's `### BEGIN HIDDEN TESTS` regions: dropped from the public version; the full
    version keeps their code without the marker lines."""
    public, full, regions = split_blocks(source, _BEGIN_HIDDEN, _END_HIDDEN, "HIDDEN TESTS", place.at)
    return SplitTests("\n".join(public), "\n".join(full), regions)
