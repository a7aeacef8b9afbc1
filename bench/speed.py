"""Grading speed against plain Python, papermill and otter-grader, all ratios in one run.

    python bench/speed.py [--copies 20] [--docker] [--otter] [--assignments ex02,ex06,ex10]
                          [--repeat 3] [--batch-repeat 1] [--library-test] [--json FILE]

- ex02, a batch of N copies of the solution: the parameterized code cells as a plain Python
  script per copy (the baseline), papermill per copy, `grade_batch` on the local backend warm
  and cold with 1 and 2 workers, warm with AUTOGRADE_FORK=off (the other mechanism: each warm
  sandbox starts its runner and kernel as new interpreters), with --docker the docker backend
  warm and cold (1 worker), with --otter `otter run` per copy (otter-grader installed into
  .cache/bench-otter/).
- each listed assignment's solution, one copy, --repeat times: plain Python script against
  `grade_submission` cold and warm; each idle warm sandbox's RSS (runner + kernel, local backend).
- ex02's self-check (`autograde check --bundle`, a subprocess): the first, in the command, and
  the later ones, answered by the student's check server it started; the CLI start-up figures of
  bench/startup_speed.py where it exists, the grader's peak RSS, with --library-test
  `autograde rubric test -j 2`.
Every figure is the median of its repeats, timed in-process with time.perf_counter around
whole runs (subprocesses included), printed with its ratio to the baseline of the same run and
the issue's target. Every grading is checked (full points for every copy), so a fast wrong
run cannot look good. Warm figures need GradeOptions.warm; without it they are left out.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import speed_memory
import speed_otter
from speed_plain import copies_of, grading_parameters, run_papermill, run_scripts, write_scripts
from speed_table import Figure, Table, Target

from autograde.batch.run import BatchOptions, grade_batch
from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.results import GradeReport
from autograde.rubric import Assignment, discover, load_assignment

ROOT = Path(__file__).resolve().parents[1]
AUTOGRADE = Path(sys.executable).with_name("autograde")
WARM = "warm" in {f.name for f in dataclasses.fields(GradeOptions)}
BATCH_WARM = "warm" in {f.name for f in dataclasses.fields(BatchOptions)}
SOLO_TARGETS = {"ex06_pytorch_cnn": 1.15, "ex10_rnn": 1.15}


def grade_options(backend: str = "local", warm: bool = False) -> GradeOptions:
    return GradeOptions(backend=backend, grading_seed=0, **({"warm": warm} if WARM else {}))


def batch_options(workers: int, warm: bool) -> BatchOptions:
    return BatchOptions(workers=workers, **({"warm": warm} if BATCH_WARM else {}))


@contextlib.contextmanager
def forking(on: bool) -> Iterator[None]:
    """AUTOGRADE_FORK=off for the block when `on` is false (no fork server, no forked kernel)."""
    before = os.environ.get("AUTOGRADE_FORK")
    if not on:
        os.environ["AUTOGRADE_FORK"] = "off"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("AUTOGRADE_FORK", None)
        else:
            os.environ["AUTOGRADE_FORK"] = before


def close_pools() -> None:
    if WARM:
        from autograde.backends.warm import close_pools as close

        close()


def full_marks(reports: list[GradeReport], expected: int, what: str) -> None:
    wrong = [f"{r.file}: {r.status} {r.score:g}/{r.max_score:g}" for r in reports
             if r.status != "graded" or r.score != r.max_score]
    if wrong or len(reports) != expected:
        raise SystemExit(f"{what}: {len(reports)} reports of {expected}, not full marks: {wrong[:3]}")


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args, self.work, self.table = args, work, Table()
        self.samples: dict[str, list[float]] = {}
        self.idle_rss: dict[str, list[float]] = {}  # the last look: each idle sandbox's MiB
        self.cores: dict[str, list[float]] = {}  # each batch run: the machine's busy cores

    def sample(self, name: str, seconds: float) -> None:
        self.samples.setdefault(name, []).append(seconds)
        print(f"  {name:<44} {seconds:8.2f} s", flush=True)

    def figure(self, name: str, baseline: str | None = None, target: Target | None = None,
               speedup: bool = False) -> None:
        if name in self.samples:
            self.table.add(Figure(name, self.samples[name], baseline, target, speedup=speedup))

    # -- ex02, a batch of copies ---------------------------------------------------------------
    def batch(self, assignment: Assignment) -> None:
        n = self.args.copies
        uploads = copies_of(assignment.path(assignment.rubric.solution), self.work / "uploads", n)
        scripts = write_scripts(uploads, self.work / "scripts", grading_parameters(assignment))
        otter = self.otter_setup() if self.args.otter else None
        backends = ["local", *(["docker"] if self.args.docker and self.docker_ready() else [])]
        if "docker" in backends:
            self.table.notes.append("docker: idle warm containers are no child processes: RSS not measured")
        tag = f"ex02 x{n}"
        print(f"{tag}: {n} copies of {assignment.id}/{assignment.rubric.solution}", flush=True)
        for rep in range(self.args.batch_repeat):
            self.sample(f"{tag} plain python", run_scripts(scripts, self.work))
            params = grading_parameters(assignment)
            self.sample(f"{tag} papermill", run_papermill(uploads, self.work / f"pm{rep}", params))
            runs = [(b, w, j, True) for b in backends for w in ([False, True] if WARM else [False])
                    for j in ((1, 2) if b == "local" else (1,))]
            if WARM:  # the other mechanism: a warm sandbox that starts its runner and kernel itself
                runs.append(("local", True, 1, False))
            for backend, warm, workers, fork in runs:
                name = f"{tag} {backend} {'warm' if warm else 'cold'} {workers}w{'' if fork else ' no fork'}"
                out = self.work / f"{backend}-{warm}-{workers}-{fork}-{rep}"
                busy, started = machine_cpu_seconds(), time.perf_counter()
                with forking(fork):
                    reports = grade_batch([uploads[0].parent], assignment, out,
                                          grade_options(backend, warm), batch_options(workers, warm))
                    took = time.perf_counter() - started
                    self.sample(name, took)
                    close_pools()  # what the batch does at its end once BatchOptions.warm exists
                self.cores.setdefault(name, []).append((machine_cpu_seconds() - busy) / took)
                full_marks(reports, n, name)
            if otter is not None:
                took = speed_otter.run_otter(*otter, uploads, self.work / f"otter{rep}")
                self.sample(f"{tag} otter run", took)
        plain, best = f"{tag} plain python", "warm" if WARM else "cold"
        self.figure(plain)
        self.figure(f"{tag} papermill", plain)
        for backend, goal in (("local", 2.5), ("docker", 4.0)):
            for mode in ("cold", "warm"):
                target = Target("ratio_at_most", goal) if mode == best else None
                self.figure(f"{tag} {backend} {mode} 1w", plain, target)
                self.figure(f"{tag} {backend} {mode} 2w", f"{tag} {backend} {mode} 1w",
                            Target("speedup_at_least", 1.8), speedup=True)
        self.figure(f"{tag} local warm 1w no fork", plain)
        self.figure(f"{tag} otter run", plain)
        cores = os.cpu_count() or 1
        for name, used in self.cores.items():  # what a second worker can add: the cores left
            mean = sum(used) / len(used)
            self.table.notes.append(f"{name}: {mean:.2f} of {cores} cores busy (the whole machine's "
                                    f"CPU time over the wall time); more workers gain at most "
                                    f"{cores / mean:.2f}x")

    def docker_ready(self) -> bool:
        from autograde.backends import get_backend

        try:
            get_backend("docker", grade_options("docker").backend_options()).preflight()
        except Exception as exc:  # no engine, no connection, no image: AutogradeError or the SDK's own
            self.table.notes.append(f"docker: skipped ({str(exc).splitlines()[0][:200]})")
            print(f"docker skipped: {exc}", flush=True)
            return False
        return True

    def otter_setup(self) -> tuple[Path, Path] | None:
        print("otter: preparing .cache/bench-otter/ (first time: about a minute)", flush=True)
        otter, how = speed_otter.otter_env(ROOT / ".cache" / "bench-otter")
        if otter is None:
            self.table.notes.append(f"otter: skipped ({how})")
            print(f"otter skipped: {how}", flush=True)
            return None
        shown = subprocess.run([str(otter), "--version"], capture_output=True, text=True).stdout
        version = next((line.split(":")[1].strip() for line in shown.splitlines()
                        if line.startswith("Otter-Grader version:")), "?")
        self.table.notes.append(f"otter: otter-grader {version} ({how}), ex02's checks as OK-format tests")
        return otter, speed_otter.build_autograder(otter, self.work / "otter-build")

    # -- one solution ------------------------------------------------------------------------
    def solo(self, assignment: Assignment) -> None:
        short = assignment.id.split("_")[0]
        solution = assignment.path(assignment.rubric.solution)
        scripts = write_scripts([solution], self.work / f"solo-{short}", grading_parameters(assignment))
        print(f"{short}: {assignment.id}/{assignment.rubric.solution} x{self.args.repeat}", flush=True)
        if WARM:  # the first warm grade starts the pool; not counted
            grade_submission(solution, assignment, grade_options(warm=True))
            self.idle_rss[assignment.id] = speed_memory.idle_warm_sandboxes()
        for _ in range(self.args.repeat):
            self.sample(f"{short} plain python", run_scripts(scripts, scripts[0].parent))
            for warm in [False, True] if WARM else [False]:
                name = f"{short} autograde local {'warm' if warm else 'cold'}"
                started = time.perf_counter()
                report = grade_submission(solution, assignment, grade_options(warm=warm))
                self.sample(name, time.perf_counter() - started)
                full_marks([report], 1, name)
                if warm:  # the next sandbox warms before anything else is timed
                    self.idle_rss[assignment.id] = speed_memory.idle_warm_sandboxes()
        close_pools()
        goal = SOLO_TARGETS.get(assignment.id)
        best = "warm" if WARM else "cold"
        self.figure(f"{short} plain python")
        for mode in ("cold", "warm"):
            target = Target("ratio_at_most", goal) if goal and mode == best else None
            self.figure(f"{short} autograde local {mode}", f"{short} plain python", target)

    # -- the student's self-check, start-up, the library's self-test ---------------------------------
    def self_check(self, assignment: Assignment) -> None:
        """The first check runs in the command and starts the student's check server; the
        next ones are answered by it (the figure with the target)."""
        bundle_dir = self.work / "bundle"
        subprocess.run([str(AUTOGRADE), "bundle", assignment.id, "--out", str(bundle_dir)], check=True,
                       capture_output=True)
        notebook = shutil.copy(assignment.path(assignment.rubric.solution), self.work / "my_solution.ipynb")
        bundle = bundle_dir / f"{assignment.id}.check"
        command = [str(AUTOGRADE), "check", str(notebook), "--bundle", str(bundle)]
        runtime = Path(tempfile.mkdtemp(prefix="agb-", dir="/tmp"))  # a private check-server folder
        env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "AUTOGRADE_CHECK_SERVER": "on"}
        try:
            for index in range(self.args.repeat + 1):
                started = time.perf_counter()
                done = subprocess.run(command, capture_output=True, text=True, cwd=self.work, env=env)
                took = time.perf_counter() - started
                if done.returncode != 0:
                    raise SystemExit(f"autograde check failed on the solution:\n{done.stdout[-1500:]}"
                                     f"{done.stderr[-1500:]}")
                self.sample("ex02 self-check, served" if index else "ex02 self-check, first", took)
                if index == 0:
                    wait_for_socket(runtime)
        finally:
            stop_check_servers(runtime)
            shutil.rmtree(runtime, ignore_errors=True)
        self.figure("ex02 self-check, first", "ex02 plain python")
        self.figure("ex02 self-check, served", "ex02 plain python", Target("seconds_under", 1.0))

    def startup(self) -> None:
        if importlib.util.find_spec("startup_speed") is None:
            self.table.notes.append("start-up: bench/startup_speed.py is not in this checkout")
            return
        import startup_speed

        for key, seconds in startup_speed.measure().items():
            fast = key in ("--help", "list")  # the target names these two
            self.table.add(Figure(f"start-up: {key}", [seconds],
                                  target=Target("seconds_under", 0.3) if fast else None))

    def library_test(self) -> None:
        started = time.perf_counter()
        done = subprocess.run([str(AUTOGRADE), "rubric", "test", "-j", "2"], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"autograde rubric test -j 2 failed:\n{done.stdout[-2000:]}")
        self.sample("autograde rubric test -j 2", time.perf_counter() - started)
        self.figure("autograde rubric test -j 2")
        self.table.notes.append("rubric test -j 2: target 2x faster than before (time the old checkout)")


def machine_cpu_seconds() -> float:
    """CPU seconds every core of this machine has been busy since boot (/proc/stat: all but
    idle and iowait); 0 where there is no /proc."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def wait_for_socket(runtime: Path, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not list(runtime.glob("autograde-check-*/check-*.sock")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # its first warm sandbox


