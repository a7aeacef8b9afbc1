"""`autograde sandbox build|info|lock`: the Docker grading image (exit 2 on a Docker or build error)."""

from __future__ import annotations

from pathlib import Path

import click

from autograde.cli.common import console, escape, say, usage_errors


def _log(line: str) -> None:
    """A build or lock progress line, printed whole (the tool's text, not markup)."""
    say(escape(line))


@click.group()
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
            "gpu" if gpu else "cpu", base_image or image.DEFAULT_BASE, wheelhouse, force, _log
        )
    say(f"{'built' if result.built else 'reused'} {escape(result.tag)}")
    if prune:
        with usage_errors():
            image.prune(result.tag, _log)


@sandbox.command(name="info")
@click.option("--image", "tag", default=None, help="an image tag (default: this version's image)")
@click.option("--gpu", is_flag=True, help="the GPU variant")
@click.option("--base-image", default=None)
def sandbox_info(tag: str | None, gpu: bool, base_image: str | None) -> None:
    """Print the grading image, its id and digest, and the package versions inside."""
    from rich.table import Table

    from autograde.backends import image

    with usage_errors():
        found = image.info(tag, "gpu" if gpu else "cpu", base_image or image.DEFAULT_BASE)
    table = Table(title=found["image"], show_header=False)
    for key in ("id", "created", "size_mb"):
        table.add_row(key, str(found[key]))
    table.add_row("digests", ", ".join(found["digests"]) or "(local image, no registry digest)")
    for name, version in found["packages"].items():
        table.add_row(name, str(version))
    console().print(table)


@sandbox.command(name="lock")
def sandbox_lock() -> None:
    """Pin the whole package closure of sandbox/requirements.in into requirements.txt."""
    from autograde.backends import image

    with usage_errors():
        path = image.lock(_log)
    say(f"wrote {escape(str(path))}")
