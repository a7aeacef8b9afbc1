"""The local backend's confinement, seen from inside real kernels.

Each test grades a variant of the ex02 solution through `grade_submission` and looks at what
the notebook could do (rlimits, network interfaces, its cgroup, processes it left behind,
memory, console output) and that the grade of everything else survives.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograde.backends.base import SandboxLimits
from autograde.backends.local import cgroups
from autograde.backends.local import rlimits as rlim
from autograde.backends.local.backend import GRACE_SECONDS
from autograde.backends.local.logcap import LOG_LIMIT
from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.results import GradeReport
from autograde.rubric import Assignment, load_rubric_file
from tests.ex02_variant import ex02_variant
from tests.integration.conftest import tagged

pytestmark = pytest.mark.integration

FULL = {"loss": 2.0, "gradient": 3.0, "descent": 2.0, "regression": 3.0}
RLIMITS = ("RLIMIT_CORE", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CPU", "RLIMIT_AS")

PROBE = f"""
import json, resource, socket
probe = {{"rlimits": {{n: list(resource.getrlimit(getattr(resource, n))) for n in {RLIMITS!r}}}}}
probe["interfaces"] = sorted(name for _, name in socket.if_nameindex())
try:  # loopback only: never any other address
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=2)
    conn, _ = server.accept()
    client.sendall(b"ok")
    probe["loopback"] = conn.recv(2).decode()
    for s in (client, conn, server):
        s.close()
except OSError as exc:
    probe["loopback"] = repr(exc)
probe["cgroup"] = open("/proc/self/cgroup").read()
with open("../out/probe.json", "w") as handle:
    json.dump(probe, handle)
