"""The in-sandbox entry point: ``python -m autograde.runner --in IN --out OUT --work WORK [--warm]``.

Every backend launches exactly this; only the launch differs. It executes the
parameterized notebook, then the probes of the plan (file names: `protocol`), and writes
data only to OUT; a plan of another format version is refused before anything runs. With
``--warm`` it first starts the kernel and waits for its job (`warm`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

from autograde.runner import confine, device, procs, protocol
from autograde.runner.forked_kernel import preimport
from autograde.runner.kernel import KernelSession
from autograde.runner.notebook_run import NotebookRun
from autograde.runner.outputs import cap_outputs
from autograde.runner.probe_phase import JobFiles, install_harness_code, run_probes, write_json
from autograde.runner.warm import WarmKernel, WarmSpec, preload_code, wait_for_start, warm_up, write_ready


def _socket_base() -> str | None:
    """A short folder for the kernel's unix sockets: their paths may not exceed 107 bytes,
    and the job's own TMPDIR can be deep (a grader started with a long TMPDIR)."""
    default = tempfile.gettempdir()
    if len(default) <= 40:
        return default
    return "/tmp" if os.access("/tmp", os.W_OK | os.X_OK) else default


def _device_setup(
    plan: dict[str, Any],
    nb: Any,
    limits: dict[str, Any],
    notes: list[str],
    gpus: tuple[int, str] | None = None,
) -> tuple[str | None, str | None]:
    """The kernel's prelude (seeds; for a CUDA job also determinism), or why the job cannot
    run (a CUDA job without a GPU). `gpus`: what a warm-up already found."""
    if plan.get("device", "cpu") != "cuda":
        return device.seed_prelude(plan.get("seed")), None
    device.prepare_environment()
    count, why = gpus if gpus is not None else device.visible_gpus()
    if count:
        return device.cuda_prelude(plan.get("seed")), None
    if limits.get("gpu_fallback_cpu"):
        for cell in nb.cells:
            if "injected-parameters" in cell.metadata.get("tags", []):
                cell.source += '\ndevice = "cpu"  # no GPU in the sandbox; the rubric allows the CPU\n'
        notes.append(f"this GPU job found no GPU ({why}) and ran on the CPU, as the rubric allows")
        return device.seed_prelude(plan.get("seed")), None
    return None, (
        f"this GPU job found no GPU in the sandbox ({why}); grade on a GPU machine "
        "(docker: --gpus, with the NVIDIA container toolkit) or without --gpus"
    )


def _copy_support_files(source: Path, work: Path) -> str | None:
    """The assignment's support files, copied beside the notebook (the working folder is a
    fresh scratch area in every backend); why not, when they do not fit."""
    if not source.is_dir():
        return None
    try:
        shutil.copytree(source, work, dirs_exist_ok=True)
    except (OSError, shutil.Error) as exc:
        return f"the assignment's support files could not be copied beside the notebook: {exc}"[:1000]
    return None


def _warm_start(args: argparse.Namespace, runtime_dir: str, summary: dict[str, Any]) -> WarmKernel | None:
    """A warm sandbox: prepare the kernel, say so, wait for the job. None: no job came (the
    runner then ends without a result), or the spec was unusable (a result with the reason)."""
    spec, problem = WarmSpec.read(args.in_dir)
    if spec is None:
        summary["fatal"] = problem
        return None
    warm = warm_up(spec, args.work_dir, runtime_dir)
    write_ready(args.out_dir, warm)
    if not wait_for_start(args.in_dir, spec.idle_seconds):
        if warm.session is not None:
            warm.session.stop()
        return None
    summary["warm"] = warm.record()
    if warm.problem:
        summary["notes"].append(f"the warm sandbox had no kernel ({warm.problem}); a fresh one was used")
    return warm


