"""otter assign's v1 master format: delimiter cells (raw cells, or markdown cells fenced with
```otter) `# ASSIGNMENT CONFIG`, `# BEGIN/END QUESTION` (with the question's YAML),
`# BEGIN/END SOLUTION`, `# BEGIN/END TESTS`, `# BEGIN/END PROMPT`.

In a question: solution cells become the student's answer cells (code cleared by the
markers; markdown dropped unless tagged `otter_include`, a written answer getting otter's
default prompt); prompt cells are what the student gets instead; each test cell is a case.
Delimiter and test cells reach neither notebook; cells outside questions reach both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograde.authoring.markers import Place
from autograde.authoring.otter.cases import Parsed, Question, read_test_cell
from autograde.authoring.otter.cells import (
    MD_PROMPT,
    code_versions,
    copy_cell,
    has_tag,
    source_of,
    task_id,
)
from autograde.authoring.otter.config import (
    AssignmentConfig,
    OtterError,
    QuestionConfig,
    load_yaml,
    parse,
)

_DELIMITER = re.compile(
    r"^#\s*(?:(?P<edge>BEGIN|END)\s+(?P<block>QUESTION|SOLUTION|TESTS|PROMPT)|(?P<config>ASSIGNMENT\s+CONFIG))\b",
    re.IGNORECASE,
)
_FENCE = re.compile(r"^```otter\s*$", re.IGNORECASE)


@dataclass
class Delimiter:
    kind: str  # "config", or "BEGIN QUESTION", "END TESTS", ...
    yaml: str
    yaml_line: int  # the cell line the YAML starts on


def delimiter(cell: Any) -> Delimiter | None:
    """The delimiter a raw cell or an ```otter-fenced markdown cell is, if it is one."""
    lines = source_of(cell).strip("\n").splitlines()
    offset = 1
    if cell.get("cell_type") == "markdown" and lines and _FENCE.match(lines[0].strip()):
        if len(lines) < 2 or lines[-1].strip() != "```":
            return None
        lines, offset = lines[1:-1], 2
    elif cell.get("cell_type") != "raw":
        return None
    match = _DELIMITER.match(lines[0].strip()) if lines else None
    if not match:
        return None
    kind = "config" if match.group("config") else f"{match['edge'].upper()} {match['block'].upper()}"
    return Delimiter(kind, "\n".join(lines[1:]), offset + 1)


def is_v1(nb: Any) -> bool:
    return any(delimiter(cell) is not None for cell in nb.cells)


@dataclass
class _Open:
    """The question being read, and its cells until its END QUESTION."""

    question: Question
    cell: int
    entries: list[tuple[str, Any, Any]] = field(default_factory=list)  # (role, template, solution)
    block: str | None = None
    block_cell: int = 0


def read_config(nb: Any, master: Path) -> AssignmentConfig:
    """The ASSIGNMENT CONFIG cell's config, merged over the `config_file` it names."""
    name = master.name
    found: tuple[int, Delimiter] | None = None
    for number, cell in enumerate(nb.cells, start=1):
        mark = delimiter(cell)
        if mark and mark.kind == "config":
            if found:
                raise OtterError(
                    f"{name}: cell {number}: a second ASSIGNMENT CONFIG (the first is cell {found[0]})"
                )
            found = (number, mark)
    if not found:
        return AssignmentConfig()
    number, mark = found
    place = Place(name, number)
    data = load_yaml(mark.yaml, place, mark.yaml_line)
    if data.get("config_file"):
        path = master.parent / str(data["config_file"])
        if not path.is_file():
            raise OtterError(f"{place.at()}: config_file {data['config_file']!r} is not beside the master")
        data = {**load_yaml(path.read_text(), Place(path.name, 1)), **data}
    return parse(AssignmentConfig, data, place, mark.yaml_line)


def parse_v1(nb: Any, master: Path) -> Parsed:
    config = read_config(nb, master)
    parsed = Parsed(config, [], [], [])
    names: dict[str, int] = {}
    current: _Open | None = None
    for number, cell in enumerate(nb.cells, start=1):
        place = Place(master.name, number)
        mark = delimiter(cell)
        if mark is not None:
            current = _delimit(mark, current, place, parsed, names)
            continue
        if current is None:
            student, solution = _plain(cell, place)
            parsed.template.append(student)
            parsed.solution.append(solution)
        else:
            _in_question(cell, current, place, config)
    if current is not None:
        raise OtterError(
            f"{master.name}: cell {current.cell}: BEGIN QUESTION {current.question.name!r} "
            "is never closed by an END QUESTION"
        )
    return parsed


