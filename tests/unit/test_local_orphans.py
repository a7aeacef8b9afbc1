"""Sandboxes of killed graders: found by environment, cgroup and owner file, and removed;
those of live graders left alone (real processes, fake graders)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograde.backends.local import orphans as local_orphans
from autograde.backends.local import procfs
from autograde.backends.local.backend import LocalBackend
from autograde.backends.local.cgroups import CGROUP_PREFIX, job_cgroup_parents

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")
Spawned = list[subprocess.Popen[bytes]]


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _environ(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def _wait_for_env(process: subprocess.Popen[bytes], needle: bytes) -> None:
    deadline = time.monotonic() + 10
    while needle not in _environ(process.pid):
        assert process.poll() is None and time.monotonic() < deadline, "the fake sandbox did not start"
        time.sleep(0.01)


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; whatever survives the test is killed."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


def _sandbox(
    spawned: list[subprocess.Popen[bytes]], grader: int | None, job: bool = True
) -> subprocess.Popen[bytes]:
    """A fake sandbox process: `sleep` with the job marker and its grader's pid in its environment."""
    env = {"PATH": os.environ["PATH"]}
    marker = uuid.uuid4().hex
    if job:
        env["AUTOGRADE_JOB"] = marker
    if grader is not None:
        env["AUTOGRADE_GRADER"] = str(grader)
    process = subprocess.Popen(["sleep", "120"], env=env, start_new_session=True)
    spawned.append(process)
    _wait_for_env(process, f"AUTOGRADE_GRADER={grader}".encode() if grader is not None else b"PATH=")
    return process


def _killed(process: subprocess.Popen[bytes]) -> bool:
    """The `sleep 120` ended within seconds: killed. (Killed by SIGKILL; or 0 where the cgroup
    reaper, in this same process, waited for its own child first and Popen found it gone.)"""
    try:
        return process.wait(timeout=5) in (-signal.SIGKILL, 0)
    except subprocess.TimeoutExpired:
        return False


