"""An otter import as an assignment folder: one task per question, one `test_code` check per
test case (its points as the weight), a `manual` check for manual questions, the support
files the config lists, and notes for what otter does that the folder does not."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat

from autograde.authoring.draft import Draft
from autograde.authoring.otter.cases import Parsed, Question, check_code
from autograde.authoring.otter.config import NOT_USED, AssignmentConfig, SeedConfig
from autograde.authoring.otter.points import case_points, question_points


def number(value: float) -> float | int:
    """A whole number as an int (`points: 16`, not `16.0`)."""
    return int(value) if float(value).is_integer() else value


def _case_check(question: Question, index: int, points: float) -> dict[str, Any]:
    case = question.cases[index]
    check: dict[str, Any] = {
        "kind": "test_code",
        "name": case.name or f"{question.name} case {index + 1}",
        "code": check_code(case, question.place) + "\n",
    }
    if case.output is not None:
        check["expect_output"] = case.output
    for key in ("success_message", "failure_message"):
        value = getattr(case, key)
        if value:
            check[key] = value
    check["weight"] = number(points)
    if case.hidden:
        check["visible"] = "hidden"
    check["tag"] = question.tag
    return check


def task_of(question: Question, notes: list[str]) -> dict[str, Any]:
    """The rubric task of one question, by otter's point rules."""
    config, where = question.config, f"{question.place.at()}: question {question.name}"
    task: dict[str, Any] = {"id": question.tag, "title": question.title or question.name}
    given = [case.points for case in question.cases]
    if config.manual:
        if question.cases:
            notes.append(f"{question.name}: manual question with test cases; its tests are not imported")
        points = question_points(config.points, [], True, where)
        if config.points is None:
            notes.append(f"{question.name}: manual question without points: 0 points (otter's rule)")
        task["points"] = number(points)
        task["checks"] = [{"kind": "manual", "cell_tag": question.tag}]
        return task
    points = question_points(config.points, given, False, where)
    task["points"] = number(points)
    if not question.cases:
        notes.append(
            f"{question.name}: no tests; otter gives it {points:g} point(s), which cannot be graded "
            "automatically: it is a manual check on its answer cells"
        )
        task["checks"] = [{"kind": "manual", "cell_tag": question.tag}]
        return task
    if config.all_or_nothing:
        task["all_or_nothing"] = True
    weights = case_points(config.points, given, where)
    task["checks"] = [_case_check(question, i, weight) for i, weight in enumerate(weights)]
    if question.label_points is not None and abs(question.label_points - points) > 1e-9:
        notes.append(
            f"{question.name}: the notebook says `_Points:_ {question.label_points:g}`, its public tests "
            f"give {points:g} (hidden tests are not in a student notebook)"
        )
    return task


def _files(config: AssignmentConfig, folder: Path, notes: list[str]) -> tuple[list[str], dict[str, bytes]]:
    listed: list[str] = []
    files: dict[str, bytes] = {}
    for key in ("files", "student_files"):
        for entry in getattr(config, key):
            path = folder / entry
            if path.is_file():
                files[Path(entry).as_posix()] = path.read_bytes()
                listed.append(Path(entry).as_posix())
            elif path.is_dir():
                for inner in sorted(p for p in path.rglob("*") if p.is_file()):
                    files[inner.relative_to(folder).as_posix()] = inner.read_bytes()
                listed.append(Path(entry).as_posix().rstrip("/") + "/")
            else:
                notes.append(f"{key}: {entry} is not beside the master: not copied (add it and import again)")
    return listed, files


def _seed(config: AssignmentConfig, parsed: Parsed, notes: list[str]) -> dict[str, Any]:
    """otter's `seed` with a `variable`: the grader sets it, as papermill parameters do."""
    seed = config.seed
    if seed is None:
        return {}
    if isinstance(seed, SeedConfig) and seed.variable and seed.autograder_value is not None:
        assigns = re.compile(rf"^{re.escape(seed.variable)}\s*=", re.M)
        cells = [c for c in parsed.solution if c.cell_type == "code" and assigns.search(c.source)]
        if cells:
            for notebook in (parsed.template, parsed.solution):
                index = parsed.solution.index(cells[0]) if notebook is parsed.solution else None
                target = cells[0] if index is not None else _same(notebook, cells[0])
                if target is not None:
                    target.metadata.setdefault("tags", []).append("parameters")
            notes.append(f"seed: {seed.variable} = {seed.autograder_value} when grading (a rubric parameter)")
            return {seed.variable: seed.autograder_value}
        notes.append(
            f"seed: the variable {seed.variable!r} is assigned in no cell; otter's seed is not used "
            "(the notebook's own seeding, its `# SEED` lines kept in the solution, runs)"
        )
        return {}
    notes.append("seed: otter's seeding before each cell is not done; the notebook's own seeding runs")
    return {}


def _same(cells: list[Any], cell: Any) -> Any:
    """The template's cell for a solution cell (same source), if there is one."""
    return next((c for c in cells if c.cell_type == "code" and c.source == cell.source), None)


def _config_notes(config: AssignmentConfig, parsed: Parsed, notes: list[str]) -> None:
    for key in sorted(config.model_fields_set):
        if key in NOT_USED:
            notes.append(f"{key}: {NOT_USED[key]}")
    for key in config.unknown_keys():
        notes.append(f"{key}: not a key of otter's assignment config; ignored")
    for question in parsed.questions:
        for key in question.config.unknown_keys():
            notes.append(f"{question.name}: {key}: not a key of otter's question config; ignored")


def _notebook(cells: list[Any], like: Any) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {k: like.metadata[k] for k in ("kernelspec", "language_info") if k in like.metadata}
    nb.cells = cells
    return nb


def build_draft(parsed: Parsed, nb: Any, master: Path, assignment: str, source: str) -> Draft:
    notes = list(parsed.notes)
    config = parsed.config
    _config_notes(config, parsed, notes)
    listed, files = _files(config, master.parent, notes)
    parameters = _seed(config, parsed, notes)
    tasks = [task_of(question, notes) for question in parsed.questions]
    if not tasks:
        raise_empty(master)
    rubric: dict[str, Any] = {"schema": 1, "assignment": assignment, "title": _title(config, parsed, master)}
    if parameters:
        rubric["parameters"] = parameters
    if listed:
        rubric["files"] = listed
    rubric["tasks"] = tasks
    template = _notebook(parsed.template, nb)
    solution = _notebook(parsed.solution if parsed.has_solution else [c.copy() for c in parsed.template], nb)
    if not parsed.has_solution:
        notes.append(
            "a student notebook has no solutions: solution.ipynb is the notebook itself, so "
            "`autograde rubric test` cannot show full points until a solved notebook replaces it"
        )
    return Draft(assignment, rubric, template, solution, source, files=files, notes=notes)


def raise_empty(master: Path) -> None:
    from autograde.authoring.otter.config import OtterError

    raise OtterError(f"{master.name}: no otter question found")


def _title(config: AssignmentConfig, parsed: Parsed, master: Path) -> str:
    if config.name:
        return config.name
    for cell in parsed.template:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if match:
                return match.group(1).strip()
    return master.stem
