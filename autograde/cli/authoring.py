"""Making assignments: `autograde assign MASTER --out DIR` from a master notebook, and
`autograde import nbgrader|otter ... --out DIR` from the formats of those tools.

Each writes an assignment folder (rubric.yaml, template.ipynb, solution.ipynb, support
files) that `autograde rubric test` and `autograde bundle` take as it is, with the folder
above it as the library (`--library DIR/..`). Converting again gives the same files.

Exit codes: 0 written; 2 when a source is not a notebook, a marker or a config is wrong
(the message names the file, the cell and the line), or the output folder is not ours.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from autograde.cli.common import escape, say, usage_errors, warn

if TYPE_CHECKING:
    from autograde.authoring.draft import Draft

_out_option = click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="the assignment folder to write (one notebook), or the folder that receives one per notebook",
)
_id_option = click.option(
    "--id", "assignment_id", default=None, help="assignment id (default: the folder's name)"
)


def _write(draft: Draft, out: Path) -> None:
    from autograde.authoring.draft import write_draft

    with usage_errors():
        written = write_draft(draft, out)
    say(f"{escape(draft.assignment)}: {len(written)} files in {escape(str(out))}")
    for note in draft.notes:
        warn(f"[yellow]note:[/yellow] {escape(note)}")


def default_id(path: Path) -> str:
    """An assignment id from a file or folder name: letters, digits and underscores."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", path.stem).strip("_") or "assignment"
    return name if not name[0].isdigit() else f"a_{name}"


@click.command()
@click.argument("master", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_out_option
@_id_option
def assign(master: Path, out_dir: Path, assignment_id: str | None) -> None:
    """Write an assignment folder from one master notebook (solution regions, tasks, checks)."""
    from autograde.authoring.master import assign_master

    with usage_errors():
        draft = assign_master(master, assignment_id or default_id(out_dir))
    _write(draft, out_dir)


@click.group("import")
def import_group() -> None:
    """Convert nbgrader or otter assignments into assignment folders."""


def _notebooks(sources: tuple[Path, ...]) -> list[Path]:
    found: list[Path] = []
    for source in sources:
        if source.is_dir():
            found += sorted(p for p in source.glob("*.ipynb") if p.is_file())
        else:
            found.append(source)
    if not found:
        raise click.UsageError("no notebook among the sources")
    return found


@import_group.command("nbgrader")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@_out_option
@_id_option
@click.option(
    "--code-stub",
    default=None,
    metavar="TEXT",
    help="what replaces a code solution region (nbgrader's ClearSolutions.code_stub; `\\n` "
    "separates lines); default: `# YOUR CODE HERE` / `raise NotImplementedError()`",
)
@click.option(
    "--text-stub",
    default=None,
    metavar="TEXT",
    help="what replaces a markdown answer (ClearSolutions.text_stub); default: `YOUR ANSWER HERE`",
)
def import_nbgrader_cmd(
    sources: tuple[Path, ...],
    out_dir: Path,
    assignment_id: str | None,
    code_stub: str | None,
    text_stub: str | None,
) -> None:
    """nbgrader source notebooks (or their assignment folder): one assignment per notebook."""
    from autograde.authoring.nbgrader import import_nbgrader

    notebooks = _notebooks(sources)
    if assignment_id and len(notebooks) > 1:
        raise click.UsageError("--id names one assignment; these sources hold several notebooks")
    stub = code_stub.replace("\\n", "\n") if code_stub is not None else None
    text = text_stub.replace("\\n", "\n") if text_stub is not None else None
    for notebook in notebooks:
        out = out_dir if len(notebooks) == 1 else out_dir / default_id(notebook)
        with usage_errors():
            ident = assignment_id or default_id(out)
            draft = import_nbgrader(notebook, ident, code_stub=stub, text_stub=text)
        _write(draft, out)


@import_group.command("otter")
@click.argument("master", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_out_option
@_id_option
def import_otter_cmd(master: Path, out_dir: Path, assignment_id: str | None) -> None:
    """An otter-grader master notebook (v1 or the older v0 format)."""
    from autograde.authoring.otter import import_otter

    with usage_errors():
        draft = import_otter(master, assignment_id or default_id(out_dir))
    _write(draft, out_dir)
