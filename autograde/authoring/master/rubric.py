"""The rubric of a master notebook: its tasks, their checks (declared beside the code, or the
defaults), and the references to the solution's own functions.

Defaults: a task cell with solution regions and no declared `checks` gets, for each function
its solution defines, an `exists` check and a `value` check against the solution's function
at the cell's declared `inputs`; a function without inputs is an error (an `exists` check
alone would give points for an empty stub). A `value` or `shape` check on a `call` with
neither `reference` nor `expect` compares with the solution's function of that name.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from autograde.authoring.master.parse import Master, MasterCell, MasterError
from autograde.authoring.master.reference_module import MODULE_FILE, SolutionCode, parse_cell

TASK_KEYS = ("title", "points", "visible", "all_or_nothing")  # in the order a task is written
_NAME_FIELDS = ("call", "of", "grad", "function", "target", "variable", "model")
_IMPLICIT_REFERENCE = ("value", "shape")
_INPUT_KEYS = ("args", "kwargs", "repeat", "rtol", "atol")


@dataclass
class TaskDraft:
    id: str
    first: str  # where it is first declared, for messages
    settings: dict[str, Any] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)


def answer_tag(cell: MasterCell) -> str | None:
    """The tag of a task's answer cell: its `tag:` setting, its first ordinary tag, else the task id."""
    if "task" not in cell.settings:
        return None
    tag = cell.settings.get("tag") or (cell.tags[0] if cell.tags else None)
    if tag is None and cell.kind == "code":
        tag = cell.settings["task"]
    return str(tag) if tag is not None else None


def _task_settings(task: TaskDraft, values: dict[str, Any], where: str) -> None:
    for key in TASK_KEYS:
        if key in values:
            if key in task.settings and task.settings[key] != values[key]:
                raise MasterError(
                    f"{where}: task {task.id!r}: {key} is {values[key]!r} here but "
                    f"{task.settings[key]!r} at {task.first}"
                )
            task.settings[key] = values[key]


