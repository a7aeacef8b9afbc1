"""`autograde similarity RESULTS_DIR`: answers alike across the uploads of a results folder.

Exit codes: 0 (pairs or none: a pair is a reason to look, not a failure), 2 on usage errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from autograde.cli.common import console, escape, load, rubrics_option, say, usage_errors, warn
from autograde.similarity.compare import THRESHOLD

if TYPE_CHECKING:
    from autograde.similarity.run import SimilarityRun

THRESHOLD_HELP = "report a pair when both answers are at least this share of shared code"


@click.command(name="similarity")
@click.argument("results_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--assignment", "-a", default=None,
              help="the assignment the folder was graded for (default: the one its answers name)")
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True), default=THRESHOLD, show_default=True,
              help=THRESHOLD_HELP)
@rubrics_option
def similarity(results_dir: Path, assignment: str | None, threshold: float, rubrics: Path | None) -> None:
    """Compare each task's answer code across every upload of RESULTS_DIR (made by `grade`).

    The template's code is left out; names, comments, whitespace and the order of functions
    do not count. Writes similarity/pairs.csv and similarity/similarity.html there.
    """
    from autograde.batch.results_folder import ResultsFolder
    from autograde.errors import AutogradeError
    from autograde.similarity.run import check_similarity

    with usage_errors():
        kept = ResultsFolder(results_dir).read_answers()
        graded_for = kept.assignments
        if assignment is None:
            if not graded_for:
                raise AutogradeError(f"{results_dir}: no students/*/answers.json (grade the uploads "
                                     "with this version of `autograde grade` first)")
            if len(graded_for) > 1:
                raise AutogradeError(f"{results_dir}: answers of the assignments {sorted(graded_for)}; "
                                     "name one with --assignment")
            assignment = next(iter(graded_for))
    loaded = load(assignment, rubrics)
    with usage_errors():
        run = check_similarity(results_dir, loaded, threshold, kept)
    print_run(run)


def print_run(run: SimilarityRun) -> None:
    out = console()
    for note in run.notes:
        warn(f"[yellow]note:[/yellow] {escape(note)}")
    found = f"{len(run.matches)} pair(s) at least {run.threshold:.2f} alike over {run.compared} upload(s)"
    say(f"similarity: {found}", out)
    for m in run.matches[:20]:
        say(f"  {escape(m.task)}: {escape(m.first)} and {escape(m.second)} ({m.score:.2f})", out)
    if len(run.matches) > 20:
        say(f"  ... {len(run.matches) - 20} more in the CSV", out)
    say(f"pairs: {escape(str(run.csv))}\npage:  {escape(str(run.html))}", out)
