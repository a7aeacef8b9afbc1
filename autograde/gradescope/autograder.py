"""What runs inside Gradescope's container: `prepare` (from setup.sh) and `run` (from
run_autograder), as `python -m autograde.gradescope.autograder`.

`run` grades the one notebook in /autograder/submission with the local backend (run as root,
where namespaces are missing, the notebook runs as nobody and the archive is made readable by
root alone) and writes
/autograder/results/results.json (Gradescope's format, `reporters.gradescope`). Whatever
the upload or the metadata is, a results.json is written: no notebook or several is a
score of 0 with a message that says what to upload; a grader failure is a score of 0 that
says so, and the reason goes to the autograder's log (stderr) for the instructor.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from autograde.errors import AutogradeError
from autograde.gradescope.manifest import MANIFEST, Manifest, read_manifest

RESULTS = "results/results.json"
METADATA = "submission_metadata.json"
NOTEBOOK_USER = (65534, 65534)  # nobody:nogroup, the notebook's user where namespaces are missing


def lock_for_root(root: Path) -> None:
    """What only the grader may read (the archive with the course library, the submission's
    metadata): no access for group and others, so that the notebook, run as `NOTEBOOK_USER`,
    cannot read it even where the local backend cannot hide it."""
    for top in (root / "source", root / METADATA):
        if not top.exists() or top.is_symlink():
            continue
        paths = [top]
        if top.is_dir():
            paths += [Path(folder, name) for folder, dirs, files in os.walk(top) for name in (*dirs, *files)]
        for path in paths:
            try:
                if not path.is_symlink():
                    os.chmod(path, path.stat().st_mode & 0o700)
            except OSError as exc:  # a read-only mount, say: said in the log, grading goes on
                print(f"autograde: {path} stays readable by the notebook ({exc.strerror})", file=sys.stderr)


def _load(source: Path) -> tuple[Manifest, Any]:
    """The archive's manifest and its assignment from the archive's library; a RubricError
    when the rubric is not the one the archive was made with."""
    from autograde.errors import RubricError
    from autograde.rubric import load_assignment

    manifest = read_manifest(source / MANIFEST)
    assignment = load_assignment(manifest.assignment, source / "library" / "rubrics")
    if assignment.digest != manifest.rubric_digest:
        raise RubricError(
            f"{assignment.folder / 'rubric.yaml'}: its digest {assignment.digest} is not the "
            f"{manifest.rubric_digest} of {MANIFEST}: the archive was changed after "
            "`autograde gradescope` made it"
        )
    return manifest, assignment


def _can_unshare(flags: int) -> bool:
    """Whether a child of this process may enter new namespaces `flags` (tried in a fork)."""
    from autograde.runner import confine

    unshare = confine.load_libc("unshare")
    if unshare is None or not hasattr(os, "fork"):
        return False
    pid = os.fork()
    if pid == 0:  # the child tries and reports by its exit status only
        os._exit(0 if unshare(flags) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def confinement_lines() -> list[str]:
    """What the local backend can enforce in this container, tried here, in words."""
    from autograde.backends.local import facilities
    from autograde.backends.local.isolation import CLONE_NEWNS, CLONE_NEWUSER

    have = facilities.available()
    namespaces = have.namespaces and (_can_unshare(CLONE_NEWNS) or _can_unshare(CLONE_NEWUSER | CLONE_NEWNS))
    cgroups = have.cgroups and os.access("/sys/fs/cgroup", os.W_OK)
    parts = [
        ("rlimits (memory address space, CPU time, files)", have.rlimits, "not limited"),
        ("namespaces (a read-only file system with the library hidden, no network)", namespaces,
         "the notebook can read the archive's library and use the network"),
        ("cgroups (memory, processes)", cgroups, "only the rlimits apply"),
        ("prctl (capabilities dropped, no-new-privileges)", have.prctl, "not dropped"),
    ]
    lines = [f"  {name}: {'in force' if ok else 'missing: ' + missing}" for name, ok, missing in parts]
    if not namespaces and os.name == "posix" and os.geteuid() == 0:
        lines.append(f"  user: the notebook runs as uid {NOTEBOOK_USER[0]}; "
                     "the archive is readable by root alone")
    return ["local sandbox confinement in this container:", *lines]


def prepare(source: Path) -> None:
    """setup.sh's last step: check the archive and make the assignment's data folder once."""
    from autograde.rubric.datasets import prepare_data_dir

    manifest, assignment = _load(source)
    print(f"autograde {manifest.autograde_version}: assignment {assignment.id} (rubric {assignment.digest})")
    if assignment.rubric.data_dir is not None:
        folder = prepare_data_dir(assignment.id, assignment.rubric.data_dir)
        print(f"data folder made: {folder}")
    print("\n".join(confinement_lines()))


def student_of(metadata_path: Path) -> tuple[str, list[str]]:
    """The student id for the report from Gradescope's submission metadata (each user's
    `sid`, else `email`, else `id`; a group's joined with '+'), and notes on metadata that
    could not be read. Absent or odd metadata gives the id 'submission', never an error."""
    from autograde.pipeline.ingest import safe_id

    if not metadata_path.is_file():
        return "submission", []
    try:
        data = json.loads(metadata_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return "submission", [f"{METADATA} could not be read ({exc.__class__.__name__}); graded without it"]
    users = data.get("users") if isinstance(data, dict) else None
    ids = []
    for user in users if isinstance(users, list) else []:
        if isinstance(user, dict):
            found = next((user[k] for k in ("sid", "email", "id") if user.get(k) not in (None, "")), None)
            if found is not None:
                ids.append(safe_id(str(found)))
    if not ids:
        return "submission", [f"{METADATA} names no user; graded as 'submission'"]
    return "+".join(ids)[:100], []


def _notebooks(submission: Path) -> tuple[list[Path], list[str]]:
    """The notebooks at the top of the submission folder, and the other files there."""
    if not submission.is_dir():
        return [], []
    entries = sorted(submission.iterdir())
    notebooks = [p for p in entries if p.suffix.lower() == ".ipynb" and not p.is_dir()]
    others = [p.relative_to(submission).as_posix() for p in entries if p not in notebooks]
    return notebooks, others


def _wrong_upload(notebooks: list[Path], others: list[str]) -> str:
    if notebooks:
        names = ", ".join(p.name for p in notebooks)
        return f"{len(notebooks)} notebooks were uploaded ({names}): upload exactly one .ipynb file"
    seen = f" (found: {', '.join(others[:10])})" if others else ""
    return f"no notebook was uploaded{seen}: upload your .ipynb file itself, not a folder or a zip"


def grade(root: Path) -> dict[str, Any]:
    """Gradescope's results.json for the submission under `root` (the /autograder folder)."""
    from autograde.pipeline.grade import GradeOptions, empty_report, grade_submission
    from autograde.reporters.gradescope import gradescope_results
    from autograde.status import SubmissionStatus

    _manifest, assignment = _load(root / "source")
    who, notes = student_of(root / METADATA)
    as_root = os.name == "posix" and os.geteuid() == 0
    if as_root:
        lock_for_root(root)
    opts = GradeOptions(backend="local", run_as=NOTEBOOK_USER if as_root else None)
    notebooks, others = _notebooks(root / "submission")
    if len(notebooks) == 1:
        report = grade_submission(notebooks[0], assignment, opts, student=who)
    else:
        status = SubmissionStatus.INVALID if notebooks else SubmissionStatus.NO_SUBMISSION
        report = empty_report(Path("submission.ipynb"), who, assignment, status,
                              _wrong_upload(notebooks, others), opts)
    report.notes.extend(notes)
    return gradescope_results(report, assignment)


