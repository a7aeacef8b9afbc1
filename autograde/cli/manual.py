"""`autograde manual`: hand-grade free-text answers (export a sheet, merge it back).

A click group; `autograde.cli.main` adds it with ``main.add_command(manual)``. Exit codes as in
`autograde.cli.main`: 0 success, 2 usage, rubric, results-folder or sheet errors.
"""

from __future__ import annotations

from pathlib import Path

import click

from autograde.cli.common import assignment_option, escape, load, rubrics_option, say, usage_errors

results_argument = click.argument(
    "results_dir", type=click.Path(exists=True, file_okay=False, path_type=Path)
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def manual() -> None:
    """Grade free-text answers by hand: export a sheet, fill in points, merge it back."""


@manual.command()
@results_argument
@assignment_option
@rubrics_option
@click.option("--force", is_flag=True, help="overwrite a sheet.csv that holds points not merged yet")
def export(results_dir: Path, assignment: str, rubrics: Path | None, force: bool) -> None:
    """Write RESULTS_DIR/manual/sheet.csv (to fill in) and sheet.html (to read the answers)."""
    from autograde.manual.sheet import export_sheet

    loaded = load(assignment, rubrics)
    with usage_errors():
        csv_path, html_path = export_sheet(results_dir, loaded, force=force)
    say(f"sheet:   {escape(str(csv_path))}\nanswers: {escape(str(html_path))}")
    say(
        "fill in the points (empty: not graded yet) and comments, then run "
        f"`autograde manual merge {escape(str(results_dir))} {escape(str(csv_path))} "
        f"--assignment {escape(assignment)}`"
    )


@manual.command()
@results_argument
@click.argument("sheet", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@assignment_option
@rubrics_option
def merge(results_dir: Path, sheet: Path, assignment: str, rubrics: Path | None) -> None:
    """Merge the points and comments of SHEET into the reports and grades.csv of RESULTS_DIR."""
    from autograde.manual.merge import merge_sheet

    loaded = load(assignment, rubrics)
    with usage_errors():
        result = merge_sheet(results_dir, sheet, loaded)
    say(
        f"merged {result.merged} answer(s); {len(result.changed)} report(s) changed; "
        f"{result.ungraded} answer(s) still ungraded"
    )
    if result.skipped:
        say(
            f"[yellow]note:[/yellow] {len(result.skipped)} row(s) have a comment but no points and were "
            f"left out: {escape(', '.join(result.skipped[:10]))}"
        )
    say(f"gradebook: {escape(str(result.gradebook))}")
