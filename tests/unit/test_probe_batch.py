"""The batch log and the watchdog of probe_batch, on a stand-in kernel (a plain child
process in its own process group): a probe past its limit is interrupted, one that ignores
the interrupt is killed, a probe that finishes in time is left alone."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import types

import pytest

from autograde.runner import probe_batch
from autograde.runner.probe_batch import Watchdog, read_log
from autograde.runner.probe_phase import HARNESS_MODULE, JobFiles

# On SIGINT the stand-in logs the running probe as finished (as the harness does after an
# interrupted probe) or, given "ignore", carries on regardless.
KERNEL = """
import signal, sys, time
log, running, mode = sys.argv[1:4]
def interrupted(signum, frame):
    with open(log, "a") as handle:
        handle.write(running + "\\t0.5\\n")
signal.signal(signal.SIGINT, signal.SIG_IGN if mode == "ignore" else interrupted)
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
        time.sleep(0.5)  # its handler is in place
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
    dog = Watchdog(log, [("a", 0.5), ("b", 0.5), ("c", 0.5)], child.pid)
    assert dog.start()
    for probe_id in "abc":  # each takes 0.35s: the batch (1.05s) is longer than any limit
        time.sleep(0.35)
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