"""

TORCH = """
import torch, torchvision
net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Flatten(), torch.nn.Linear(8 * 30 * 30, 10))
torch.nn.functional.cross_entropy(net(torch.randn(16, 3, 32, 32)), torch.randint(0, 10, (16,))).backward()
print("torch ok")
"""


def points(report: GradeReport) -> dict[str, float]:
    return {task.id: task.points for task in report.tasks}


def variant(solution_nb: Any, folder: Path, name: str, insert_before: dict[str, str]) -> Path:
    nb = copy.deepcopy(solution_nb)
    for tag, source in insert_before.items():
        nb.cells.insert(tagged(nb, tag), nbformat.v4.new_code_cell(source))
    path = folder / name
    nbformat.write(nb, path)
    return path


def grade_kept(path: Path, assignment: Assignment, keep: Path) -> tuple[GradeReport, Path]:
    report = grade_submission(path, assignment, GradeOptions(grading_seed=7, keep_job=keep))
    (job,) = [p for p in keep.iterdir() if p.is_dir()]
    return report, job


def ex02_with(folder: Path, **limits: str) -> Assignment:
    """ex02 with short cell and probe timeouts and these limits."""
    limits = {"cell_timeout": "4s", "probe_timeout": "4s", "total_timeout": "150s", **limits}
    return load_rubric_file(ex02_variant(folder, limits))


@pytest.fixture(scope="module")
def ex02_slow_cells(tmp_path_factory: pytest.TempPathFactory) -> Assignment:
    """Time for `import torch` in a cell (seconds on a cold cache)."""
    return ex02_with(tmp_path_factory.mktemp("ex02_slow_cells"), cell_timeout="60s")


@pytest.fixture(scope="module")
def probed(
    tmp_path_factory: pytest.TempPathFactory, solution_nb: Any, ex02_slow_cells: Assignment
) -> tuple[GradeReport, dict[str, Any]]:
    """One graded run with a probe cell and a torch cell inserted: the report and the probe."""
    folder = tmp_path_factory.mktemp("probed")
    path = variant(solution_nb, folder, "probe.ipynb", {"loss": PROBE, "gradient": TORCH})
    report, job = grade_kept(path, ex02_slow_cells, folder / "kept")
    probe = json.loads((job / "out" / "probe.json").read_text())
    return report, probe


def _note(report: GradeReport, start: str) -> str | None:
    return next((n for n in report.notes if n.startswith(start)), None)


def test_the_probed_run_keeps_its_grade(probed):
    report, _ = probed
    assert report.status == "graded"
    assert points(report) == FULL


def test_rlimits_in_the_kernel_are_the_ones_set(probed, ex02_slow_cells):
    _, probe = probed
    limits = SandboxLimits.from_rubric(ex02_slow_cells.rubric.limits)
    expected = rlim.effective_rlimits(rlim.rlimits_for(limits, None, GRACE_SECONDS))
    assert set(expected) == set(RLIMITS)  # a CPU job gets every one of them, RLIMIT_AS too
    assert {name: tuple(value) for name, value in probe["rlimits"].items()} == expected


def test_torch_runs_under_the_address_space_limit(probed):
    report, _ = probed
    failed = [c for c in report.cells if c["status"] != "ok"]
    assert not failed, f"cells failed under the limits: {failed}"
    assert not any("resource limits not set" in n for n in report.notes)


def test_the_kernel_sees_only_loopback(probed):
    report, probe = probed
    note = _note(report, "network not isolated")
    if note:
        pytest.skip(f"this machine cannot make network namespaces: {note}")
    assert probe["interfaces"] == ["lo"]
    assert probe["loopback"] == "ok"  # lo is up: 127.0.0.1 works inside, as everywhere


def test_the_kernel_ran_in_a_job_cgroup_that_is_gone_afterwards(probed):
    report, probe = probed
    note = _note(report, "memory not limited")
    if note:
        pytest.skip(f"no cgroups here: {note}")
    with open("/proc/self/mountinfo") as handle:
        mounts = cgroups.parse_mountinfo(handle.read())
    folders = []
    for line in probe["cgroup"].splitlines():
        _, controllers, path = line.split(":", 2)
        if cgroups.CGROUP_PREFIX not in path:
            continue
        for mount in mounts:
            if (mount.version == 2 and not controllers) or set(controllers.split(",")) & mount.options:
                root = mount.root.rstrip("/")
                folders.append(mount.path / path[len(root) :].lstrip("/"))
    assert folders, f"the kernel was in no job cgroup: {probe['cgroup']}"
    left = [f for f in folders if f.exists()]
    assert not left, f"cgroups left behind: {left}"


def _running(pid: int) -> bool:
    """Alive: not gone and not a zombie (a killed orphan waits a moment for init to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _sleepers(args: list[str]) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(arg.encode() in cmdline for arg in args):
            found.append(int(entry))
    return found


@pytest.mark.parametrize("kill_runner", [False, True], ids=["runner-lives", "runner-killed"])
def test_escaped_processes_do_not_survive(kill_runner, tmp_path, solution_nb, ex02_fast):
    # unique sleep lengths: how to find them again in /proc/*/cmdline
    args = [f"{900 + n}.{uuid.uuid4().int % 10**9:09d}" for n in range(2)]
    record = "../out/escaped.json"  # in the job's output folder, kept for the test by keep_job
    escape = f"""
import json, os, shutil, signal, subprocess
pids = [subprocess.Popen(["setsid", "env", "-i", "sleep", "{args[0]}"]).pid]
reader, writer = os.pipe()
if os.fork() == 0:  # double fork, new session, empty environment
    os.setsid()
    grandchild = os.fork()
    if grandchild == 0:
        os.execve(shutil.which("sleep"), ["sleep", "{args[1]}"], {{}})
    os.write(writer, str(grandchild).encode())
    os._exit(0)
os.close(writer)
pids.append(int(os.read(reader, 32)))
os.wait()
with open({str(record)!r}, "w") as handle:
    json.dump(pids, handle)
"""
    if kill_runner:
        escape += "\nimport time\ntime.sleep(0.5)\nos.kill(os.getppid(), signal.SIGKILL)  # the runner\n"
    path = variant(solution_nb, tmp_path, "escape.ipynb", {"regression": escape})
    started = time.monotonic()
    kept = tmp_path / "kept"
    report = grade_submission(path, ex02_fast, GradeOptions(grading_seed=7, keep_job=kept))
    survivors = _sleepers(args)
    for pid in survivors:  # never leave them running, whatever the verdict
        os.kill(pid, signal.SIGKILL)
    escaped = json.loads((kept / "escape" / "work" / record).resolve().read_text())
    assert len(escaped) == 2  # both were really started
    assert not survivors, f"processes survived the grading: {survivors}"
    assert time.monotonic() - started < ex02_fast.rubric.limits.total_timeout + GRACE_SECONDS
    if kill_runner and os.getuid() != 0:
        assert any("signal 9" in n for n in report.notes), report.notes
    else:  # as root the runner is the init of its PID namespace: the kernel cannot kill it
        assert points(report) == FULL


@pytest.fixture(scope="module")
def ex02_small(tmp_path_factory: pytest.TempPathFactory) -> Assignment:
    return ex02_with(tmp_path_factory.mktemp("ex02_small"), memory="1GiB")


def test_allocating_far_past_the_memory_limit_costs_only_that_cell(tmp_path, solution_nb, ex02_small):
    memory = ex02_small.rubric.limits.memory
    block = 2**28
    touched = math.ceil(1.5 * memory / block)  # past the cgroup's limit: the OOM killer acts
    hog = (
        "import numpy as np\nhog = []\n"
        f"for _ in range({touched}):\n"
        f"    hog.append(np.empty({block}, np.uint8))\n"
        "    hog[-1][::4096] = 1  # touch every page\n"
        # without a cgroup, one reservation as large as the address-space limit must fail
        f"hog.append(np.empty({rlim.address_space_limit(memory)}, np.uint8))\n"
    )
    path = variant(solution_nb, tmp_path, "hog.ipynb", {"regression": hog})
    report = grade_submission(path, ex02_small, GradeOptions(grading_seed=7))
    assert points(report) == FULL
    failed = [c for c in report.cells if c["status"] != "ok"]
    assert len(failed) == 1, f"the allocation was not stopped: {report.cells}"
    hog_cell = failed[0]
    if _note(report, "memory not limited"):  # no cgroup: the address-space limit caught it
        assert hog_cell.get("ename") == "MemoryError", hog_cell
    else:  # the cgroup's OOM killer took the kernel; the report says why
        assert hog_cell["status"] == "crashed", hog_cell
        assert any(re.search(r"out of memory", n) for n in report.notes), report.notes


def test_a_flood_on_stderr_is_capped_in_the_log(tmp_path, solution_nb, ex02_fast):
    flood_mib = 50
    flood = (
        "import sys\nchunk = 'x' * 2**20\n"
        f"for _ in range({flood_mib}):\n    sys.__stderr__.write(chunk)\nsys.__stderr__.flush()\n"
    )
    path = variant(solution_nb, tmp_path, "flood.ipynb", {"regression": flood})
    report, job = grade_kept(path, ex02_fast, tmp_path / "kept")
    assert points(report) == FULL
    log = (job / "runner.log").read_bytes()
    assert len(log) <= LOG_LIMIT + 200  # the cap, plus the line that says what was dropped
    dropped = re.search(rb"\[autograde: (\d+) bytes of console output dropped here; (\d+) in all\]", log)
    assert dropped, log[-500:]
    assert int(dropped.group(2)) > LOG_LIMIT
    assert int(dropped.group(1)) == int(dropped.group(2)) - (len(log) - len(dropped.group(0)) - 2)
    assert any("console" in n for n in report.notes)


def _job_processes(grader: int) -> list[int]:
    """Processes of sandboxes this grader started (their environment names it)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"AUTOGRADE_GRADER={grader}".encode() in environ and _running(int(entry)):
            found.append(int(entry))
    return found


def test_a_runaway_run_is_killed_at_the_wall_clock_limit(tmp_path, solution_nb):
    """A cell that ignores the interrupt, with a cell limit past the total limit: the runner
    waits on it, so only the host's wall-clock kill ends the run, and with it everything."""
    short = ex02_with(tmp_path, total_timeout="5s", cell_timeout="60s")
    arg = f"950.{uuid.uuid4().int % 10**9:09d}"
    hang = (
        "import signal, subprocess, time\n"
        f"subprocess.Popen(['setsid', 'env', '-i', 'sleep', '{arg}'])\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "time.sleep(10**6)\n"
    )
    path = variant(solution_nb, tmp_path, "runaway.ipynb", {"loss": hang})
    started = time.monotonic()
    report = grade_submission(path, short, GradeOptions(grading_seed=7))
    elapsed = time.monotonic() - started
    survivors = _sleepers([arg])
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert elapsed < short.rubric.limits.total_timeout + GRACE_SECONDS
    assert any("total time limit" in n for n in report.notes), report.notes
    assert not survivors
    assert not _job_processes(os.getpid())


def _flood(target: str) -> str:
    """A cell that writes 64 MiB to `target`, 1 MiB at a time."""
    return (
        f"with open({target!r}, 'wb') as handle:\n"
        "    for _ in range(64):\n"
        "        handle.write(b'x' * 2**20)\n"
        "        handle.flush()\n"
    )


def test_filling_the_scratch_space_fails_that_cell_only(solution_nb, tmp_path):
    """The working folder is a size-limited tmpfs, as in a container: ENOSPC, not a kill."""
    flood = _flood("flood.bin")
    rubric = ex02_with(tmp_path, tmp_bytes="4MiB", out_bytes="4MiB", cell_timeout="60s")
    path = variant(solution_nb, tmp_path, "flood.ipynb", {"loss": flood})
    report = grade_submission(path, rubric, GradeOptions(grading_seed=7))
    failed = [c for c in report.cells if c["status"] == "error"]
    assert [c["ename"] for c in failed] == ["OSError"], report.cells
    assert "No space left" in failed[0]["evalue"]
    assert points(report) == FULL


def test_flooding_the_output_folder_stops_the_run(solution_nb, tmp_path):
    flood = _flood("../out/flood.bin") + "import time\ntime.sleep(20)\n"
    rubric = ex02_with(tmp_path, tmp_bytes="4MiB", out_bytes="4MiB", cell_timeout="60s")
    path = variant(solution_nb, tmp_path, "flood.ipynb", {"loss": flood})
    started = time.monotonic()
    report = grade_submission(path, rubric, GradeOptions(grading_seed=7))
    assert any("wrote more than" in note and "was stopped" in note for note in report.notes), report.notes
    assert report.score == 0
    assert time.monotonic() - started < 20  # stopped by the watch, not by the cell's own end
