"""GPU jobs: the runner's device set-up, --gpus parsing, round-robin hand-out (no GPU needed)."""

from __future__ import annotations

from pathlib import Path

import click
import nbformat
import pytest

from autograde.runner import __main__ as runner
from autograde.runner import device


def notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    injected = nbformat.v4.new_code_cell('device = "cuda"\n')
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), injected]
    return nb


def _draws(prelude: str) -> tuple[float, float]:
    import random

    import numpy as np

    def no_open(*args: object, **kwargs: object) -> None:
        raise OSError("the test process keeps its own OOM score")

    exec(compile(prelude, "<prelude>", "exec"), {"open": no_open})
    return random.random(), float(np.random.rand())


def test_cpu_job_gets_only_the_seeding_prelude(monkeypatch):
    monkeypatch.setattr(device, "visible_gpus", lambda: pytest.fail("no GPU probe for a CPU job"))
    prelude, fatal = runner._device_setup({"device": "cpu", "seed": 5}, notebook(), {}, [])
    assert fatal is None and prelude is not None and "torch" not in prelude
    first = _draws(prelude)
    assert _draws(prelude) == first  # Python's and numpy's generators start the same each time
    other, _ = runner._device_setup({"device": "cpu", "seed": 6}, notebook(), {}, [])
    assert other is not None and _draws(other) != first


def test_gpu_job_gets_the_deterministic_prelude(monkeypatch):
    monkeypatch.setattr(device, "visible_gpus", lambda: (1, ""))
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    prelude, fatal = runner._device_setup({"device": "cuda", "seed": 42}, notebook(), {}, [])
    assert fatal is None and prelude is not None
    assert "manual_seed(42)" in prelude and "cuda.manual_seed_all(42)" in prelude
    assert "cudnn.deterministic = True" in prelude and "cudnn.benchmark = False" in prelude
    assert "use_deterministic_algorithms(True" in prelude
    import os

    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == device.CUBLAS_WORKSPACE
    compile(prelude, "<prelude>", "exec")


def test_gpu_job_without_gpu_fails_clearly(monkeypatch):
    monkeypatch.setattr(device, "visible_gpus", lambda: (0, "torch.cuda.device_count() is 0"))
    nb = notebook()
    prelude, fatal = runner._device_setup({"device": "cuda"}, nb, {"gpu_fallback_cpu": False}, [])
    assert prelude is None and fatal is not None
    assert "found no GPU" in fatal and "device_count() is 0" in fatal
    assert nb.cells[1].source == 'device = "cuda"\n'  # nothing silently moved to the CPU


def test_gpu_job_may_fall_back_when_the_rubric_allows(monkeypatch):
    monkeypatch.setattr(device, "visible_gpus", lambda: (0, "no driver"))
    nb, notes = notebook(), []
    prelude, fatal = runner._device_setup({"device": "cuda"}, nb, {"gpu_fallback_cpu": True}, notes)
    assert fatal is None and prelude is not None and "torch" not in prelude
    assert nb.cells[1].source.rstrip().splitlines()[-1].startswith('device = "cpu"')
    assert notes and "ran on the CPU" in notes[0]


def test_visible_gpus_in_this_interpreter():
    count, why = device.visible_gpus()
    import torch

    assert count == torch.cuda.device_count()
    assert (why == "") == (count > 0)


def test_gpus_option_parsing(monkeypatch):
    from autograde.cli import grade as cli
    assert cli._gpus(None) == ()
    assert cli._gpus("0,2") == ("0", "2")
    with pytest.raises(click.BadParameter):
        cli._gpus("0,x")
    monkeypatch.setattr(device, "visible_gpus", lambda: (3, ""))
    assert cli._gpus("all") == ("0", "1", "2")
    monkeypatch.setattr(device, "visible_gpus", lambda: (0, "no driver"))
    with pytest.raises(click.BadParameter, match="no GPU"):
        cli._gpus("all")


def test_batch_hands_out_each_gpu_to_one_job_at_a_time(monkeypatch, tmp_path: Path):
    """The pool gives every job one GPU of --gpus, never one that another running job holds,
    and runs as many jobs at once as there are GPUs: the first two jobs wait for each other
    (a barrier), so both GPUs are in use together. Which job gets which GPU is not fixed."""
    import threading

    from autograde.batch import run as batch
    from autograde.pipeline.grade import GradeOptions
    from autograde.rubric import load_assignment

    uploads = tmp_path / "uploads"
    uploads.mkdir()
    for name in "abcde":
        (uploads / f"{name}.ipynb").write_text("{}")
    seen: list[tuple[str, str | None, str]] = []
    held: list[str | None] = []
    overlaps: list[str | None] = []
    lock = threading.Lock()
    together = threading.Barrier(2, timeout=20)

    def fake_grade(path, assignment, opts, student=None):
        with lock:
            if opts.gpu in held:
                overlaps.append(opts.gpu)
            held.append(opts.gpu)
            seen.append((student, opts.gpu, opts.device))
            first_two = len(seen) <= 2
        if first_two:
            together.wait()
        with lock:
            held.remove(opts.gpu)
        return batch.empty_report(path, student or path.stem, assignment, "graded", "", opts)

    monkeypatch.setattr(batch, "grade_submission", fake_grade)
    assignment = load_assignment("ex02_gradient_descent")
    # as many workers as GPUs (BatchOptions' default with --gpus)
    batch.grade_batch([uploads], assignment, tmp_path / "out", GradeOptions(gpus=("0", "1")),
                      batch.BatchOptions())
    assert sorted(student for student, _, _ in seen) == list("abcde")  # each job once
    assert all(gpu in {"0", "1"} for _, gpu, _ in seen)
    assert overlaps == []  # no GPU held by two jobs at once
    assert {gpu for _, gpu, _ in seen[:2]} == {"0", "1"}  # the two jobs that ran together
    assert {dev for _, _, dev in seen} == {"cuda"}
