"""The probe phase: each probe of the plan runs in the kernel the notebook left, through
the harness, and leaves exactly one record in out/probes/: the harness's own, or one
written here when the probe ended without it (it crashed, ran out of time, wrote nothing)
or was never reached (no kernel was left, the runner's deadline came).

The probes run in batches, in plan order: one execute request runs all those left (a round
trip costs ~6 ms, most of what a probe costs), each with its own time limit (probe_batch).
A batch a probe ends badly stops there; that probe gets the record it would have got alone
and the rest go on in the next batch. A batch that ends without saying why leaves the rest
to run one per request, as they always could."""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograde.runner import protocol
from autograde.runner.kernel import RESPONSIVE_SECONDS, Outcome
from autograde.runner.notebook_run import NotebookRun
from autograde.runner.probe_batch import Watchdog, read_log
from autograde.runner.protocol import ProbeStatus

HARNESS_MODULE = "_autograde_harness"
BATCH_ENV = "AUTOGRADE_PROBE_BATCH"  # "0": every probe in a request of its own (to compare)
_LOST = {"timeout": ProbeStatus.TIMEOUT, "unresponsive": ProbeStatus.TIMEOUT, "crashed": ProbeStatus.CRASHED}
_HARNESS_STATUSES = {"OK": ProbeStatus.OK, "ERROR": ProbeStatus.ERROR, "MISSING": ProbeStatus.MISSING}


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    tmp.replace(path)


_HARNESS_PATH = Path(__file__).with_name("harness_src.py").resolve()
_HARNESS_SOURCE = _HARNESS_PATH.read_text(encoding="utf-8")
# compiled once per process (the fork server's runners inherit it): the kernel loads the code
# object instead of compiling ~23 kB of source in the job's time (~25 ms a job)
_HARNESS_CODE = importlib.util.MAGIC_NUMBER + marshal.dumps(
    compile(_HARNESS_SOURCE, "<autograde-harness>", "exec")
)


