"""The baselines: a notebook's parameterized code cells as one plain Python script, run one
process per copy, and plain papermill on the same notebooks (no sandbox, no probes), both with
the sandbox's thread settings, so a ratio compares the same computation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import yaml

from autograde.pipeline.ingest import parameterize, read_notebook
from autograde.rubric import Assignment
from autograde.rubric.datasets import prepare_data_dir

# the sandbox's settings that change how fast code runs (autograde/backends/local/backend.py):
# one BLAS/OpenMP thread, a non-interactive matplotlib; the baselines run under them too
SANDBOX_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MPLBACKEND": "Agg"}


def baseline_env() -> dict[str, str]:
    return {**os.environ, **SANDBOX_ENV}


def grading_parameters(assignment: Assignment) -> dict[str, Any]:
    """The parameters the grader gives the notebook on a CPU: the rubric's, device, data_dir."""
    rubric = assignment.rubric
    params: dict[str, Any] = {**rubric.parameters, "device": "cpu"}
    if rubric.data_dir is not None:
        params["data_dir"] = str(prepare_data_dir(assignment.id, rubric.data_dir))
    return params


def script_of_cells(nb: Any) -> str:
    """The code cells in order, joined as one script; IPython-only lines (`%magic`, `!shell`)
    become comments, as plain Python cannot run them."""
    chunks = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines = [f"# {line}" if line.lstrip().startswith(("%", "!")) else line
                 for line in cell.source.splitlines()]
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks) + "\n"


def copies_of(source: Path, folder: Path, count: int) -> list[Path]:
    """`count` copies of one notebook, named like uploads."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for index in range(count):
        target = folder / f"student{index:03d}.ipynb"
        shutil.copy(source, target)
        made.append(target)
    return made


def write_scripts(notebooks: list[Path], folder: Path, params: dict[str, Any]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    scripts = []
    for path in notebooks:
        script = folder / (path.stem + ".py")
        script.write_text(script_of_cells(parameterize(read_notebook(path), dict(params))))
        scripts.append(script)
    return scripts


def run_scripts(scripts: list[Path], cwd: Path) -> float:
    """Seconds to run every script, one `python` process each, in turn; a failing one stops it."""
    started = time.perf_counter()
    for script in scripts:
        done = subprocess.run([sys.executable, str(script)], cwd=cwd, capture_output=True, text=True,
                              env=baseline_env())
        if done.returncode != 0:
            raise RuntimeError(f"plain script {script.name} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def run_papermill(notebooks: list[Path], out: Path, params: dict[str, Any]) -> float:
    """Seconds for `python -m papermill` on each notebook in turn, with the grading parameters."""
    out.mkdir(parents=True, exist_ok=True)
    params_file = out / "params.yaml"
    params_file.write_text(yaml.safe_dump(params))
    started = time.perf_counter()
    for path in notebooks:
        target = out / path.name
        subprocess.run([sys.executable, "-m", "papermill", str(path), str(target), "-f", str(params_file),
                        "-k", "python3", "--cwd", str(out)], check=True, capture_output=True,
                       env=baseline_env())
    seconds = time.perf_counter() - started
    nbformat.read(out / notebooks[-1].name, as_version=4)  # papermill really wrote it
    return seconds