def _sleeper(spawned: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(["sleep", "120"])
    spawned.append(process)
    return process


# -- liveness ---------------------------------------------------------------------------------


def test_dead_zombie_and_live_graders_are_told_apart(spawned: Spawned) -> None:
    assert local_orphans.grader_gone(_dead_pid())
    assert not local_orphans.grader_gone(os.getpid())
    live = _sleeper(spawned)
    assert not local_orphans.grader_gone(live.pid)
    zombie = subprocess.Popen(["true"])
    spawned.append(zombie)
    deadline = time.monotonic() + 5
    while (procfs.stat_fields(zombie.pid) or [])[:1] != ["Z"]:  # exited, not yet waited for
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert local_orphans.grader_gone(zombie.pid)


def test_a_reused_pid_is_not_the_grader(spawned: Spawned) -> None:
    live = _sleeper(spawned)
    started = local_orphans.start_time(live.pid)
    assert started is not None
    assert not local_orphans.grader_gone(live.pid, started=started)
    assert local_orphans.grader_gone(live.pid, started=started + 1)  # another process has that pid
    assert local_orphans.grader_gone(live.pid, before=started - 1)  # started after its "sandbox"
    assert not local_orphans.grader_gone(live.pid, before=started)


# -- processes --------------------------------------------------------------------------------


def test_the_sandbox_of_a_dead_grader_is_killed(spawned: Spawned) -> None:
    orphan = _sandbox(spawned, _dead_pid())
    local_orphans.kill_orphan_processes()  # (another run's preflight may get there first)
    assert _killed(orphan)


def test_sandboxes_of_live_graders_and_unmarked_processes_are_left_alone(spawned: Spawned) -> None:
    grader = _sleeper(spawned)  # a live grader, started before its sandbox
    time.sleep(0.02)
    mine = _sandbox(spawned, os.getpid())
    other = _sandbox(spawned, grader.pid)
    not_a_job = _sandbox(spawned, _dead_pid(), job=False)  # AUTOGRADE_GRADER alone: not a sandbox
    local_orphans.kill_orphan_processes()
    time.sleep(0.1)
    assert mine.poll() is None and other.poll() is None and not_a_job.poll() is None
    assert grader.poll() is None


def test_the_sandbox_of_a_grader_whose_pid_was_reused_is_killed(spawned: Spawned) -> None:
    # the sandbox starts first; a younger process then holds the pid its environment names
    sandbox = subprocess.Popen(
        ["sh", "-c", 'read g; exec env AUTOGRADE_JOB=reused AUTOGRADE_GRADER="$g" sleep 120'],
        stdin=subprocess.PIPE,
        start_new_session=True,
    )
    spawned.append(sandbox)
    time.sleep(0.05)
    younger = _sleeper(spawned)
    assert sandbox.stdin is not None
    sandbox.stdin.write(f"{younger.pid}\n".encode())
    sandbox.stdin.close()
    _wait_for_env(sandbox, f"AUTOGRADE_GRADER={younger.pid}".encode())
    local_orphans.kill_orphan_processes()  # (another run's preflight may get there first)
    assert _killed(sandbox)
    assert younger.poll() is None


# -- job folders -------------------------------------------------------------------------------


def _job_folder(temp: Path, pid: int | str, record: str | None = None, age: float = 60.0) -> Path:
    """A job folder named for grader `pid`, with an owner `record` (None: none), `age` s old."""
    folder = Path(tempfile.mkdtemp(prefix=f"autograde-job-{pid}-", dir=temp))
    (folder / "work" / "deep").mkdir(parents=True)
    (folder / "work" / "deep" / "file.txt").write_text("x")
    if record is not None:
        (folder / "grader.pid").write_text(record)
    then = time.time() - age
    os.utime(folder, (then, then))
    return folder


def _namespace() -> str:
    return os.readlink("/proc/self/ns/pid").split("[")[1].rstrip("]")


def test_job_folders_of_dead_graders_are_removed(tmp_path: Path) -> None:
    started = local_orphans.start_time(os.getpid())
    assert started is not None
    me, ns = os.getpid(), _namespace()
    dead = _dead_pid()
    gone = [
        _job_folder(tmp_path, dead, f"{dead} 123 {ns}\n"),
        _job_folder(tmp_path, dead, f"{dead} 0 {ns}\n"),  # start time unknown
        _job_folder(tmp_path, me, f"{me} {started + 1} {ns}\n"),  # our pid, not us: reused
        _job_folder(tmp_path, dead),  # owner file gone: half removed when its grader was killed
        _job_folder(tmp_path, dead, f"{dead + 1} 1 {ns}\n"),  # a record that is not its own
    ]
    locked = _job_folder(tmp_path, dead, f"{dead} 1 {ns}\n")
    os.chmod(locked / "work" / "deep", 0o500)  # a notebook took away the write permission
    os.chmod(locked / "work", 0o000)
    gone.append(locked)

    live = Path(tempfile.mkdtemp(prefix=local_orphans.job_folder_prefix(), dir=tmp_path))
    local_orphans.write_owner(live)
    kept = [
        live,
        _job_folder(tmp_path, me),  # ours, no record yet
        _job_folder(tmp_path, dead, age=0.0),  # just made, no record yet: maybe a grader we cannot see
        _job_folder(tmp_path, dead, f"{dead} 1 1\n"),  # another pid namespace: its pids mean else
    ]
    for legacy in ("autograde-job-x_1abcde", "autograde-job-12345678"):  # an older autograde's names
        kept.append(_job_folder(tmp_path, "legacy").rename(tmp_path / legacy))
    unrelated = _job_folder(tmp_path, dead).rename(tmp_path / f"other-{dead}-abc")
    foreign = _job_folder(tmp_path, dead, f"{dead} 1 {ns}\n")
    if os.getuid() == 0:
        os.chown(foreign, 65534, 65534)  # another user's: not ours to remove
    target = _job_folder(tmp_path, "target")
    link = tmp_path / f"autograde-job-{dead}-link"
    link.symlink_to(target)

    assert local_orphans.remove_orphan_folders(tmp_path) == len(gone) + (os.getuid() != 0)
    assert not [f for f in gone if f.exists()]
    assert all(f.is_dir() for f in kept) and unrelated.is_dir()
    assert foreign.is_dir() or os.getuid() != 0
    assert link.is_symlink() and (target / "work" / "deep" / "file.txt").is_file()


def test_preflight_reaps_in_the_temp_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spawned: Spawned
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    folder = _job_folder(tmp_path, _dead_pid())
    orphan = _sandbox(spawned, _dead_pid())
    LocalBackend().preflight()
    assert not folder.exists()
    assert _killed(orphan)


# -- cgroups ----------------------------------------------------------------------------------


def _cgroup_parent() -> Path:
    """A real hierarchy where this process may make cgroups (root, or a delegated subtree)."""
    for parent in job_cgroup_parents():
        probe = parent / f"{CGROUP_PREFIX}{os.getpid()}-probe-{uuid.uuid4().hex[:8]}"
        try:
            probe.mkdir()
            probe.rmdir()
        except OSError:
            continue
        return parent
    pytest.skip("no cgroup hierarchy this process may write to")


def _join(folder: Path, process: subprocess.Popen[bytes]) -> None:
    (folder / "cgroup.procs").write_text(str(process.pid))


def test_job_cgroups_of_dead_graders_are_emptied_and_removed(spawned: Spawned) -> None:
    parent = _cgroup_parent()
    tag = uuid.uuid4().hex[:8]
    escaped = _sleeper(spawned)  # no marker in its environment: found by its cgroup alone
    reused_member = _sleeper(spawned)
    time.sleep(0.02)
    younger = _sleeper(spawned)  # holds the pid the second cgroup's name gives as its grader
    live_member = _sleeper(spawned)
    dead = parent / f"{CGROUP_PREFIX}{_dead_pid()}-{tag}a"
    reused = parent / f"{CGROUP_PREFIX}{younger.pid}-{tag}b"
    live = parent / f"{CGROUP_PREFIX}{os.getpid()}-{tag}c"
    made = [dead, reused, live]
    try:
        for folder, member in zip(made, (escaped, reused_member, live_member), strict=True):
            folder.mkdir()
            _join(folder, member)
        local_orphans.reap_orphan_cgroups([parent])  # (another run's preflight may get there first)
        assert _killed(escaped) and _killed(reused_member)
        assert not dead.exists() and not reused.exists()
        assert live.is_dir() and live_member.poll() is None and younger.poll() is None
    finally:
        for process in (escaped, reused_member, younger, live_member):
            process.kill()
            process.wait()
        for folder in made:
            if folder.exists():
                folder.rmdir()


def test_empty_job_cgroups_of_dead_graders_are_removed_once_not_brand_new(tmp_path: Path) -> None:
    old = time.time() - 10 * local_orphans.FRESH_SECONDS
    stale = tmp_path / f"{CGROUP_PREFIX}{_dead_pid()}-a"
    fresh = tmp_path / f"{CGROUP_PREFIX}{_dead_pid()}-b"
    live = tmp_path / f"{CGROUP_PREFIX}{os.getpid()}-c"
    for folder in (stale, fresh, live):
        folder.mkdir()
        os.utime(folder, (old, old))
    os.utime(fresh, None)
    assert local_orphans.reap_orphan_cgroups([tmp_path]) == 1
    assert not stale.exists() and fresh.is_dir() and live.is_dir()
