"""What every `autograde` command group shares: the error console, the exit-2 rule for
AutogradeError, and the options that name an assignment and the rubric library."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from autograde.errors import AutogradeError
from autograde.rubric import Assignment, load_assignment

err = Console(stderr=True, highlight=False, soft_wrap=True)  # messages stay on one line

assignment_option = click.option(
    "--assignment", "-a", required=True, help="assignment id or path to a rubric.yaml"
)
rubrics_option = click.option(
    "--rubrics",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="rubric library folder (default: ./rubrics)",
)


@contextlib.contextmanager
def usage_errors() -> Iterator[None]:
    """An AutogradeError becomes a red message on stderr and exit status 2."""
    try:
        yield
    except AutogradeError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        sys.exit(2)


def load(assignment: str, rubrics: Path | None) -> Assignment:
    """The assignment by id or rubric path, or exit 2 with the reason."""
    with usage_errors():
        return load_assignment(assignment, rubrics)
