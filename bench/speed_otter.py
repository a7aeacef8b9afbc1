"""otter-grader's `otter run` on ex02 notebooks, for the benchmark: a benchmark-only virtual
environment (created once, reused), OK-format test files equivalent to ex02's rubric, the
autograder zip made from them by `otter generate`, and the scores of each run read back.

The tests compute their expected values from the formulas of reference/ex02.py written out
in the test code (otter runs its tests in the student's namespace), with fixed seeds.
"""

from __future__ import annotations

import json
import pprint
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

OTTER_REQUIREMENT = "otter-grader>=7,<8"

_REFERENCE = """\
>>> import numpy as np
>>> _loss = lambda w: w[0]**2 + w[1]**2 + 30 * np.sin(w[0]) * np.sin(w[1])
>>> _grad = lambda w: np.array([2*w[0] + 30*np.cos(w[0])*np.sin(w[1]), 2*w[1] + 30*np.sin(w[0])*np.cos(w[1])])
>>> def _descent(w, eta, epochs):
...     w = np.array(w, dtype=float)
...     for _ in range(epochs):
...         w = w - eta * _grad(w)
...     return w
>>> def _fit(x, t, eta, epochs):
...     w = np.zeros(2)
...     for _ in range(epochs):
...         r = w[0] + w[1] * x - t
...         w = w - eta * np.array([2 * r.mean(), 2 * (r * x).mean()])
...     return w
"""

# (task, points, cases): each case is doctest text run after _REFERENCE, mirroring the rubric's checks;
# the reference is called first, so a function that changes its input still gets a fair comparison
EX02_TESTS: list[tuple[str, int, list[str]]] = [
    ("loss", 2, [
        ">>> callable(loss)\nTrue",
        ">>> np.shape(loss(np.random.default_rng(1).uniform(-3, 3, 2)))\n()",
        ">>> ws = np.random.default_rng(2).uniform(-10, 10, (5, 2))\n"
        ">>> all(bool(np.isclose(_loss(w), loss(w), rtol=1e-6, atol=1e-8)) for w in ws)\nTrue",
    ]),
    ("gradient", 3, [
        ">>> callable(gradient)\nTrue",
        ">>> ws, h, e = np.random.default_rng(3).uniform(-3, 3, (3, 2)), 1e-6, np.eye(2)\n"
        ">>> fd = [np.array([(loss(w + h*e[i]) - loss(w - h*e[i])) / (2*h) for i in range(2)]) for w in ws]\n"
        ">>> all(bool(np.allclose(gradient(w), d, rtol=1e-4, atol=1e-4)) for w, d in zip(ws, fd))\nTrue",
        ">>> ws = np.random.default_rng(4).uniform(-10, 10, (5, 2))\n"
        ">>> all(bool(np.allclose(_grad(w), gradient(w), rtol=1e-6, atol=1e-8)) for w in ws)\nTrue",
    ]),
    ("descent", 2, [
        ">>> ws = np.random.default_rng(5).uniform(-2, 2, (3, 2))\n"
        ">>> all(bool(np.allclose(_descent(w, 0.01, 50), gradient_descent(w, 0.01, 50),"
        " rtol=1e-5, atol=1e-7)) for w in ws)\nTrue",
        ">>> w = np.random.default_rng(6).uniform(-2, 2, 2); kept = w.copy()\n"
        ">>> _ = gradient_descent(w, 0.01, 20)\n>>> bool(np.array_equal(w, kept))\nTrue",
    ]),
    ("regression", 3, [
        ">>> rng = np.random.default_rng(7)\n"
        ">>> xts = [(rng.uniform(-1, 1, 40), rng.normal(0.5, 1.0, 40)) for _ in range(3)]\n"
        ">>> all(bool(np.allclose(_fit(x, t, 0.1, 200), fit_line(x, t, 0.1, 200), rtol=1e-5, atol=1e-7))"
        " for x, t in xts)\nTrue",
    ]),
]
EX02_POINTS = sum(points for _, points, _ in EX02_TESTS)


def ok_test_spec(name: str, points: int, cases: list[str]) -> dict[str, Any]:
    """One OK-format test file's `test` dict: one doctest suite, the reference set up in each case."""
    return {
        "name": name,
        "points": points,
        "suites": [{
            "type": "doctest", "scored": True, "setup": "", "teardown": "",
            "cases": [{"code": _REFERENCE + case, "hidden": False, "locked": False} for case in cases],
        }],
    }


def write_ok_tests(folder: Path) -> list[Path]:
    """tests/<task>.py for each ex02 task, as `otter generate -t` reads them."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, points, cases in EX02_TESTS:
        path = folder / f"{name}.py"
        spec = pprint.pformat(ok_test_spec(name, points, cases), width=100)
        path.write_text(f"OK_FORMAT = True\n\ntest = {spec}\n")
        written.append(path)
    return written


def otter_env(folder: Path) -> tuple[Path | None, str]:
    """The `otter` executable of the benchmark-only venv at `folder` (made on first use), or
    None and the reason it could not be installed."""
    otter = folder / "bin" / "otter"
    if otter.exists():
        return otter, "reused"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, capture_output=True,
                       text=True)
        subprocess.run([str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", OTTER_REQUIREMENT, "numpy", "ipykernel"],
                       check=True, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        lines = [line for line in str(detail).splitlines() if not line.startswith("WARNING: Location")]
        return None, f"could not install {OTTER_REQUIREMENT}: {' / '.join(lines[-3:])}"
    return (otter, "installed") if otter.exists() else (None, "pip installed no `otter` command")


def build_autograder(otter: Path, work: Path) -> Path:
    """autograder.zip for ex02 from the OK tests, by `otter generate` (no extra requirements)."""
    write_ok_tests(work / "tests")
    subprocess.run([str(otter), "generate", "-t", "tests", "-o", "autograder.zip", "--no-config",
                    "--no-requirements", "--no-environment"], cwd=work, check=True, capture_output=True)
    return work / "autograder.zip"


def otter_score(results: Path) -> tuple[float, float]:
    """(score, possible) from the results.json `otter run` writes (a failed run has no max_score)."""
    data = json.loads(results.read_text())
    tests = data.get("tests", [])
    return float(sum(t.get("score") or 0 for t in tests)), float(sum(t.get("max_score") or 0 for t in tests))


def run_otter(otter: Path, autograder: Path, notebooks: list[Path], out: Path) -> float:
    """Seconds for `otter run -a autograder.zip` on each notebook in turn; every one must score full marks."""
    started = time.perf_counter()
    scores = []
    for index, path in enumerate(notebooks):
        target = out / f"{index:03d}"
        target.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([str(otter), "run", "-a", str(autograder), "-o", str(target), "--no-logo",
                               str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"otter run failed on {path.name}:\n{(done.stdout + done.stderr)[-2000:]}")
        scores.append(otter_score(target / "results.json"))
    seconds = time.perf_counter() - started
    wrong = [s for s in scores if s != (EX02_POINTS, EX02_POINTS)]
    if wrong:
        raise RuntimeError(f"otter gave {wrong[:3]} (of {len(scores)}), expected {EX02_POINTS}/{EX02_POINTS}")
    return seconds