def install_harness_code(runtime_dir: str) -> str:
    """Kernel code that makes the harness an importable module, with the protocol's statuses.
    The compiled harness is written into `runtime_dir` (the runner's, where the kernel reads
    its connection file); a kernel of another Python compiles the runner's source file."""
    code, source = Path(runtime_dir, "harness.code"), _HARNESS_PATH
    code.write_bytes(_HARNESS_CODE)
    statuses = {name: str(status) for name, status in _HARNESS_STATUSES.items()}
    return (
        "import sys as _s, types as _t, marshal as _ml, importlib.util as _iu\n"
        f"_m = _t.ModuleType({HARNESS_MODULE!r})\n"
        f"with open({str(code)!r}, 'rb') as _f:\n"
        "    _b = _f.read()\n"
        "if _b[:len(_iu.MAGIC_NUMBER)] == _iu.MAGIC_NUMBER:\n"
        "    _c = _ml.loads(_b[len(_iu.MAGIC_NUMBER):])\n"
        "else:\n"
        f"    with open({str(source)!r}, encoding='utf-8') as _f:\n"
        "        _c = compile(_f.read(), '<autograde-harness>', 'exec')\n"
        "exec(_c, _m.__dict__)\n"
        f"_m.__dict__.update({statuses!r})\n"
        f"_s.modules[{HARNESS_MODULE!r}] = _m\n"
        "del _s, _t, _ml, _iu, _m, _f, _b, _c\n"
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

    def batch_call(self, probe_ids: list[str], log: Path, seconds_left: float) -> str:
        """Kernel code that runs the probes in turn, logging each to `log` (probe_batch)."""
        items = [
            (probe_id, str(protocol.probe_record(self.out, probe_id)),
             str(protocol.probe_arrays(self.out, probe_id)))
            for probe_id in probe_ids
        ]
        paths = (str(self.plan), str(self.inputs), str(log))
        left = round(min(max(seconds_left, 0.0), 1e9), 3)  # a literal (no inf) the kernel can read
        return f"__import__({HARNESS_MODULE!r}).run_batch({items!r}, *{paths!r}, {left!r})"


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
    """Run every probe of the plan in order; the time per probe goes to ``summary["probes"]``,
    the execute requests made to ``summary["round_trips"]`` and why the later ones were not
    run (once) to ``summary["notes"]``."""
    started = time.monotonic()
    _ProbePhase(run, plan, files, summary).run()
    summary["probe_seconds"] = round(time.monotonic() - started, 3)


class _ProbePhase:
    """The probes left, run in batches (one execute request each, see probe_batch); a probe
    that a batch left without a verdict of its own is run alone, as it would have been."""

    def __init__(self, run: NotebookRun, plan: dict[str, Any], files: JobFiles, summary: dict[str, Any]):
        self.run_, self.files, self.summary = run, files, summary
        self.limits = plan["limits"]
        self.pending: list[dict[str, Any]] = list(plan["probes"])
        self.batched = os.environ.get(BATCH_ENV, "1") != "0"
        self.alone: set[str] = set()  # left by a batch that ended without telling why
        self.batches = 0
        self.not_run: list[str] = []
        summary["round_trips"] = 0

    def run(self) -> None:
        while self.pending:
            if not self._kernel_left(self.pending[0]):
                del self.pending[0]
                continue
            chunk = self._chunk()
            if len(chunk) == 1:
                self._alone(chunk[0])
                del self.pending[0]
            else:
                del self.pending[: self._batch(chunk)]
        if self.not_run:
            self.summary["notes"].append(
                f"later checks were not run ({len(self.not_run)} probes): {self.not_run[0]}"
            )

    def _timeout(self, probe: dict[str, Any]) -> float:
        return float(probe.get("timeout", self.limits["probe_timeout"]))

    def _kernel_left(self, probe: dict[str, Any]) -> bool:
        """Whether a kernel is there to run `probe`; if not, its record says why."""
        run = self.run_
        if run.session is not None and time.monotonic() >= run.deadline:
            run.close()
            run.gone = f"the submission's time limit ({self.limits['total_timeout']:g}s) left no time for it"
        if run.session is not None:
            return True
        why = run.gone or "no kernel was left to run it"
        self.not_run.append(why)
        write_json(protocol.probe_record(self.files.out, probe["id"]),
                   {"id": probe["id"], "status": ProbeStatus.NOT_RUN, "message": f"not run: {why}"})
        return False

    def _chunk(self) -> list[dict[str, Any]]:
        """The probes of the next request: all those left up to one that must run alone."""
        if not self.batched or self.pending[0]["id"] in self.alone:
            return self.pending[:1]
        chunk = []
        for probe in self.pending:
            if probe["id"] in self.alone:
                break
            chunk.append(probe)
        return chunk

    def _settle(self, probe: dict[str, Any], outcome: Outcome, seconds: float) -> None:
        """The record of a probe the harness left none for (or one the runner overrides)."""
        protocol.probe_arrays(self.files.out, probe["id"]).unlink(missing_ok=True)
        status = _LOST.get(outcome.status, ProbeStatus.ERROR)
        message = _message(outcome, self._timeout(probe))
        write_json(protocol.probe_record(self.files.out, probe["id"]),
                   {"id": probe["id"], "status": status, "message": message})
        self.summary["probes"][probe["id"]] = round(seconds, 3)

    def _alone(self, probe: dict[str, Any]) -> None:
        """One probe in its own execute request."""
        probe_id = probe["id"]
        self.summary["round_trips"] += 1
        outcome = self.run_.run_probe(self.files.harness_call(probe_id), self._timeout(probe), _what(probe))
        self.summary["probes"][probe_id] = round(outcome.seconds, 3)
        if outcome.status in _LOST or not protocol.probe_record(self.files.out, probe_id).exists():
            self._settle(probe, outcome, outcome.seconds)

    def _batch(self, chunk: list[dict[str, Any]]) -> int:
        """Run `chunk` in one request; how many of its probes (from the first) have their
        final record. The one a lost kernel or its time limit stopped gets the record it would
        have got alone; after a batch that ended without saying why, the rest run alone."""
        run = self.run_
        assert run.session is not None
        self.batches += 1
        log = Path(run.runtime_dir) / f"probes-{self.batches}.log"
        order = [(probe["id"], self._timeout(probe)) for probe in chunk]
        ids = [probe_id for probe_id, _ in order]
        code = self.files.batch_call(ids, log, run.deadline - time.monotonic())
        dog = Watchdog(log, order, run.session.pid)
        if not dog.start():  # without it a hanging probe would hold up the rest: each runs alone
            self.alone.update(ids)
            return 0
        self.summary["round_trips"] += 1
        try:
            outcome = run.session.run_code(code, sum(limit for _, limit in order) + RESPONSIVE_SECONDS)
        finally:
            dog.stop()
        done = read_log(log)
        log.unlink(missing_ok=True)
        settled = 0
        for probe in chunk:
            overrun = dog.overruns.get(probe["id"])
            if overrun is not None:
                self._settle(probe, Outcome("timeout"), overrun.seconds)
                if overrun.killed or outcome.status in _LOST:
                    run.recover_after("unresponsive", _what(probe))
                for later in chunk[settled + 1 :]:  # an interrupt that came late hit the next one
                    if later["id"] in done:
                        protocol.probe_record(self.files.out, later["id"]).unlink(missing_ok=True)
                        protocol.probe_arrays(self.files.out, later["id"]).unlink(missing_ok=True)
                return settled + 1
            if probe["id"] not in done:
                break
            self.summary["probes"][probe["id"]] = round(done[probe["id"]], 3)
            if not protocol.probe_record(self.files.out, probe["id"]).exists():
                self._settle(probe, Outcome("ok"), done[probe["id"]])
            settled += 1
        if settled == len(chunk):
            return settled
        stopped = chunk[settled]
        if outcome.status == "crashed":
            self._settle(stopped, outcome, dog.running(done)[1])
            run.recover_after("crashed", _what(stopped))
            return settled + 1
        run.recover_after(outcome.status, _what(stopped))  # a backstop timeout that lost the kernel
        if outcome.status != "ok" or not settled:  # not the harness's own stop: no batch for these
            self.alone.update(probe["id"] for probe in chunk[settled:])
        return settled
