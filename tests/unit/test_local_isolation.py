"""The pure parts of the local backend's confinement: rlimits, cgroup plans and files (against
fake cgroup folders), the child's set-up report, the capped log capture, the notes."""

from __future__ import annotations

import math
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograde.backends.base import Job, SandboxLimits
from autograde.backends.local import cgroups, isolation, logcap
from autograde.backends.local import rlimits as rlim
from autograde.backends.local.backend import GRACE_SECONDS, isolation_notes

GiB = 2**30
LIMITS = SandboxLimits(total_timeout=100.0, memory=2 * GiB, pids=128, cpus=1.0)

# -- rlimits -----------------------------------------------------------------------------


def test_cpu_jobs_get_every_rlimit():
    wanted = rlim.rlimits_for(LIMITS, None, GRACE_SECONDS)
    assert wanted["RLIMIT_CORE"] == (0, 0)
    assert wanted["RLIMIT_FSIZE"] == (rlim.MAX_FILE_BYTES,) * 2
    assert wanted["RLIMIT_NOFILE"] == (rlim.NOFILE,) * 2
    seconds = math.ceil(LIMITS.total_timeout + GRACE_SECONDS)
    assert wanted["RLIMIT_CPU"][0] == seconds and wanted["RLIMIT_CPU"][1] > seconds
    space = wanted["RLIMIT_AS"][0]
    assert wanted["RLIMIT_AS"] == (space, space)
    assert space == rlim.address_space_limit(LIMITS.memory)


def test_the_address_space_leaves_the_whole_memory_limit_for_data():
    for memory in (GiB, 2 * GiB, 4 * GiB):
        assert rlim.address_space_limit(memory) - memory == rlim.ADDRESS_SPACE_OVERHEAD


def test_cpu_seconds_scale_with_the_cpus_a_job_may_use():
    four = SandboxLimits(total_timeout=100.0, memory=GiB, cpus=4.0)
    half = SandboxLimits(total_timeout=100.0, memory=GiB, cpus=0.5)
    base = rlim.rlimits_for(LIMITS, None, GRACE_SECONDS)["RLIMIT_CPU"][0]
    assert rlim.rlimits_for(four, None, GRACE_SECONDS)["RLIMIT_CPU"][0] == 4 * base
    assert rlim.rlimits_for(half, None, GRACE_SECONDS)["RLIMIT_CPU"][0] == base  # never below wall


def test_gpu_jobs_get_no_address_space_limit():
    wanted = rlim.rlimits_for(LIMITS, "0", GRACE_SECONDS)
    assert "RLIMIT_AS" not in wanted
    assert "RLIMIT_CPU" in wanted and "RLIMIT_NOFILE" in wanted


