"""A cluster's overhead per job: a batch of ex02 uploads on this machine's threads against the
same batch on a Dask cluster, in one run.

    python bench/cluster_speed.py [--uploads 40] [--workers 2] [--repeat 3] [--cluster local:2|tcp://...]
                                  [--json FILE]

The uploads are copies of the bundled ex02 examples (graded, failing, invalid). Each repeat
grades them with `grade_batch` twice, in alternating order: the threads (`workers` of them)
and the cluster (`--cluster`, default `local:N` with as many worker processes; its start-up
counted, as a `grade --cluster local:N` pays it). Both use the same seed, and the two
gradebooks must be the same, else the figures are refused. Printed: the medians, the ratio
cluster/threads, the overhead per upload, (cluster - threads) / uploads, and that overhead
without the cluster's start and stop (timed on its own in each repeat).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from autograde.batch.run import BatchOptions, grade_batch
from autograde.cluster.dispatch import connect
from autograde.cluster.settings import ClusterSettings, ClusterSpec, parse_cluster
from autograde.pipeline.grade import GradeOptions
from autograde.rubric import load_assignment

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "ex02_gradient_descent"


def uploads(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True)
    examples = sorted(EXAMPLES.glob("*.ipynb"))
    for index in range(count):
        source = examples[index % len(examples)]
        shutil.copy(source, folder / f"{source.stem}_{index:03d}.ipynb")
    return folder


def timed(source: Path, out: Path, batch: BatchOptions) -> tuple[float, str]:
    assignment = load_assignment("ex02_gradient_descent")
    started = time.perf_counter()
    grade_batch([source], assignment, out, GradeOptions(grading_seed=7), batch)
    seconds = time.perf_counter() - started
    return seconds, (out / "grades.csv").read_text()


def startup(spec: ClusterSpec) -> float:
    """Seconds to start (or reach) the cluster and see its first worker, and to stop it."""
    started = time.perf_counter()
    with connect(spec, ClusterSettings()):
        pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2, help="threads, and local:N's worker processes")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cluster", default=None, help="default: local:WORKERS")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    spec = parse_cluster(args.cluster or f"local:{args.workers}")
    work = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    figures: dict[str, list[float]] = {"threads": [], "cluster": [], "startup": []}
    try:
        source = uploads(work / "uploads", args.uploads)
        for repeat in range(args.repeat):
            order = ["threads", "cluster"] if repeat % 2 == 0 else ["cluster", "threads"]
            books = {}
            for name in order:
                threads = name == "threads"
                batch = BatchOptions(workers=args.workers) if threads else BatchOptions(cluster=spec)
                seconds, books[name] = timed(source, work / f"{name}-{repeat}", batch)
                figures[name].append(seconds)
            figures["startup"].append(startup(spec))
            if books["threads"] != books["cluster"]:
                sys.exit("the cluster's gradebook differs from the threads': no figures")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    threads, cluster, start = (statistics.median(figures[n]) for n in ("threads", "cluster", "startup"))
    per_job = (cluster - start - threads) / args.uploads
    result = {
        "uploads": args.uploads,
        "workers": args.workers,
        "cluster": spec.describe(),
        "threads_s": round(threads, 3),
        "cluster_s": round(cluster, 3),
        "ratio_cluster_over_threads": round(cluster / threads, 3),
        "overhead_per_upload_s": round((cluster - threads) / args.uploads, 4),
        "startup_s": round(start, 3),
        "overhead_per_upload_after_startup_s": round(per_job, 4),
        "runs": {n: [round(s, 3) for s in v] for n, v in figures.items()},
    }
    print(f"{args.uploads} ex02 uploads, {args.repeat} repeats (medians):")
    print(f"  threads, {args.workers} workers: {threads:7.2f} s")
    print(f"  {spec.describe()}: {cluster:7.2f} s")
    print(f"  ratio cluster/threads: {cluster / threads:.2f}; overhead per upload: "
          f"{(cluster - threads) / args.uploads * 1000:.0f} ms")
    print(f"  of which the cluster's start and stop: {start:.2f} s; "
          f"per upload beyond it: {per_job * 1000:.0f} ms")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
