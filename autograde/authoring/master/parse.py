"""Reading a master notebook into a model: its config, and each cell with its settings and
its student and solution versions. `master.py` turns the model into an assignment folder;
the format is documented in rubrics/README.md ("Writing an assignment as one notebook").

A cell's settings come from three places, merged (the same key twice must agree): its tags
(`task:loss`, `points:2`, `mutant:NAME`, `solution-only`, `template-only`, `no-reference`),
`metadata.autograde` (a mapping), and, in a code cell, a YAML block of comment lines at its
top opened by `# autograde:`, each further line `#` and at least two spaces.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import yaml

from autograde.authoring.markers import OTTER_STUB, Place, clear_solutions, split_hidden_tests
from autograde.errors import AutogradeError


class MasterError(AutogradeError):
    """The master notebook is not a notebook, or its config, settings or markers are wrong;
    the message names the notebook, the cell and the line."""


CELL_KEYS = (
    "task", "points", "title", "visible", "all_or_nothing", "tag", "checks", "inputs", "test",
    "mutant", "loses", "description", "only", "reference",
)  # fmt: skip
CONFIG_KEYS = (
    "title", "parameters", "limits", "data_dir", "hidden_data", "files", "locked", "mutants", "tasks",
)  # fmt: skip
FLAG_TAGS = {
    "solution-only": ("only", "solution"),
    "template-only": ("only", "template"),
    "no-reference": ("reference", False),
    "test": ("test", True),
}
VALUE_TAGS = ("task", "points", "mutant")  # `task:ID`, `points:N`, `mutant:NAME`

_BLOCK_START = re.compile(r"^#\s*autograde:(?P<rest>.*)$")
_BLOCK_LINE = re.compile(r"^#(\s{2,}\S.*|\s*)$")
_CONFIG_FIRST = re.compile(r"^#\s*autograde\b")
_FENCE = re.compile(r"^\s*```(?:yaml|yml)?[ \t]*\n(?P<body>.*?)\n?```\s*$", re.DOTALL)


@dataclass
class MasterCell:
    """One cell of the master with what it says about the assignment."""

    place: Place
    kind: str  # code, markdown, raw
    node: Any  # the cell as read (nbformat.NotebookNode)
    settings: dict[str, Any] = field(default_factory=dict)
    line: int | None = None  # where its `# autograde:` block starts, when it has one
    tags: list[str] = field(default_factory=list)  # its ordinary tags (the special ones removed)
    student: str = ""  # the template's source
    solution: str = ""  # the solution's source
    marked: bool = False  # it holds solution regions or line markers
    hidden_tests: int = 0  # `### BEGIN HIDDEN TESTS` regions

    def at(self, line: int | None = None) -> str:
        return self.place.at(line if line is not None else self.line)

    @property
    def only(self) -> str | None:
        value = self.settings.get("only")
        return str(value) if value is not None else None

    @property
    def in_solution(self) -> bool:
        return self.only != "template" and "mutant" not in self.settings

    @property
    def in_template(self) -> bool:
        return self.only != "solution" and "mutant" not in self.settings


@dataclass
class Master:
    """The master notebook: its name, metadata, config (and the cell it came from), cells."""

    name: str
    metadata: dict[str, Any]
    config: dict[str, Any]
    config_place: Place | None
    cells: list[MasterCell]


def read_notebook(path: Path) -> Any:
    """The notebook at `path`, or a MasterError saying why it is not an nbformat 4 notebook."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MasterError(f"{name}: cannot be read as a notebook ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MasterError(f"{name}: not a notebook (not JSON: {exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("nbformat") != 4:
        found = data.get("nbformat") if isinstance(data, dict) else type(data).__name__
        raise MasterError(f"{name}: not a notebook in nbformat 4 (nbformat: {found!r})")
    nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)  # sources joined into strings
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise MasterError(f"{name}: not a valid nbformat 4 notebook: {str(exc).splitlines()[0]}") from None
    return nb


