"""`autograde gradescope`: the autograder archive Gradescope expects, for one assignment.

    setup.sh  run_autograder          Gradescope's two entry points (scripts.py)
    manifest.json                     the assignment, the rubric digest, the autograde version
    engine/autograde_notebooks-*.whl  the engine, built from this checkout
    wheels/*.whl                      only with --wheelhouse: every dependency, for an offline setup
    library/rubrics/<assignment>/     the assignment's folder, without the instructor's notebooks
    library/reference/...             the reference modules its rubric needs (library_part.py)

The zip is reproducible: names sorted, every time 1980-01-01, modes 0755 (scripts) or 0644;
it is written next to --out and renamed into place.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import autograde
from autograde.errors import AutogradeError
from autograde.gradescope import scripts
from autograde.gradescope.manifest import MANIFEST, Manifest
from autograde.gradescope.wheels import build_engine_wheel, closure_wheels
from autograde.rubric import Assignment
from autograde.rubric.library_part import library_part

EXECUTABLE = ("setup.sh", "run_autograder")
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Built:
    path: Path
    manifest: Manifest
    size: int  # bytes


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, _EPOCH)
    mode = 0o755 if name in EXECUTABLE else 0o644
    info.external_attr = (0o100000 | mode) << 16
    info.create_system = 3  # unix: the modes above are read by unzip
    info.compress_type = zipfile.ZIP_STORED if name.endswith(".whl") else zipfile.ZIP_DEFLATED
    return info


def _check_out(out: Path) -> None:
    if out.is_dir():
        raise AutogradeError(f"--out {out}: is a folder; name the zip file to write")
    blocking = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise AutogradeError(f"--out {out}: {blocking} is a file, not a folder")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AutogradeError(f"--out {out}: cannot make its folder ({exc.strerror})") from exc
    if not os.access(out.parent, os.W_OK):
        raise AutogradeError(f"--out {out}: its folder {out.parent} is not writable")


def build_archive(
    assignment: Assignment, out: Path, wheelhouse: Path | None = None, log: Callable[[str], None] = print
) -> Built:
    """Write the archive for `assignment` to `out`. An AutogradeError for an --out that cannot
    be written, a wheelhouse lacking a wheel, or a library file that cannot be carried."""
    _check_out(out)
    library = library_part(assignment)
    with tempfile.TemporaryDirectory(prefix="autograde-gradescope-") as tmp:
        log("building the autograde wheel ...")
        engine = build_engine_wheel(Path(tmp))
        wheels = closure_wheels(engine, wheelhouse) if wheelhouse is not None else []
        if wheelhouse is not None:
            log(f"{len(wheels)} wheels from {wheelhouse} (offline setup)")
        manifest = Manifest(
            assignment=assignment.id,
            rubric_digest=assignment.digest,
            autograde_version=autograde.__version__,
            engine_wheel=f"engine/{engine.name}",
            offline=wheelhouse is not None,
            wheels=[f"wheels/{w.name}" for w in wheels],
            library=[f"library/{name}" for name in library],
        )
        files: dict[str, Path | bytes] = {
            "setup.sh": scripts.SETUP_SH.encode(),
            "run_autograder": scripts.RUN_AUTOGRADER.encode(),
            MANIFEST: manifest.to_json().encode(),
            manifest.engine_wheel: engine,
            **{f"wheels/{w.name}": w for w in wheels},
            **{f"library/{name}": path for name, path in library.items()},
        }
        _write_zip(out, files)
    return Built(out, manifest, out.stat().st_size)


def _write_zip(out: Path, files: dict[str, Path | bytes]) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    except OSError as exc:
        raise AutogradeError(f"--out {out}: cannot write in {out.parent} ({exc.strerror})") from exc
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            for name in sorted(files):
                content = files[name]
                info = _entry(name)
                if isinstance(content, bytes):
                    archive.writestr(info, content)
                    continue
                try:
                    with content.open("rb") as source, archive.open(info, "w", force_zip64=True) as dest:
                        shutil.copyfileobj(source, dest, 1 << 20)
                except OSError as exc:
                    why = exc.strerror
                    raise AutogradeError(f"{content}: cannot read it into the archive ({why})") from exc
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except OSError as exc:
        raise AutogradeError(f"--out {out}: cannot write the archive ({exc.strerror})") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
