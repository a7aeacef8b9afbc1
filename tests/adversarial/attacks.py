"""The catalogue of hostile submissions (../shared/ATTACKS.md), each built from the ex02
solution with one thing broken, with the verdict a correct grader gives it.

`Attack.expect` holds the points per task that must come out (tasks not named keep full
points); `Attack.verify` makes further assertions on the report (which cell, what message).
Host paths the notebooks try to reach are formatted in by `Targets`, so a hostile write that
lands can be seen from the host afterwards.
"""

from __future__ import annotations

import copy
import json
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from tests.ex02_variant import ex02_variant

FULL = {"loss": 2.0, "gradient": 3.0, "descent": 2.0, "regression": 3.0}
ZERO = {task: 0.0 for task in FULL}
ROOT = Path(__file__).resolve().parents[2]
SECRET = "adv-secret-7f3a"  # in the grader's environment; no notebook may see it
EX02 = ROOT / "rubrics" / "ex02_gradient_descent"
LIMITS = {"cell_timeout": "4s", "probe_timeout": "4s", "total_timeout": "120s", "memory": "1GiB",
          "pids": 128, "tmp_bytes": "64MiB", "out_bytes": "64MiB"}


def write_rubric(folder: Path) -> Path:
    """ex02 with short time limits and small resource limits, so an attack costs seconds."""
    return ex02_variant(folder, LIMITS)


@dataclass(frozen=True)
class Targets:
    """Host places a hostile notebook tries to write to; none may exist after the batch."""

    marker_dir: Path  # a folder of the test session on the host
    home: Path  # the grader's own HOME
    tag: str  # digits unique to this run: how its stray processes are found again
    site: Path = Path(sysconfig.get_paths()["purelib"])

    def poison_files(self) -> list[Path]:
        return [
            self.home / ".ipython" / "profile_default" / "startup" / "00-adv-poison.py",
            self.site / "zz_adv_poison.pth",
            self.site / "sitecustomize.py",
            ROOT / "reference" / "adv_poison.py",
            Path("/tmp/adv_poison.txt"),
        ]

    def fields(self) -> dict[str, str]:
        return {"marker": str(self.marker_dir), "home": str(self.home), "site": str(self.site),
                "root": str(ROOT), "secret_name": "ADV_SECRET", "marker_tag": self.tag}


Report = dict[str, Any]


@dataclass(frozen=True)
class Attack:
    number: int  # the item of ATTACKS.md
    name: str
    replace: dict[str, str] = field(default_factory=dict)  # tagged cell -> new source
    before: dict[str, str] = field(default_factory=dict)  # new cell inserted before a tagged one
    mutate: Callable[[Any], None] | None = None
    raw: Callable[[Path], None] | None = None  # writes a file that is no variant of the solution
    expect: dict[str, float] = field(default_factory=dict)
    status: str = "graded"
    verify: Callable[[Report], None] | None = None
    slow: bool = False  # waits out a time limit

    @property
    def student(self) -> str:
        return f"a{self.number:02d}_{self.name}"

    def points(self) -> dict[str, float]:
        if self.status != "graded":
            return {task: 0.0 for task in FULL}
        return {**FULL, **self.expect}

    def write(self, solution: Any, folder: Path, targets: Targets) -> Path:
        path = folder / f"{self.student}.ipynb"
        if self.raw is not None:
            self.raw(path)
            return path
        nb = copy.deepcopy(solution)
        values = targets.fields()
        for tag, source in self.replace.items():
            nb.cells[_tagged(nb, tag)].source = source.format(**values)
        for tag, source in self.before.items():
            nb.cells.insert(_tagged(nb, tag), nbformat.v4.new_code_cell(source.format(**values)))
        if self.mutate is not None:
            self.mutate(nb)
        nbformat.write(nb, path)
        return path


def _tagged(nb: Any, tag: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if tag in c.metadata.get("tags", []))


# -- assertions on a report ------------------------------------------------------------------


def cells(report: Report, status: str) -> list[dict[str, Any]]:
    return [c for c in report["cells"] if c["status"] == status]


def check(report: Report, task: str, index: int = 0) -> dict[str, Any]:
    found = next(t for t in report["tasks"] if t["id"] == task)
    return found["checks"][index]


def messages(report: Report, task: str) -> str:
    found = next(t for t in report["tasks"] if t["id"] == task)
    return "\n".join(c["message"] for c in found["checks"])


def notes(report: Report) -> str:
    return "\n".join(report["notes"])


