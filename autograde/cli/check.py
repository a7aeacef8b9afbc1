"""`autograde check NOTEBOOK`: a self-check, the student's command.

With `--bundle FILE` (what a student has) the notebook runs fresh with the bundle's public
checks; with `--assignment ID` (an instructor with the course library) it runs the
rubric's public checks. Exit codes: 0 every check with a verdict passes, 1 otherwise, 2 on
usage errors (a missing, damaged or foreign bundle, a notebook the checks cannot read).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from autograde.cli.common import escape, load, rubrics_option, usage_errors, warn
from autograde.cli.grade import (
    _limit_overrides,
    _options,
    _params,
    param_option,
    sandbox_options,
    seed_option,
)


@click.command()
@click.argument("notebook", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="the assignment's check bundle (<assignment>.check, from your instructor)",
)
@click.option("--assignment", "-a", default=None, help="instructors: assignment id or rubric.yaml path")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="the data folder your notebook reads (default: the bundle's own copy, when it has one)",
)
@click.option("--task", "tasks", multiple=True, help="check only this task (repeatable)")
@sandbox_options
@rubrics_option
@param_option
@seed_option
def check(
    notebook: Path,
    bundle_path: Path | None,
    assignment: str | None,
    data: Path | None,
    tasks: tuple[str, ...],
    rubrics: Path | None,
    params: tuple[str, ...],
    seed: int | None,
    **sandbox: Any,
) -> None:
    """Self-check one notebook against the public checks (exit 0 when all pass)."""
    if (bundle_path is None) == (assignment is None):
        warn("[red]error:[/red] give --bundle FILE (students) or --assignment ID (instructors)")
        sys.exit(2)
    if not notebook.is_file():
        warn(f"[red]error:[/red] {notebook}: no such notebook")
        sys.exit(2)
    if bundle_path is not None:
        _check_with_bundle(notebook, bundle_path, data, list(tasks) or None, params, sandbox)
    else:
        assert assignment is not None
        _check_with_library(notebook, assignment, rubrics, params, seed, sandbox)


def _check_with_bundle(
    notebook: Path,
    bundle_path: Path,
    data: Path | None,
    tasks: list[str] | None,
    params: tuple[str, ...],
    sandbox: dict[str, Any],
) -> None:
    from rich.console import Console

    from autograde.reporters.console import print_self_check
    from autograde.results import GradeReport
    from autograde.selfcheck import server

    if sandbox["backend"] != "local":
        warn("[red]error:[/red] a self-check with a bundle runs on the local backend only")
        sys.exit(2)
    out = Console(highlight=False, soft_wrap=True)
    request = {
        "notebook": str(notebook.resolve()), "bundle": str(bundle_path.resolve()),
        "data": str(data.resolve()) if data else None, "tasks": tasks, "overrides": _params(params),
        "limits": _limit_overrides(sandbox["memory"], sandbox["cpus"], sandbox["pids"]),
    }
    if not sandbox["gpus"] and not sandbox["image"]:  # the student's check server, if one runs
        with out.status("running your notebook..."):
            reply = server.ask(request)
        if reply is not None and "error" in reply:
            warn(f"[red]error:[/red] {escape(str(reply['error']))}")
            sys.exit(2)
        if reply is not None and "report" in reply:
            print_self_check(out, GradeReport.from_json(reply["report"]), list(reply["after"]))
            sys.exit(int(reply["exit"]))
    with usage_errors(), out.status("running your notebook..."):
        opts = _options(sandbox, overrides=request["overrides"], public_only=True)
        report, after, code = server.check_here(notebook, bundle_path, data, tasks, opts)
    server.start(request)  # the next check is answered in a sandbox it warmed for this one
    print_self_check(out, report, after)
    sys.exit(code)


def _check_with_library(
    notebook: Path,
    assignment: str,
    rubrics: Path | None,
    params: tuple[str, ...],
    seed: int | None,
    sandbox: dict[str, Any],
) -> None:
    from rich.console import Console

    from autograde.backends import get_backend
    from autograde.pipeline.grade import grade_submission
    from autograde.reporters.console import print_check
    from autograde.status import CheckStatus, SubmissionStatus

    loaded = load(assignment, rubrics)
    hidden = sum(
        1 for task in loaded.rubric.tasks for c in task.checks if (c.visible or task.visible) == "hidden"
    )
    opts = _options(sandbox, overrides=_params(params), grading_seed=seed, public_only=True)
    with usage_errors():
        get_backend(opts.backend, opts.backend_options()).preflight()
    out = Console(highlight=False, soft_wrap=True)  # print_check writes messages only, never a table
    with out.status("running your notebook..."):
        report = grade_submission(notebook, loaded, opts)
    print_check(out, report, hidden)
    counted = [c for t in report.tasks for c in t.checks if not CheckStatus.parse(c.status).needs_person]
    passed = SubmissionStatus.parse(report.status) is SubmissionStatus.GRADED and all(
        CheckStatus.parse(c.status) is CheckStatus.PASS for c in counted
    )
    sys.exit(0 if passed else 1)
