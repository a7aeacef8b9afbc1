"""`autograde bundle ASSIGNMENT... --out DIR`: what the instructor publishes per assignment,
the template and its check bundle, made with the reference on this machine.

Exit codes: 0 written, 2 on an unknown assignment, a rubric error or a reference that fails.
"""

from __future__ import annotations

from pathlib import Path

import click

from autograde.cli.common import escape, load, rubrics_option, say, usage_errors


@click.command()
@click.argument("assignments", nargs=-1, required=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@rubrics_option
def bundle(assignments: tuple[str, ...], out_dir: Path, rubrics: Path | None) -> None:
    """Write each assignment's template and check bundle (<assignment>.check) into --out."""
    from autograde.selfcheck.build import build_bundle

    for assignment in assignments:
        loaded = load(assignment, rubrics)
        with usage_errors():
            made = build_bundle(loaded, out_dir)
        size = made.bundle.stat().st_size
        say(
            f"{escape(loaded.id)}: {escape(str(made.bundle))} ({size / 1024:.0f} KiB; {made.checks} checks, "
            f"{made.after_submission} after submission, {made.hidden} hidden not included) and "
            f"{escape(str(made.template))}"
            + (f" with {len(made.files)} support files beside it" if made.files else "")
        )
