"""`autograde gradescope ASSIGNMENT --out autograder.zip`: the autograder archive for Gradescope."""

from __future__ import annotations

from pathlib import Path

import click

from autograde.cli.common import escape, load, rubrics_option, say, usage_errors


@click.command()
@click.argument("assignment")
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("autograder.zip"),
              show_default=True, help="the zip to write (upload it as the assignment's autograder)")
@click.option("--wheelhouse", type=click.Path(path_type=Path), default=None,
              help="a folder of wheels: the archive carries every dependency from it and setup.sh "
                   "installs offline (default: setup.sh installs from PyPI)")
@rubrics_option
def gradescope(assignment: str, out: Path, wheelhouse: Path | None, rubrics: Path | None) -> None:
    """Write Gradescope's autograder archive for ASSIGNMENT (setup.sh, run_autograder, the
    engine, the assignment's rubric, reference and data generators)."""
    from autograde.gradescope.archive import build_archive

    loaded = load(assignment, rubrics)
    with usage_errors():
        built = build_archive(loaded, out, wheelhouse, log=lambda text: say(escape(text)))
    manifest = built.manifest
    how = "offline, from its wheels/" if manifest.offline else "from PyPI"
    say(f"wrote {escape(str(built.path))} ({built.size / 2**20:.1f} MiB): {manifest.assignment}, "
        f"rubric {manifest.rubric_digest}, {len(manifest.library)} library files; setup.sh installs {how}")