def one_cell(status: str, *words: str) -> Callable[[Report], None]:
    def verify(report: Report) -> None:
        found = cells(report, status)
        assert len(found) == 1, f"expected one {status} cell: {report['cells']}"
        text = json.dumps(found[0]) + notes(report)
        for word in words:
            assert word in text, f"{word!r} not in {text}"

    return verify


def task_says(task: str, *words: str, status: str | None = None) -> Callable[[Report], None]:
    def verify(report: Report) -> None:
        text = messages(report, task)
        for word in words:
            assert word in text, f"{word!r} not in the messages of {task}: {text}"
        if status is not None:
            assert status in {c["status"] for t in report["tasks"] if t["id"] == task for c in t["checks"]}

    return verify


def all_of(*verifiers: Callable[[Report], None]) -> Callable[[Report], None]:
    def verify(report: Report) -> None:
        for one in verifiers:
            one(report)

    return verify


def memory_verdict(report: Report) -> None:
    text = (json.dumps(report["cells"]) + notes(report)).lower()
    assert "memory" in text, f"no memory verdict: {report['cells']} {report['notes']}"


def small_report(report: Report) -> None:
    assert len(json.dumps(report)) < 200_000, "the report carries the flood"


# -- broken files ---------------------------------------------------------------------------

EXAMPLES = ROOT / "examples" / "ex02_gradient_descent"


def _truncated(path: Path) -> None:
    path.write_bytes((EXAMPLES / "alice.ipynb").read_bytes()[:700])


def _not_json(path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)


def _nbformat3(path: Path) -> None:
    path.write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                "worksheets": [{"cells": []}]}))


def _huge(path: Path) -> None:
    with open(path, "wb") as handle:  # sparse: 500 MB that take no disk
        handle.truncate(500 * 2**20)


def _deep(path: Path) -> None:
    depth = 200_000
    path.write_text('{"cells": ' + "[" * depth + "]" * depth + "}")


def _many_cells(path: Path) -> None:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "1"}
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell] * 100_000}
    path.write_text(json.dumps(nb))


def _no_kernelspec(nb: Any) -> None:
    nb.metadata.pop("kernelspec", None)
    nb.metadata.pop("language_info", None)


def _bash_kernel(nb: Any) -> None:
    nb.metadata["kernelspec"] = {"name": "bash", "display_name": "Bash", "language": "bash"}


def _retag(nb: Any) -> None:
    nb.cells[_tagged(nb, "descent")].metadata["tags"] = ["my-descent"]


def _delete_descent(nb: Any) -> None:
    del nb.cells[_tagged(nb, "descent")]


def _reorder(nb: Any) -> None:
    cell = nb.cells.pop(_tagged(nb, "regression"))
    nb.cells.insert(1, cell)  # before `import numpy as np`: fit_line only needs np when called


def _html_output(nb: Any) -> None:
    cell = nb.cells[_tagged(nb, "loss")]
    cell.outputs = [nbformat.v4.new_output("display_data", {"text/html": "<script>alert('out')</script>"})]


HOSTILE_HTML = "<script>alert('adv')</script><img src=x onerror=alert(1)>"

# -- the sources --------------------------------------------------------------------------