def _yaml(text: str, where: Place, first_line: int, what: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        problem = getattr(exc, "problem", None) or str(exc)
        raise MasterError(f"{where.at(line)}: {what} is not valid YAML: {problem}") from None


def _config_text(cell: Any) -> tuple[str, int] | None:
    """The YAML of a config cell and the cell line it starts on, else None."""
    source = cell.source
    offset = 1
    if cell.cell_type == "markdown":
        fenced = _FENCE.match(source)
        if not fenced:
            return None
        source, offset = fenced.group("body"), 2
    elif cell.cell_type != "raw":
        return None
    first = next((line for line in source.splitlines() if line.strip()), "")
    return (source, offset) if _CONFIG_FIRST.match(first) else None


def _block(source: str, place: Place) -> tuple[dict[str, Any], int, int] | None:
    """A code cell's `# autograde:` block: (its settings, its first line, the line after it)."""
    lines = source.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if start == len(lines) or not _BLOCK_START.match(lines[start]):
        return None
    end = start + 1
    while end < len(lines) and _BLOCK_LINE.match(lines[end]):
        end += 1
    text = "\n".join(line[1:] for line in lines[start:end])
    data = _yaml(text, place, start + 1, "the `# autograde:` block")
    settings = data.get("autograde") if isinstance(data, dict) else None
    if settings is None:
        settings = {}
    if not isinstance(settings, dict):
        raise MasterError(f"{place.at(start + 1)}: the `# autograde:` block must be a mapping of settings")
    return settings, start + 1, end


def _from_tags(tags: list[str], place: Place) -> tuple[dict[str, Any], list[str]]:
    settings: dict[str, Any] = {}
    ordinary: list[str] = []
    for tag in tags:
        key, sep, value = tag.partition(":")
        if tag in FLAG_TAGS:
            name, flag = FLAG_TAGS[tag]
            settings[name] = flag
        elif sep and key in VALUE_TAGS:
            if key == "points":
                try:
                    number = float(value)
                except ValueError:
                    raise MasterError(f"{place.at()}: tag {tag!r}: points must be a number") from None
                settings[key] = int(number) if number.is_integer() else number
            else:
                settings[key] = value
        else:
            ordinary.append(tag)
    return settings, ordinary


def _merge(into: dict[str, Any], more: dict[str, Any], place: Place, line: int | None, what: str) -> None:
    for key, value in more.items():
        if key not in CELL_KEYS:
            raise MasterError(
                f"{place.at(line)}: {what}: unknown setting {key!r} (known: {', '.join(CELL_KEYS)})"
            )
        if key in into and into[key] != value:
            raise MasterError(
                f"{place.at(line)}: {what}: {key} is {value!r} here but {into[key]!r} elsewhere"
            )
        into[key] = value


def _cell(index: int, cell: Any, name: str) -> MasterCell:
    place = Place(name, index + 1)
    tags = [str(tag) for tag in cell.metadata.get("tags", [])]
    settings, ordinary = _from_tags(tags, place)
    found = MasterCell(place, cell.cell_type, cell, tags=ordinary)
    meta = cell.metadata.get("autograde")
    if meta is not None:
        if not isinstance(meta, dict):
            raise MasterError(f"{place.at()}: metadata.autograde must be a mapping of settings")
        plain = json.loads(json.dumps(meta))  # plain dicts and lists, as YAML writes them
        _merge(settings, plain, place, None, "metadata.autograde")
    source = cell.source
    if cell.cell_type == "code":
        block = _block(source, place)
        skip = 0
        if block is not None:
            values, found.line, skip = block
            _merge(settings, values, place, found.line, "the `# autograde:` block")
        found.settings = settings
        _versions(found, source, skip)
    else:
        found.settings = settings
        found.student = found.solution = source
    if found.only not in (None, "solution", "template"):
        raise MasterError(f"{found.at()}: only: must be `solution` or `template`, not {found.only!r}")
    return found


def _versions(found: MasterCell, source: str, skip: int) -> None:
    """The student and solution versions of a code cell, its block left out of both."""
    if "mutant" in found.settings:
        cleared = clear_solutions(source, found.place)
        found.student = found.solution = _drop_lines(cleared.solution, skip)
        return
    found.hidden_tests = split_hidden_tests(source, found.place).hidden_regions  # errors at true lines
    if found.hidden_tests:
        found.settings.setdefault("test", True)
    cleared = clear_solutions(source, found.place, OTTER_STUB, keep_signatures=True)
    found.marked = cleared.marked
    found.student = _drop_lines(split_hidden_tests(cleared.student, found.place).public, skip)
    found.solution = _drop_lines(split_hidden_tests(cleared.solution, found.place).full, skip)


def _drop_lines(text: str, count: int) -> str:
    """The text without its first `count` lines (the block) and the blank lines after them."""
    lines = text.splitlines()[count:]
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def parse_master(path: Path) -> Master:
    """Read the master notebook at `path` into its model (MasterError on any problem)."""
    nb = read_notebook(path)
    name = path.name
    config: dict[str, Any] = {}
    config_place: Place | None = None
    cells: list[MasterCell] = []
    for index, cell in enumerate(nb.cells):
        found = _config_text(cell)
        if found is None:
            cells.append(_cell(index, cell, name))
            continue
        place = Place(name, index + 1)
        if config_place is not None:
            raise MasterError(f"{place.at()}: a second config cell (the first is cell {config_place.cell})")
        text, offset = found
        data = _yaml(text, place, offset, "the config cell")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise MasterError(f"{place.at(offset)}: the config cell must be a YAML mapping")
        unknown = sorted(set(data) - set(CONFIG_KEYS))
        if unknown:
            raise MasterError(
                f"{place.at(offset)}: config: unknown key(s) {unknown} (known: {', '.join(CONFIG_KEYS)})"
            )
        config, config_place = data, place
    metadata = {k: v for k, v in nb.metadata.items() if k != "autograde"}
    return Master(name, metadata, config, config_place, cells)