def _plain(cell: Any, place: Place) -> tuple[Any, Any]:
    if cell.get("cell_type") != "code":
        return copy_cell(cell), copy_cell(cell)
    student, solution = code_versions(cell, place, markers=False)
    return copy_cell(cell, student), copy_cell(cell, solution)


def _delimit(
    mark: Delimiter, current: _Open | None, place: Place, parsed: Parsed, names: dict[str, int]
) -> _Open | None:
    if mark.kind == "config":
        return current
    if mark.kind == "BEGIN QUESTION":
        if current is not None:
            raise OtterError(
                f"{place.at()}: BEGIN QUESTION inside question {current.question.name!r} opened at "
                f"cell {current.cell} (questions cannot nest)"
            )
        config = parse(QuestionConfig, load_yaml(mark.yaml, place, mark.yaml_line), place, mark.yaml_line)
        if not config.name:
            raise OtterError(f"{place.at()}: a question without a name (its config needs `name:`)")
        tag = task_id(config.name)
        for other, cell in names.items():
            if other == config.name or task_id(other) == tag:
                raise OtterError(f"{place.at()}: question name {config.name!r} is used twice (cell {cell})")
        names[config.name] = place.cell
        return _Open(Question(config.name, config, place, tag=tag), place.cell)
    if current is None:
        raise OtterError(f"{place.at()}: {mark.kind} outside a question")
    block = mark.kind.split()[1]
    if mark.kind == "END QUESTION":
        if current.block:
            raise OtterError(
                f"{place.at()}: END QUESTION while the {current.block} block opened at cell "
                f"{current.block_cell} is open"
            )
        _close(current, parsed)
        return None
    if mark.kind.startswith("BEGIN"):
        if current.block:
            raise OtterError(
                f"{place.at()}: BEGIN {block} inside the {current.block} block opened at cell "
                f"{current.block_cell}"
            )
        current.block, current.block_cell = block, place.cell
    else:
        if current.block != block:
            raise OtterError(f"{place.at()}: END {block} without a BEGIN {block} before it")
        current.block = None
    return current


def _in_question(cell: Any, current: _Open, place: Place, config: AssignmentConfig) -> None:
    question, block, kind = current.question, current.block, cell.get("cell_type")
    if block == "TESTS":
        if kind == "code":
            question.cases.append(read_test_cell(cell, place, config.tests.ok_format))
        elif kind == "markdown":
            current.entries.append(("plain", copy_cell(cell), copy_cell(cell)))
        return
    if block == "PROMPT":
        source = source_of(cell)
        if kind == "code":
            source = code_versions(cell, place, markers=False)[0]
        current.entries.append(
            ("prompt", copy_cell(cell, source, question.tag), copy_cell(cell, source, question.tag))
        )
        return
    if block == "SOLUTION":
        if kind == "code":
            student, solution = code_versions(cell, place, markers=True)
            current.entries.append(
                ("code", copy_cell(cell, student, question.tag), copy_cell(cell, solution, question.tag))
            )
        elif kind == "markdown":
            kept = copy_cell(cell, tag=question.tag) if has_tag(cell, "otter_include") else None
            current.entries.append(("include" if kept else "md", kept, copy_cell(cell, tag=question.tag)))
        else:
            current.entries.append(("md", None, copy_cell(cell)))
        return
    if question.title is None and kind == "markdown":
        question.title = _title(source_of(cell))
    student, solution = _plain(cell, place)
    current.entries.append(("plain", student, solution))


def _close(current: _Open, parsed: Parsed) -> None:
    """A question's cells into both notebooks: a prompt replaces the solution in the
    template; written solutions without a prompt get otter's default one."""
    roles = {role for role, _, _ in current.entries}
    has_solution = bool(roles & {"code", "md", "include"})
    prompt_added = False
    for role, student, solution in current.entries:
        manual = current.question.config.manual
        written = solution.get("cell_type") == "markdown"
        if (
            role == "md"
            and manual
            and written
            and "prompt" not in roles
            and not prompt_added
            and student is None
        ):
            student = nbformat.v4.new_markdown_cell(MD_PROMPT, metadata={"tags": [current.question.tag]})
            prompt_added = True
        if role == "prompt" and has_solution:
            solution = None
        if student is not None:
            parsed.template.append(student)
            if current.question.tag in student.metadata.get("tags", []):
                current.question.answer_cells += 1
        if solution is not None:
            parsed.solution.append(solution)
    parsed.questions.append(current.question)


def _title(markdown: str) -> str | None:
    for line in markdown.splitlines():
        text = re.sub(r"[*`#>]+", "", line).strip()
        text = re.sub(r"<[^>]+>", "", text).strip()
        if text:
            return text if len(text) <= 100 else text[:97] + "..."
    return None
