"""`value` checks with `unchanged_args`: the call must return the reference's value AND leave
the arrays it was given as they were. The probes run in this process through the real harness
(as the live self-check runs them); the host judges what they recorded."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from autograde.checks.base import ProbeResult, kind_for
from autograde.checks.basic import ValueCheck
from autograde.pipeline.plan import build_plan
from autograde.rubric import load_rubric_file
from autograde.selfcheck.bundle import npz_bytes
from autograde.selfcheck.live import harness
from autograde.status import CheckStatus

VALUE = kind_for("value")


def rubric(tmp_path: Path, **check: Any) -> Path:
    """A one-check rubric on `scale(x, k)` = x * k, its reference a module of the folder."""
    folder = tmp_path / "scale"
    folder.mkdir(parents=True)
    (folder / "ref.py").write_text("def scale(x, k):\n    return x * k\n")
    spec = {"kind": "value", "call": "scale", "reference": "ref.py:scale", "repeat": 3,
            "args": [{"draw": "normal", "shape": [4]}, 2.0], **check}
    data = {"schema": 1, "assignment": "scale", "title": "Scale",
            "tasks": [{"id": "t", "points": 1, "checks": [spec]}]}
    (folder / "rubric.yaml").write_text(yaml.safe_dump(data))
    return folder / "rubric.yaml"


def verdict(path: Path, scale: Any) -> Any:
    plan = build_plan(load_rubric_file(path), seed=3, public_only=False, probe_timeout=10)
    inputs = npz_bytes(plan.store.arrays)
    results = {}
    for spec in plan.probes:
        record, arrays = harness().run_in_memory(spec, 0, {"scale": scale}, io.BytesIO(inputs))
        results[spec["id"]] = ProbeResult(record["status"], record.get("message", ""), record, arrays)
    planned = plan.checks[0]
    return VALUE.judge(planned.check, planned.state, results.__getitem__)


def copies(x: np.ndarray, k: float) -> np.ndarray:
    return x * k


def in_place(x: np.ndarray, k: float) -> np.ndarray:
    x *= k
    return x


def test_a_call_that_updates_its_argument_in_place_fails_naming_it(tmp_path: Path) -> None:
    path = rubric(tmp_path, unchanged_args=True)
    assert verdict(path, copies).status == CheckStatus.PASS
    failed = verdict(path, in_place)
    assert failed.status == CheckStatus.FAIL
    assert "input 1: `scale` changed argument 1, the array passed in" in failed.message
    # without the option the same right values pass: the in-place update is not looked at
    assert verdict(rubric(tmp_path / "plain"), in_place).status == CheckStatus.PASS


def test_a_wrong_value_is_reported_before_an_argument_change(tmp_path: Path) -> None:
    def wrong_in_place(x: np.ndarray, k: float) -> np.ndarray:
        x += k
        return x

    failed = verdict(rubric(tmp_path, unchanged_args=True), wrong_in_place)
    assert failed.status == CheckStatus.FAIL and "changed argument" not in failed.message


def test_it_needs_a_call() -> None:
    with pytest.raises(ValueError, match="unchanged_args needs a `call`"):
        ValueCheck.model_validate({"kind": "value", "variable": "x", "expect": 1, "unchanged_args": True})


def test_a_probe_without_the_arguments_after_the_call_is_a_grader_error(tmp_path: Path) -> None:
    plan = build_plan(load_rubric_file(rubric(tmp_path, unchanged_args=True)), 3, False, 10)
    planned = plan.checks[0]
    wanted = VALUE.expect(planned.check, planned.state)
    record = {"results": [], "status": "ok"}
    arrays: dict[str, np.ndarray] = {}
    for index, value in enumerate(wanted):
        arrays[f"a{index}"] = np.asarray(value)
        record["results"].append({"array": f"a{index}", "was": "numpy"})
    result = ProbeResult("ok", "", record, arrays)  # an older harness: no args_after
    judged = VALUE.judge(planned.check, planned.state, lambda _: result)
    assert judged.status == CheckStatus.GRADER_ERROR and "arguments after the call" in judged.message