def grader_failure(exc: BaseException) -> dict[str, Any]:
    return {
        "score": 0.0,
        "output": f"The autograder failed, not your notebook: {exc}. Nothing was graded; your "
                  "instructor has been shown the reason.",
        "tests": [],
    }


def write_results(path: Path, results: dict[str, Any]) -> None:
    """Write results.json atomically (a rename in its folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".results-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(results, out, indent=2)
    os.replace(tmp, path)


def run(root: Path) -> int:
    """Grade and write results.json; 0 when graded (whatever the score), 1 on a grader failure
    (results.json then says that nothing was graded)."""
    code = 0
    print("\n".join(confinement_lines()), flush=True)
    try:
        results = grade(root)
    except AutogradeError as exc:
        print(f"autograde: {exc}", file=sys.stderr)
        results, code = grader_failure(exc), 1
    except Exception as exc:  # a bug of autograde: still a results.json that says so
        traceback.print_exc()
        results, code = grader_failure(exc), 1
    write_results(root / RESULTS, results)
    print(f"results: {results.get('score')} / {results.get('max_score', '?')} -> {root / RESULTS}")
    return code


def main(argv: list[str] | None = None) -> int:
    from autograde.runner.confine import shield_grader

    parser = argparse.ArgumentParser(prog="python -m autograde.gradescope.autograder")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("prepare", help="setup.sh: check the archive, make the data").add_argument(
        "--source", type=Path, default=Path("/autograder/source"))
    commands.add_parser("run", help="run_autograder: grade, write results.json").add_argument(
        "--root", type=Path, default=Path("/autograder"))
    args = parser.parse_args(argv)
    shield_grader()  # a local sandbox cannot read this process's environment or memory
    if args.command == "prepare":
        try:
            prepare(args.source)
        except AutogradeError as exc:
            print(f"autograde: {exc}", file=sys.stderr)
            return 2
        return 0
    return run(args.root)


if __name__ == "__main__":
    sys.exit(main())
