"""The runner's side of the sandbox protocol, without a kernel: file names only from
protocol.py, the plan's version, the harness's lazy inputs, what the probe phase records
for a probe that left no result or was never reached."""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import os
import types
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest

from autograde.runner import probe_phase, protocol
from autograde.runner.kernel import Outcome
from autograde.runner.probe_phase import JobFiles, run_probes
from autograde.runner.protocol import ProbeStatus

RUNNER = Path(protocol.__file__).parent
FILE_NAMES = {protocol.NOTEBOOK, protocol.PLAN, protocol.INPUTS, protocol.CELLS, protocol.RUN_SUMMARY,
              protocol.EXECUTED}


def string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef) and node.body
                  and isinstance(node.body[0], ast.Expr)}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings}


def path_parts(path: Path) -> set[str]:
    """Strings joined into a path: `folder / "x"`, `os.path.join(folder, "x")`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            operands = [node.left, node.right]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "join":
            operands = list(node.args)
        else:
            continue
        found |= {o.value for o in operands if isinstance(o, ast.Constant) and isinstance(o.value, str)}
    return found


@pytest.mark.parametrize("path", sorted(p for p in RUNNER.glob("*.py") if p.name != "protocol.py"),
                         ids=lambda p: p.name)
def test_no_runner_module_spells_a_protocol_file_name(path):
    """The plan's `probes` key may be spelled; the probes folder may not."""
    spelled = {text for text in string_constants(path)
               if any(text == name or text.endswith(("/" + name, "." + name.rpartition(".")[2]))
                      for name in FILE_NAMES)}
    spelled |= {part for part in path_parts(path) if part.strip("/") == protocol.PROBES}
    assert not spelled, f"{path.name} spells {spelled}: use autograde.runner.protocol"


def test_the_harness_spells_no_probe_status():
    constants = string_constants(RUNNER / "harness_src.py")
    assert not constants & {str(status) for status in ProbeStatus}


def test_plan_problem_names_both_versions():
    assert protocol.plan_problem({"version": protocol.PLAN_VERSION}) is None
    problem = protocol.plan_problem({"version": protocol.PLAN_VERSION + 1})
    assert problem is not None
    newer, ours = protocol.PLAN_VERSION + 1, protocol.PLAN_VERSION
    assert f"version {newer} but this runner reads version {ours}" in problem
    assert protocol.plan_problem({}) is not None and protocol.plan_problem([1]) is not None


# -- the harness, loaded as the runner installs it -------------------------------------------------


def install(runtime_dir: Path) -> types.ModuleType:
    namespace: dict[str, Any] = {}
    exec(compile(probe_phase.install_harness_code(str(runtime_dir)), "<install>", "exec"), namespace)
    import sys

    return sys.modules.pop(probe_phase.HARNESS_MODULE)


@pytest.fixture
def harness(tmp_path_factory) -> types.ModuleType:
    return install(tmp_path_factory.mktemp("runtime"))


def test_the_harness_is_installed_from_its_compiled_code(tmp_path):
    module = install(tmp_path)
    assert (tmp_path / "harness.code").read_bytes().startswith(importlib.util.MAGIC_NUMBER)
    assert module.run_batch.__code__.co_filename == "<autograde-harness>"


def test_a_kernel_of_another_python_compiles_the_harness_source(tmp_path):
    source = probe_phase.install_harness_code(str(tmp_path))
    (tmp_path / "harness.code").write_bytes(b"\0\0\0\0 another Python's marshal")
    namespace: dict[str, Any] = {}
    exec(compile(source, "<install>", "exec"), namespace)
    import sys

    module = sys.modules.pop(probe_phase.HARNESS_MODULE)
    assert (module.OK, module.ERROR) == (ProbeStatus.OK, ProbeStatus.ERROR)
    assert module.run_batch.__code__.co_filename == "<autograde-harness>"


def corrupt_member() -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": (10**6,)})
    return buffer.getvalue() + b"\0" * 8  # far shorter than its header says


def test_the_installed_harness_carries_the_protocols_statuses(harness):
    assert (harness.OK, harness.ERROR, harness.MISSING) == (
        ProbeStatus.OK, ProbeStatus.ERROR, ProbeStatus.MISSING)


