"""The `autograde` command: a thin layer over the Python API.

Exit codes: 0 success; 1 a check failed (self-check) or a rubric test failed;
2 usage, rubric or assignment errors.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Any

import click
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from autograde.backends.local.isolation import shield_grader
from autograde.cli.common import assignment_option, err, load, rubrics_option, usage_errors
from autograde.cli.manual import manual
from autograde.errors import AutogradeError
from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.rubric import default_library, discover, load_rubric_file
from autograde.rubric import table as library_table

console = Console(highlight=False)


def _params(values: tuple[str, ...]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep or not name.isidentifier():
            raise click.BadParameter(f"{item!r}: expected name=value", param_hint="-p")
        try:
            found[name] = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            found[name] = raw
    return found


param_option = click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="override a notebook parameter (repeatable)",
)
seed_option = click.option(
    "--seed", type=int, default=None, help="grading seed for hidden inputs (default: a fresh secret one)"
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="autograde")
def main() -> None:
    """Grade Jupyter notebooks against YAML rubrics, in a sandbox."""
    # SIGTERM (a batch system stopping the grader) unwinds like Ctrl-C: sandboxes are removed
    signal.signal(signal.SIGTERM, _terminate)
    shield_grader()  # a local sandbox cannot read this process's environment or memory


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _gpus(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    if value == "all":
        from autograde.runner.device import visible_gpus

        count, why = visible_gpus()
        if not count:
            raise click.BadParameter(f"no GPU found on this machine ({why})", param_hint="--gpus")
        return tuple(str(i) for i in range(count))
    ids = tuple(part.strip() for part in value.split(","))
    if not all(part.isdigit() for part in ids):
        raise click.BadParameter(f"{value!r}: expected GPU indices like 0,1 or 'all'", param_hint="--gpus")
    return ids


def _limit_overrides(memory: str | None, cpus: float | None, pids: int | None) -> dict[str, Any]:
    from autograde.rubric.schema import parse_bytes

    found: dict[str, Any] = {"cpus": cpus, "pids": pids}
    if memory is not None:
        try:
            found["memory"] = parse_bytes(memory)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--memory") from None
    return {k: v for k, v in found.items() if v is not None}


def sandbox_options(func: Any) -> Any:
    """--backend, --image, --gpus and the limit overrides, shared by grade and check."""
    options = [
        click.option(
            "--backend", type=click.Choice(["local", "docker"]), default="local", show_default=True
        ),
        click.option("--image", default=None, help="docker: grading image (default: this version's tag)"),
        click.option("--gpus", default=None, help="grade on GPUs: indices like 0,1 or 'all' (one per job)"),
        click.option("--memory", default=None, help="override the rubric's memory limit, e.g. 4GiB"),
        click.option("--cpus", type=float, default=None, help="override the rubric's CPU limit"),
        click.option("--pids", type=int, default=None, help="override the rubric's process limit"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _options(sandbox: dict[str, Any], **rest: Any) -> GradeOptions:
    """GradeOptions from the --backend/--image/--gpus/limit flags of `sandbox_options`."""
    ids = _gpus(sandbox["gpus"])
    return GradeOptions(
        backend=sandbox["backend"],
        image=sandbox["image"],
        gpus=ids,
        gpu=ids[0] if ids else None,
        limits=_limit_overrides(sandbox["memory"], sandbox["cpus"], sandbox["pids"]),
        **rest,
    )


@main.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@assignment_option
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--workers", "-j", type=click.IntRange(1, 256), default=None,
              help="parallel sandboxes (default: what cores, memory and GPUs allow)")
@click.option("--regrade", is_flag=True, help="grade everything again, also what the journal has")
@click.option("--id-pattern", default=None,
              help="student id from the upload's path: a regex with (?P<id>...), or moodle|canvas|olat")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="CSV with a column id (optional name, email): maps uploads, lists who did not submit")
@sandbox_options
@rubrics_option
@param_option
@seed_option
def grade(
    sources: tuple[Path, ...],
    assignment: str,
    out_dir: Path,
    workers: int | None,
    regrade: bool,
    id_pattern: str | None,
    roster: Path | None,
    rubrics: Path | None,
    params: tuple[str, ...],
    seed: int | None,
    **sandbox: Any,
) -> None:
    """Grade every upload in SOURCES (folders, notebooks, LMS zip exports) into --out.

    Rerunning the same command after an interruption grades only what is missing or changed.
    """
    from autograde.batch.run import BatchOptions, grade_batch
    from autograde.reporters.console import BatchDisplay, summary_table

    loaded = load(assignment, rubrics)
    opts = _options(sandbox, overrides=_params(params), grading_seed=seed)
    batch = BatchOptions(workers=workers, regrade=regrade, id_pattern=id_pattern, roster=roster)
    display = BatchDisplay(console)
    try:
        with usage_errors(), display:
            reports = grade_batch(list(sources), loaded, out_dir, opts, batch, display.update)
    except KeyboardInterrupt:
        err.print(
            f"[yellow]interrupted:[/yellow] what was graded is in {out_dir / 'grades.csv'}; "
            "no sandbox was left running; run the same command again to grade the rest"
        )
        sys.exit(130)
    task_ids = [task.id for task in loaded.rubric.tasks]
    console.print(summary_table(reports, task_ids, f"{loaded.rubric.title} ({len(reports)} uploads)"))
    console.print(
        f"gradebook: {out_dir / 'grades.csv'}\nclass report: {out_dir / 'class.html'}\n"
        f"reports:   {out_dir / 'students'}/<student>/"
    )


@main.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@assignment_option
@sandbox_options
@rubrics_option
@param_option
@seed_option
def check(
    notebook: Path,
    assignment: str,
    rubrics: Path | None,
    params: tuple[str, ...],
    seed: int | None,
    **sandbox: Any,
) -> None:
    """Self-check one notebook against the public checks (exit 0 when all pass)."""
    from autograde.backends import get_backend
    from autograde.reporters.console import print_check

    loaded = load(assignment, rubrics)
    hidden = sum(
        1 for task in loaded.rubric.tasks for c in task.checks if (c.visible or task.visible) == "hidden"
    )
    opts = _options(sandbox, overrides=_params(params), grading_seed=seed, public_only=True)
    with usage_errors():
        get_backend(opts.backend, opts.backend_options()).preflight()
    with console.status("running your notebook..."):
        report = grade_submission(notebook, loaded, opts)
    print_check(console, report, hidden)
    checks = [c for t in report.tasks for c in t.checks if c.status != "manual"]
    sys.exit(0 if report.status == "graded" and all(c.status == "pass" for c in checks) else 1)


@main.command(name="list")
@rubrics_option
@click.option("--markdown", is_flag=True, help="print the table as Markdown")
@click.option(
    "--readme",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="rewrite the assignment table of this README (between its markers)",
)
def list_cmd(rubrics: Path | None, markdown: bool, readme: Path | None) -> None:
    """Show the assignments with their tasks and points."""
    with usage_errors():
        rubric_list = [load_rubric_file(path).rubric for path in discover(rubrics)]
        if readme is not None:
            changed = library_table.rewrite(readme, library_table.markdown(rubric_list))
            console.print(f"{readme}: {'updated' if changed else 'already up to date'}")
            return
    if markdown:
        click.echo(library_table.markdown(rubric_list), nl=False)
        return
    table = Table(title="assignments")
    for column in ("assignment", "title", "tasks (points)", "total"):
        table.add_column(column)
    for rubric in rubric_list:
        tasks = ", ".join(
            f"{t.id} ({t.points:g}{', hidden' if t.visible == 'hidden' else ''})" for t in rubric.tasks
        )
        table.add_row(rubric.assignment, escape(rubric.title), tasks, f"{rubric.max_points:g}")
    console.print(table)


@main.group()
def rubric() -> None:
    """Validate and test the rubric library."""


@rubric.command()
@click.argument("rubrics_dir", required=False, type=click.Path(path_type=Path))
def validate(rubrics_dir: Path | None) -> None:
    """Check every rubric.yaml against the schema (and that its notebooks exist)."""
    library = rubrics_dir or default_library()
    failures = 0
    with usage_errors():
        paths = [library] if library.is_file() else discover(library)
    if not paths:
        err.print(f"[red]error:[/red] no */rubric.yaml under {library}")
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
            console.print(f"[green]ok[/green]      {escape(str(path))}")
        except AutogradeError as exc:
            failures += 1
            console.print(f"[red]invalid[/red] {escape(str(exc))}")
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
def test_cmd(assignments: tuple[str, ...], backend: str, rubrics: Path | None, seed: int, jobs: int) -> None:
    """Grade solution, template and mutants of each assignment; check the expected points.

    Each line gives the score and the grading time; the slowest solution is named at the end.
    """
    from autograde.rubric.selftest import run_library

    with usage_errors():
        names = list(assignments) or [p.parent.name for p in discover(rubrics)]
        loaded = [load(name, rubrics) for name in names]
    failed = 0
    solution_of = {a.id: a.rubric.solution for a in loaded}
    solutions: list[tuple[float, str]] = []
    started = time.monotonic()
    for case in run_library(loaded, seed, backend, jobs):
        score = f"{case.report.score:g}/{case.report.max_score:g}" if case.report else "-"
        mark = "[green]ok[/green]  " if case.ok else "[red]FAIL[/red]"
        console.print(
            f"{mark} {escape(case.assignment)} {escape(case.notebook)}: {score} ({case.seconds:.1f} s)"
        )
        for problem in case.problems:
            console.print(f"       {escape(problem)}")
        failed += not case.ok
        if case.notebook == solution_of[case.assignment]:
            solutions.append((case.seconds, case.assignment))
    if solutions:
        slowest = max(solutions)
        console.print(
            f"{len(names)} assignment{'s' if len(names) != 1 else ''} in {time.monotonic() - started:.0f} s; "
            f"slowest solution: {escape(slowest[1])} ({slowest[0]:.1f} s)"
        )
    sys.exit(1 if failed else 0)


@main.group()
def sandbox() -> None:
    """Build and inspect the Docker grading image."""


@sandbox.command(name="build")
@click.option("--gpu", is_flag=True, help="the GPU variant (for --backend docker --gpus)")
@click.option(
    "--wheelhouse",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="install only from this folder of wheels (air-gapped build); default: download them",
)
@click.option("--base-image", default=None, help="base image with Python 3.11 (default: a local Debian)")
@click.option("--force", is_flag=True, help="rebuild even when an image with the same tag exists")
@click.option("--prune", is_flag=True, help="remove older grading images of this variant afterwards")
def sandbox_build(
    gpu: bool, wheelhouse: Path | None, base_image: str | None, force: bool, prune: bool
) -> None:
    """Build the grading image; its tag is a hash of everything that goes into it."""
    from autograde.backends import image
    with usage_errors():
        result = image.build(
            "gpu" if gpu else "cpu", base_image or image.DEFAULT_BASE, wheelhouse, force, console.print
        )
    console.print(f"{'built' if result.built else 'reused'} {result.tag}")
    if prune:
        with usage_errors():
            image.prune(result.tag, console.print)


@sandbox.command(name="info")
@click.option("--image", "tag", default=None, help="an image tag (default: this version's image)")
@click.option("--gpu", is_flag=True, help="the GPU variant")
@click.option("--base-image", default=None)
def sandbox_info(tag: str | None, gpu: bool, base_image: str | None) -> None:
    """Print the grading image, its id and digest, and the package versions inside."""
    from autograde.backends import image
    with usage_errors():
        found = image.info(tag, "gpu" if gpu else "cpu", base_image or image.DEFAULT_BASE)
    table = Table(title=found["image"], show_header=False)
    for key in ("id", "created", "size_mb"):
        table.add_row(key, str(found[key]))
    table.add_row("digests", ", ".join(found["digests"]) or "(local image, no registry digest)")
    for name, version in found["packages"].items():
        table.add_row(name, str(version))
    console.print(table)


@sandbox.command(name="lock")
def sandbox_lock() -> None:
    """Pin the whole package closure of sandbox/requirements.in into requirements.txt."""
    from autograde.backends import image
    with usage_errors():
        path = image.lock(console.print)
    console.print(f"wrote {path}")


main.add_command(manual)
