"""Grading speed against two baselines, measured in the same run.

    python bench/grade_speed.py [--copies N] [--assignment ex02_gradient_descent] [--docker]

Grades N copies of the assignment's solution with the local backend (sequentially) and
compares the wall time with (a) the same code cells run as one plain Python script per
copy, and (b) plain `papermill` on the same notebooks, one process per copy. With
--docker it also grades them with the docker backend (a fresh container each) and
reports that as a ratio to the local backend and to the plain script, in the same run.
Prints the seconds and the ratios; timings are noisy, the ratios hold better.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.pipeline.ingest import parameterize, read_notebook
from autograde.rubric import load_assignment


def timed(label: str, action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    seconds = time.perf_counter() - started
    print(f"  {label:<28} {seconds:8.2f} s", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--assignment", default="ex02_gradient_descent")
    parser.add_argument("--docker", action="store_true", help="also time the docker backend")
    args = parser.parse_args()
    assignment = load_assignment(args.assignment)
    if assignment.rubric.data_dir is not None:
        sys.exit("this benchmark runs assignments without a data_dir")
    work = Path(tempfile.mkdtemp(prefix="autograde-bench-"))
    try:
        copies = []
        for index in range(args.copies):
            path = work / f"student{index:03d}.ipynb"
            shutil.copy(assignment.path(assignment.rubric.solution), path)
            copies.append(path)
        # the same parameterized code as plain scripts
        scripts = []
        for path in copies:
            nb = parameterize(read_notebook(path), dict(assignment.rubric.parameters))
            code = "\n\n".join(c.source for c in nb.cells if c.cell_type == "code")
            script = path.with_suffix(".py")
            script.write_text(code)
            scripts.append(script)

        def run_scripts() -> None:
            for script in scripts:
                subprocess.run([sys.executable, str(script)], check=True, cwd=work,
                               capture_output=True)

        def run_papermill() -> None:
            for path in copies:
                subprocess.run([sys.executable, "-m", "papermill", str(path),
                                str(path.with_suffix(".out.ipynb")), "-k", "python3",
                                *[arg for name, value in assignment.rubric.parameters.items()
                                  for arg in ("-p", name, str(value))]],
                               check=True, cwd=work, capture_output=True)

        scores = []

        def grading(backend: str) -> object:
            def run() -> None:
                for path in copies:
                    report = grade_submission(path, assignment, GradeOptions(backend=backend, grading_seed=0))
                    scores.append(report.score)

            return run

        print(f"{args.copies} copies of {assignment.id}/{assignment.rubric.solution}")
        plain = timed("plain python script", run_scripts)
        papermill = timed("plain papermill", run_papermill)
        graded = timed("autograde (local backend)", grading("local"))
        docker = timed("autograde (docker backend)", grading("docker")) if args.docker else None
        if any(score != assignment.rubric.max_points for score in scores):
            sys.exit(f"grading gave {scores}, expected full points")
        nbformat.read(copies[0].with_suffix(".out.ipynb"), as_version=4)  # papermill really ran
        result = {
            "copies": args.copies,
            "seconds": {"script": round(plain, 3), "papermill": round(papermill, 3),
                        "autograde": round(graded, 3)},
            "per_notebook_s": round(graded / args.copies, 3),
            "ratio_vs_script": round(graded / plain, 2),
            "ratio_vs_papermill": round(graded / papermill, 2),
        }
        print(f"  autograde / script    = {result['ratio_vs_script']:.2f}x")
        print(f"  autograde / papermill = {result['ratio_vs_papermill']:.2f}x")
        if docker is not None:
            result["seconds"]["docker"] = round(docker, 3)  # type: ignore[index]
            result["docker_per_notebook_s"] = round(docker / args.copies, 3)
            result["docker_vs_local"] = round(docker / graded, 2)
            result["docker_vs_script"] = round(docker / plain, 2)
            print(f"  docker / local        = {result['docker_vs_local']:.2f}x")
            print(f"  docker / script       = {result['docker_vs_script']:.2f}x")
        print(json.dumps(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