def main(argv: list[str] | None = None) -> int:
    confined = confine.become_pid_init()  # first, while this process has no threads
    parser = argparse.ArgumentParser(prog="autograde.runner")
    parser.add_argument("--in", dest="in_dir", required=True, type=Path)
    parser.add_argument("--out", dest="out_dir", required=True, type=Path)
    parser.add_argument("--work", dest="work_dir", required=True, type=Path)
    parser.add_argument("--warm", action="store_true", help="start the kernel, then wait for in/start")
    args = parser.parse_args(argv)
    procs.become_subreaper()

    summary: dict[str, Any] = {"python": platform.python_version(), "probes": {}, "notes": confined}
    runtime_dir = tempfile.mkdtemp(prefix="agk-", dir=_socket_base())
    warm = None
    if args.warm:
        warm = _warm_start(args, runtime_dir, summary)
        if warm is None and "fatal" not in summary:
            shutil.rmtree(runtime_dir, ignore_errors=True)
            return 0
    started = time.monotonic()
    try:
        plan = json.loads((args.in_dir / protocol.PLAN).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        plan = None
        summary.setdefault("fatal", f"the grading plan could not be read ({exc})")
    problem = summary.get("fatal") or protocol.plan_problem(plan)
    if not problem and warm is not None and plan.get("device", "cpu") != warm.spec.device:
        problem = "the warm sandbox was prepared for another device than its job's (a grader bug)"
    if problem:  # nothing of the job is run: the host reports a grader error with the reason
        if warm is not None and warm.session is not None:
            warm.session.stop()
        shutil.rmtree(runtime_dir, ignore_errors=True)
        write_json(args.out_dir / protocol.RUN_SUMMARY, {**summary, "fatal": problem})
        return 0
    assert isinstance(plan, dict)
    limits = plan["limits"]
    nb = nbformat.read(args.in_dir / protocol.NOTEBOOK, as_version=4)
    copied = _copy_support_files(args.in_dir / protocol.FILES, args.work_dir)
    (args.out_dir / protocol.PROBES).mkdir(parents=True, exist_ok=True)
    deadline = started + float(limits["total_timeout"]) * 0.8
    install = install_harness_code(runtime_dir)

    def harness_ready(session: KernelSession) -> None:
        session.run_code(install, 30)

    prelude, fatal = _device_setup(plan, nb, limits, summary["notes"], warm.gpus if warm else None)
    preload = [str(m) for m in plan.get("preload", []) if isinstance(m, str)]
    if prelude is not None:  # a kernel not forked with them (warm, a replay's) imports them first
        prelude = preload_code(preload) + prelude
    fatal = copied or fatal
    run = NotebookRun(
        nb,
        str(args.work_dir),
        runtime_dir,
        float(limits["cell_timeout"]),
        int(limits["max_replays"]),
        deadline,
        harness_ready,
        prelude,
    )
    if warm is not None and warm.session is not None:
        run.adopt(warm.session, warm.seconds)
    elif not fatal and plan.get("fork", True) is not False:  # the first kernel forked from here
        preimport(preload)
        run.fork_first = True
    try:
        if fatal:
            summary["fatal"] = fatal
            run.mark_all(f"not run: {fatal}")
        else:
            run.execute()
            write_json(args.out_dir / protocol.CELLS, run.cell_records())
            run_probes(run, plan, JobFiles.of(args.in_dir, args.out_dir), summary)
    finally:
        run.close()
        procs.kill_descendants()
        shutil.rmtree(runtime_dir, ignore_errors=True)
        cap_outputs(nb, int(limits["output_bytes"]))
        nbformat.write(nb, args.out_dir / protocol.EXECUTED)
        summary.update(replays=run.replays, kernels=run.kernels, seconds=round(time.monotonic() - started, 3))
        write_json(args.out_dir / protocol.CELLS, run.cell_records())
        write_json(args.out_dir / protocol.RUN_SUMMARY, summary)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # every result is written: no interpreter teardown to wait for
