"""The probe phase: each probe of the plan runs in the kernel the notebook left, through
the harness, and leaves exactly one record in out/probes/: the harness's own, or one
written here when the probe ended without it (it crashed, ran out of time, wrote nothing)
or was never reached (no kernel was left, the runner's deadline came)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograde.runner import protocol
from autograde.runner.kernel import Outcome
from autograde.runner.notebook_run import NotebookRun
from autograde.runner.protocol import ProbeStatus

HARNESS_MODULE = "_autograde_harness"
_HARNESS_STATUSES = {"OK": ProbeStatus.OK, "ERROR": ProbeStatus.ERROR, "MISSING": ProbeStatus.MISSING}


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    tmp.replace(path)


def install_harness_code() -> str:
    """Kernel code that makes the harness an importable module, with the protocol's statuses."""
    source = Path(__file__).with_name("harness_src.py").read_text(encoding="utf-8")
    statuses = {name: str(status) for name, status in _HARNESS_STATUSES.items()}
    return (
        "import sys as _s, types as _t\n"
        f"_m = _t.ModuleType({HARNESS_MODULE!r})\n"
        f"exec(compile({source!r}, '<autograde-harness>', 'exec'), _m.__dict__)\n"
        f"_m.__dict__.update({statuses!r})\n"
        f"_s.modules[{HARNESS_MODULE!r}] = _m\n"
        "del _s, _t, _m\n"
    )


@dataclass(frozen=True)
class JobFiles:
    """Where the probes read from and write to (absolute: the kernel runs in work/)."""

    plan: Path
    inputs: Path
    out: Path

    @classmethod
    def of(cls, in_dir: Path, out_dir: Path) -> JobFiles:
        return cls(
            (in_dir / protocol.PLAN).resolve(), (in_dir / protocol.INPUTS).resolve(), out_dir.resolve()
        )

    def harness_call(self, probe_id: str) -> str:
        paths = (
            str(self.plan),
            str(self.inputs),
            str(protocol.probe_record(self.out, probe_id)),
            str(protocol.probe_arrays(self.out, probe_id)),
        )
        return f"__import__({HARNESS_MODULE!r}).run({probe_id!r}, *{paths!r})"


def _what(probe: dict[str, Any]) -> str:
    target = probe.get("target")
    return f"`{target}`" if isinstance(target, str) else f"probe {probe['id']}"


def _message(outcome: Outcome, timeout: float) -> str:
    """Why a probe has no record of the harness's."""
    if outcome.status in {"timeout", "unresponsive"}:
        return f"did not finish within {timeout:g}s"
    if outcome.status == "crashed":
        how = f" ({outcome.ename}: {outcome.evalue})" if outcome.ename else ""
        return f"the kernel died while this was being checked{how}"
    if outcome.status == "ok":  # the harness returned, yet its record is not there
        return (
            "the check's probe returned but wrote no result: the notebook changed something it "
            "relies on (a function of os, json or numpy)"
        )
    return f"the check's probe failed in the kernel ({outcome.ename}: {outcome.evalue or ''})"


def run_probes(
    run: NotebookRun, plan: dict[str, Any], files: JobFiles, summary: dict[str, Any]
) -> None:
    """Run every probe of the plan in order; the time per probe goes to ``summary["probes"]``
    and why the later ones were not run (once) to ``summary["notes"]``."""
    limits, probes = plan["limits"], plan["probes"]
    not_run: list[str] = []
    for probe in probes:
        probe_id = probe["id"]
        record_path = protocol.probe_record(files.out, probe_id)
        if run.session is not None and time.monotonic() >= run.deadline:
            run.close()
            run.gone = f"the submission's time limit ({limits['total_timeout']:g}s) left no time for it"
        if run.session is None:
            why = run.gone or "no kernel was left to run it"
            not_run.append(why)
            write_json(record_path, {"id": probe_id, "status": ProbeStatus.NOT_RUN,
                                     "message": f"not run: {why}"})
            continue
        timeout = float(probe.get("timeout", limits["probe_timeout"]))
        outcome = run.run_probe(files.harness_call(probe_id), timeout, _what(probe))
        summary["probes"][probe_id] = round(outcome.seconds, 3)
        lost = outcome.status in {"timeout", "unresponsive", "crashed"}
        if lost or not record_path.exists():
            protocol.probe_arrays(files.out, probe_id).unlink(missing_ok=True)
            status = {
                "timeout": ProbeStatus.TIMEOUT,
                "unresponsive": ProbeStatus.TIMEOUT,
                "crashed": ProbeStatus.CRASHED,
            }.get(outcome.status, ProbeStatus.ERROR)
            message = _message(outcome, timeout)
            write_json(record_path, {"id": probe_id, "status": status, "message": message})
    if not_run:
        summary["notes"].append(f"later checks were not run ({len(not_run)} probes): {not_run[0]}")
