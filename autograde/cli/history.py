"""`autograde runs RESULTS_DIR` and `autograde diff RESULTS_DIR`: the numbered runs of a
results folder and what changed between two of them.

Exit codes: 0 (a change is news, not a failure), 2 on usage errors (no such folder or run).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from autograde.cli.common import console, escape, say, usage_errors

if TYPE_CHECKING:
    from autograde.batch.results_folder import ResultsFolder
    from autograde.history.diff import RunDiff

results_dir_argument = click.argument(
    "results_dir", type=click.Path(exists=True, file_okay=False, path_type=Path)
)


@click.command(name="runs")
@results_dir_argument
def runs(results_dir: Path) -> None:
    """List the numbered runs of RESULTS_DIR: every `grade` run and hand-grade merge."""
    from rich.table import Table

    from autograde.batch.results_folder import ResultsFolder

    folder = ResultsFolder(results_dir)
    numbers = folder.run_numbers()
    if not numbers:
        say(f"{escape(str(results_dir))}: no runs kept yet "
            "(they are kept from this version of `autograde grade` on)")
        return
    table = Table(title=f"Runs of {results_dir}", title_justify="left")
    for name in ("run", "kind", "finished (UTC)", "graded", "students", "rubric", "seed", "grader"):
        table.add_column(name)
    for number in numbers:
        with usage_errors():
            record = folder.read_run(number)
        engine = f"autograde {record.versions['autograde']}" if "autograde" in record.versions else ""
        kind = record.kind + (" (interrupted)" if record.interrupted else "")
        table.add_row(str(number), kind, f"{record.finished:%Y-%m-%d %H:%M:%S}", str(record.graded_now),
                      str(len(record.students)), record.rubric_digest[:8], str(record.seed),
                      f"{record.backend or '-'}, {engine}".strip(", "))
    console().print(table)


def _pair(folder: ResultsFolder, start: int | None, end: int | None) -> RunDiff:
    from autograde.errors import AutogradeError
    from autograde.history.diff import diff_runs

    numbers = folder.run_numbers()
    if end is None:
        if not numbers:
            raise AutogradeError(
                f"{folder.root}: no runs kept yet (grade it with this version of `autograde grade`)"
            )
        end = numbers[-1]
    if start is None:
        earlier = [n for n in numbers if n < end]
        if not earlier:
            raise AutogradeError(
                f"{folder.root}: run {end} is its first run; there is nothing to compare it with"
            )
        start = earlier[-1]
    return diff_runs(folder.read_run(start), folder.read_run(end))


@click.command(name="diff")
@results_dir_argument
@click.option("--from", "start", type=click.IntRange(min=1), default=None, metavar="RUN",
              help="the earlier run (default: the run before --to)")
@click.option("--to", "end", type=click.IntRange(min=1), default=None, metavar="RUN",
              help="the later run (default: the last one)")
@click.option("--json", "as_json", is_flag=True, help="print the changes as JSON")
def diff(results_dir: Path, start: int | None, end: int | None, as_json: bool) -> None:
    """Per student of RESULTS_DIR: the score change between two runs, the checks whose status
    changed, and why (upload, rubric, seed, parameters, hand grade or engine changed)."""
    from autograde.batch.results_folder import ResultsFolder
    from autograde.reporters.run_changes import changes_json, changes_summary, changes_table

    with usage_errors():
        found = _pair(ResultsFolder(results_dir), start, end)
    if as_json:
        click.echo(json.dumps(changes_json(found), indent=1))
        return
    out = console()
    if found.changes:
        out.print(changes_table(found))
    say(escape(changes_summary(found)), out)


def print_last_changes(results_dir: Path, limit: int = 20) -> None:
    """After `grade`: what this run changed against the one before (nothing when it is the first)."""
    from autograde.batch.results_folder import ResultsFolder
    from autograde.reporters.run_changes import changes_summary, changes_table

    found = ResultsFolder(results_dir).last_changes()
    if found is None:
        return
    out = console()
    if found.changes:
        out.print(changes_table(found, limit))
    say(escape(changes_summary(found)) + (" (`autograde diff` for details)" if found.changes else ""), out)