PROBE_LOOP = "def fit_line(x, t, eta, epochs):\n    while True:\n        pass"
FORK_BOMB = "import os\nwhile True:\n    os.fork()"
THREAD_BOMB = """
import threading, time
for _ in range(10**5):
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
"""
BLAS = """
import os
pinned = all(os.environ.get(name) == "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                                        "OPENBLAS_NUM_THREADS"))
if not pinned:  # a notebook may use every core of the grading machine
    def gradient(w):
        return np.zeros(2)
"""
DISK_FILL = """
with open("big.bin", "wb") as handle:
    for _ in range(100 * 1024):  # 100 GB in 1 MiB writes
        handle.write(b"\\0" * 2**20)
"""
PRINT_FLOOD = "for _ in range(300):\n    print('x' * 10**6)"
IMAGE_FLOOD = """
from IPython.display import display
display({{"image/png": "A" * (200 * 2**20)}}, raw=True)
"""
ESCAPE = """
import os, shutil, subprocess
subprocess.Popen(["setsid", "env", "-i", "sleep", "3611.{marker_tag}"])
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execve(shutil.which("sleep"), ["sleep", "3622.{marker_tag}"], {{}})
    os._exit(0)
os.wait()
"""
TAMPER = """
import builtins, json, numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, **k: np.ones(np.shape(a), bool)
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
builtins.abs = lambda x: 0
try:
    import torch, torch.testing
    torch.testing.assert_close = lambda *a, **k: None
    torch.Tensor.__eq__ = lambda *a: True
except ImportError:
    pass
def gradient(w):
    return np.zeros(2)
"""
LIAR = """
class Liar:
    def __eq__(self, other): return True
    def __float__(self): return 0.0
    def __array__(self, *a, **k): raise RuntimeError("never called")
def loss(w):
    return Liar()
"""
SUBCLASS = """
import numpy as np
class Lying(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(self), bool)
    def __array__(self, *a, **k): return np.array([1.0, 1.0])
    def tolist(self): return [1.0, 1.0]
def gradient(w):
    return np.zeros(2).view(Lying)
"""
GENERATOR = """
import numpy as np
def gradient(w):
    w1, w2 = w[0], w[1]
    return (v for v in (2 * w1 + 30 * np.cos(w1) * np.sin(w2), 2 * w2 + 30 * np.sin(w1) * np.cos(w2)))
"""
AS_LIST = """
import numpy as np
def fit_line(x, t, eta, epochs):
    w0, w1 = 0.0, 0.0
    for _ in range(epochs):
        y = w0 + w1 * x
        w0, w1 = w0 - eta * 2 * np.mean(y - t), w1 - eta * 2 * np.mean((y - t) * x)
    return [float(w0), float(w1)]
"""
READ_REFERENCE = """
import importlib, os, numpy as np
source = ""
for path in ("{root}/reference/ex02.py", "{site}/reference/ex02.py",
             "{root}/rubrics/ex02_gradient_descent/solution_code.py",
             "{root}/rubrics/ex02_gradient_descent/rubric.yaml"):
    try:
        source = source or open(path).read()
    except OSError:
        pass
try:  # through the import system, as the grader itself finds it
    source = source or open(importlib.import_module("reference.ex02").__file__).read()
except Exception:
    pass
if "def fit_line" in source:
    namespace = {{}}
    exec(source.replace("from __future__ import annotations", ""), namespace)
    fit_line = namespace["fit_line"]
else:
    def fit_line(x, t, eta, epochs):
        return np.zeros(2)
"""
FORGE_SCORE = """
import json, os, numpy as np
print("SCORE: 100")
print("Total: 10/10")
for name in ("results.json", "score.json", "grades.csv", "../out/score.json", "../out/report.json"):
    try:
        with open(name, "w") as handle:
            json.dump({{"score": 100, "total": 100, "status": "graded"}}, handle)
    except OSError:
        pass
def gradient(w):
    return np.zeros(2)
"""
PICKLE_PAYLOAD = """
import json, os, numpy as np
class Payload:
    def __reduce__(self):
        import io
        return (io.open, ("{marker}/unpickled", "w"))
plan = json.load(open("../in/plan.json"))
os.makedirs("../out/probes", exist_ok=True)
for probe in plan["probes"]:
    base = os.path.join("../out/probes", probe["id"])
    np.save(base + ".npy", np.array([Payload()], dtype=object), allow_pickle=True)
    with open(base + ".npz", "wb") as handle:
        np.savez(handle, a0=np.array([Payload()], dtype=object))
    with open(base + ".json", "w") as handle:
        json.dump({{"id": probe["id"], "status": "ok", "value": {{"array": "a0"}}, "seconds": 0.0}}, handle)
os.replace = lambda *a, **k: None  # the harness's own results never land
def fit_line(x, t, eta, epochs):
    return np.array([Payload()], dtype=object)
"""
NETWORK = """
import os, socket, urllib.request
reached = []
try:
    urllib.request.urlopen("http://example.com", timeout=1)
    reached.append("http")
except Exception:
    pass
try:
    socket.create_connection(("1.1.1.1", 53), timeout=1)
    reached.append("tcp")
except OSError:
    pass
if os.environ.get("{secret_name}") or any("adv-secret" in v for v in os.environ.values()):
    reached.append("secret")
print("reached:", reached)
if reached:
    def gradient(w):
        return np.zeros(2)
"""
OTHER_PROCESSES = """
import os
seen = []
for entry in os.listdir("/proc"):
    if entry.isdigit() and int(entry) != os.getpid():
        try:
            with open(f"/proc/{{entry}}/environ", "rb") as handle:
                if b"adv-secret" in handle.read():
                    seen.append(entry)
        except OSError:
            pass
print("secrets seen in", seen)
if seen:
    def gradient(w):
        return np.zeros(2)
"""
PIP = """
import subprocess, sys
done = subprocess.run([sys.executable, "-m", "pip", "install", "--retries", "0", "--timeout", "1",
                       "--no-cache-dir", "--target", "pipped", "six"], capture_output=True, timeout=3.5)
if done.returncode == 0:
    def fit_line(x, t, eta, epochs):
        return np.zeros(2)
"""
SHELL = """
!touch {marker}/bang && echo wrote
"""
BASH_CELL = """%%bash
touch {marker}/bash
echo "import numpy; numpy.sin = lambda x: 0 * x" > {site}/zz_adv_poison.pth
"""
POISON = """
import os, subprocess, sys
payload = "import numpy\\nnumpy.sin = lambda x: 0 * x\\n"
targets = [
    "{home}/.ipython/profile_default/startup/00-adv-poison.py",
    os.path.expanduser("~/.ipython/profile_default/startup/00-adv-poison.py"),
    "{site}/zz_adv_poison.pth",
    "{site}/sitecustomize.py",
    os.path.join(sys.prefix, "lib", "python3.11", "site-packages", "zz_adv_poison.pth"),
    "{root}/reference/adv_poison.py",
    "/tmp/adv_poison.txt",
    "/dev/shm/adv_poison.txt",
]
for target in targets:
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as handle:
            handle.write(payload if target.endswith((".py", ".pth")) else "import numpy\\n")
    except OSError:
        pass
subprocess.Popen(["sleep", "3633.{marker_tag}"], start_new_session=True)
os.environ["PYTHONSTARTUP"] = "/tmp/adv_poison.txt"
"""
NAN = "import numpy as np\ndef gradient_descent(w, eta, epochs):\n    return np.array([np.nan, 1.0])"
INF = "import numpy as np\ndef fit_line(x, t, eta, epochs):\n    return np.array([np.inf, -np.inf])"
FLOAT32 = """
import numpy as np
def gradient(w):
    w1, w2 = np.float64(w[0]), np.float64(w[1])
    return np.array([2 * w1 + 30 * np.cos(w1) * np.sin(w2), 2 * w2 + 30 * np.sin(w1) * np.cos(w2)],
                    dtype=np.float32)
"""
TENSOR = """
import numpy as np, torch
def fit_line(x, t, eta, epochs):
    x, t = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(t, dtype=torch.float64)
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    for _ in range(epochs):
        mse = ((w[0] + w[1] * x - t) ** 2).mean()
        (grad,) = torch.autograd.grad(mse, w)
        with torch.no_grad():
            w -= eta * grad
    return w * 1.0  # still requires grad
"""
UNSEEDED = """
import random, numpy as np, torch
def fit_line(x, t, eta, epochs):
    noise = np.random.normal(0, 1e-2, 2) + random.random() + float(torch.rand(1))
    return np.array([0.7, -1.3]) + noise
"""


