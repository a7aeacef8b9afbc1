"""The `module`, `plot`, `error` and `property` kinds on a real kernel: the harness inspects a
student's nn.Module, matplotlib figure, model outputs and returned values; the host judges.

The references and judges below are this test's own, written independently of the notebook.
"""

from __future__ import annotations

import nbformat
import numpy as np
import pytest
import torch
import yaml

from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.rubric import load_rubric_file

pytestmark = pytest.mark.integration

HERE = "tests.integration.test_structure_kinds"

NOTEBOOK = '''
import numpy as np
import torch
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

net = torch.nn.Sequential(
    torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 3)
)
net.train()

def make_net(hidden):
    return torch.nn.Sequential(torch.nn.Linear(5, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 2))

def not_a_net():
    return [1, 2, 3]

def plot_curves(x):
    fig, ax = plt.subplots()
    ax.plot(x, x ** 2, label="square")
    ax.plot(2 * x)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return fig

fig2, ax2 = plt.subplots()
ax2.scatter([1, 2, 3], [4, 5, 6])

def predict(x):
    return 3 * x[:, :1]

def class_scores(x):
    return np.stack([x[:, 0], -x[:, 0]], axis=1)

def noise(n, seed):
    return np.random.default_rng(seed).choice([-1.0, 1.0], size=n)
'''


# ---------------------------------------------------------------- host side of the rubric


def make_net_ref(hidden: int) -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(5, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 2))


def curves_ref(x: np.ndarray) -> list:
    return [(x, x * x), np.arange(len(x)) * 0 + 2 * x]


def cubes_ref(x: np.ndarray) -> list:
    return [(x, x**3), 2 * x]


def one_line_ref(x: np.ndarray) -> list:
    return [x]


def scatter_ref() -> list:
    return [np.array([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]])]


def line_data(rng: np.random.Generator, n: int, offset: float) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(n, 2)).astype(np.float32)
    return x, 3.0 * x[:, :1] + offset


def sign_classes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(n, 2))
    return x, (x[:, 0] < 0).astype(np.int64)


def signs_judge(result: object, n: int, seed: int) -> str | None:
    values = np.asarray(result)
    if values.shape != (n,):
        return f"expected {n} values, got shape {values.shape}"
    if not np.isin(values, [-1.0, 1.0]).all():
        return "values other than -1 and +1"
    return None


def never_judge(result: object, n: int, seed: int) -> str | None:
    return f"the mean is {float(np.mean(result)):.3f}, not exactly 0.5"


def broken_judge(result: object, *args: object) -> str | None:
    raise RuntimeError("judge bug")


# ---------------------------------------------------------------- the rubric