def stop_check_servers(runtime: Path) -> None:
    import psutil

    for process in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error, OSError):
            if "autograde.selfcheck.server" in " ".join(process.info["cmdline"] or []) and \
                    process.environ().get("XDG_RUNTIME_DIR") == str(runtime):
                process.terminate()
                process.wait(30)


def chosen(names: str) -> list[Assignment]:
    ids = sorted(path.parent.name for path in discover())
    wanted = ids if names == "all" else [n.strip() for n in names.split(",") if n.strip()]
    picked = []
    for name in wanted:
        match = [i for i in ids if i == name or i.startswith(name + "_")]
        if len(match) != 1:
            raise SystemExit(f"--assignments: {name!r} names {len(match)} assignments of {ids}")
        picked.append(load_assignment(match[0]))
    return picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20, help="ex02 batch size (0: no batch)")
    parser.add_argument("--docker", action="store_true", help="also the docker backend")
    parser.add_argument("--otter", action="store_true", help="also otter-grader's `otter run`")
    parser.add_argument("--assignments", default="ex02,ex06,ex10", help="comma-separated, or 'all'")
    parser.add_argument("--repeat", type=int, default=3, help="repeats of one-solution figures")
    parser.add_argument("--batch-repeat", type=int, default=1, help="repeats of the batch figures")
    parser.add_argument("--library-test", action="store_true", help="also `rubric test -j 2` (~10 min)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args()
    assignments = chosen(args.assignments)
    work = Path(tempfile.mkdtemp(prefix="autograde-speed-"))
    bench = Bench(args, work)
    notes = bench.table.notes
    notes.append(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
    if not WARM:
        notes.append("warm: not available in this checkout (no GradeOptions.warm); targets apply to cold")
        print(notes[-1], flush=True)
    elif not BATCH_WARM:
        notes.append("warm batch: no BatchOptions.warm in this checkout; its warm runs set GradeOptions.warm")
    try:
        for assignment in assignments:
            bench.solo(assignment)
        if any(a.id.startswith("ex02_") for a in assignments):
            ex02 = next(a for a in assignments if a.id.startswith("ex02_"))
            if args.copies > 0:
                bench.batch(ex02)
            bench.self_check(ex02)
        bench.startup()
        if args.library_test:
            bench.library_test()
    finally:
        close_pools()
        shutil.rmtree(work, ignore_errors=True)
    memory = {"grader_peak_rss_mib": round(speed_memory.grader_peak_mib(), 1),
              "idle_warm_sandbox_rss_mib": bench.idle_rss}
    bench.table.extra["memory"] = memory
    print()
    print(bench.table.render())
    idle = "; ".join(f"{name}: {len(mib)} idle, {' + '.join(f'{m:g}' for m in mib)} MiB"
                     for name, mib in bench.idle_rss.items())
    print(f"memory: grader peak RSS {memory['grader_peak_rss_mib']} MiB; "
          f"idle warm sandboxes (runner + kernel each): {idle or 'not measured'}")
    if args.json:
        args.json.write_text(json.dumps(bench.table.as_json(), indent=2))
        print(f"wrote {args.json}")
    missed = [row["name"] for row in bench.table.as_json()["figures"] if row["met"] is False]
    print("targets missed: " + (", ".join(missed) if missed else "none"))


if __name__ == "__main__":
    main()