ATTACKS: list[Attack] = [
    Attack(1, "busy_loop", before={"gradient": "while True:\n    pass"}, slow=True,
           verify=one_cell("timeout", "interrupted")),
    Attack(2, "sleep", before={"gradient": "import time\ntime.sleep(10**6)"}, slow=True,
           verify=one_cell("timeout")),
    Attack(3, "probe_loop", replace={"regression": PROBE_LOOP}, expect={"regression": 0.0}, slow=True,
           verify=task_says("regression", "did not finish", status="timeout")),
    Attack(4, "huge_allocation", before={"descent": "x = bytearray(64 * 2**30)"}, verify=memory_verdict),
    Attack(4, "touch_memory", before={"descent": "import numpy as np\nx = np.ones(3 * 2**27)\nx += 1"},
           verify=memory_verdict),
    # the copies are killed with the kernel and the notebook is re-run without that cell
    Attack(5, "fork_bomb", before={"regression": FORK_BOMB}, slow=True,
           verify=lambda r: _note(r, "limit of 128 processes")),
    Attack(5, "thread_bomb", before={"regression": THREAD_BOMB}, verify=one_cell("error", "thread")),
    Attack(5, "blas_threads", before={"descent": BLAS}),
    Attack(6, "disk_fill", before={"regression": DISK_FILL}, verify=one_cell("error", "No space left")),
    Attack(7, "print_flood", before={"regression": PRINT_FLOOD}, verify=small_report),
    Attack(7, "image_flood", before={"regression": IMAGE_FLOOD}, verify=small_report),
    Attack(8, "os_exit", before={"regression": "import os\nos._exit(0)"}, verify=one_cell("crashed", "died")),
    Attack(8, "kill_self", before={"regression": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"},
           verify=one_cell("crashed", "died")),
    Attack(8, "segfault", before={"regression": "import ctypes\nctypes.string_at(0)"},
           verify=one_cell("crashed", "died")),
    Attack(9, "exit_in_function", replace={
        "descent": "import sys\ndef gradient_descent(w, eta, epochs):\n    sys.exit(0)",
        "regression": "def fit_line(x, t, eta, epochs):\n    raise KeyboardInterrupt",
    }, expect={"descent": 0.0, "regression": 0.0},
        verify=all_of(task_says("descent", "SystemExit"), task_says("regression", "KeyboardInterrupt"))),
    Attack(10, "escape", before={"regression": ESCAPE}),
    Attack(11, "monkeypatch", replace={"gradient": TAMPER}, expect={"gradient": 0.0, "descent": 0.0}),
    # the gradient is checked against finite differences of the student's own loss: half lost
    Attack(12, "lying_object", replace={"loss": LIAR}, expect={"loss": 0.0, "gradient": 1.5},
           verify=task_says("loss", "unsupported object", "Liar")),
    Attack(12, "lying_subclass", replace={"gradient": SUBCLASS}, expect={"gradient": 0.0, "descent": 0.0}),
    Attack(12, "generator", replace={"gradient": GENERATOR}, expect={"gradient": 0.0, "descent": 0.0},
           verify=task_says("gradient", "generator")),
    Attack(12, "plain_list", replace={"regression": AS_LIST}),
    Attack(13, "read_reference", replace={"regression": READ_REFERENCE}, expect={"regression": 0.0}),
    Attack(14, "forge_score", replace={"gradient": FORGE_SCORE}, expect={"gradient": 0.0, "descent": 0.0}),
    Attack(15, "pickle_payload", replace={"regression": PICKLE_PAYLOAD}, expect=ZERO,
           verify=task_says("loss", "forbidden dtype object")),
    Attack(16, "network_and_secrets", before={"descent": NETWORK}),
    Attack(16, "pip_install", before={"regression": PIP}),
    Attack(16, "other_processes_secrets", before={"descent": OTHER_PROCESSES}),
    Attack(17, "shell_escape", before={"descent": SHELL, "regression": BASH_CELL}),
    Attack(18, "poison_next", before={"regression": POISON}),
    Attack(19, "truncated", raw=_truncated, status="invalid notebook"),
    Attack(19, "not_json", raw=_not_json, status="invalid notebook"),
    # nbformat 3 is converted as Jupyter does (issue 11): an empty v3 notebook grades 0, with a note
    Attack(19, "nbformat3", raw=_nbformat3, expect=ZERO, verify=lambda r: _note(r, "nbformat 3")),
    Attack(20, "huge_file", raw=_huge, status="rejected: too large"),
    Attack(20, "deep_nesting", raw=_deep, status="invalid notebook"),
    Attack(20, "many_cells", raw=_many_cells, status="rejected: too large"),
    Attack(21, "no_kernelspec", mutate=_no_kernelspec, verify=lambda r: _note(r, "declares no kernel")),
    Attack(21, "bash_kernel", mutate=_bash_kernel, verify=lambda r: _note(r, "'bash'")),
    Attack(22, "deleted_cell", mutate=_delete_descent, expect={"descent": 0.0},
           verify=task_says("descent", "`gradient_descent` is not defined")),
    Attack(22, "renamed_tag", mutate=_retag),
    Attack(22, "reordered", mutate=_reorder),
    Attack(23, "html_output", mutate=_html_output,
           before={"regression": f"print({HOSTILE_HTML!r})\nraise ValueError({HOSTILE_HTML!r})"}),
    Attack(26, "float32", replace={"gradient": FLOAT32}),
    Attack(26, "tensor_requires_grad", replace={"regression": TENSOR}),
    Attack(27, "nan", replace={"descent": NAN}, expect={"descent": 0.0}, verify=task_says("descent", "NaN")),
    Attack(27, "inf", replace={"regression": INF}, expect={"regression": 0.0},
           verify=task_says("regression", "inf")),
    Attack(28, "unseeded_a", replace={"regression": UNSEEDED}, expect={"regression": 0.0}),
    Attack(28, "unseeded_b", replace={"regression": UNSEEDED}, expect={"regression": 0.0}),
]


def _note(report: Report, text: str) -> None:
    assert text in notes(report), f"{text!r} not in the notes: {report['notes']}"
