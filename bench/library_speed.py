"""Grading time of every solution of the rubric library, against plain papermill in the same run.

    python bench/library_speed.py [ASSIGNMENT...] [--repeat N]

For each assignment: prepare its data folder (not timed), then time (a) `papermill` running
the solution with the rubric's parameters (the notebook alone, no sandbox, no probes), and
(b) `grade_submission` of the same solution with the local backend (sandbox, parameters,
every check). Prints both in seconds, their ratio, and the slowest solution. The issue's
target: every solution grades in under 60 s on a 2-core CPU machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.rubric import discover, load_rubric_file
from autograde.rubric.datasets import prepare_data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--repeat", type=int, default=1, help="take the fastest of N runs of each")
    args = parser.parse_args()
    found = {path.parent.name: load_rubric_file(path) for path in discover()}
    names = args.assignments or sorted(found)
    papermill = Path(sys.executable).with_name("papermill")
    rows = []
    print(f"{'assignment':<28} {'papermill':>10} {'autograde':>10} {'ratio':>6}  score", flush=True)
    for name in names:
        assignment = found[name]
        rubric = assignment.rubric
        params = {**rubric.parameters, "device": "cpu"}
        if rubric.data_dir is not None:
            params["data_dir"] = str(prepare_data_dir(name, rubric.data_dir))
        solution = assignment.path(rubric.solution)
        with tempfile.TemporaryDirectory(prefix="autograde-bench-") as tmp:
            params_file = Path(tmp) / "params.yaml"
            params_file.write_text(yaml.safe_dump(params))
            plain = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                subprocess.run(
                    [str(papermill), str(solution), str(Path(tmp) / "out.ipynb"), "-f", str(params_file),
                     "--cwd", tmp, "-k", "python3"],
                    check=True, capture_output=True,
                )
                plain.append(time.perf_counter() - started)
        graded = []
        score = ""
        for _ in range(args.repeat):
            started = time.perf_counter()
            report = grade_submission(solution, assignment, GradeOptions(grading_seed=0))
            graded.append(time.perf_counter() - started)
            score = f"{report.score:g}/{report.max_score:g}"
        base, ours = min(plain), min(graded)
        rows.append((ours, name))
        print(f"{name:<28} {base:>9.1f}s {ours:>9.1f}s {ours / base:>5.2f}x  {score}", flush=True)
    slowest = max(rows)
    print(f"slowest solution: {slowest[1]} ({slowest[0]:.1f} s; target: under 60 s)")


if __name__ == "__main__":
    main()
