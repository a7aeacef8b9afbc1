"""`autograde grade` (a batch of uploads), with the sandbox and parameter options it shares
with `autograde check`.

Exit codes: 0 done, 130 interrupted, 2 on usage, rubric or assignment errors.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from autograde.cli.common import (
    assignment_option,
    console,
    escape,
    load,
    rubrics_option,
    say,
    usage_errors,
    warn,
)

if TYPE_CHECKING:
    from autograde.cluster.settings import ClusterSettings, ClusterSpec
    from autograde.pipeline.grade import GradeOptions


def _params(values: tuple[str, ...]) -> dict[str, Any]:
    import yaml

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
    from autograde.pipeline.grade import GradeOptions

    ids = _gpus(sandbox["gpus"])
    return GradeOptions(
        backend=sandbox["backend"],
        image=sandbox["image"],
        gpus=ids,
        gpu=ids[0] if ids else None,
        limits=_limit_overrides(sandbox["memory"], sandbox["cpus"], sandbox["pids"]),
        **rest,
    )


def _cluster(
    value: str | None, config: Path | None, workers: int | None, sandbox: dict[str, Any]
) -> tuple[ClusterSpec | None, ClusterSettings, bool]:
    """--cluster and --cluster-config; with a cluster, `--gpus all` asks for GPU jobs (the
    workers' GPUs, not this machine's)."""
    from autograde.cluster.settings import ClusterSettings, parse_cluster, read_settings

    if value is None:
        if config is not None:
            raise click.BadParameter("a cluster file needs --cluster", param_hint="--cluster-config")
        return None, ClusterSettings(), False
    try:
        spec = parse_cluster(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--cluster") from None
    if workers is not None:
        raise click.BadParameter("a cluster grades with its own workers; leave out --workers",
                                 param_hint="--workers")
    with usage_errors():
        settings = read_settings(config)
    gpus = sandbox.pop("gpus")
    sandbox["gpus"] = None
    if gpus not in (None, "all"):
        raise click.BadParameter("with --cluster, --gpus all: each job gets one GPU of a worker that "
                                 "declares a GPU resource", param_hint="--gpus")
    if gpus and spec.kind == "local":
        raise click.BadParameter("local:N workers declare no GPUs; grade on this machine's GPUs without "
                                 "--cluster (--gpus all)", param_hint="--gpus")
    return spec, settings, gpus == "all"


@click.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@assignment_option
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--workers", "-j", type=click.IntRange(1, 256), default=None,
              help="parallel sandboxes (default: what cores, memory and GPUs allow)")
@click.option("--regrade", is_flag=True, help="grade everything again, also what the journal has")
@click.option("--warm/--cold", default=True, show_default=True,
              help="make each upload's sandbox ahead, while the one before is graded (never reused)")
@click.option("--id-pattern", default=None,
              help="student id from the upload's path: a regex with (?P<id>...), or moodle|canvas|olat")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="CSV with a column id (optional name, email): maps uploads, lists who did not submit")
@click.option("--canvas-assignment", default=None, metavar="'TITLE (ID)'",
              help="the Canvas gradebook column to fill, as Canvas's export names it (default: the rubric's "
                   "title, which makes a new assignment)")
@click.option("--deadline", default=None, metavar="TIME",
              help="ISO 8601 with an offset, e.g. 2026-12-01T23:59+01:00 ('none': remove the folder's)")
@click.option("--timezone", default=None, metavar="ZONE",
              help="IANA zone (Europe/Berlin) for a naive --deadline and for zip times")
@click.option("--late-policy", default=None, metavar="POLICY",
              help="e.g. '10%/day,max=50%,grace=15m', 'cutoff=3d', 'none' (the default; see README)")
@click.option("--extensions", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="CSV: student, extension (a new deadline, or extra time like 2d, 36h)")
@click.option("--submission-times", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="CSV: student, submitted_at (overrides the times found in the uploads)")
@click.option("--similarity", "similarity_check", is_flag=True,
              help="then compare each task's answers across the uploads (as `autograde similarity`)")
@click.option("--cluster", "cluster", default=None, metavar="ADDRESS|local:N|slurm",
              help="grade on Dask workers: a scheduler (tcp://HOST:8786, tls://...), a local cluster of N "
                   "worker processes, or workers in SLURM jobs (see --cluster-config)")
@click.option("--cluster-config", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="YAML: the cluster's TLS certificates, SLURM job settings, how the library reaches "
                   "the workers")
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
    warm: bool,
    id_pattern: str | None,
    roster: Path | None,
    rubrics: Path | None,
    params: tuple[str, ...],
    seed: int | None,
    similarity_check: bool,
    canvas_assignment: str | None,
    deadline: str | None,
    timezone: str | None,
    late_policy: str | None,
    extensions: Path | None,
    submission_times: Path | None,
    cluster: str | None,
    cluster_config: Path | None,
    **sandbox: Any,
) -> None:
    """Grade every upload in SOURCES (folders, notebooks, LMS zip exports) into --out.

    Rerunning the same command after an interruption grades only what is missing or changed.
    The deadline settings are kept in --out: a rerun without them applies the same ones.
    """
    from autograde.batch.results_folder import ResultsFolder
    from autograde.batch.run import BatchOptions, grade_batch
    from autograde.cli.history import print_last_changes
    from autograde.lateness.settings import DeadlineOptions, resolve
    from autograde.reporters.console import BatchDisplay, summary_table

    loaded = load(assignment, rubrics)
    spec, settings, cluster_gpus = _cluster(cluster, cluster_config, workers, sandbox)
    opts = _options(sandbox, overrides=_params(params), grading_seed=seed)
    if canvas_assignment is not None and not canvas_assignment.strip():
        raise click.BadParameter("an empty column name", param_hint="--canvas-assignment")
    deadlines = DeadlineOptions(deadline, timezone, late_policy, extensions, submission_times)
    with usage_errors():
        in_force, kept = resolve(ResultsFolder(out_dir).kept_deadline(loaded.id), deadlines)
    batch = BatchOptions(workers=workers, regrade=regrade, id_pattern=id_pattern, roster=roster, warm=warm,
                         canvas_assignment=canvas_assignment, deadlines=deadlines,
                         cluster=spec, cluster_settings=settings, cluster_gpus=cluster_gpus)
    out = console()
    if spec is not None:
        say(f"grading on {escape(spec.describe())}", out)
    if in_force is not None:
        say(escape(in_force.describe(kept)), out)
    elif deadline is not None:
        say("no deadline: the results folder's deadline settings are removed", out)
    display = BatchDisplay(out)
    try:
        with usage_errors(), display:
            reports = grade_batch(list(sources), loaded, out_dir, opts, batch, display.update)
    except KeyboardInterrupt:
        warn(
            f"[yellow]interrupted:[/yellow] what was graded is in {escape(str(out_dir / 'grades.csv'))}; "
            "no sandbox was left running; run the same command again to grade the rest"
        )
        sys.exit(130)
    task_ids = [task.id for task in loaded.rubric.tasks]
    out.print(summary_table(reports, task_ids, f"{loaded.rubric.title} ({len(reports)} uploads)"))
    gradebook, page, students = (escape(str(out_dir / n)) for n in ("grades.csv", "class.html", "students"))
    say(f"gradebook: {gradebook}\nclass report: {page}\nreports:   {students}/<student>/", out)
    print_last_changes(out_dir)
    if similarity_check:
        from autograde.cli.similarity import print_run
        from autograde.similarity.run import check_similarity

        with usage_errors():
            print_run(check_similarity(out_dir, loaded))
