"""Batch grading of a folder of uploads: every file gets a row, one bad file stops nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from autograde.backends import BackendOptions, get_backend
from autograde.grading import GradeOptions, _empty_report, grade_submission
from autograde.ingest import student_id
from autograde.reporters.files import write_gradebook, write_student
from autograde.results import GradeReport
from autograde.rubric import Assignment


def list_uploads(folder: Path) -> list[Path]:
    """Every entry of the folder except hidden files, sorted; links are listed, not followed."""
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def assign_ids(paths: list[Path]) -> list[tuple[Path, str, str | None]]:
    """(path, student id, collision note): two uploads mapping to one id are both kept."""
    seen: dict[str, int] = {}
    out: list[tuple[Path, str, str | None]] = []
    for path in paths:
        base = student_id(path)
        seen[base] = seen.get(base, 0) + 1
        if seen[base] == 1:
            out.append((path, base, None))
        else:
            out.append((path, f"{base}~{seen[base]}", f"another upload also maps to student id {base!r}"))
    return out


def grade_folder(
    uploads: Path,
    assignment: Assignment,
    out_dir: Path,
    opts: GradeOptions,
    progress: Callable[[GradeReport], None] | None = None,
) -> list[GradeReport]:
    task_ids = [task.id for task in assignment.rubric.tasks]
    reports: list[GradeReport] = []
    get_backend(opts.backend, BackendOptions(image=opts.image)).preflight()
    gpus = list(opts.gpus)
    for number, (path, student, collision) in enumerate(assign_ids(list_uploads(uploads))):
        if gpus:  # one GPU per job, handed out round-robin
            opts = dataclasses.replace(opts, gpu=gpus[number % len(gpus)])
        if path.is_symlink() or not path.is_file():
            why = "a symbolic link (never followed)" if path.is_symlink() else "not a regular file"
            report = _empty_report(path, student, assignment, "rejected", f"{path.name}: {why}", opts)
        elif not path.name.lower().endswith(".ipynb"):
            report = _empty_report(
                path, student, assignment, "not a notebook", f"{path.name}: not an .ipynb file", opts
            )
        else:
            report = grade_submission(path, assignment, opts, student=student)
        if collision:
            report.notes.append(collision)
        reports.append(report)
        write_student(out_dir, report)
        write_gradebook(out_dir, reports, task_ids)  # rewritten after each: nothing is lost
        if progress:
            progress(report)
    write_gradebook(out_dir, reports, task_ids)
    return reports
