"""What every `autograde` command group shares: the consoles, the exit-2 rule for
AutogradeError, and the options that name an assignment and the rubric library.

Imports only click at module level: `autograde --help` must not pay for rich, pydantic or
the grading stack. Each command imports what it needs when it runs.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from autograde.errors import AutogradeError
from autograde.library import LIBRARY_ENV, RUBRICS_ENV, library_rubrics

if TYPE_CHECKING:
    from rich.console import Console

    from autograde.rubric import Assignment

assignment_option = click.option(
    "--assignment", "-a", required=True, help="assignment id or path to a rubric.yaml"
)
library_option = click.option(
    "--library",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help=f"course library: a folder holding rubrics/ and reference/ (default: ${LIBRARY_ENV}, "
    f"${RUBRICS_ENV}, else this checkout)",
)
_rubrics_folder_option = click.option(
    "--rubrics",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="the rubric folder alone (the reference/ beside it is used)",
)


def rubrics_option(command: Callable[..., None]) -> Callable[..., None]:
    """`--library DIR` and `--rubrics DIR`; the command gets one `rubrics` argument, the rubric
    folder they name (None: the default library, found when the rubrics are loaded)."""

    @functools.wraps(command)
    def run(*args: Any, library: Path | None, rubrics: Path | None, **kwargs: Any) -> None:
        if library is not None:
            if rubrics is not None:
                raise click.UsageError("give --library or --rubrics, not both")
            with usage_errors():
                rubrics = library_rubrics(library)
        command(*args, rubrics=rubrics, **kwargs)

    return library_option(_rubrics_folder_option(run))


def console(stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr) for tables, progress and messages.

    Messages go through `say` / `warn`, which never wrap them: a path or a command in a
    message stays on one line whatever the terminal width (80 columns when piped)."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def say(markup: str, out: Console | None = None) -> None:
    """Print a message (rich markup) on stdout, on one line per line of text."""
    (out or console()).print(markup, soft_wrap=True)


def warn(markup: str) -> None:
    """Print a message (rich markup) on stderr, unwrapped."""
    say(markup, console(stderr=True))


def escape(text: str) -> str:
    """`text` with rich markup characters escaped."""
    from rich.markup import escape

    return escape(text)


@contextlib.contextmanager
def usage_errors() -> Iterator[None]:
    """An AutogradeError becomes a red message on stderr and exit status 2."""
    try:
        yield
    except AutogradeError as exc:
        warn(f"[red]error:[/red] {escape(str(exc))}")
        sys.exit(2)


def load(assignment: str, rubrics: Path | None) -> Assignment:
    """The assignment by id or rubric path, or exit 2 with the reason."""
    from autograde.rubric import load_assignment

    with usage_errors():
        return load_assignment(assignment, rubrics)
