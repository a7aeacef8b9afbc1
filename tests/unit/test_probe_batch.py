"""The batch log and the watchdog of probe_batch, on a stand-in kernel (a plain child
process in its own process group): a probe past its limit is interrupted, one that ignores
the interrupt is killed, a probe that finishes in time is left alone."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest

from autograde.runner import probe_batch, protocol
from autograde.runner.kernel import Outcome
from autograde.runner.probe_batch import Watchdog, read_log
from autograde.runner.probe_phase import HARNESS_MODULE, JobFiles, run_probes

# On SIGINT the stand-in logs the running probe as finished (as the harness does after an
# interrupted probe) or, given "ignore", carries on regardless.
KERNEL = """
import signal, sys, time
log, running, mode = sys.argv[1:4]
def interrupted(signum, frame):
    with open(log, "a") as handle:
        handle.write(running + "\\t0.5\\n")
signal.signal(signal.SIGINT, signal.SIG_IGN if mode == "ignore" else interrupted)
open(log + ".ready", "w").close()
time.sleep(30)
"""


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    killed: list[int | None] = []
    monkeypatch.setattr(probe_batch.procs, "kill_descendants", lambda keep=None: killed.append(keep))
    started: list[subprocess.Popen[bytes]] = []

    def start(running: str, mode: str = "log") -> subprocess.Popen[bytes]:
        child = subprocess.Popen([sys.executable, "-c", KERNEL, str(tmp_path / "log"), running, mode],
                                 start_new_session=True)
        started.append(child)
        ready = time.monotonic() + 30
        while not (tmp_path / "log.ready").exists() and time.monotonic() < ready:
            time.sleep(0.02)  # until its handler is in place
        return child

    yield start, killed
    for child in started:
        child.kill()
        child.wait()


def test_the_log_keeps_each_probes_first_line_and_skips_garbled_ones(tmp_path):
    log = tmp_path / "log"
    assert read_log(log) == {}  # never written: nothing finished
    log.write_bytes(b"p0\t0.25\nnonsense\np1\tmany\n\xff\xfe\np2\t1e-3\np0\t9\np3")
    assert read_log(log) == {"p0": 0.25, "p2": 0.001}


def test_a_probe_past_its_limit_is_interrupted_and_what_it_spawned_killed(tmp_path, kernel):
    start, killed = kernel
    child = start("b")
    (tmp_path / "log").write_text("a\t0.01\n")  # a finished at once; b runs until interrupted
    dog = Watchdog(tmp_path / "log", [("a", 5.0), ("b", 0.4), ("c", 5.0)], child.pid)
    assert dog.start()
    time.sleep(1.5)
    dog.stop()
    assert set(dog.overruns) == {"b"}
    assert not dog.overruns["b"].killed and 0.4 <= dog.overruns["b"].seconds < 1.5
    assert killed == [child.pid]
    assert child.poll() is None  # the interrupt was enough: the kernel lives
    assert dog.running(read_log(tmp_path / "log"))[0] == 2  # c is the one running now


def test_a_probe_that_ignores_the_interrupt_has_its_kernel_killed(tmp_path, kernel, monkeypatch):
    monkeypatch.setattr(probe_batch, "RESPONSIVE_SECONDS", 0.3)
    start, _ = kernel
    child = start("a", "ignore")
    dog = Watchdog(tmp_path / "log", [("a", 0.3), ("b", 5.0)], child.pid)
    assert dog.start()
    time.sleep(1.5)
    dog.stop()
    assert set(dog.overruns) == {"a"} and dog.overruns["a"].killed
    assert child.wait(5) == -signal.SIGKILL


def test_probes_within_their_limits_are_left_alone(tmp_path, kernel):
    start, killed = kernel
    child = start("z")
    log = tmp_path / "log"
    log.write_text("")
    dog = Watchdog(log, [("a", 0.8), ("b", 0.8), ("c", 0.8)], child.pid)
    assert dog.start()
    for probe_id in "abc":  # each takes 0.3s: the batch (0.9s) is longer than any limit
        time.sleep(0.3)
        with log.open("a") as handle:
            handle.write(f"{probe_id}\t0.35\n")
    time.sleep(0.2)
    dog.stop()
    assert dog.overruns == {} and killed == []
    assert child.poll() is None


def test_a_batch_call_hands_the_harness_every_probes_own_files(tmp_path, monkeypatch):
    seen: list[tuple[object, ...]] = []
    harness = types.ModuleType(HARNESS_MODULE)
    harness.run_batch = lambda *args: seen.append(args)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, HARNESS_MODULE, harness)
    files = JobFiles(tmp_path / "in" / "plan.json", tmp_path / "in" / "inputs.npz", tmp_path / "out")
    exec(files.batch_call(["t0c0p0", "t1c0pubp1"], tmp_path / "b.log", 12.5), {})
    out = tmp_path / "out" / "probes"
    assert seen == [(
        [("t0c0p0", f"{out}/t0c0p0.json", f"{out}/t0c0p0.npz"),
         ("t1c0pubp1", f"{out}/t1c0pubp1.json", f"{out}/t1c0pubp1.npz")],
        f"{tmp_path}/in/plan.json", f"{tmp_path}/in/inputs.npz", f"{tmp_path}/b.log", 12.5,
    )]


# -- the probe phase's batches, with a stand-in kernel that plays the harness ---------------------


class BatchKernel:
    """Runs a batch request as the harness would, each probe as `plan` says: "ok" (record and
    log line), "silent" (logged, no record), "crash" (the kernel dies), "raise" (the harness
    itself fails), "skip" (the harness returns before it)."""

    pid = None

    def __init__(self, plan: dict[str, str]) -> None:
        self.plan = plan
        self.requests: list[list[str]] = []

    def run_code(self, code: str, timeout: float) -> Outcome:
        seen: list[tuple[Any, ...]] = []
        harness = types.ModuleType(HARNESS_MODULE)
        harness.run_batch = lambda *args: seen.append(args)  # type: ignore[attr-defined]
        sys.modules[HARNESS_MODULE] = harness
        try:
            exec(code, {})
        finally:
            del sys.modules[HARNESS_MODULE]
        ((items, _, _, log, _),) = seen
        self.requests.append([item[0] for item in items])
        for probe_id, record, _ in items:
            how = self.plan[probe_id]
            if how == "crash":
                return Outcome("crashed", 0.1)
            if how == "raise":
                return Outcome("error", 0.1, ename="TypeError", evalue="json broken")
            if how == "skip":
                return Outcome("ok", 0.1)
            if how == "ok":
                Path(record).write_text(json.dumps({"id": probe_id, "status": "ok"}))
            with open(log, "a") as handle:
                handle.write(f"{probe_id}\t0.01\n")
        return Outcome("ok", 0.1)


class BatchRun:
    """A NotebookRun whose kernel is a BatchKernel; a probe alone ends "ok" with its record,
    and a recovery always succeeds."""

    def __init__(self, tmp_path: Path, plan: dict[str, str]) -> None:
        self.runtime_dir = str(tmp_path)
        self.out = tmp_path
        self.deadline = float("inf")
        self.session: BatchKernel | None = BatchKernel(plan)
        self.gone: str | None = None
        self.alone: list[str] = []
        self.recovered: list[tuple[str, str]] = []

    def run_probe(self, code: str, timeout: float, what: str) -> Outcome:
        probe_id = code.split("(")[2].split(",")[0].strip("'\"")
        self.alone.append(probe_id)
        protocol.probe_record(self.out, probe_id).write_text(json.dumps({"id": probe_id, "status": "ok"}))
        return Outcome("ok", 0.2)

    def recover_after(self, status: str, what: str) -> None:
        if status in {"crashed", "unresponsive"}:
            self.recovered.append((status, what))

    def close(self) -> None:
        self.session = None


def batch_phase(tmp_path: Path, plan: dict[str, str]) -> tuple[BatchRun, dict[str, Any], dict[str, Any]]:
    (tmp_path / protocol.PROBES).mkdir()
    run = BatchRun(tmp_path, plan)
    probes = [{"id": probe_id, "op": "call", "target": f"f_{probe_id}"} for probe_id in plan]
    summary: dict[str, Any] = {"probes": {}, "notes": []}
    run_probes(run, {"limits": {"probe_timeout": 3, "total_timeout": 60}, "probes": probes},  # type: ignore[arg-type]
               JobFiles(tmp_path / "plan", tmp_path / "inputs", tmp_path), summary)
    records = {p: json.loads(protocol.probe_record(tmp_path, p).read_text()) for p in plan}
    return run, summary, records


def test_a_probe_that_crashes_a_batch_is_crashed_and_the_rest_go_on_in_the_next(tmp_path):
    run, summary, records = batch_phase(tmp_path, {"p0": "ok", "p1": "crash", "p2": "ok", "p3": "ok"})
    assert run.session is not None and run.session.requests == [["p0", "p1", "p2", "p3"], ["p2", "p3"]]
    assert records["p1"] == {"id": "p1", "status": "crashed",
                             "message": "the kernel died while this was being checked"}
    assert [records[p]["status"] for p in ("p0", "p2", "p3")] == ["ok"] * 3
    assert run.recovered == [("crashed", "`f_p1`")] and run.alone == []
    assert summary["round_trips"] == 2 and set(summary["probes"]) == {"p0", "p1", "p2", "p3"}


def test_after_a_batch_the_harness_itself_failed_in_the_rest_run_alone(tmp_path):
    run, summary, records = batch_phase(tmp_path, {"p0": "ok", "p1": "raise", "p2": "ok", "p3": "ok"})
    assert run.alone == ["p1", "p2", "p3"] and run.recovered == []
    assert all(record["status"] == "ok" for record in records.values())
    assert summary["round_trips"] == 4


def test_a_batch_that_ran_nothing_leaves_its_probes_alone(tmp_path):
    run, summary, _ = batch_phase(tmp_path, {"p0": "skip", "p1": "ok"})
    assert run.alone == ["p0", "p1"] and summary["round_trips"] == 3


def test_a_batched_probe_that_returned_without_its_record_is_an_error(tmp_path):
    _, summary, records = batch_phase(tmp_path, {"p0": "silent", "p1": "ok"})
    assert records["p0"]["status"] == "error" and "wrote no result" in records["p0"]["message"]
    assert records["p1"]["status"] == "ok" and summary["round_trips"] == 1


def test_with_no_thread_for_the_watchdog_every_probe_runs_alone(tmp_path, monkeypatch):
    def no_thread(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    run, summary, _ = batch_phase(tmp_path, {"p0": "ok", "p1": "ok"})
    assert run.alone == ["p0", "p1"] and summary["round_trips"] == 2