CHECKS = {
    "module_var": {"kind": "module", "variable": "net", "layers": ["Conv2d", "ReLU", "Flatten", "Linear"],
                   "params": 4 * 9 + 4 + 144 * 3 + 3,
                   "input": {"draw": "normal", "shape": [2, 1, 8, 8], "dtype": "float32", "torch": True},
                   "output_shape": [2, 3]},
    "module_ref": {"kind": "module", "call": "make_net", "args": [7], "reference": f"{HERE}:make_net_ref",
                   "input": {"draw": "normal", "shape": [4, 5], "dtype": "float32", "torch": True}},
    "module_contains": {"kind": "module", "variable": "net", "layers": ["Conv2d", "Linear"],
                        "layers_match": "contains"},
    "module_wrong": {"kind": "module", "call": "make_net", "args": [7], "params": 10,
                     "layers": ["Linear", "ReLU", "Linear"],
                     "input": {"draw": "normal", "shape": [4, 5], "dtype": "float32", "torch": True},
                     "output_shape": [4, 3]},
    "module_not_module": {"kind": "module", "call": "not_a_net", "params": 1},
    "module_bad_input": {
        "kind": "module", "variable": "net", "output_shape": [2, 3],
        "input": {"draw": "normal", "shape": [2, 3, 8, 8], "dtype": "float32", "torch": True},
    },
    "plot_lines": {"kind": "plot", "call": "plot_curves", "args": [{"value": [0, 1, 2, 3], "array": True,
                                                                    "dtype": "float64"}],
                   "labels": True, "min_count": 2, "reference": f"{HERE}:curves_ref"},
    "plot_lines_off": {"kind": "plot", "call": "plot_curves", "args": [{"value": [0, 1, 2, 3], "array": True,
                                                                        "dtype": "float64"}],
                       "reference": f"{HERE}:one_line_ref"},
    "plot_wrong_data": {"kind": "plot", "call": "plot_curves", "args": [{"value": [0, 1, 2, 3], "array": True,
                                                                         "dtype": "float64"}],
                        "reference": f"{HERE}:cubes_ref"},
    "plot_scatter": {"kind": "plot", "variable": "fig2", "artists": "scatter",
                     "reference": f"{HERE}:scatter_ref"},
    "plot_scatter_labels": {"kind": "plot", "variable": "ax2", "artists": "scatter", "labels": True},
    "error_ok": {"kind": "error", "model": "predict", "data": "exact", "max": 1e-6},
    "error_off": {"kind": "error", "model": "predict", "data": "shifted", "metric": "mae", "max": 0.5},
    "accuracy_numpy": {"kind": "accuracy", "model": "class_scores", "data": "classes", "min": 1.0},
    "property_ok": {"kind": "property", "call": "noise", "args": [50, 3], "repeat": 2,
                    "judge": f"{HERE}:signs_judge"},
    "property_fail": {"kind": "property", "call": "noise", "args": [50, 3],
                      "judge": f"{HERE}:never_judge"},
    "property_broken": {"kind": "property", "call": "noise", "args": [50, 3],
                        "judge": f"{HERE}:broken_judge"},
}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kinds")
    rubric = {
        "schema": 1,
        "assignment": "kinds",
        "title": "check kinds on a real kernel",
        "limits": {"cell_timeout": "60s", "probe_timeout": "30s", "total_timeout": "150s"},
        "hidden_data": {
            "exact": {"generator": f"{HERE}:line_data", "options": {"n": 40, "offset": 0.0}},
            "shifted": {"generator": f"{HERE}:line_data", "options": {"n": 40, "offset": 1.0}},
            "classes": {"generator": f"{HERE}:sign_classes", "options": {"n": 30}},
        },
        "tasks": [{"id": name, "points": 1, "checks": [check]} for name, check in CHECKS.items()],
    }
    (folder / "rubric.yaml").write_text(yaml.safe_dump(rubric))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(NOTEBOOK)]
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    path = folder / "kinds.ipynb"
    nbformat.write(nb, path)
    result = grade_submission(path, load_rubric_file(folder / "rubric.yaml"), GradeOptions(grading_seed=4))
    return {task.id: task.checks[0] for task in result.tasks}


def test_module_structure_from_a_variable_and_a_factory(report):
    assert report["module_var"].status == "pass", report["module_var"].message
    assert "475 trainable parameters" in report["module_var"].message
    assert "(2, 3)" in report["module_var"].message
    assert report["module_ref"].status == "pass", report["module_ref"].message
    assert report["module_contains"].status == "pass", report["module_contains"].message


def test_module_mismatches_are_all_named(report):
    message = report["module_wrong"].message
    assert report["module_wrong"].status == "fail"
    assert "layers [Linear, Tanh, Linear], expected [Linear, ReLU, Linear]" in message
    assert "58 trainable parameters, expected 10" in message
    assert "output shape (4, 2), expected (4, 3)" in message


def test_module_on_something_else_or_a_failing_forward(report):
    assert report["module_not_module"].status == "error"
    message = report["module_not_module"].message
    assert "list" in message and "nn.Module" in message
    assert report["module_bad_input"].status == "fail"
    assert "forward pass failed" in report["module_bad_input"].message


def test_plot_data_lines_and_scatter(report):
    assert report["plot_lines"].status == "pass", report["plot_lines"].message
    assert "2 lines as expected" in report["plot_lines"].message
    assert report["plot_lines_off"].status == "fail"
    assert "has 2 lines; expected 1" in report["plot_lines_off"].message
    assert report["plot_wrong_data"].status == "fail"
    assert "line 1, y data" in report["plot_wrong_data"].message
    assert report["plot_scatter"].status == "pass", report["plot_scatter"].message
    assert report["plot_scatter_labels"].status == "fail"
    assert "label on both axes" in report["plot_scatter_labels"].message


def test_error_of_a_numpy_model_on_hidden_targets(report):
    assert report["error_ok"].status == "pass", report["error_ok"].message
    assert "MSE 0 on 40 hidden samples" in report["error_ok"].message
    assert report["error_off"].status == "fail"
    assert "MAE 1 on 40" in report["error_off"].message


def test_accuracy_of_a_numpy_classifier(report):
    assert report["accuracy_numpy"].status == "pass", report["accuracy_numpy"].message
    assert "accuracy 1.000 on 30 hidden samples" in report["accuracy_numpy"].message


def test_property_judges_run_on_the_host(report):
    assert report["property_ok"].status == "pass", report["property_ok"].message
    assert report["property_fail"].status == "fail"
    assert "not exactly 0.5" in report["property_fail"].message
    assert report["property_broken"].status == "grader-error"
    assert "judge bug" in report["property_broken"].message
