"""A batch that loses nothing, proven under faults: the grader of a parallel local batch is
killed with SIGKILL at random points, the same command is run again (several times), and in
the end every upload is graded exactly once, with the grades of a run without faults, and
nothing a killed grader ran (processes, cgroups, job folders) outlives it once the next run
has started grading.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "ex02_gradient_descent"
CLI = str(Path(sys.executable).with_name("autograde"))
SEED = 8675309
KILLS = 4
UPLOADS = 16
# what each original earns in a run without faults (erin's file is not a valid notebook)
EXPECTED = {
    "alice": ("10", "graded"),
    "bob": ("5", "graded"),
    "carol": ("7", "graded"),
    "dave": ("0", "graded"),
    "erin": ("0", "invalid notebook"),
    "frank": ("10", "graded"),
}
CGROUP_ROOT = Path("/sys/fs/cgroup")
# the first upload (alice's) sleeps first: its sandbox is running whenever a grader is killed,
# and would outlive the kill by seconds were it not reaped (the others finish in 2-3 s)
SLOW_SECONDS = 12


def _uploads(folder: Path) -> dict[str, str]:
    """16 copies of the six examples, as student -> original; the first one slow."""
    folder.mkdir()
    originals = sorted(EXAMPLES.glob("*.ipynb"))
    assert [p.stem for p in originals] == sorted(EXPECTED)
    students = {}
    for index in range(UPLOADS):
        source = originals[index % len(originals)]
        student = f"{source.stem}_{index:02d}"
        shutil.copy(source, folder / f"{student}.ipynb")
        students[student] = source.stem
    slow = folder / "alice_00.ipynb"
    notebook = json.loads(slow.read_text())
    notebook["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                 "source": f"import time\ntime.sleep({SLOW_SECONDS})"})
    slow.write_text(json.dumps(notebook))
    return students


def _journal_lines(out: Path) -> int:
    path = out / "journal.jsonl"
    return len(path.read_bytes().splitlines()) if path.is_file() else 0


def _journal_results(out: Path) -> list[str]:
    """The student of every complete journal entry (a line torn by a kill is no entry)."""
    found = []
    for line in (out / "journal.jsonl").read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "report" in record:
            found.append(record["key"]["student"])
    return found


def _start(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat (None: gone, or a zombie, which is dead too)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().decode("ascii", "replace").rpartition(")")[2].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[19])


def _sandbox_processes(tmp: Path) -> set[tuple[int, int]]:
    """(pid, start) of the live grading-job processes of this test: the job marker in their
    environment and their TMPDIR inside this test's private temp folder."""
    found: set[tuple[int, int]] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                env = handle.read().split(b"\0")
        except OSError:
            continue
        tmpdirs = [item[len(b"TMPDIR="):] for item in env if item.startswith(b"TMPDIR=")]
        if any(item.startswith(b"AUTOGRADE_JOB=") for item in env) and tmpdirs and \
                tmpdirs[0].startswith(str(tmp).encode() + b"/"):
            start = _start(int(entry))
            if start is not None:
                found.add((int(entry), start))
    return found


def _alive(process: tuple[int, int]) -> bool:
    return _start(process[0]) == process[1]


def _job_folders(tmp: Path) -> set[str]:
    return {p.name for p in tmp.iterdir() if p.name.startswith("autograde-job-")}


def _cgroups_of(graders: list[int]) -> set[Path]:
    """Job cgroups named for one of these graders (only where we may look: root, Linux)."""
    if not CGROUP_ROOT.is_dir() or os.getuid() != 0:
        return set()
    prefixes = tuple(f"autograde-{pid}-" for pid in graders)
    found: set[Path] = set()
    for root, dirs, _files in os.walk(CGROUP_ROOT):
        depth = Path(root).relative_to(CGROUP_ROOT).parts
        found.update(Path(root) / d for d in dirs if d.startswith(prefixes))
        dirs[:] = [d for d in dirs if not d.startswith("autograde-")] if len(depth) < 6 else []
    return found


