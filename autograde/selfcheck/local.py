"""`autograde check NOTEBOOK --bundle FILE`: the notebook runs fresh, as the grader runs it
(the local backend, the bundle's parameters and limits, its public data and support files),
then the bundle's probes; the bundle's checks judge what they return."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from autograde.errors import SubmissionError
from autograde.pipeline.grade import GradeOptions, Staged, run_staged, warm_ahead
from autograde.pipeline.ingest import Submission, read_notebook, tagged_source
from autograde.pipeline.judge import ProbeReader, cell_hint, read_cells, read_summary, run_verdict, versions
from autograde.pipeline.preload import notebook_imports, stack_modules
from autograde.results import GradeReport
from autograde.rubric.schema import Limits
from autograde.selfcheck.bundle import Bundle, BundleError, read_npz
from autograde.selfcheck.judge import judge_bundle


class SelfCheckError(BundleError):
    """The notebook cannot be self-checked as it is (exit 2, with what to do)."""


def read_for_check(path: Path, bundle: Bundle) -> Submission:
    """The notebook, read as the grader reads it; one whose cells carry none of the template's
    tags cannot be matched with the checks."""
    try:
        sub = read_notebook(path)
    except SubmissionError as exc:
        raise SelfCheckError(
            f"{path.parent / str(exc)}: the grader could not grade this file either; save it again from "
            "Jupyter or Colab (File > Download .ipynb), or start again from the template"
        ) from None
    manifest = bundle.manifest
    stamped = sub.nb.metadata.get("autograde", {})
    made_for = stamped.get("assignment") if isinstance(stamped, dict) else None
    if isinstance(made_for, str) and made_for != manifest.assignment:
        raise SelfCheckError(
            f"{path}: this notebook is the template of {made_for}, but {bundle.path.name} checks "
            f"{manifest.assignment}: use the bundle of {made_for} ({made_for}.check)"
        )
    tags = set(manifest.tags)
    found = {tag for cell in sub.nb.cells for tag in cell.metadata.get("tags", [])}
    if tags and found & tags and len(found & tags) * 2 < len(tags):
        raise SelfCheckError(
            f"{path}: only {len(found & tags)} of the {len(tags)} answer tags of {manifest.assignment} "
            f"are in this notebook (missing: {', '.join(sorted(tags - found)[:6])}): is it another "
            f"assignment's notebook? Use the bundle of that assignment, or work in {manifest.template}"
        )
    if tags and not tags & found:
        template = bundle.manifest.template or "the template"
        raise SelfCheckError(
            f"{path}: none of its cells carries a tag of the template ({', '.join(sorted(tags)[:4])}, ...): "
            f"the checks find your answers by those tags. Work in {template} as handed out, or copy "
            "each cell's tags (Jupyter: View > Cell Toolbar > Tags; Colab: not supported, so upload "
            "the template and work in it)"
        )
    return sub


def _kept_data(bundle: Bundle, cache: Path) -> Path:
    """The bundle's data, extracted once into `cache` under the bundle's digest."""
    folder = cache / hashlib.sha256(bundle.path.read_bytes()).hexdigest()[:16]
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        bundle.extract_data(folder / "data")
        (folder / ".complete").touch()
    return folder / "data"


def _staged(sub: Submission, bundle: Bundle, data: Path | None, data_cache: Path | None,
            scratch: Path) -> Staged:
    """What a check of `sub` runs with besides the notebook (data and support files extracted
    into `scratch`, or the data into `data_cache`, kept)."""
    manifest = bundle.manifest
    data_dir = data
    if data_dir is None and manifest.data:
        if data_cache is not None:
            data_dir = _kept_data(bundle, data_cache)
        else:
            data_dir = bundle.extract_data(scratch / "data")
    return Staged(
        dict(manifest.parameters),
        Limits(**manifest.limits),
        manifest.probes,
        read_npz(bundle.inputs),
        data_dir,
        bundle.extract_support(scratch / "files"),
        manifest.assignment,
        stack_modules(notebook_imports(sub.nb)),
    )


def prepare_check(
    path: Path, bundle: Bundle, opts: GradeOptions, data: Path | None, data_cache: Path
) -> None:
    """Warm a sandbox for the next check of `path` (its imports as now, the data kept in
    `data_cache`); nothing of the notebook runs."""
    sub = read_for_check(path, bundle)
    with tempfile.TemporaryDirectory(prefix="autograde-check-") as scratch:
        warm_ahead(_staged(sub, bundle, data, data_cache, Path(scratch)), opts, ())


def check_notebook(
    path: Path,
    bundle: Bundle,
    opts: GradeOptions | None = None,
    data: Path | None = None,
    tasks: list[str] | None = None,
    data_cache: Path | None = None,
) -> GradeReport:
    """Run `path` fresh with the bundle's probes and judge them with its checks. `data_cache`:
    a folder where the bundle's data is kept between checks (the check server's; a warm
    sandbox is made for one data folder)."""
    opts = opts or GradeOptions()
    manifest = bundle.manifest
    sub = read_for_check(path, bundle)
    sub.student = "self-check"
    with tempfile.TemporaryDirectory(prefix="autograde-check-") as scratch:
        staged = _staged(sub, bundle, data, data_cache, Path(scratch))

        def judged(job: Any, outcome: Any) -> GradeReport:
            cells = read_cells(job.out_dir)
            status, reason, notes = run_verdict(job, outcome, read_summary(job.out_dir))
            report = judge_bundle(
                bundle,
                ProbeReader(job.out_dir, reason),
                lambda tag: tagged_source(sub.nb, tag),
                tasks,
                lambda tag: cell_hint(tag, cells),
            )
            report.status = status
            report.cells = cells
            report.notes = [*sub.notes, *notes]
            return report

        report, parameters = run_staged(sub, staged, opts, (), judged)
    if data is None and manifest.data_note and not manifest.data:
        report.notes.append(manifest.data_note)
    report.file = path.name
    report.backend = opts.backend
    report.parameters = parameters
    report.versions = versions()
    return report
