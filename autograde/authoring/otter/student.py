"""Notebooks otter generated for students (a course that publishes no master): the tests
are in `metadata.otter.tests` (OK format, hidden cases already removed), `grader.check("q")`
cells follow the answers, and manual questions are framed by `<!-- BEGIN QUESTION -->` /
`<!-- END QUESTION -->` markdown comments with a `_Points:_ N` line.

otter's metadata is authoritative: nbgrader metadata left over from an earlier version of a
course adds no graded cell and no points, and is dropped from both notebooks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from autograde.authoring.markers import Place
from autograde.authoring.otter.cases import Case, Parsed, Question, read_ok_case
from autograde.authoring.otter.cells import copy_cell, has_tag, source_of, task_id
from autograde.authoring.otter.config import AssignmentConfig, OtterError, QuestionConfig, parse
from autograde.authoring.otter.v1 import _title

_CHECK = re.compile(r"""^\s*grader\.check\(\s*["'](?P<name>[^"']+)["']\s*\)\s*$""")
_OTTER_CELL = re.compile(r"otter\.Notebook\(|grader\.(check_all|export)\(")
_BEGIN = re.compile(r"<!--\s*BEGIN QUESTION\s*-->")
_END = re.compile(r"<!--\s*END QUESTION\s*-->")
_POINTS = re.compile(r"^_Points:_\s*(?P<points>\d+(?:\.\d+)?)\s*$", re.M)
_NUMBER = (
    re.compile(r"Solution_(?P<n>\d+(?:\.\d+)*)"),
    re.compile(r"^#+\s*(?:Exercise\s+|Question\s+)?(?P<n>\d+(?:\.\d+)*)\b", re.M),
    re.compile(r"\*\*Question\s+(?P<n>\d+(?:\.\d+)*)", re.I),
)
_HEADING = re.compile(r"^#+\s*(?P<text>[A-Za-z][\w ]*)", re.M)


def is_student(nb: Any) -> bool:
    otter = nb.metadata.get("otter", {})
    return isinstance(otter, dict) and isinstance(otter.get("tests"), dict)


def _points(value: Any, where: str) -> Any:
    if value is None or isinstance(value, int | float | list | dict):
        return value
    raise OtterError(f"{where}: points {value!r} is not a number or a list")


def _tests(nb: Any, notebook: str) -> dict[str, Question]:
    tests = nb.metadata["otter"]["tests"]
    if nb.metadata["otter"].get("OK_FORMAT") is False:
        raise OtterError(f"{notebook}: metadata.otter.tests are not in OK format (OK_FORMAT: false)")
    found: dict[str, Question] = {}
    for name, test in tests.items():
        where = f"{notebook}: metadata.otter.tests.{name}"
        if not isinstance(test, dict) or not isinstance(test.get("suites"), list):
            raise OtterError(f"{where}: not an OK-format test (it needs `suites`)")
        data = {"name": name, "points": _points(test.get("points"), where)}
        data["all_or_nothing"] = bool(test.get("all_or_nothing", False))
        question = Question(name, parse(QuestionConfig, data, Place(notebook, 0)), Place(notebook, 0))
        question.tag = task_id(name)
        for suite in test["suites"]:
            for index, case in enumerate(suite.get("cases", []), start=1):
                code, want = read_ok_case(str(case.get("code", "")), Place(where, index))
                question.cases.append(
                    Case(
                        code=code,
                        output=want,
                        hidden=bool(case.get("hidden", False)),
                        points=case.get("points"),
                        success_message=case.get("success_message"),
                        failure_message=case.get("failure_message"),
                    )
                )
        found[name] = question
    return found


def _manual_id(block: str, number: int, used: set[str]) -> str:
    for pattern in _NUMBER:
        match = pattern.search(block)
        if match:
            base = task_id(f"q{match['n']}")
            break
    else:
        heading = _HEADING.search(block)
        base = task_id(heading["text"].strip().lower()) if heading else f"manual_{number}"
    ident, suffix = base, 2
    while ident in used:
        ident, suffix = f"{base}_{suffix}", suffix + 1
    return ident


def parse_student(nb: Any, path: Path) -> Parsed:
    auto = _tests(nb, path.name)
    parsed = Parsed(AssignmentConfig(name=nb.metadata["otter"].get("assignment_name")), [], [], [])
    parsed.has_solution = False
    used = {q.tag for q in auto.values()}
    pending: list[Any] = []  # answer cells since the last question boundary (student's copies)
    headings: list[str] = []  # markdown since the last boundary, for titles and labels
    block: tuple[int, list[Any], list[str]] | None = None  # a manual block: its cell, answers, text
    seen: set[str] = set()
    for number, cell in enumerate(nb.cells, start=1):
        text = source_of(cell)
        kind = cell.get("cell_type")
        check = _CHECK.match(text) if kind == "code" else None
        if check:
            name = check["name"]
            if name not in auto:
                raise OtterError(
                    f"{path.name}: cell {number}: grader.check({name!r}) has no test in metadata.otter.tests"
                )
            question = auto[name]
            question.place = Place(path.name, number)
            _label(question, headings)
            for answer in pending:
                answer.metadata.setdefault("tags", []).append(question.tag)
                question.answer_cells += 1
            parsed.questions.append(question)
            seen.add(name)
            if block is not None:
                block = (block[0], [], [])  # an exported autograded question, not a manual one
            pending, headings = [], []
            continue
        if kind == "code" and _OTTER_CELL.search(text):
            continue
        if kind == "markdown" and _END.search(text.split("<!-- BEGIN")[0]) and block is not None:
            _manual(block, parsed, used, path.name)
            block = None
            pending, headings = [], []
        if kind == "markdown" and _BEGIN.search(text):
            block, pending, headings = (number, [], []), [], []
        copied = copy_cell(cell)
        parsed.template.append(copied)
        if not _editable(cell):
            headings.append(text)
            if block is not None:
                block[2].append(text)
            elif kind == "markdown":
                pending = []  # a new question's text: what was written before is no answer of it
        elif kind == "code" or has_tag(cell, "otter_answer_cell") or block is not None:
            pending.append(copied)
            if block is not None:
                block[1].append(copied)
    if block is not None:
        raise OtterError(f"{path.name}: cell {block[0]}: <!-- BEGIN QUESTION --> is never closed")
    for name in auto:
        if name not in seen:
            parsed.notes.append(
                f"test {name!r} of metadata.otter.tests has no grader.check cell: not imported"
            )
    parsed.questions.sort(key=lambda q: q.place.cell)
    parsed.solution = parsed.template
    return parsed


def _editable(cell: Any) -> bool:
    return cell.get("metadata", {}).get("editable", True) is not False


def _label(question: Question, headings: list[str]) -> None:
    text = "\n".join(headings)
    if question.title is None:
        question.title = _title(next((h for h in headings if h.strip()), "")) or None
    match = _POINTS.search(text)
    if match:
        question.label_points = float(match["points"])


def _manual(block: tuple[int, list[Any], list[str]], parsed: Parsed, used: set[str], notebook: str) -> None:
    number, answers, texts = block
    if not texts and not answers:
        return  # it held an autograded question
    joined = "\n".join(texts)
    ident = _manual_id(joined, number, used)
    used.add(ident)
    match = _POINTS.search(joined)
    points = float(match["points"]) if match else None
    config = QuestionConfig(name=ident, manual=True, points=points)
    question = Question(ident, config, Place(notebook, number), tag=ident)
    question.title = _title(_BEGIN.sub("", texts[0])) if texts else None
    for answer in answers:
        answer.metadata.setdefault("tags", []).append(ident)
    if not answers:  # nothing to write in (instructions to follow): the question's own cell
        first = next(c for c in parsed.template if c.get("source") == texts[0]) if texts else None
        if first is not None:
            first.metadata.setdefault("tags", []).append(ident)
        parsed.notes.append(
            f"manual question {ident} has no answer cell: its manual check is on the question's own cell"
        )
    question.answer_cells = len(answers)
    question.label_points = points
    parsed.questions.append(question)
