"""Which part of the local backend's confinement keeps CUDA from starting? Runs a CUDA
initialisation in a child under each part alone (rlimits, cgroup, network namespace, the
mount namespace, dropped capabilities) and under all of them, and prints the outcome."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from autograde.backends.base import SandboxLimits
from autograde.backends.local import isolation
from autograde.backends.local import rlimits as rlim
from autograde.backends.local.cgroups import create_job_cgroup, job_cgroup_name

CODE = "import torch; torch.cuda.init(); print('cuda ok', torch.cuda.device_count())"


def attempt(name: str, setup: isolation.ChildSetup | None) -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120,
                          preexec_fn=setup, env={**os.environ, "CUDA_VISIBLE_DEVICES": "0"})
    problems = setup.collect() if setup is not None else {}
    last = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["(no output)"]
    print(f"{name:28s} rc={done.returncode} {last[0][:160]} {problems or ''}", flush=True)


def main() -> None:
    limits = SandboxLimits(total_timeout=300, memory=8 * 2**30)
    rlimits = rlim.effective_rlimits(rlim.rlimits_for(limits, "0", 30))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "work").mkdir()
        full = isolation.fs_plan(root, (root / "work",), (), (Path(sys.prefix),), 2**28)
        bare = isolation.FsPlan(str(root), (), (), (), (), 2**28, False, full.last_cap)
        caps = isolation.FsPlan(str(root), (), (), (), (), 2**28, True, full.last_cap)
        readonly = isolation.FsPlan(full.writable, full.scratch, full.readable, (), full.mounts, 2**28,
                                    False, full.last_cap)
        attempt("nothing", None)
        attempt("rlimits", isolation.ChildSetup(rlimits, [], False))
        group = create_job_cgroup(job_cgroup_name("gpuprobe"), limits.memory, limits.pids)
        print("cgroup:", group.memory_problem, group.pids_problem)
        if group.cgroup is not None:
            attempt("cgroup", isolation.ChildSetup({}, group.cgroup.procs_files, False))
            group.cgroup.kill_all()
            group.cgroup.remove()
        attempt("network namespace", isolation.ChildSetup({}, [], True))
        attempt("mount ns, tmp+shm, nnp", isolation.ChildSetup({}, [], False, bare))
        attempt("read-only mounts", isolation.ChildSetup({}, [], False, readonly))
        attempt("caps dropped", isolation.ChildSetup({}, [], False, caps))
        for kept in ("/dev", "/proc", "/sys", "/usr/local/nvidia"):
            mounts = tuple(m for m in full.mounts if not (m == kept or m.startswith(kept + "/")))
            plan = isolation.FsPlan(full.writable, full.scratch, full.readable, (), mounts, 2**28,
                                    False, full.last_cap)
            attempt(f"read-only but {kept}", isolation.ChildSetup({}, [], False, plan))
        attempt("everything", isolation.ChildSetup(rlimits, [], True, full))
    listing = "ls -la /dev/nvidia* /dev/dri 2>&1 | head; grep -E ' /dev| /proc' /proc/self/mountinfo"
    print(subprocess.run(listing, shell=True, capture_output=True, text=True).stdout)


if __name__ == "__main__":
    main()
