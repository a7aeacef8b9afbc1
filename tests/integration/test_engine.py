"""Engine properties on real kernels: determinism, parameters, containment, trust boundary."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from autograde.pipeline.grade import GradeOptions, grade_submission
from tests.ex02_variant import ex02_variant

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def messages(report):
    return [(t.id, c.status, c.message) for t in report.tasks for c in t.checks]


def test_same_seed_same_grade_other_seed_other_inputs(ex02):
    mutant = ex02.path("mutants/fit_line_no_intercept.ipynb")
    first = grade_submission(mutant, ex02, GradeOptions(grading_seed=5))
    again = grade_submission(mutant, ex02, GradeOptions(grading_seed=5))
    other = grade_submission(mutant, ex02, GradeOptions(grading_seed=6))
    assert messages(first) == messages(again)
    assert first.score == again.score == other.score == 7
    # the failing check quotes numbers computed on hidden inputs drawn from the seed
    assert messages(first) != messages(other)


def test_parameters_are_injected_after_the_parameters_cell(make_nb, ex02_fast):
    probe = "assert epochs == 3 and seed == 0, (epochs, seed)\nparams_seen = True"
    path = make_nb("params.ipynb", insert_before={"loss": probe})
    report = grade_submission(path, ex02_fast, GradeOptions(grading_seed=1, overrides={"epochs": 3}))
    assert all(c["status"] == "ok" for c in report.cells), report.cells
    assert report.parameters["epochs"] == 3


def test_missing_parameters_cell_still_gets_parameters(make_nb, ex02_fast):
    def untag(nb):
        for cell in nb.cells:
            cell.metadata["tags"] = [t for t in cell.metadata.get("tags", []) if t != "parameters"]

    path = make_nb("untagged.ipynb", mutate=untag,
                   insert_before={"loss": "assert epochs == 9, epochs"})
    report = grade_submission(path, ex02_fast, GradeOptions(grading_seed=1, overrides={"epochs": 9}))
    # the notebook's own `epochs = 100` comes after the injected cell and wins
    assert any("injected at the top" in note for note in report.notes)
    assert report.score == 10


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if marker.encode() in handle.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def test_no_process_of_a_submission_outlives_its_grading(make_nb, ex02_fast):
    marker = f"autograde-escape-{os.getpid()}-{time.time_ns()}"
    spawn = ("import subprocess, sys\n"
             f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', '{marker}'],"
             " start_new_session=True)\n"
             "import os\nif os.fork() == 0:\n    os.setsid()\n    import time\n"
             "    os.execv(sys.executable,"
             f" [sys.executable, '-c', 'import time; time.sleep(600)', '{marker}'])")
    path = make_nb("escape.ipynb", insert_before={"loss": spawn})
    report = grade_submission(path, ex02_fast, GradeOptions(grading_seed=1))
    assert report.score == 10
    time.sleep(0.5)
    assert _processes_with(marker) == []


def test_the_sandbox_sees_no_reference_and_no_grader_environment(make_nb, ex02_fast, monkeypatch):
    monkeypatch.setenv("AUTOGRADE_SECRET_TOKEN", "s3cret")
    snoop = ("import os\nassert 'AUTOGRADE_SECRET_TOKEN' not in os.environ\n"
             "assert os.environ['HOME'] != os.path.expanduser('~root')\n"
             "assert not os.path.exists('inputs_labels.npy')\n")
    path = make_nb("snoop.ipynb", insert_before={"loss": snoop})
    report = grade_submission(path, ex02_fast, GradeOptions(grading_seed=1))
    assert all(c["status"] == "ok" for c in report.cells), report.cells


def test_ex08_hidden_labels_never_enter_the_sandbox(tmp_path):
    from autograde.rubric import load_assignment

    ex08 = load_assignment("ex08_open_set")
    report = grade_submission(ex08.path("solution.ipynb"), ex08,
                              GradeOptions(grading_seed=2, keep_job=tmp_path))
    # every automatic check passes; the theory answer waits for a human
    assert report.score == 11 and report.max_score == 13
    assert report.task("theory").checks[0].status == "manual"
    assert [a.cell_tag for a in report.manual] == ["theory-1"]
    assert "softmax normalises" in (report.manual[0].source or "")
    import numpy as np

    job = tmp_path / report.student
    with np.load(job / "in" / "inputs.npz", allow_pickle=False) as inputs:
        sizes = {key: inputs[key].shape for key in inputs.files}
    # the hidden images are there (200 known + 80 unknown), their labels are not
    assert (200, 1, 28, 28) in sizes.values() and (80, 1, 28, 28) in sizes.values()
    assert (200,) not in sizes.values() and (80,) not in sizes.values()
    plan = (job / "in" / "plan.json").read_text()
    assert "known_test" not in plan and "min" not in plan


def test_gpu_job_on_a_machine_without_gpu_is_a_clear_grader_error(make_nb, ex02_fast):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    report = grade_submission(make_nb("gpu.ipynb"), ex02_fast, GradeOptions(grading_seed=1, gpu="0"))
    assert report.status == "grader error"
    assert report.score == 0
    assert any("found no GPU" in note for note in report.notes), report.notes
    assert all(c["status"] == "not-run" and "found no GPU" in c["note"] for c in report.cells)
    assert report.parameters["device"] == "cuda"


def test_gpu_job_falls_back_to_cpu_only_when_the_rubric_allows(make_nb, ex02_fast, tmp_path):
    import torch

    from autograde.rubric import load_rubric_file

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    limits = {"cell_timeout": "4s", "probe_timeout": "4s", "total_timeout": "150s", "gpu_fallback_cpu": True}
    rubric = load_rubric_file(ex02_variant(tmp_path, limits))
    report = grade_submission(make_nb("gpu.ipynb"), rubric, GradeOptions(grading_seed=1, gpu="0"))
    assert report.status == "graded" and report.score == report.max_score
    assert any("ran on the CPU" in note for note in report.notes), report.notes