def _kill_leftovers(tmp: Path) -> None:
    for pid, _start_time in _sandbox_processes(tmp):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def test_kill_9_at_random_points_then_rerun_grades_each_upload_once_leaves_nothing(tmp_path: Path) -> None:
    students = _uploads(tmp_path / "uploads")
    tmp = tmp_path / "tmp"  # the graders' TMPDIR: their job folders, and our way to tell their processes
    tmp.mkdir()
    out = tmp_path / "out"
    args = [str(tmp_path / "uploads"), "-a", "ex02_gradient_descent", "--out", str(out), "-j", "2",
            "--backend", "local"]
    env = {**os.environ, "TMPDIR": str(tmp)}
    rng = random.Random(SEED)
    story: list[str] = []  # where each kill landed, for the failure message

    def why() -> str:
        return f"seed {SEED}; " + "; ".join(story)

    killed: list[int] = []
    pending_processes: set[tuple[int, int]] = set()  # left by killed graders, not yet seen gone
    pending_folders: set[str] = set()
    processes_seen = folders_seen = 0

    def check_pending_gone(when: str, running: int | None = None) -> None:
        alive = {p for p in pending_processes if _alive(p)}
        folders = pending_folders & _job_folders(tmp)
        cgroups = _cgroups_of([pid for pid in killed if pid != running])  # (a running one reusing a pid)
        assert not alive and not folders and not cgroups, (
            f"{when}: left by killed graders: processes {sorted(alive)}, job folders {sorted(folders)}, "
            f"cgroups {sorted(map(str, cgroups))} ({why()})"
        )
        pending_processes.clear()
        pending_folders.clear()

    try:
        for round_ in range(KILLS):
            by_journal = rng.random() < 0.5
            lines, delay = rng.randint(1, 3), rng.uniform(0.5, 4.0)
            before = _journal_lines(out)
            process = subprocess.Popen([CLI, "grade", *args], stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, env=env)
            started = time.monotonic()
            known = set(pending_folders)
            checked = not pending_processes and not pending_folders
            while process.poll() is None:
                if by_journal and _journal_lines(out) >= before + lines:
                    break
                if not by_journal and time.monotonic() - started >= delay:
                    break
                assert time.monotonic() - started < 120, f"round {round_} did not progress ({why()})"
                if not checked and _job_folders(tmp) - known:  # this run grades: past its preflight
                    check_pending_gone(f"round {round_}, once the next run graded", process.pid)
                    checked = True
                time.sleep(0.05)
            running = process.poll() is None
            process.send_signal(signal.SIGKILL)
            output = process.communicate(timeout=60)[0].decode(errors="replace")
            assert running or process.returncode == 0, output
            when = f"journal +{lines}" if by_journal else f"after {delay:.2f}s"
            story.append(f"kill {round_} ({when}): {'killed' if running else 'had finished'}, "
                         f"journal {_journal_lines(out)} lines")
            if running:
                killed.append(process.pid)
            processes, folders = _sandbox_processes(tmp), _job_folders(tmp)
            processes_seen += len(processes)
            folders_seen += len(folders)
            pending_processes |= processes
            pending_folders |= folders

        final = subprocess.run([CLI, "grade", *args], capture_output=True, text=True, timeout=300, env=env)
        assert final.returncode == 0, final.stdout + final.stderr + why()
    finally:
        _kill_leftovers(tmp)

    assert killed, f"no kill hit a running batch ({why()})"
    assert processes_seen and folders_seen, f"no kill left a sandbox behind: nothing was tested ({why()})"

    with open(out / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["student"] for row in rows) == sorted(students), why()
    for row in rows:
        original = students[row["student"]]
        assert (row["total"], row["status"]) == EXPECTED[original], f"{row} ({why()})"

    results = Counter(_journal_results(out))
    assert set(results) == set(students), f"the journal misses {set(students) - set(results)} ({why()})"
    twice = sorted(student for student, count in results.items() if count > 1)
    assert not twice, f"graded more than once: {twice} ({why()})"

    check_pending_gone("after the final run")
    assert not _sandbox_processes(tmp), f"a sandbox process outlived the batch ({why()})"
    assert not _job_folders(tmp), f"job folders left: {sorted(_job_folders(tmp))} ({why()})"
    staged = sorted(p.name for p in tmp.iterdir() if p.name.startswith("autograde-uploads-"))
    assert not staged, f"staging folders of killed graders left: {staged} ({why()})"
