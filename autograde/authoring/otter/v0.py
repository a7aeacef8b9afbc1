"""otter assign's v0 master format (removed from otter in September 2022): the assignment
config in a markdown cell's ``` fence starting `BEGIN ASSIGNMENT`, each question's config in
a ``` fence starting `BEGIN QUESTION` inside its prompt cell; the cell right after the prompt
is the answer; the test cells follow it, each starting `## Test ##` or `## Hidden Test ##`
(any letter case); markdown solutions are cells with a `**SOLUTION**` line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat

from autograde.authoring.markers import Place
from autograde.authoring.otter.cases import Parsed, Question, read_test_cell
from autograde.authoring.otter.cells import MD_PROMPT, code_versions, copy_cell, source_of, task_id
from autograde.authoring.otter.config import AssignmentConfig, OtterError, QuestionConfig, load_yaml, parse
from autograde.authoring.otter.v1 import _title

_FENCED = re.compile(
    r"^```[ \t]*\n(?P<kind>BEGIN (?:ASSIGNMENT|QUESTION))[ \t]*\n(?P<yaml>.*?)^```[ \t]*$", re.M | re.S
)
_TEST = re.compile(r"^\s*##\s*(?P<hidden>hidden\s+)?test\s*##\s*$", re.IGNORECASE)
_MD_SOLUTION = re.compile(r"(<strong>|\*{2})solution:?(</strong>|\*{2}):?", re.IGNORECASE)


def _fence(cell: Any) -> tuple[str, str, int, str] | None:
    """(kind, YAML, the YAML's first cell line, the cell's text without the fence)."""
    if cell.get("cell_type") != "markdown":
        return None
    text = source_of(cell)
    match = _FENCED.search(text)
    if not match:
        return None
    line = text[: match.start("yaml")].count("\n") + 1
    rest = (text[: match.start()] + text[match.end() :]).strip("\n")
    return match["kind"], match["yaml"], line, rest


def is_v0(nb: Any) -> bool:
    return any(_fence(cell) is not None for cell in nb.cells)


def _is_test(cell: Any) -> bool:
    lines = source_of(cell).splitlines()
    return cell.get("cell_type") == "code" and bool(lines) and bool(_TEST.match(lines[0]))


def _is_md_solution(cell: Any) -> bool:
    return cell.get("cell_type") == "markdown" and any(
        _MD_SOLUTION.match(line.strip()) for line in source_of(cell).splitlines()
    )


def parse_v0(nb: Any, master: Path) -> Parsed:
    parsed = Parsed(AssignmentConfig(), [], [], [])
    names: dict[str, int] = {}
    cells = list(nb.cells)
    number = 0
    while number < len(cells):
        cell, place = cells[number], Place(master.name, number + 1)
        fenced = _fence(cell)
        number += 1
        if fenced is None:
            _plain(cell, place, parsed)
            continue
        kind, text, line, rest = fenced
        data = load_yaml(text, place, line)
        if kind == "BEGIN ASSIGNMENT":
            parsed.config = parse(AssignmentConfig, data, place, line)
            if rest.strip():
                parsed.template.append(copy_cell(cell, rest))
                parsed.solution.append(copy_cell(cell, rest))
            continue
        config = parse(QuestionConfig, data, place, line)
        if not config.name:
            raise OtterError(f"{place.at(line)}: a question without a name (its config needs `name:`)")
        tag = task_id(config.name)
        for other, at in names.items():
            if other == config.name or task_id(other) == tag:
                raise OtterError(f"{place.at(line)}: question name {config.name!r} is used twice (cell {at})")
        names[config.name] = place.cell
        question = Question(config.name, config, place, title=_title(rest), tag=tag)
        parsed.template.append(copy_cell(cell, rest))
        parsed.solution.append(copy_cell(cell, rest))
        number = _question(cells, number, question, master, parsed)
        parsed.questions.append(question)
    return parsed


def _plain(cell: Any, place: Place, parsed: Parsed, tag: str | None = None) -> None:
    if cell.get("cell_type") == "code":
        student, solution = code_versions(cell, place, markers=True)
        parsed.template.append(copy_cell(cell, student, tag))
        parsed.solution.append(copy_cell(cell, solution, tag))
    else:
        parsed.template.append(copy_cell(cell, tag=tag))
        parsed.solution.append(copy_cell(cell, tag=tag))


def _question(cells: list[Any], number: int, question: Question, master: Path, parsed: Parsed) -> int:
    """The answer cell right after the prompt, then the question's test and solution cells;
    returns the index of the first cell after the question."""
    answer = number < len(cells) and not _is_test(cells[number]) and _fence(cells[number]) is None
    prompt: Any = None
    if answer:
        cell, place = cells[number], Place(master.name, number + 1)
        number += 1
        if _is_md_solution(cell):
            parsed.template.append(
                nbformat.v4.new_markdown_cell(MD_PROMPT, metadata={"tags": [question.tag]})
            )
            parsed.solution.append(copy_cell(cell, tag=question.tag))
        elif cell.get("cell_type") == "markdown":
            prompt = copy_cell(cell, tag=question.tag)  # a prompt; a solution cell may follow
            parsed.template.append(prompt)
        else:
            _plain(cell, place, parsed, question.tag)
        question.answer_cells += 1
    while number < len(cells):
        cell, place = cells[number], Place(master.name, number + 1)
        if _is_test(cell):
            lines = source_of(cell).splitlines()
            first = _TEST.match(lines[0])
            hidden = bool(first and first["hidden"])
            body = "\n".join(["# HIDDEN"] * hidden + lines[1:])
            question.cases.append(
                read_test_cell({**cell, "source": body}, place, parsed.config.tests.ok_format)
            )
        elif _is_md_solution(cell):
            parsed.solution.append(copy_cell(cell, tag=question.tag))
            prompt = None
        else:
            break
        number += 1
    if prompt is not None:
        parsed.solution.append(prompt)
    return number
