"""The in-sandbox entry point: ``python -m autograde.runner --in IN --out OUT --work WORK``.

Every backend launches exactly this; only the launch differs. It executes the
parameterized notebook, then the probes of ``plan.json``, and writes data only to OUT.
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

from autograde.runner import confine, device, procs
from autograde.runner.kernel import KernelSession
from autograde.runner.notebook_run import NotebookRun
from autograde.runner.outputs import cap_outputs

HARNESS_MODULE = "_autograde_harness"


def _install_harness_code() -> str:
    source = (Path(__file__).with_name("harness_src.py")).read_text(encoding="utf-8")
    return (
        "import sys as _s, types as _t\n"
        f"_m = _t.ModuleType({HARNESS_MODULE!r})\n"
        f"exec(compile({source!r}, '<autograde-harness>', 'exec'), _m.__dict__)\n"
        f"_s.modules[{HARNESS_MODULE!r}] = _m\n"
        "del _s, _t, _m\n"
    )


def _write(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    tmp.replace(path)


def _socket_base() -> str | None:
    """A short folder for the kernel's unix sockets: their paths may not exceed 107 bytes,
    and the job's own TMPDIR can be deep (a grader started with a long TMPDIR)."""
    default = tempfile.gettempdir()
    if len(default) <= 40:
        return default
    return "/tmp" if os.access("/tmp", os.W_OK | os.X_OK) else default


def _device_setup(
    plan: dict[str, Any], nb: Any, limits: dict[str, Any], notes: list[str]
) -> tuple[str | None, str | None]:
    """The kernel's prelude (seeds; for a CUDA job also determinism), or why the job cannot
    run (a CUDA job without a GPU)."""
    if plan.get("device", "cpu") != "cuda":
        return device.seed_prelude(plan.get("seed")), None
    device.prepare_environment()
    count, why = device.visible_gpus()
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


def main(argv: list[str] | None = None) -> int:
    confined = confine.become_pid_init()  # first, while this process has no threads
    parser = argparse.ArgumentParser(prog="autograde.runner")
    parser.add_argument("--in", dest="in_dir", required=True, type=Path)
    parser.add_argument("--out", dest="out_dir", required=True, type=Path)
    parser.add_argument("--work", dest="work_dir", required=True, type=Path)
    args = parser.parse_args(argv)
    started = time.monotonic()
    procs.become_subreaper()

    plan = json.loads((args.in_dir / "plan.json").read_text(encoding="utf-8"))
    limits = plan["limits"]
    nb = nbformat.read(args.in_dir / "notebook.ipynb", as_version=4)
    probe_dir = args.out_dir / "probes"
    probe_dir.mkdir(parents=True, exist_ok=True)
    deadline = started + float(limits["total_timeout"]) * 0.8
    install = _install_harness_code()

    def harness_ready(session: KernelSession) -> None:
        session.run_code(install, 30)

    summary: dict[str, Any] = {"python": platform.python_version(), "probes": {}, "notes": confined}
    prelude, fatal = _device_setup(plan, nb, limits, summary["notes"])
    runtime_dir = tempfile.mkdtemp(prefix="agk-", dir=_socket_base())
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
    try:
        if fatal:
            summary["fatal"] = fatal
            run.mark_all(f"not run: {fatal}")
            plan["probes"] = []
        else:
            run.execute()
        _write(args.out_dir / "cells.json", run.cell_records())
        plan_path = str((args.in_dir / "plan.json").resolve())
        for probe in plan["probes"]:
            if run.session is None:
                break
            code = (
                f"__import__({HARNESS_MODULE!r}).run({plan_path!r}, {probe['id']!r}, "
                f"{str(probe_dir.resolve())!r})"
            )
            probe_timeout = float(probe.get("timeout", limits["probe_timeout"]))
            outcome = run.run_probe(code, probe_timeout)
            summary["probes"][probe["id"]] = round(outcome.seconds, 3)
            lost = outcome.status in {"timeout", "unresponsive", "crashed"}
            if lost or not (probe_dir / f"{probe['id']}.json").exists():
                (probe_dir / f"{probe['id']}.npz").unlink(missing_ok=True)
                status = {"unresponsive": "timeout"}.get(outcome.status, outcome.status)
                message = {
                    "timeout": f"did not finish within {probe_timeout:g}s",
                    "crashed": "the kernel died while this was being checked",
                }.get(status, f"{outcome.ename or 'no result'}: {outcome.evalue or ''}".strip())
                _write(
                    probe_dir / f"{probe['id']}.json",
                    {"id": probe["id"], "status": status, "message": message},
                )
    finally:
        run.close()
        procs.kill_descendants()
        shutil.rmtree(runtime_dir, ignore_errors=True)
        cap_outputs(nb, int(limits["output_bytes"]))
        nbformat.write(nb, args.out_dir / "executed.ipynb")
        summary.update(replays=run.replays, seconds=round(time.monotonic() - started, 3))
        _write(args.out_dir / "cells.json", run.cell_records())
        _write(args.out_dir / "run.json", summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
