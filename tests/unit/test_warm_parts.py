"""The parts of warm sandboxes that need no kernel: which modules are imported ahead, the
runner's reading of its warm spec, the key a sandbox is made for, priorities restored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograde.backends import priority
from autograde.backends.base import SandboxLimits
from autograde.backends.warm import WarmKey
from autograde.pipeline.preload import _imports, preload_modules
from autograde.rubric import load_assignment
from autograde.runner import protocol
from autograde.runner.warm import WarmSpec, preload_code


def test_imports_of_a_cell() -> None:
    source = "%matplotlib inline\n!pip list\nimport numpy as np, torch.nn as nn\n"
    source += "from torchvision import datasets\nfrom . import local\nif True:\n    import scipy.linalg\n"
    assert _imports(source) == ["numpy", "torch.nn", "torchvision", "scipy.linalg"]
    assert _imports("def broken(:\n") == []


def test_preload_follows_the_assignment_notebooks(tmp_path: Path) -> None:
    assert preload_modules(load_assignment("ex02_gradient_descent")) == ("numpy",)
    ex06 = preload_modules(load_assignment("ex06_pytorch_cnn"))
    assert "torch" in ex06 and "torchvision" in ex06
    assert all(name.split(".")[0] in {"numpy", "torch", "torchvision", "matplotlib"} for name in ex06)


def test_preload_code_binds_nothing() -> None:
    code = preload_code(["json", "no_such_module_here", "os; import sys"])
    namespace: dict[str, object] = {}
    exec(code, namespace)
    assert set(namespace) == {"__builtins__"}
    assert "no_such_module_here" in code and "sys" not in code  # a bad name is never code


def test_warm_spec_of_another_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / protocol.WARM).write_text(json.dumps({"version": protocol.PLAN_VERSION - 1}))
    spec, problem = WarmSpec.read(tmp_path)
    assert spec is None and problem and "version" in problem
    (tmp_path / protocol.WARM).write_text(json.dumps(
        {"version": protocol.PLAN_VERSION, "preload": ["numpy", "x y"], "device": "cuda", "nice": 10}))
    spec, problem = WarmSpec.read(tmp_path)
    assert problem is None and spec is not None
    assert (spec.preload, spec.device, spec.nice) == (["numpy"], "cuda", 10)


def test_every_part_of_the_key_tells_sandboxes_apart() -> None:
    limits = SandboxLimits(total_timeout=60)
    key = WarmKey("a", ("numpy",), "cpu", None, limits, None, ())
    assert key == WarmKey("a", ("numpy",), "cpu", None, SandboxLimits(total_timeout=60), None, ())
    others = [
        WarmKey("b", ("numpy",), "cpu", None, limits, None, ()),
        WarmKey("a", ("numpy", "torch"), "cpu", None, limits, None, ()),
        WarmKey("a", ("numpy",), "cuda", "0", limits, None, ()),
        WarmKey("a", ("numpy",), "cpu", None, SandboxLimits(total_timeout=61), None, ()),
        WarmKey("a", ("numpy",), "cpu", None, limits, Path("/data"), ()),
        WarmKey("a", ("numpy",), "cpu", None, limits, None, (Path("/secret"),)),
    ]
    assert all(other != key for other in others)


@pytest.mark.skipif(not priority.warm_nice(), reason="only a grader that can restore priorities lowers them")
def test_restore_gives_every_thread_its_priority_back() -> None:
    code = ("import os, threading, time\nos.nice(10)\n"
            "[threading.Thread(target=time.sleep, args=(30,), daemon=True).start() for _ in range(3)]\n"
            "print('up', flush=True)\ntime.sleep(30)\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "up"
        threads = os.listdir(f"/proc/{child.pid}/task")
        assert len(threads) == 4
        assert {os.getpriority(os.PRIO_PROCESS, int(t)) for t in threads} == {10}
        assert priority.restore([child.pid]) == 4
        assert {os.getpriority(os.PRIO_PROCESS, int(t)) for t in threads} == {0}
    finally:
        child.kill()
        child.communicate()


def test_template_imports_are_read_from_the_notebook(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import torch\nimport json"),
                nbformat.v4.new_markdown_cell("import x")]
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    from autograde.pipeline.preload import _notebook_imports

    assert _notebook_imports(path, path.stat().st_mtime_ns) == ("torch", "json")
