"""Real-world notebook files (../shared/realworld/, saved by JupyterLab, Colab, VS Code, Kaggle,
nbgrader, papermill, nbformat 3 and 4.99) graded in one batch through the CLI: every row as
SOURCES.md's "expected" column says, the batch complete, and the notes that matter.

The files are read where they lie, never copied into the project: the repository's sibling
folder `../shared/realworld/`, or AUTOGRADE_REALWORLD (a git worktree has no such sibling).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
REALWORLD = Path(os.environ.get("AUTOGRADE_REALWORLD", ROOT.parent / "shared" / "realworld"))
CLI = str(Path(sys.executable).with_name("autograde"))
FULL = {"loss": 2.0, "gradient": 3.0, "descent": 2.0, "regression": 3.0}

# SOURCES.md, column "expected" (points per task; 10/10 is FULL)
EXPECTED: dict[str, dict[str, float]] = {
    "rw01_jupyterlab45_ids": FULL,
    "rw02_v45_missing_dup_ids": FULL,
    "rw03_nbformat3_worksheets": FULL,
    "rw04_nbformat4_99_future": FULL,
    "rw05_nbgrader_meta": {"loss": 2.0, "gradient": 0.0, "descent": 0.0, "regression": 3.0},
    "rw06_papermill_output": FULL,
    "rw07_colab_gpu": {"loss": 0.5, "gradient": 1.5, "descent": 2.0, "regression": 3.0},
    "rw08_vscode_untagged": FULL,
    "rw09_widget_state": FULL,
    "rw10_md_attachments": FULL,
    "rw11_raw_cells": FULL,
    "rw12_kaggle_oneline": {"loss": 2.0, "gradient": 3.0, "descent": 2.0, "regression": 0.0},
    "rw13_conda_kernel": FULL,
    "rw14_crlf_gdlab": FULL,
    "rw15_long_outputs": FULL,
}

# the notes that say what was odd about a file (every word must appear in one note)
NOTES: dict[str, list[tuple[str, ...]]] = {
    "rw02_v45_missing_dup_ids": [("'04-loss'", "repeats"), ("no id",)],
    "rw03_nbformat3_worksheets": [("nbformat 3", "converted"), ("declares no kernel",)],
    "rw04_nbformat4_99_future": [("4.99",), ("'future cell'", "never run"), ("no source",),
                                 ("declares no kernel",)],
    "rw08_vscode_untagged": [("no cell is tagged `parameters`", "top")],
    "rw11_raw_cells": [("declares no kernel",)],
    "rw13_conda_kernel": [("'conda-root-py'", "grader's Python 3 kernel")],
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    if not REALWORLD.is_dir():
        pytest.skip(f"no real-world notebook files at {REALWORLD} (set AUTOGRADE_REALWORLD to their folder)")
    files = sorted(REALWORLD.glob("rw*.ipynb"))
    assert [f.stem for f in files] == sorted(EXPECTED), "the folder does not hold the 15 files of SOURCES.md"
    out = tmp_path_factory.mktemp("realworld") / "out"
    done = subprocess.run(
        [CLI, "grade", *map(str, files), "--assignment", "ex02_gradient_descent", "--out", str(out),
         "--seed", "0", "-j", "2"],
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return out, done.stdout + done.stderr


def report(out: Path, student: str) -> dict[str, Any]:
    return json.loads((out / "students" / student / "report.json").read_text())


def test_the_batch_is_complete(batch: tuple[Path, str]) -> None:
    out, output = batch
    with open(out / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["student"] for row in rows) == sorted(EXPECTED), output[-3000:]
    assert {row["status"] for row in rows} == {"graded"}, rows


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_points_as_sources_md_expects(batch: tuple[Path, str], student: str) -> None:
    found = report(batch[0], student)
    assert found["status"] == "graded", found["notes"]
    points = {task["id"]: task["points"] for task in found["tasks"]}
    assert points == EXPECTED[student], (found["notes"], json.dumps(found["tasks"], indent=1)[:3000])


@pytest.mark.parametrize("student", sorted(NOTES))
def test_the_notes_that_matter(batch: tuple[Path, str], student: str) -> None:
    notes = report(batch[0], student)["notes"]
    for words in NOTES[student]:
        assert any(all(word in note for word in words) for note in notes), (words, notes)


def test_a_clean_jupyterlab_file_needs_no_note(batch: tuple[Path, str]) -> None:
    assert report(batch[0], "rw01_jupyterlab45_ids")["notes"] == []
