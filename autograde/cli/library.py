"""`autograde list` (the assignments) and `autograde rubric validate|test|mutate` (the rubric library).

Exit codes: list 0, or 2 on a rubric or README error; rubric validate 0 all valid, 2 otherwise;
rubric test 0 every notebook scored as expected, 1 otherwise, 2 on usage errors; rubric mutate
0, or 2 on usage errors; rubric schema 0.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from autograde.cli.common import (
    console,
    escape,
    library_option,
    load,
    rubrics_option,
    say,
    usage_errors,
    warn,
)

if TYPE_CHECKING:
    from autograde.rubric.selftest import Case


@click.command(name="list")
@rubrics_option
@click.option("--markdown", is_flag=True, help="print the table as Markdown")
@click.option(
    "--readme",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="rewrite the assignment table of this README (between its markers)",
)
def list_cmd(rubrics: Path | None, markdown: bool, readme: Path | None) -> None:
    """Show the assignments with their tasks and points.

    Each rubric is validated in full, or its summary read from the cache
    (~/.cache/autograde/rubric-summaries, $AUTOGRADE_CACHE) when the rubric, its folder
    and the engine are unchanged since.
    """
    from autograde.rubric import table as library_table
    from autograde.rubric.loader import discover
    from autograde.rubric.summary_cache import summarize

    with usage_errors():  # each rubric loaded in full unless its summary is cached (summary_cache.py)
        rubric_list = [summarize(path) for path in discover(rubrics)]
        if readme is not None:
            changed = library_table.rewrite(readme, library_table.markdown(rubric_list))
            say(f"{escape(str(readme))}: {'updated' if changed else 'already up to date'}")
            return
    if markdown:
        click.echo(library_table.markdown(rubric_list), nl=False)
        return
    from rich.table import Table

    table = Table(title="assignments")
    for column in ("assignment", "title", "tasks (points)", "total"):
        table.add_column(column)
    for rubric in rubric_list:
        tasks = ", ".join(
            f"{t.id} ({t.points:g}{', hidden' if t.visible == 'hidden' else ''})" for t in rubric.tasks
        )
        table.add_row(rubric.assignment, escape(rubric.title), tasks, f"{rubric.max_points:g}")
    console().print(table)


@click.group()
def rubric() -> None:
    """Validate and test the rubric library."""


@rubric.command()
@click.argument("rubrics_dir", required=False, type=click.Path(path_type=Path))
@library_option
def validate(rubrics_dir: Path | None, library: Path | None) -> None:
    """Check every rubric.yaml against the schema (and that its notebooks exist)."""
    from autograde.errors import AutogradeError
    from autograde.library import default_library, library_rubrics
    from autograde.rubric import discover, load_rubric_file

    failures = 0
    with usage_errors():
        if rubrics_dir is not None and library is not None:
            raise click.UsageError("give RUBRICS_DIR or --library, not both")
        library = rubrics_dir or (library_rubrics(library) if library is not None else default_library())
        paths = [library] if library.is_file() else discover(library)
    if not paths:
        warn(f"[red]error:[/red] no */rubric.yaml under {escape(str(library))}")
        sys.exit(2)
    for path in paths:
        try:
            loaded = load_rubric_file(path)
            missing = [
                n
                for n in [
                    loaded.rubric.template,
                    loaded.rubric.solution,
                    *[m.notebook for m in loaded.rubric.mutants],
                ]
                if not loaded.path(n).is_file()
            ]
            if missing:
                raise AutogradeError(f"{path}: notebooks named in the rubric are missing: {missing}")
            say(f"[green]ok[/green]      {escape(str(path))}")
        except AutogradeError as exc:
            failures += 1
            say(f"[red]invalid[/red] {escape(str(exc))}")
    sys.exit(2 if failures else 0)


@rubric.command(name="test")
@click.argument("assignments", nargs=-1)
@click.option("--backend", type=click.Choice(["local", "docker"]), default="local", show_default=True)
@rubrics_option
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="grading seed for hidden inputs (fixed, so runs repeat; try others for seed-dependent mutants)",
)
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="notebooks graded at once"
)
@click.option("--warm/--cold", default=True, show_default=True,
              help="make each notebook's sandbox ahead, while the one before is graded (never reused)")
@click.option("--junit", "junit", type=click.Path(dir_okay=False, path_type=Path),
              help="also write the results as JUnit XML here (one test case per notebook)")
def test_cmd(
    assignments: tuple[str, ...], backend: str, rubrics: Path | None, seed: int, jobs: int, warm: bool,
    junit: Path | None,
) -> None:
    """Grade solution, template and mutants of each assignment; check the expected points.

    Each line gives the score and the grading time; the slowest solution is named at the end.
    """
    from autograde.rubric import discover
    from autograde.rubric.selftest import run_library

    with usage_errors():
        names = list(assignments) or [p.parent.name for p in discover(rubrics)]
        loaded = [load(name, rubrics) for name in names]
    out = console()
    failed = 0
    solution_of = {a.id: a.rubric.solution for a in loaded}
    solutions: list[tuple[float, str]] = []
    done: list[Case] = []
    started = time.monotonic()
    for case in run_library(loaded, seed, backend, jobs, warm):
        done.append(case)
        score = f"{case.report.score:g}/{case.report.max_score:g}" if case.report else "-"
        mark = "[green]ok[/green]  " if case.ok else "[red]FAIL[/red]"
        say(f"{mark} {escape(case.assignment)} {escape(case.notebook)}: {score} ({case.seconds:.1f} s)", out)
        for problem in case.problems:
            say(f"       {escape(problem)}", out)
        failed += not case.ok
        if case.notebook == solution_of[case.assignment]:
            solutions.append((case.seconds, case.assignment))
    if solutions:
        slowest = max(solutions)
        say(
            f"{len(names)} assignment{'s' if len(names) != 1 else ''} in {time.monotonic() - started:.0f} s; "
            f"slowest solution: {escape(slowest[1])} ({slowest[0]:.1f} s)",
            out,
        )
    if junit is not None:
        from autograde.rubric.junit import write_junit

        with usage_errors():
            write_junit(done, junit)
        say(f"JUnit XML: {escape(str(junit))}", out)
    sys.exit(1 if failed else 0)


@rubric.command(name="schema")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path),
              help="write it to this file instead of printing it")
def schema_cmd(out: Path | None) -> None:
    """Print the JSON Schema of rubric.yaml files (for an editor's YAML support, or CI).

    It has every check kind registered now. What a schema cannot say (unique task ids,
    declared data sets, mutants that name real tasks) `autograde rubric validate` checks.
    """
    import json

    from autograde.rubric.json_schema import rubric_json_schema

    text = json.dumps(rubric_json_schema(), indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        why = escape(exc.strerror or str(exc))
        warn(f"[red]error:[/red] --out {escape(str(out))}: cannot write it ({why})")
        sys.exit(2)


@rubric.command(name="mutate")
@click.argument("assignments", nargs=-1, required=True)
@click.option("--backend", type=click.Choice(["local", "docker"]), default="local", show_default=True)
@rubrics_option
@click.option("--seed", type=int, default=0, show_default=True, help="grading seed for hidden inputs")
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="mutants graded at once"
)
@click.option(
    "--save", "save_ids", multiple=True, metavar="ID",
    help="grade these mutants (repeat it, or ID,ID) and keep them as declared mutants of the one assignment",
)  # fmt: skip
@click.option(
    "--max", "most", type=click.IntRange(min=1), default=None,
    help="grade at most N mutants per assignment, evenly spread over its cells and operators",
)  # fmt: skip
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="also write the results here"
)
def mutate_cmd(
    assignments: tuple[str, ...],
    backend: str,
    rubrics: Path | None,
    seed: int,
    jobs: int,
    save_ids: tuple[str, ...],
    most: int | None,
    json_path: Path | None,
) -> None:
    """Mutate the solution's answer code, grade every mutant, report those that keep full points.

    A mutant is killed when it loses points; the mutation score is killed / generated. Exit 0,
    or 2 on a usage error (an unknown mutant id, a solution without full points).
    """
    from autograde.mutation import report, run, save

    with usage_errors():
        save_ids = tuple(part for given in save_ids for part in given.split(",") if part)
        if save_ids and len(assignments) != 1:
            raise click.UsageError("--save takes the mutant ids of one assignment")
        loaded = [load(name, rubrics) for name in assignments]
    out = console()
    runs = []
    for assignment in loaded:
        with usage_errors():
            every = run.generate(assignment)
            chosen = run.select(every, list(save_ids), assignment.id) if save_ids else run.spread(every, most)
        say(f"{escape(assignment.id)}: {len(every)} mutants, grading {len(chosen)} ({jobs} at a time)", out)

        def done(mutant: run.Mutant) -> None:
            mark = "[red]survived[/red]" if not mutant.killed else "killed  "
            note = f" [dim]{escape(mutant.note[:80])}[/dim]" if mutant.note else ""
            say(
                f"  {mark} {escape(mutant.id)}: {escape(mutant.changed[:70])} ({mutant.seconds:.1f} s){note}",
                out,
            )

        with usage_errors():
            runs.append(
                run.grade(
                    assignment, chosen, seed=seed, backend=backend, jobs=jobs, generated=len(every), done=done
                )
            )
        if save_ids:
            with usage_errors():
                for name in save.save(assignment, chosen):
                    say(f"saved {escape(name)}", out)
    report.print_tables(runs, out)
    if json_path is not None:
        report.write_json(runs, json_path)
