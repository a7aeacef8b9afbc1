"""`autograde bundle`: what the instructor hands out per assignment, made on the host with
the reference: the template and one check bundle.

The bundle's checks are the rubric's public ones, planned at the published seed. A check
that needs the reference carries the reference's `expect` at those inputs; one that judges
the student's code against itself carries its plan only; answers (a choice's correct
options, a variable's expected value), hidden checks, hidden tasks' checks, hidden data
and the grading seed stay here. The rubric's support files (`files`, public by definition)
travel in the bundle and are written beside the template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograde import __version__
from autograde.checks.base import CheckKind, SelfCheck, kind_for
from autograde.errors import AutogradeError
from autograde.pipeline.ingest import tagged_source
from autograde.pipeline.plan import PlannedCheck, build_plan, is_hidden, published_seed
from autograde.rubric import Assignment
from autograde.rubric.datasets import prepare_data_dir
from autograde.rubric.schema import CheckBase, Task
from autograde.rubric.support import support_files
from autograde.selfcheck.bundle import (
    ARRAYS,
    FORMAT,
    FORMAT_VERSION,
    INPUTS,
    SUFFIX,
    BundleError,
    answer_digest,
    npz_bytes,
    write_bundle,
)
from autograde.selfcheck.codec import CodecError, Encoder

MAX_DATA_BYTES = 16 * 2**20  # a larger data folder stays out of the bundle (its note says so)

_WAITS_FOR = {
    "value": "its expected value is the answer itself",
    "property": "it is judged by the instructor's code",
    "accuracy": "it needs the hidden test data",
    "confidence": "it needs the hidden test data",
    "error": "it needs the hidden test data",
}


@dataclass
class Published:
    bundle: Path
    template: Path
    checks: int  # public checks in the bundle
    after_submission: int  # public checks that wait for the submission
    hidden: int  # hidden checks (not in the bundle at all)
    files: list[Path] = field(default_factory=list)  # support files written beside the template


def in_bundle(check: CheckBase, task: Task) -> bool:
    """Planned into a bundle: public, and judged there (in full, at published inputs, answered)."""
    return not is_hidden(check, task) and kind_for(check.kind).self_check(check) != SelfCheck.AFTER_SUBMISSION


def public_fields(kind: CheckKind, check: CheckBase) -> dict[str, Any]:
    """The check's rubric fields without the ones that hold its answer."""
    return check.model_dump(mode="json", by_alias=True, exclude=set(kind.secret_fields))


def template_tags(nb: Any) -> list[str]:
    tags = {tag for cell in nb.cells for tag in cell.get("metadata", {}).get("tags", [])}
    return sorted(tags - {"parameters", "injected-parameters"})


def _entry(
    assignment: Assignment,
    t_index: int,
    c_index: int,
    planned: PlannedCheck | None,
    template: Any,
    enc: Encoder,
) -> dict[str, Any]:
    task = assignment.rubric.tasks[t_index]
    check = task.checks[c_index]
    kind = kind_for(check.kind)
    mode = kind.self_check(check)
    entry: dict[str, Any] = {
        "task": t_index,
        "index": c_index,
        "kind": check.kind,
        "name": check.display_name(),
        "weight": check.weight,
        "tag": check.tag,
        "mode": mode,
    }
    if mode == SelfCheck.AFTER_SUBMISSION:
        entry["reason"] = _WAITS_FOR.get(check.kind, "it needs what stays with the instructor")
        return entry
    entry["model"] = public_fields(kind, check)
    where = f"{assignment.id}: task {task.id}, check {check.display_name()!r}"
    try:
        entry["state"] = enc.encode(planned.state if planned is not None else None)
        if mode == SelfCheck.PUBLISHED and planned is not None:
            entry["expected"] = enc.encode(kind.expect(check, planned.state))
    except CodecError as exc:
        raise BundleError(f"{where}: cannot be published: {exc}") from exc
    except Exception as exc:  # the reference failed at the published inputs
        raise BundleError(f"{where}: the reference failed at the published inputs: {exc!r}") from exc
    if check.kind == "manual":
        source = tagged_source(template, getattr(check, "cell_tag", ""))
        entry["template_digest"] = None if source is None else answer_digest(source)
    return entry


