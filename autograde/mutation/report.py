"""What `rubric mutate` reports: per assignment and per task the mutants generated, killed and
surviving, the mutation score (killed / generated), and the survivors themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograde.mutation.operators import OPERATORS
from autograde.mutation.run import AssignmentRun, Mutant

if TYPE_CHECKING:
    from rich.console import Console


def _counts(mutants: list[Mutant]) -> dict[str, Any]:
    graded = [m for m in mutants if m.graded]
    killed = sum(m.killed for m in graded)
    return {
        "generated": len(graded),
        "killed": killed,
        "survived": len(graded) - killed,
        "score": round(killed / len(graded), 4) if graded else None,
    }


def summary(run: AssignmentRun) -> dict[str, Any]:
    """The run as plain data (the --json form of one assignment)."""
    tasks = [*run.tasks, *sorted({m.task or "-" for m in run.mutants} - set(run.tasks))]
    return {
        "assignment": run.assignment,
        **_counts(run.mutants),
        "candidates": run.generated,
        "seconds": round(run.seconds, 1),
        "tasks": [
            {"task": task, **_counts([m for m in run.mutants if (m.task or "-") == task])}
            for task in tasks
            if any((m.task or "-") == task for m in run.mutants)
        ],
        "mutants": [
            {
                "id": m.id,
                "cell": m.cell,
                "task": m.task,
                "line": m.line,
                "operator": m.operator,
                "mutated_line": m.changed,
                "killed": m.killed,
                "loses": m.loses,
                "note": m.note,
                "seconds": round(m.seconds, 1),
            }
            for m in run.mutants
            if m.graded
        ],
    }


def write_json(runs: list[AssignmentRun], path: Path) -> None:
    data = {"operators": OPERATORS, "assignments": [summary(run) for run in runs]}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _score(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def print_tables(runs: list[AssignmentRun], out: Console) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="mutation score (killed / generated)")
    for column in ("assignment", "task", "generated", "killed", "survived", "score", "wall time"):
        left = column in ("assignment", "task")
        table.add_column(column, justify="left" if left else "right", no_wrap=left)
    for run in runs:
        data = summary(run)
        counts = (str(data[k]) for k in ("generated", "killed", "survived"))
        table.add_row(
            escape(run.assignment), "[b]all[/b]", *counts, _score(data["score"]), f"{run.seconds:.0f} s"
        )
        for task in data["tasks"]:
            table.add_row(
                "", escape(task["task"]), *(str(task[k]) for k in ("generated", "killed", "survived")),
                _score(task["score"]), "",
            )  # fmt: skip
    out.print(table)
    for run in runs:
        survivors = [m for m in run.mutants if m.graded and not m.killed]
        if not survivors:
            continue
        table = Table(title=f"{escape(run.assignment)}: surviving mutants (full points)")
        for column in ("id", "task", "cell", "line", "operator", "mutated line"):
            table.add_column(column)
        for m in survivors:
            table.add_row(
                escape(m.id),
                escape(m.task or "-"),
                escape(m.cell),
                str(m.line),
                m.operator,
                escape(m.changed),
            )
        out.print(table)
