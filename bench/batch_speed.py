"""Batch grading throughput, measured against plain Python in the same run.

    python bench/batch_speed.py [--submissions 40] [--docker]

Builds a batch of ex02 submissions (the solution, the examples and the mutants, mixed
correct and faulty, cycled to N files), then times:
  - the same parameterized code cells as one plain Python script per submission (baseline);
  - `grade_batch` with 1 and 2 workers on the local backend (and the docker backend with
    --docker), each into a fresh results folder.
Prints the seconds, the ratio of each to the plain scripts, and the 2-vs-1 worker speed-up.
Checks that 1 and 2 workers give the same gradebook (same seed).
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

from autograde.batch.run import BatchOptions, grade_batch
from autograde.pipeline.grade import GradeOptions
from autograde.pipeline.ingest import parameterize, read_notebook
from autograde.rubric import load_assignment

ROOT = Path(__file__).resolve().parents[1]


def build_batch(folder: Path, count: int) -> list[Path]:
    assignment = load_assignment("ex02_gradient_descent")
    pool = [assignment.path(assignment.rubric.solution)]
    pool += [assignment.path(m.notebook) for m in assignment.rubric.mutants]
    pool += sorted((ROOT / "examples" / "ex02_gradient_descent").glob("*.ipynb"))
    folder.mkdir(parents=True)
    made = []
    for index in range(count):
        source = pool[index % len(pool)]
        target = folder / f"s{index:03d}_{source.stem}.ipynb"
        shutil.copy(source, target)
        made.append(target)
    return made


def plain_scripts(paths: list[Path], work: Path, parameters: dict[str, object]) -> float:
    scripts = []
    for path in paths:
        try:
            nb = parameterize(read_notebook(path), dict(parameters))
        except Exception:  # an invalid notebook has nothing to run
            continue
        script = work / (path.stem + ".py")
        script.write_text("\n\n".join(c.source for c in nb.cells if c.cell_type == "code"))
        scripts.append(script)
    started = time.perf_counter()
    for script in scripts:
        subprocess.run([sys.executable, str(script)], cwd=work, capture_output=True, check=False)
    return time.perf_counter() - started


def timed_batch(folder: Path, out: Path, backend: str, workers: int) -> tuple[float, str]:
    assignment = load_assignment("ex02_gradient_descent")
    started = time.perf_counter()
    grade_batch([folder], assignment, out, GradeOptions(backend=backend, grading_seed=1),
                BatchOptions(workers=workers))
    seconds = time.perf_counter() - started
    return seconds, (out / "grades.csv").read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--docker", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="autograde-batch-bench-"))
    try:
        uploads = work / "uploads"
        paths = build_batch(uploads, args.submissions)
        parameters = load_assignment("ex02_gradient_descent").rubric.parameters
        result: dict[str, object] = {"submissions": args.submissions}
        plain = plain_scripts(paths, work, parameters)
        print(f"  plain python scripts          {plain:8.2f} s", flush=True)
        seconds: dict[str, float] = {"plain": round(plain, 3)}
        for backend in ["local", *(["docker"] if args.docker else [])]:
            books = {}
            for workers in (1, 2):
                took, books[workers] = timed_batch(uploads, work / f"{backend}{workers}", backend, workers)
                seconds[f"{backend}_{workers}w"] = round(took, 3)
                print(f"  {backend:<6} {workers} worker(s)             {took:8.2f} s "
                      f"({took / plain:.1f}x plain)", flush=True)
            if books[1] != books[2]:
                sys.exit(f"{backend}: 1 and 2 workers gave different gradebooks")
            speedup = seconds[f"{backend}_1w"] / seconds[f"{backend}_2w"]
            result[f"{backend}_speedup_2v1"] = round(speedup, 2)
            result[f"{backend}_1w_vs_plain"] = round(seconds[f"{backend}_1w"] / plain, 2)
            result[f"{backend}_2w_vs_plain"] = round(seconds[f"{backend}_2w"] / plain, 2)
            print(f"  {backend}: 2 workers vs 1 = {speedup:.2f}x faster")
        result["seconds"] = seconds
        print(json.dumps(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
