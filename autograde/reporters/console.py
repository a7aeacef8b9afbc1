"""Console output with rich: the batch summary table and a student's self-check."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from autograde.reporters.late import short as late_short
from autograde.results import GradeReport
from autograde.status import CheckStatus, SubmissionStatus


def summary_table(reports: list[GradeReport], task_ids: list[str], title: str) -> Table:
    table = Table(title=escape(title))
    table.add_column("student")
    for task_id in task_ids:
        table.add_column(escape(task_id), justify="right")
    table.add_column("total", justify="right")
    table.add_column("status")
    deadline = any(report.late is not None for report in reports)
    if deadline:
        table.add_column("late")
    for report in sorted(reports, key=lambda r: r.student):
        points = {task.id: task.points for task in report.tasks}
        style = SubmissionStatus.parse(report.status).style
        table.add_row(
            escape(report.student),
            *[f"{points.get(t, 0.0):g}" for t in task_ids],
            f"{report.score:g}/{report.max_score:g}",
            f"[{style}]{escape(report.status)}[/{style}]",
            *([escape(late_short(report))] if deadline else []),
        )
    return table


def print_check(console: Console, report: GradeReport, hidden_count: int, summary: bool = True) -> None:
    console.print(f"[bold]{escape(report.assignment)}[/bold]: {escape(report.file)}")
    for note in report.notes:
        console.print(f"  [yellow]note:[/yellow] {escape(note)}")
    for task in report.tasks:
        if not task.checks:
            continue
        console.print(f"\n[bold]{escape(task.id)}[/bold] ({task.max_points:g} points)")
        for check in task.checks:
            known = CheckStatus.known(check.status)
            style = known.style if known is not None else "white"
            console.print(
                f"  [{style}]{escape(check.status.upper()):8}[/{style}] {escape(check.name)}: "
                f"{escape(check.message)}"
            )
    if not summary:
        return
    public = [c for t in report.tasks for c in t.checks]
    passed = sum(c.status == CheckStatus.PASS for c in public)
    console.print(
        f"\npublic checks passed: {passed}/{len(public)}"
        + (f"; {hidden_count} hidden checks run only when your submission is graded" if hidden_count else "")
    )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


class BatchDisplay:
    """Live progress of a batch: a rich progress bar on a terminal (done, failed, remaining,
    rate, ETA), plain log lines otherwise (CI logs, redirects, cron)."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.console = console
        self.live = console.is_terminal
        self.progress = Progress(
            TextColumn("grading"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            console=console,
            transient=False,
        )
        self.task = self.progress.add_task("grading", total=None, info="")

    def __enter__(self) -> BatchDisplay:
        if self.live:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.progress.stop()

    def update(self, report: GradeReport | None, state: Any) -> None:
        finished = state.done + state.reused + state.rejected
        info = (
            f"failed {state.failed}  remaining {state.remaining}  "
            f"{state.rate * 60:.1f}/min  eta {_duration(state.eta)}"
        )
        if state.by_worker:  # a cluster: how many each worker has graded, and who graded this one
            info += "  workers " + " ".join(f"{escape(w)}={n}" for w, n in sorted(state.by_worker.items()))
        line = ""
        if report is not None:
            worker = state.worker_of.get(report.student)
            line = _line(report) + (f" on {escape(worker)}" if worker else "")
        if self.live:
            self.progress.update(self.task, total=state.total, completed=finished, info=info)
            if report is not None:
                self.progress.console.print(line)
            return
        if report is None:
            self.console.print(
                f"{state.total} uploads: {state.reused} already graded (journal), "
                f"{state.rejected} not gradable, {state.remaining} to grade"
            )
        else:
            self.console.print(f"[{finished}/{state.total}] {line} | {info}", soft_wrap=True)


def _line(report: GradeReport) -> str:
    style = SubmissionStatus.parse(report.status).style
    return (
        f"{escape(report.student)}: {report.score:g}/{report.max_score:g} "
        f"[{style}]{escape(report.status)}[/{style}] ({report.seconds:.1f}s)"
    )


def print_self_check(console: Console, report: GradeReport, later: list[str]) -> None:
    """A self-check with a bundle: every check's verdict, then what waits for the submission."""
    from autograde.selfcheck.judge import counted

    print_check(console, report, 0, summary=False)
    passed, judged = counted(report)
    console.print(f"\nchecks passed: {passed}/{judged}")
    for line in later:
        console.print(f"  [dim]{escape(line)}[/dim]")
