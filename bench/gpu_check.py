"""GPU check of the local backend, for a machine with an NVIDIA GPU (see bench/gpu_check.sh).

Grades the ex08 solution once on the CPU and twice on GPU 0 with the same grading seed and
compares: every check's status must be the same on both devices, the two GPU gradings must
be identical (the deterministic prelude: seeds, cuDNN, cuBLAS workspace), and each report's
timings are printed as ratios against the CPU grading of the same run. It also grades an
ex02 variant whose `gradient` returns a CUDA tensor that still requires grad (ATTACKS.md
item 26): the gradient task must pass. Writes gpu_check.json into the folder given as the first argument.
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.results import GradeReport
from autograde.rubric import load_assignment

ROOT = Path(__file__).resolve().parents[1]
CUDA_GRADIENT = """
import numpy as np, torch
def gradient(w):
    w = torch.as_tensor(np.asarray(w, dtype=float), device="cuda").requires_grad_(True)
    j = w[0] ** 2 + w[1] ** 2 + 30 * torch.sin(w[0]) * torch.sin(w[1])
    (g,) = torch.autograd.grad(j, w, create_graph=True)
    return g  # on the GPU, still attached to the graph
"""


def summary(report: GradeReport) -> dict[str, Any]:
    return {
        "status": report.status,
        "score": report.score,
        "seconds": report.seconds,
        "notes": report.notes,
        "checks": [(t.id, c.name, c.status, c.message) for t in report.tasks for c in t.checks],
    }


def grade(path: Path, assignment_id: str, gpu: str | None) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    report = grade_submission(path, load_assignment(assignment_id), GradeOptions(grading_seed=11, gpu=gpu))
    return summary(report), time.monotonic() - started


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    ex08 = ROOT / "rubrics" / "ex08_open_set" / "solution.ipynb"
    cpu, cpu_s = grade(ex08, "ex08_open_set", None)
    gpu1, gpu1_s = grade(ex08, "ex08_open_set", "0")
    gpu2, gpu2_s = grade(ex08, "ex08_open_set", "0")
    nb = nbformat.read(ROOT / "rubrics" / "ex02_gradient_descent" / "solution.ipynb", as_version=4)
    variant = copy.deepcopy(nb)
    cell = next(c for c in variant.cells if "gradient" in c.metadata.get("tags", []))
    cell.source = CUDA_GRADIENT
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cuda_tensor.ipynb"
        nbformat.write(variant, path)
        tensor, tensor_s = grade(path, "ex02_gradient_descent", "0")
    result = {
        "ex08_cpu": cpu,
        "ex08_gpu_1": gpu1,
        "ex08_gpu_2": gpu2,
        "ex02_cuda_tensor": tensor,
        "seconds": {"cpu": cpu_s, "gpu_1": gpu1_s, "gpu_2": gpu2_s, "cuda_tensor": tensor_s},
        "gpu_over_cpu": [gpu1_s / cpu_s, gpu2_s / cpu_s],
        "same_status_cpu_gpu": [c[:3] for c in cpu["checks"]] == [c[:3] for c in gpu1["checks"]],
        "gpu_runs_identical": gpu1["checks"] == gpu2["checks"] and gpu1["score"] == gpu2["score"],
    }
    (out / "gpu_check.json").write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("seconds", "gpu_over_cpu", "same_status_cpu_gpu",
                                             "gpu_runs_identical")}, indent=1))
    for name in ("ex08_cpu", "ex08_gpu_1", "ex08_gpu_2", "ex02_cuda_tensor"):
        print(name, result[name]["status"], result[name]["score"], result[name]["notes"])
    ok = result["same_status_cpu_gpu"] and result["gpu_runs_identical"] and cpu["score"] == gpu1["score"]
    # the tensor is read off the GPU and out of the graph: the gradient task passes (the
    # notebook's own gradient_descent then mixes numpy and the tensor, and fails on its own)
    tensor_ok = all(c[2] == "pass" for c in tensor["checks"] if c[0] == "gradient")
    return 0 if ok and tensor_ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