def _has_draw(value: Any) -> bool:
    if isinstance(value, dict):
        return "draw" in value or any(_has_draw(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_draw(v) for v in value)
    return False


class RubricBuilder:
    """Collects the tasks of one master, cell by cell."""

    def __init__(self, master: Master, code: SolutionCode) -> None:
        self.master = master
        self.code = code
        self.tasks: dict[str, TaskDraft] = {}

    def task(self, task_id: Any, where: str) -> TaskDraft:
        if not isinstance(task_id, str) or not task_id.isidentifier():
            raise MasterError(f"{where}: task id {task_id!r} must be a name (letters, digits, underscores)")
        if task_id not in self.tasks:
            self.tasks[task_id] = TaskDraft(task_id, where)
        return self.tasks[task_id]

    def check(self, raw: Any, cell: MasterCell, tag: str | None) -> dict[str, Any]:
        """A declared check, with its cell's tag and an implicit reference; a name the
        solution never defines is an error naming the cell."""
        if not isinstance(raw, dict) or "kind" not in raw:
            raise MasterError(f"{cell.at()}: each check is a mapping with a `kind` (got {raw!r})")
        check = dict(raw)
        for key in _NAME_FIELDS:
            name = check.get(key)
            if isinstance(name, str) and name.partition(".")[0] not in self.code.bound:
                raise MasterError(
                    f"{cell.at()}: a {check['kind']} check names `{name}` ({key}), "
                    "which the solution never defines"
                )
        call = check.get("call")
        implicit = "reference" not in check and "expect" not in check
        if check["kind"] in _IMPLICIT_REFERENCE and isinstance(call, str) and implicit:
            if call not in self.code.callables:
                raise MasterError(
                    f"{cell.at()}: a {check['kind']} check on `{call}` gives no reference, and "
                    f"{MODULE_FILE} has no function `{call}` (a cell marked no-reference?)"
                )
            check["reference"] = f"{MODULE_FILE}:{call}"
        if tag is not None and "tag" not in check:
            check["tag"] = tag
        return check

    def defaults(self, cell: MasterCell, tag: str | None) -> list[dict[str, Any]]:
        """exists + value for each function the cell's solution defines, at its inputs."""
        tree = parse_cell(cell.solution, cell.place)
        functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        task = cell.settings["task"]
        if not functions:
            raise MasterError(
                f"{cell.at()}: task {task!r}: the cell declares no checks and its solution defines no "
                "function to check by default; declare `checks:`"
            )
        inputs = self._inputs(cell, functions)
        out: list[dict[str, Any]] = []
        for name in functions:
            spec = inputs.get(name)
            if spec is None:
                raise MasterError(
                    f"{cell.at()}: task {task!r}: no checks declared and no `inputs` for `{name}`: give "
                    f"`inputs: [...]` (its arguments) or `checks: [...]` in the cell's settings"
                )
            out.append({"kind": "exists", "target": name, "type": "callable"})
            value: dict[str, Any] = {"kind": "value", "call": name, "args": spec.get("args", [])}
            if spec.get("kwargs"):
                value["kwargs"] = spec["kwargs"]
            repeat = spec.get("repeat", 3 if _has_draw([value["args"], spec.get("kwargs")]) else 1)
            if repeat != 1:
                value["repeat"] = repeat
            value["reference"] = f"{MODULE_FILE}:{name}"
            value.update({k: spec[k] for k in ("rtol", "atol") if k in spec})
            out.append(value)
        return [self.check(check, cell, tag) for check in out]

    def _inputs(self, cell: MasterCell, functions: list[str]) -> dict[str, dict[str, Any]]:
        raw = cell.settings.get("inputs")
        if raw is None:
            return {}
        if isinstance(raw, list) or (isinstance(raw, dict) and set(raw) <= set(_INPUT_KEYS)):
            if len(functions) != 1:
                raise MasterError(
                    f"{cell.at()}: inputs: the cell defines {', '.join(functions)}; give a mapping "
                    "from each function's name to its arguments"
                )
            raw = {functions[0]: raw}
        if not isinstance(raw, dict):
            raise MasterError(f"{cell.at()}: inputs: a list of arguments, or a mapping name -> arguments")
        out: dict[str, dict[str, Any]] = {}
        for name, spec in raw.items():
            if name not in functions:
                raise MasterError(f"{cell.at()}: inputs: `{name}` is not a function of this cell's solution")
            spec = {"args": spec} if isinstance(spec, list) else spec
            if not isinstance(spec, dict) or set(spec) - set(_INPUT_KEYS):
                raise MasterError(
                    f"{cell.at()}: inputs of `{name}`: a list of arguments or a mapping with "
                    f"{', '.join(_INPUT_KEYS)}"
                )
            out[str(name)] = spec
        return out

    def add_cell(self, cell: MasterCell) -> None:
        if "task" not in cell.settings or "mutant" in cell.settings:
            return
        task = self.task(cell.settings["task"], cell.at())
        _task_settings(task, cell.settings, cell.at())
        if not cell.in_solution:
            return
        tag = answer_tag(cell)
        declared = cell.settings.get("checks")
        if declared is not None:
            declared = declared if isinstance(declared, list) else [declared]
            task.checks += [self.check(raw, cell, tag) for raw in declared]
        if cell.settings.get("test"):
            task.checks.append(self._test_code(cell, task, tag))
        elif declared is None and cell.kind == "code":
            if not cell.marked:
                raise MasterError(
                    f"{cell.at()}: task {task.id!r}: the cell declares no checks and has no solution region"
                )
            task.checks += self.defaults(cell, tag)

    def _test_code(self, cell: MasterCell, task: TaskDraft, tag: str | None) -> dict[str, Any]:
        number = 1 + sum(1 for c in task.checks if c.get("kind") == "test_code")
        check: dict[str, Any] = {
            "kind": "test_code",
            "name": f"{task.id} test {number}",
            "code": cell.solution,
        }
        if cell.hidden_tests:
            check["visible"] = "hidden"
        if tag is not None:
            check["tag"] = tag
        return check

    def add_config_tasks(self) -> None:
        tasks = self.master.config.get("tasks") or {}
        place = self.master.config_place
        where = place.at() if place else self.master.name
        if not isinstance(tasks, dict):
            raise MasterError(f"{where}: config: tasks is a mapping task id -> title, points, checks")
        for task_id, values in tasks.items():
            if not isinstance(values, dict):
                raise MasterError(f"{where}: config: tasks.{task_id} is a mapping (points, title, checks)")
            unknown = sorted(set(values) - {*TASK_KEYS, "checks"})
            if unknown:
                raise MasterError(f"{where}: config: tasks.{task_id}: unknown key(s) {unknown}")
            task = self.task(task_id, where)
            _task_settings(task, values, where)
            for raw in values.get("checks") or []:
                if not isinstance(raw, dict) or "kind" not in raw:
                    raise MasterError(
                        f"{where}: config: tasks.{task_id}: each check is a mapping with a kind"
                    )
                task.checks.append(dict(raw))

    def rubric_tasks(self) -> list[dict[str, Any]]:
        out = []
        for task in self.tasks.values():
            if "points" not in task.settings:
                raise MasterError(
                    f"{task.first}: task {task.id!r} has no points (a `points:N` tag, or `points:` in "
                    "its settings or the config's tasks)"
                )
            if not task.checks:
                raise MasterError(f"{task.first}: task {task.id!r} has no checks")
            entry: dict[str, Any] = {"id": task.id}
            entry.update({key: task.settings[key] for key in TASK_KEYS if key in task.settings})
            entry["checks"] = task.checks
            out.append(entry)
        if not out:
            raise MasterError(f"{self.master.name}: no task is declared (tag a cell `task:ID`)")
        return out