def test_rlimits_never_exceed_the_hard_limits_we_already_have():
    wanted = {"RLIMIT_NOFILE": (4096, 4096), "RLIMIT_CPU": (50, 51), "RLIMIT_AS": (10, 10)}
    low = {resource.RLIMIT_NOFILE: (512, 1024), resource.RLIMIT_CPU: (30, 40)}

    def current(number: int) -> tuple[int, int]:
        return low.get(number, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    got = rlim.effective_rlimits(wanted, current)
    assert got["RLIMIT_NOFILE"] == (1024, 1024)
    assert got["RLIMIT_CPU"] == (40, 40)
    assert got["RLIMIT_AS"] == wanted["RLIMIT_AS"]  # unlimited now: what we want


# -- where cgroups go --------------------------------------------------------------------

HYBRID_MOUNTINFO = """\
25 1 0:22 / /sys rw,nosuid - sysfs sysfs rw
30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
34 30 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
35 30 0:31 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
36 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
"""
HYBRID_SELF = "8:pids:/user.slice\n4:memory:/jobs/a\n2:cpu,cpuacct:/\n0::/user.slice/s.scope\n"
V2_MOUNTINFO = "29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"
V2_SELF = "0::/user.slice/user-1000.slice/session-3.scope\n"


def test_a_hybrid_machine_uses_the_v1_controllers_below_our_own_cgroups():
    plan = cgroups.plan_cgroups(HYBRID_MOUNTINFO, HYBRID_SELF)
    assert plan.v1["memory"] == [Path("/sys/fs/cgroup/memory/jobs/a"), Path("/sys/fs/cgroup/memory")]
    assert plan.v1["pids"] == [Path("/sys/fs/cgroup/pids/user.slice"), Path("/sys/fs/cgroup/pids")]
    assert plan.v2[-1] == Path("/sys/fs/cgroup/unified")


def test_a_v2_machine_plans_below_our_cgroup_then_the_root():
    plan = cgroups.plan_cgroups(V2_MOUNTINFO, V2_SELF)
    assert not plan.v1
    assert plan.v2 == [
        Path("/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope"),
        Path("/sys/fs/cgroup"),
    ]


def test_a_container_mount_root_is_stripped_and_escapes_decoded():
    mountinfo = "40 30 0:30 /docker/abc /sys/fs/cgroup/my\\040memory ro - cgroup cgroup rw,memory\n"
    plan = cgroups.plan_cgroups(mountinfo, "4:memory:/docker/abc/inner\n")
    assert plan.v1["memory"][0] == Path("/sys/fs/cgroup/my memory/inner")
    other = cgroups.plan_cgroups(mountinfo, "4:memory:/elsewhere\n")  # not below the mount
    assert other.v1["memory"] == [Path("/sys/fs/cgroup/my memory")]


def test_no_cgroup_mounts_means_no_plan():
    plan = cgroups.plan_cgroups("25 1 0:22 / /sys rw - sysfs sysfs rw\n", "")
    assert not plan.v1 and not plan.v2
    result = cgroups.create_job_cgroup("autograde-x", GiB, 64, plan)
    assert result.cgroup is None and result.memory_problem and result.pids_problem


# -- cgroup files (fake cgroup folders) ---------------------------------------------------


def test_v1_job_cgroups_get_the_limits(tmp_path):
    memory_parent, pids_parent = tmp_path / "memory" / "own", tmp_path / "pids"
    memory_parent.mkdir(parents=True)
    pids_parent.mkdir()
    plan = cgroups.CgroupPlan(v1={"memory": [memory_parent], "pids": [pids_parent]})
    result = cgroups.create_job_cgroup("autograde-1-job", 3 * GiB, 77, plan)
    assert result.memory_problem is None and result.pids_problem is None
    group = result.cgroup
    assert group is not None and group.version == 1
    assert (memory_parent / "autograde-1-job" / "memory.limit_in_bytes").read_text() == str(3 * GiB)
    assert (pids_parent / "autograde-1-job" / "pids.max").read_text() == "77"
    assert group.procs_files == [
        str(memory_parent / "autograde-1-job" / "cgroup.procs"),
        str(pids_parent / "autograde-1-job" / "cgroup.procs"),
    ]


def test_v1_swap_is_limited_only_where_the_kernel_offers_it(tmp_path):
    (tmp_path / "memory.memsw.limit_in_bytes").write_text("9223372036854771712")
    cgroups.configure_v1_memory(tmp_path, GiB)
    assert (tmp_path / "memory.memsw.limit_in_bytes").read_text() == str(GiB)
    bare = tmp_path / "bare"
    bare.mkdir()
    cgroups.configure_v1_memory(bare, GiB)
    assert not (bare / "memory.memsw.limit_in_bytes").exists()


def test_v1_falls_back_to_the_next_parent_and_says_why_when_none_works(tmp_path):
    good = tmp_path / "top"
    good.mkdir()
    plan = cgroups.CgroupPlan(v1={"memory": [tmp_path / "missing", good]})
    result = cgroups.create_job_cgroup("autograde-1-a", GiB, 64, plan)
    assert result.cgroup is not None and result.cgroup.dirs["memory"] == good / "autograde-1-a"
    assert result.pids_problem and "pids" in result.pids_problem  # no pids hierarchy in the plan
    none = cgroups.create_job_cgroup(
        "autograde-1-b", GiB, 64, cgroups.CgroupPlan(v1={"memory": [tmp_path / "missing"]})
    )
    assert none.cgroup is None and none.memory_problem


def test_v2_enables_the_controllers_and_writes_the_limits(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("cpu\n")
    plan = cgroups.CgroupPlan(v2=[tmp_path])
    result = cgroups.create_job_cgroup("autograde-1-c", 2 * GiB, 99, plan)
    group = result.cgroup
    assert group is not None and group.version == 2 and result.memory_problem is None
    folder = tmp_path / "autograde-1-c"
    assert (folder / "memory.max").read_text() == str(2 * GiB)
    assert (folder / "pids.max").read_text() == "99"
    assert "+" in (tmp_path / "cgroup.subtree_control").read_text()
    assert group.procs_files == [str(folder / "cgroup.procs")]


def test_v2_without_a_memory_controller_is_not_used(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpu io\n")
    result = cgroups.create_job_cgroup("autograde-1-d", GiB, 64, cgroups.CgroupPlan(v2=[tmp_path]))
    assert result.cgroup is None and "memory" in (result.memory_problem or "")
    assert not (tmp_path / "autograde-1-d").exists()


def test_v2_swap_is_turned_off_where_offered(tmp_path):
    (tmp_path / "memory.swap.max").write_text("max\n")
    assert cgroups.configure_v2(tmp_path, GiB, 10)
    assert (tmp_path / "memory.swap.max").read_text() == "0"


def test_oom_kills_are_read_from_v1_and_v2_counters(tmp_path):
    v1 = tmp_path / "v1"
    v1.mkdir()
    (v1 / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    (v1 / "pids.events").write_text("max 5\n")
    group = cgroups.JobCgroup(1, {"memory": v1, "pids": v1}, GiB)
    assert group.oom_kills() == 2 and group.pids_refused() == 5
    (v1 / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
    assert group.oom_kills() == 0
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n")
    assert cgroups.JobCgroup(2, {"unified": v2}, GiB).oom_kills() == 1


def test_old_v1_kernels_without_an_oom_count_use_failcnt_and_peak(tmp_path):
    (tmp_path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\n")
    (tmp_path / "memory.failcnt").write_text("12\n")
    (tmp_path / "memory.max_usage_in_bytes").write_text(f"{GiB}\n")
    assert cgroups.JobCgroup(1, {"memory": tmp_path}, GiB).oom_kills() == 1
    (tmp_path / "memory.max_usage_in_bytes").write_text(f"{GiB // 2}\n")
    assert cgroups.JobCgroup(1, {"memory": tmp_path}, GiB).oom_kills() == 0


def test_kill_all_kills_what_the_cgroup_lists(tmp_path):
    sleeper = subprocess.Popen(["sleep", "600"])
    (tmp_path / "cgroup.procs").write_text(f"{sleeper.pid}\n")
    group = cgroups.JobCgroup(1, {"memory": tmp_path, "pids": tmp_path})
    assert group.members() == {sleeper.pid}
    emptied = group.kill_all(timeout=0.2)  # a fake folder never empties itself
    assert not emptied
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(sleeper.pid, 0)  # reaped by kill_all (it is our child): gone
        except ProcessLookupError:
            break
        time.sleep(0.02)
    else:
        sleeper.kill()
        sleeper.wait()
        pytest.fail("the listed process was not killed")
    sleeper.wait(timeout=5)  # already reaped: Popen only learns it


def test_v2_kill_uses_cgroup_kill(tmp_path):
    (tmp_path / "cgroup.kill").write_text("")
    (tmp_path / "cgroup.procs").write_text("")
    assert cgroups.JobCgroup(2, {"unified": tmp_path}).kill_all(timeout=0.1)
    assert (tmp_path / "cgroup.kill").read_text() == "1"


def test_remove_deletes_the_folders(tmp_path):
    folders = [tmp_path / "memory", tmp_path / "pids"]
    for folder in folders:
        folder.mkdir()
    group = cgroups.JobCgroup(1, {"memory": folders[0], "pids": folders[1]})
    assert group.remove() == []
    assert not any(f.exists() for f in folders)
    assert group.remove() == []  # already gone: fine


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_stale_empty_cgroups_of_dead_graders_are_swept(tmp_path):
    old = time.time() - 2 * cgroups.STALE_SECONDS
    dead = tmp_path / f"{cgroups.CGROUP_PREFIX}{_dead_pid()}-aaa"
    recent = tmp_path / f"{cgroups.CGROUP_PREFIX}{_dead_pid()}-bbb"
    alive = tmp_path / f"{cgroups.CGROUP_PREFIX}{os.getpid()}-ccc"
    other = tmp_path / "someone-else"
    for folder in (dead, recent, alive, other):
        folder.mkdir()
        os.utime(folder, (old, old))
    os.utime(recent, None)
    assert cgroups.sweep_stale(tmp_path) == 1
    assert not dead.exists() and recent.exists() and alive.exists() and other.exists()


def test_job_cgroup_names_carry_the_grader_pid():
    assert cgroups.job_cgroup_name("m") == f"{cgroups.CGROUP_PREFIX}{os.getpid()}-m"


# -- the child's set-up ------------------------------------------------------------------

SHOW = (
    "import resource, socket, sys; "
    "print(resource.getrlimit(resource.RLIMIT_NOFILE)[1], resource.getrlimit(resource.RLIMIT_CORE)[1]); "
    "print(','.join(sorted(n for _, n in socket.if_nameindex())))"
)


def test_the_child_joins_the_cgroup_and_sets_the_rlimits(tmp_path):
    procs = tmp_path / "cgroup.procs"
    procs.write_text("")
    setup = isolation.ChildSetup({"RLIMIT_NOFILE": (256, 256), "RLIMIT_CORE": (0, 0)}, [str(procs)], False)
    child = subprocess.run([sys.executable, "-c", SHOW], preexec_fn=setup, capture_output=True, text=True)
    report = setup.collect()
    assert report == {}
    assert child.stdout.splitlines()[0] == "256 0", child.stderr
    written = procs.read_text()
    assert written.isdigit() and int(written) != os.getpid()  # the child's own pid


def test_what_the_child_could_not_do_is_reported_and_the_child_still_runs(tmp_path):
    setup = isolation.ChildSetup(
        {"RLIMIT_NOFILE": (-5, -5)}, [str(tmp_path / "missing" / "cgroup.procs")], False
    )
    child = subprocess.run(
        [sys.executable, "-c", "print('ran')"], preexec_fn=setup, capture_output=True, text=True
    )
    report = setup.collect()
    assert child.stdout.strip() == "ran"
    assert report["cgroup"] and report["rlimit"] == ["RLIMIT_NOFILE"]


def test_the_child_gets_its_own_network_with_loopback_up():
    setup = isolation.ChildSetup({}, [], True)
    code = (
        SHOW + "\ns = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)"
        "\nc = socket.create_connection(s.getsockname(), timeout=2); print('connected')"
    )
    child = subprocess.run([sys.executable, "-c", code], preexec_fn=setup, capture_output=True, text=True)
    report = setup.collect()
    if report.get("network"):
        pytest.skip(f"no network namespaces here: {report['network'][0]}")
    lines = child.stdout.splitlines()
    assert lines[1] == "lo", child.stderr
    assert lines[2] == "connected"


def test_collect_never_blocks_when_popen_failed():
    setup = isolation.ChildSetup({}, [], False)
    with pytest.raises(OSError):
        subprocess.Popen(["/nonexistent/program"], preexec_fn=setup)
    assert setup.collect() == {}


# -- the capped log ----------------------------------------------------------------------


def _feed(data: bytes, close: bool = True) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()

    def write() -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view[: 2**16]) :]
        if close:
            os.close(write_fd)

    threading.Thread(target=write, daemon=True).start()
    return read_fd, write_fd


def test_small_output_is_kept_whole(tmp_path):
    data = b"".join(b"line %d\n" % i for i in range(1000))
    read_fd, _ = _feed(data)
    capture = logcap.LogCapture(read_fd, tmp_path / "log", limit=2**20).start()
    tail = capture.finish(timeout=5)
    assert (tmp_path / "log").read_bytes() == data
    assert capture.dropped == 0 and capture.total == len(data)
    assert tail == data.decode()[-logcap.TAIL_CHARS :]


def test_a_flood_keeps_the_head_and_the_tail_and_counts_the_rest(tmp_path):
    limit, keep = 64 * 2**10, 16 * 2**10
    data = bytes(range(256)) * (20 * 2**20 // 256) + b"THE END\n"
    read_fd, _ = _feed(data)
    capture = logcap.LogCapture(read_fd, tmp_path / "log", limit=limit, tail=keep).start()
    deadline = time.monotonic() + 30
    while capture.total < len(data) and time.monotonic() < deadline:
        time.sleep(0.01)
    tail = capture.finish(timeout=5)
    log = (tmp_path / "log").read_bytes()
    head_size = limit - keep
    assert log.startswith(data[:head_size]) and log.endswith(data[-keep:])
    assert capture.total == len(data)
    assert capture.dropped == len(data) - limit
    assert f"{capture.dropped} bytes of console output dropped".encode() in log
    assert len(log) < limit + 200
    assert tail.endswith("THE END\n") and len(tail) <= logcap.TAIL_CHARS


def test_finish_returns_while_a_survivor_holds_the_pipe_open(tmp_path):
    read_fd, write_fd = _feed(b"hello\n", close=False)
    capture = logcap.LogCapture(read_fd, tmp_path / "log").start()
    time.sleep(0.2)
    started = time.monotonic()
    tail = capture.finish(timeout=0.5)
    assert time.monotonic() - started < 3
    assert tail == "hello\n"
    os.close(write_fd)


def test_finish_without_start_closes_cleanly(tmp_path):
    read_fd, write_fd = os.pipe()
    os.close(write_fd)
    capture = logcap.LogCapture(read_fd, tmp_path / "log")
    assert capture.finish() == ""
    assert (tmp_path / "log").read_bytes() == b""


# -- notes --------------------------------------------------------------------------------


def _job(tmp_path: Path, gpu: str | None = None) -> Job:
    return Job(tmp_path, None, LIMITS, gpu)


def test_no_notes_when_everything_was_enforced(tmp_path):
    group = cgroups.JobCgroup(1, {"memory": tmp_path, "pids": tmp_path})
    rlimits = rlim.rlimits_for(LIMITS, None, GRACE_SECONDS)
    assert isolation_notes(_job(tmp_path), rlimits, cgroups.CgroupResult(group), {}) == []


def test_notes_say_what_could_not_be_enforced(tmp_path):
    rlimits = rlim.rlimits_for(LIMITS, None, GRACE_SECONDS)
    result = cgroups.CgroupResult(None, "cgroups are not available here", "cgroups are not available here")
    child = {"network": ["network namespaces are not available here"]}
    notes = isolation_notes(_job(tmp_path), rlimits, result, child)
    space = f"{rlim.address_space_limit(LIMITS.memory) / GiB:.3g} GiB"
    assert any(n.startswith("memory not limited by a cgroup") and space in n for n in notes)
    assert any(n.startswith("number of processes not limited") for n in notes)
    assert any(n.startswith("network not isolated") for n in notes)
    gpu_rlimits = rlim.rlimits_for(LIMITS, "0", GRACE_SECONDS)
    gpu_notes = isolation_notes(_job(tmp_path, "0"), gpu_rlimits, result, {})
    assert any(n.startswith("memory not limited:") for n in gpu_notes)


def test_a_failed_cgroup_join_is_a_memory_note(tmp_path):
    group = cgroups.JobCgroup(1, {"memory": tmp_path})
    rlimits = rlim.rlimits_for(LIMITS, None, GRACE_SECONDS)
    child = {"cgroup": ["Permission denied"]}
    notes = isolation_notes(_job(tmp_path), rlimits, cgroups.CgroupResult(group), child)
    assert any("memory not limited" in n and "Permission denied" in n for n in notes)


def test_mount_points_are_unescaped_and_parents_come_first():
    info = (
        "36 25 0:32 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
        "22 1 252:1 / / rw,relatime - ext4 /dev/vda rw\n"
        "40 22 0:5 / /mnt/with\\040space rw - tmpfs tmpfs rw\n"
        "41 22 0:6 / /sys rw - sysfs sysfs rw\n"
    )
    assert isolation.mount_points(info) == ("/", "/sys", "/mnt/with space", "/sys/fs/cgroup")


def test_fs_plan_never_hides_what_the_run_needs(tmp_path):
    secret, library, env = tmp_path / "reference", tmp_path / "rubrics", tmp_path / "rubrics" / "venv"
    for folder in (secret, env):
        folder.mkdir(parents=True)
    job = tmp_path / "job"
    job.mkdir()
    plan = isolation.fs_plan(job, (job / "work",), (secret, library, tmp_path / "missing"), (env,), 2**20)
    assert plan.hidden == (str(secret),)  # the library holds the environment: read-only, not hidden
    assert plan.writable == str(job) and plan.readable == (str(env),)
    assert plan.scratch == (str(job / "work"),)
    assert "/" in plan.mounts and plan.drop_caps == (os.getuid() == 0)


def test_the_grader_shields_its_proc_entries():
    """Non-dumpable: a same-user sandbox without CAP_SYS_PTRACE cannot read its environment."""
    code = (
        "import ctypes; from autograde.runner.confine import shield_grader\n"
        "print(shield_grader(), ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))"  # PR_GET_DUMPABLE
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "0"]


def test_reachable_by_follows_every_folder_on_the_way(tmp_path):
    import shutil
    import tempfile

    from autograde.backends.local.isolation import reachable_by

    # under /tmp itself: pytest's own folders are open to their owner alone
    tmp_path = Path(tempfile.mkdtemp(dir="/tmp"))
    outer = tmp_path / "outer"
    inner = outer / "inner"
    inner.mkdir(parents=True)
    target = inner / "python"
    target.write_text("#!")
    os.chmod(tmp_path, 0o755)
    os.chmod(outer, 0o755)
    os.chmod(inner, 0o755)
    os.chmod(target, 0o644)
    nobody = (65534, 65534)
    assert reachable_by(target, *nobody)
    os.chmod(outer, 0o700)  # a folder on the way only its owner may enter
    assert not reachable_by(target, *nobody)
    os.chmod(outer, 0o755)
    os.chmod(target, 0o600)
    assert not reachable_by(target, *nobody)
    owner = os.stat(target)
    assert reachable_by(target, owner.st_uid, owner.st_gid)  # its owner may
    assert not reachable_by(tmp_path / "missing", *nobody)
    shutil.rmtree(tmp_path)


def test_run_as_is_kept_only_for_root_and_a_reachable_python(monkeypatch):
    from autograde.backends.local import backend as local

    notes: list[str] = []
    assert local._user_for(None, notes) is None and notes == []
    monkeypatch.setattr(local.os, "geteuid", lambda: 1000)
    assert local._user_for((65534, 65534), notes) is None and notes == []  # not root: nothing to drop
    monkeypatch.setattr(local.os, "geteuid", lambda: 0)
    monkeypatch.setattr(local.isolation, "reachable_by", lambda path, uid, gid: "venv" not in str(path))
    monkeypatch.setattr(local.sys, "executable", "/opt/venv/bin/python")
    assert local._user_for((65534, 65534), notes) is None
    assert notes == ["the notebook ran as the grader's user: uid 65534 cannot reach /opt/venv/bin/python"]
    monkeypatch.setattr(local.isolation, "reachable_by", lambda path, uid, gid: True)
    assert local._user_for((65534, 65534), []) == (65534, 65534)


def test_hand_over_gives_the_job_folder_without_following_links(tmp_path):
    from autograde.backends.local.isolation import hand_over

    job = tmp_path / "job"
    (job / "in").mkdir(parents=True)
    (job / "in" / "plan.json").write_text("{}")
    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    (job / "in" / "link").symlink_to(outside)
    if os.geteuid() != 0:
        pytest.skip("only root gives files away")
    hand_over(job, 65534, 65534)
    given = (job, job / "in", job / "in" / "plan.json", job / "in" / "link")
    assert {os.lstat(p).st_uid for p in given} == {65534}
    assert os.stat(outside).st_uid == 0  # the link's target is not the job's
