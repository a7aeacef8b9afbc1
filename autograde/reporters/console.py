"""Console output with rich: the batch summary table and a student's self-check."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from autograde.results import GradeReport

STYLE = {
    "pass": "green",
    "fail": "red",
    "error": "red",
    "timeout": "yellow",
    "crashed": "red",
    "not-run": "dim",
    "manual": "cyan",
    "grader-error": "magenta",
}


def summary_table(reports: list[GradeReport], task_ids: list[str], title: str) -> Table:
    table = Table(title=escape(title))
    table.add_column("student")
    for task_id in task_ids:
        table.add_column(escape(task_id), justify="right")
    table.add_column("total", justify="right")
    table.add_column("status")
    for report in sorted(reports, key=lambda r: r.student):
        points = {task.id: task.points for task in report.tasks}
        style = "green" if report.status == "graded" else "red"
        table.add_row(
            escape(report.student),
            *[f"{points.get(t, 0.0):g}" for t in task_ids],
            f"{report.score:g}/{report.max_score:g}",
            f"[{style}]{escape(report.status)}[/{style}]",
        )
    return table


def print_check(console: Console, report: GradeReport, hidden_count: int) -> None:
    console.print(f"[bold]{escape(report.assignment)}[/bold]: {escape(report.file)}")
    for note in report.notes:
        console.print(f"  [yellow]note:[/yellow] {escape(note)}")
    for task in report.tasks:
        if not task.checks:
            continue
        console.print(f"\n[bold]{escape(task.id)}[/bold] ({task.max_points:g} points)")
        for check in task.checks:
            style = STYLE.get(check.status, "white")
            console.print(
                f"  [{style}]{check.status.upper():8}[/{style}] {escape(check.name)}: {escape(check.message)}"
            )
    public = [c for t in report.tasks for c in t.checks]
    passed = sum(c.status == "pass" for c in public)
    console.print(
        f"\npublic checks passed: {passed}/{len(public)}"
        + (f"; {hidden_count} hidden checks run only when your submission is graded" if hidden_count else "")
    )
