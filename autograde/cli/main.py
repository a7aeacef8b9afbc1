"""The `autograde` command: a thin layer over the Python API.

This module is the click group and the list of command groups; each command lives in the
module of its group (grade, library, authoring, sandbox, manual) and imports what it needs when it runs,
so that `autograde --help` loads click and nothing of the grading stack.

Exit codes: 0 success; 1 a check failed (self-check) or a rubric test failed;
2 usage, rubric or assignment errors; 130 interrupted.
"""

from __future__ import annotations

import signal
from typing import Any

import click

from autograde.cli.authoring import assign, import_group
from autograde.cli.bundle import bundle
from autograde.cli.check import check
from autograde.cli.grade import grade
from autograde.cli.gradescope import gradescope
from autograde.cli.history import diff, runs
from autograde.cli.library import list_cmd, rubric
from autograde.cli.manual import manual
from autograde.cli.sandbox import sandbox
from autograde.cli.similarity import similarity


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="autograde-notebooks")
def main() -> None:
    """Grade Jupyter notebooks against YAML rubrics, in a sandbox."""
    from autograde.runner.confine import shield_grader

    # SIGTERM (a batch system stopping the grader) unwinds like Ctrl-C: sandboxes are removed
    signal.signal(signal.SIGTERM, _terminate)
    shield_grader()  # a local sandbox cannot read this process's environment or memory


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


for command in (grade, check, bundle, list_cmd, rubric, assign, import_group, sandbox, manual, similarity,
                runs, diff, gradescope):
    main.add_command(command)