def test_harness_loads_only_the_arrays_its_probe_names(harness, tmp_path, monkeypatch):
    inputs = tmp_path / "in.npz"
    whole = tmp_path / "whole.npz"
    np.savez(whole, x=np.arange(3.0), y=np.ones(2))
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(inputs, "w") as target:
        target.writestr("x.npy", source.read("x.npy"))
        target.writestr("y.npy", source.read("y.npy"))
        target.writestr("hidden.npy", corrupt_member())
    read: list[str] = []
    real = np.lib.npyio.NpzFile.__getitem__

    def spy(self: Any, key: str) -> Any:
        read.append(key)
        return real(self, key)

    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__", spy)
    loaded = harness._Inputs(str(inputs))
    try:
        first = loaded.build({"array": "x"})
        again = loaded.build({"array": "x", "each": True}, 1)
    finally:
        loaded.close()
    np.testing.assert_array_equal(first, [0.0, 1.0, 2.0])
    assert again == 1.0
    assert read == ["x"]  # read once, and nothing else: neither y nor the corrupt hidden set


def test_harness_writes_its_results_where_the_runner_says(harness, tmp_path):
    record, arrays = tmp_path / "r.json", tmp_path / "r.npz"
    writer = harness._Writer(str(record), str(arrays))
    key = writer.add(np.arange(3))
    writer.finish({"status": harness.OK, "results": [{"array": key}]})
    assert json.loads(record.read_text())["status"] == "ok"
    with np.load(arrays) as stored:
        np.testing.assert_array_equal(stored[key], [0, 1, 2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "r.npz"]


# -- the probe phase with a stand-in for the kernel ------------------------------------------------


class FakeRun:
    """A NotebookRun whose probes end as told; a crash leaves no kernel (and says why)."""

    def __init__(self, outcomes: dict[str, Outcome], deadline: float = float("inf")) -> None:
        self.outcomes = outcomes
        self.deadline = deadline
        self.session: object | None = object()
        self.gone: str | None = None
        self.ran: list[str] = []

    def run_probe(self, code: str, timeout: float, what: str) -> Outcome:
        probe_id = code.split("(")[2].split(",")[0].strip("'\"")
        self.ran.append(probe_id)
        outcome = self.outcomes[probe_id]
        if outcome.status == "crashed":
            self.session, self.gone = None, f"the kernel died while {what} was being checked, and no time"
        return outcome

    def close(self) -> None:
        self.session = None


def probe_phase_run(tmp_path: Path, run: FakeRun, ids: list[str]) -> dict[str, Any]:
    (tmp_path / protocol.PROBES).mkdir()
    plan = {"limits": {"probe_timeout": 3, "total_timeout": 60},
            "probes": [{"id": i, "op": "call", "target": f"f_{i}"} for i in ids]}
    summary: dict[str, Any] = {"probes": {}, "notes": []}
    with mock.patch.dict(os.environ, {probe_phase.BATCH_ENV: "0"}):  # FakeRun runs one probe a request
        run_probes(run, plan, JobFiles(tmp_path / "plan", tmp_path / "inputs", tmp_path), summary)  # type: ignore[arg-type]
    return summary


def record(tmp_path: Path, probe_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(protocol.probe_record(tmp_path, probe_id).read_text())
    return data


def test_a_probe_that_returned_without_its_record_is_an_error(tmp_path):
    run = FakeRun({"p0": Outcome("ok", 0.1)})
    probe_phase_run(tmp_path, run, ["p0"])
    got = record(tmp_path, "p0")
    assert got["status"] == ProbeStatus.ERROR and "wrote no result" in got["message"]


def test_after_a_crash_without_a_kernel_the_later_probes_say_why(tmp_path):
    run = FakeRun({"p0": Outcome("crashed", 0.1), "p1": Outcome("ok", 0.1)})
    summary = probe_phase_run(tmp_path, run, ["p0", "p1", "p2"])
    assert run.ran == ["p0"]
    assert record(tmp_path, "p0")["status"] == ProbeStatus.CRASHED
    for later in ("p1", "p2"):
        got = record(tmp_path, later)
        assert got["status"] == ProbeStatus.NOT_RUN and "`f_p0`" in got["message"]
    assert summary["notes"] == [f"later checks were not run (2 probes): {run.gone}"]


def test_past_the_deadline_no_probe_starts(tmp_path):
    run = FakeRun({"p0": Outcome("ok", 0.1)}, deadline=0.0)
    summary = probe_phase_run(tmp_path, run, ["p0"])
    assert run.ran == []
    got = record(tmp_path, "p0")
    assert got["status"] == ProbeStatus.NOT_RUN and "time limit (60s)" in got["message"]
    assert summary["notes"] and "time limit" in summary["notes"][0]