def build_bundle(assignment: Assignment, out_dir: Path) -> Published:
    """Write `<assignment>.check` and `<assignment>.ipynb` (the template) into `out_dir`."""
    rubric = assignment.rubric
    template_path = assignment.path(rubric.template)
    try:
        template = nbformat.read(template_path, as_version=4)
    except (OSError, ValueError) as exc:
        raise BundleError(f"{template_path}: cannot read the template: {exc}") from exc
    plan = build_plan(
        assignment,
        published_seed(assignment.id),
        public_only=True,
        probe_timeout=rubric.limits.probe_timeout,
        with_published=False,
        select=in_bundle,
    )
    planned = {(item.task_index, item.check_index): item for item in plan.checks}
    enc = Encoder()
    tasks, counts = [], {"checks": 0, "after": 0, "hidden": 0}
    for t_index, task in enumerate(rubric.tasks):
        entries, hidden = [], 0
        for c_index, check in enumerate(task.checks):
            if is_hidden(check, task):
                hidden += 1
                continue
            entry = _entry(assignment, t_index, c_index, planned.get((t_index, c_index)), template, enc)
            counts["checks" if entry["mode"] != SelfCheck.AFTER_SUBMISSION else "after"] += 1
            entries.append(entry)
        counts["hidden"] += hidden
        tasks.append(
            {
                "id": task.id,
                "title": task.title,
                "points": task.points,
                "visible": task.visible,
                "checks": entries,
                "hidden_checks": hidden,
            }
        )
    data_dir, data_note = _public_data(assignment)
    support = _support(assignment)
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "assignment": assignment.id,
        "title": rubric.title,
        "rubric_digest": assignment.digest,
        "autograde": __version__,
        "parameters": dict(rubric.parameters),
        "limits": rubric.limits.model_dump(mode="json"),
        "probes": plan.probes,
        "tasks": tasks,
        "data": data_dir is not None,
        "data_note": data_note,
        "tags": template_tags(template),
        "template": f"{assignment.id}.ipynb",
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    bundle = out_dir / f"{assignment.id}{SUFFIX}"
    members = {INPUTS: npz_bytes(plan.store.arrays), ARRAYS: npz_bytes(enc.arrays)}
    write_bundle(bundle, manifest, members, data_dir, support)
    handed_out = out_dir / f"{assignment.id}.ipynb"
    template.metadata["autograde"] = {"assignment": assignment.id}  # `autograde check` matches it
    nbformat.write(template, handed_out)
    written = []
    for name, source in support.items():  # beside the template: the notebook reads them there
        target = out_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        written.append(target)
    return Published(bundle, handed_out, counts["checks"], counts["after"], counts["hidden"], written)


def _support(assignment: Assignment) -> dict[str, Path]:
    """The support files, within the bundle's size limit and clear of the handed-out names."""
    try:
        files = support_files(assignment)
    except AutogradeError as exc:
        raise BundleError(str(exc)) from exc
    taken = {f"{assignment.id}{SUFFIX}", f"{assignment.id}.ipynb"}
    clash = sorted(name for name in files if name in taken)
    if clash:
        raise BundleError(f"{assignment.id}: support file {clash[0]} has the name of a file bundle writes")
    size = sum(path.stat().st_size for path in files.values())
    if size > MAX_DATA_BYTES:
        raise BundleError(
            f"{assignment.id}: the support files (`files`) hold {size / 2**20:.1f} MiB, over the bundle's "
            f"limit of {MAX_DATA_BYTES / 2**20:.0f} MiB: put large data in `data_dir`"
        )
    return files


def _public_data(assignment: Assignment) -> tuple[Path | None, str | None]:
    """The data folder the notebook reads, when the rubric has one and it is small enough."""
    source = assignment.rubric.data_dir
    if source is None:
        return None, None
    try:
        folder = prepare_data_dir(assignment.id, source)
    except AutogradeError as exc:
        raise BundleError(f"{assignment.id}: the data folder cannot be made: {exc}") from exc
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    if size > MAX_DATA_BYTES:
        return None, (
            f"the data folder ({size / 2**20:.0f} MiB) is not in the bundle: pass --data DIR, the "
            "folder your notebook reads"
        )
    return folder, None
