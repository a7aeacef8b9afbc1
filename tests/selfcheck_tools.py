"""Running a notebook with in-notebook self-checks under nbclient, as a student's Jupyter
runs it: the bundle's parameters injected, the public data beside it, a last cell that runs
`autograde.student` and prints its verdicts as JSON."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat

from autograde.pipeline.ingest import parameterize, read_notebook
from autograde.selfcheck.bundle import Bundle

MARK = "AUTOGRADE-LIVE "

LIVE_CELL = """\
import json as _json
from autograde import student as _student
_result = _student.run(bundle={bundle!r})
print({mark!r} + _json.dumps([[t, n, s] for t, n, s, _m in _result.rows]))
_student.check_all(bundle={bundle!r})
"""


def live_notebook(notebook: Path, bundle: Bundle, folder: Path, data_dir: Path | None) -> Any:
    """The notebook as the student runs it: parameters (and the data folder) of the bundle,
    the bundle copied beside it, the live-check cell at the end."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bundle.path, folder / bundle.path.name)
    parameters: dict[str, Any] = {**bundle.manifest.parameters, "device": "cpu"}
    if data_dir is not None:
        parameters["data_dir"] = str(data_dir)
    nb = parameterize(read_notebook(notebook), parameters)
    nb.cells.append(nbformat.v4.new_code_cell(LIVE_CELL.format(bundle=bundle.path.name, mark=MARK)))
    return nb


def run_live(
    notebook: Path, bundle: Bundle, folder: Path, data_dir: Path | None = None
) -> tuple[list[list[str]], Any]:
    """Execute with nbclient (`jupyter execute`, its own process); the (task, check, status)
    rows the live check printed, and the executed notebook."""
    nb = live_notebook(notebook, bundle, folder, data_dir)
    path = folder / "live.ipynb"
    nbformat.write(nb, path)
    timeout = int(float(bundle.manifest.limits.get("cell_timeout", 600))) + 60
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    env.pop("AUTOGRADE_JOB", None)
    command = [
        str(Path(sys.executable).with_name("jupyter-execute")),
        "--inplace",
        "--allow-errors",
        "--kernel_name=python3",
        f"--timeout={timeout}",
        str(path),
    ]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=3 * timeout)
    assert done.returncode == 0, f"{notebook}: jupyter execute failed: {done.stderr[-2000:]}"
    executed = nbformat.read(path, as_version=4)
    for output in executed.cells[-1].get("outputs", []):
        for line in str(output.get("text", "")).splitlines():
            if line.startswith(MARK):
                return json.loads(line[len(MARK) :]), executed
    raise AssertionError(f"{notebook}: the live check printed nothing: {executed.cells[-1].get('outputs')}")
