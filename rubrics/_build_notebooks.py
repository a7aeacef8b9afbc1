"""Build the course notebooks of exercises 2 and 8 (solutions, templates, mutants, examples).

Run from the repository root:

    .venv/bin/python rubrics/_build_notebooks.py

Every notebook is generated from the cell sources below, so a fix in one place reaches
the solution, the template, the mutants and the bundled example uploads alike. Output is
deterministic (fixed cell ids, no outputs), so regenerating gives byte-identical files.

Cell tags: `parameters` marks the cell papermill injects after; every task's code cell
carries the tag its rubric names (`rubrics/<assignment>/rubric.yaml`, field `tag:`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat
from nbformat import v4

ROOT = Path(__file__).resolve().parent.parent
RUBRICS = ROOT / "rubrics"
EXAMPLES = ROOT / "examples"

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
LANGUAGE_INFO = {"name": "python"}

# A cell is (kind, source, tag): kind "md" or "code"; tag None for an untagged cell.
Cell = tuple[str, str, str | None]


def build(cells: Sequence[Cell], *, metadata: bool = True) -> nbformat.NotebookNode:
    nb = v4.new_notebook()
    for index, (kind, source, tag) in enumerate(cells):
        cell_id = f"{index:02d}-{tag or kind}"
        meta: dict[str, Any] = {"tags": [tag]} if tag else {}
        if kind == "md":
            nb.cells.append(v4.new_markdown_cell(source.strip("\n"), id=cell_id, metadata=meta))
        else:
            nb.cells.append(v4.new_code_cell(source.strip("\n"), id=cell_id, metadata=meta))
    nb.metadata = (
        {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)} if metadata else {}
    )
    nbformat.validate(nb)
    return nb


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(nb)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def replace(cells: Sequence[Cell], overrides: Mapping[str, str]) -> list[Cell]:
    """Swap the source of the code cells whose tag is in `overrides`."""
    unknown = set(overrides) - {tag for _, _, tag in cells}
    if unknown:
        raise KeyError(f"no cells tagged {sorted(unknown)}")
    return [(kind, overrides.get(tag, src) if tag else src, tag) for kind, src, tag in cells]


# ====================================================================== exercise 2

EX02_INTRO = r"""
# Exercise 2: Gradient descent

In this exercise you implement gradient descent by hand, with numpy only, first on a
two-dimensional test function with many local minima and then to fit a straight line.

Fill in the cells marked `TODO`. Do not rename the functions: the grader calls them with
its own inputs and compares the results with a reference implementation. Keep the tags
of the cells (View > Cell Toolbar > Tags) as they are.
"""

EX02_IMPORTS = """
import numpy as np
"""

EX02_PARAMETERS = """
# parameters (the grader may override these)
seed = 0
epochs = 100
"""

EX02_LOSS_MD = r"""
## Task 1: the loss function (2 points)

Implement

$$J(\mathbf w) = w_1^2 + w_2^2 + 30 \sin(w_1) \sin(w_2)$$

for a weight vector `w` of shape `(2,)` with $w_1$ = `w[0]` and $w_2$ = `w[1]`.
Return a single number.
"""

EX02_LOSS = """
def loss(w):
    w1, w2 = w[0], w[1]
    return w1**2 + w2**2 + 30 * np.sin(w1) * np.sin(w2)
"""

EX02_GRADIENT_MD = r"""
## Task 2: the gradient (3 points)

Compute the gradient $\nabla J(\mathbf w) = \left(\frac{\partial J}{\partial w_1},
\frac{\partial J}{\partial w_2}\right)$ analytically and implement it. Return an array
of shape `(2,)`. The grader checks it against finite differences of *your* loss and
against the reference.
"""

EX02_GRADIENT = """
def gradient(w):
    w1, w2 = w[0], w[1]
    dw1 = 2 * w1 + 30 * np.cos(w1) * np.sin(w2)
    dw2 = 2 * w2 + 30 * np.sin(w1) * np.cos(w2)
    return np.array([dw1, dw2])
"""

EX02_DESCENT_MD = r"""
## Task 3: gradient descent (2 points)

Implement `gradient_descent(w, eta, epochs)`: starting from `w`, take `epochs` steps

$$\mathbf w \leftarrow \mathbf w - \eta \, \nabla J(\mathbf w)$$

and return the final weights. Do not modify the array passed in.
"""

EX02_DESCENT = """
def gradient_descent(w, eta, epochs):
    w = np.array(w, dtype=float)  # a copy: the caller's array stays untouched
    for _ in range(epochs):
        w = w - eta * gradient(w)
    return w
"""

EX02_RUN_DESCENT_MD = """
Let us try a few starting points. Which minimum you end up in depends on where you start.
"""

EX02_RUN_DESCENT = """
eta = 0.01
for start in ([1.5, -2.0], [-3.0, -3.0], [2.0, 2.5]):
    w_final = gradient_descent(np.array(start), eta, epochs)
    print(f"start {start} -> w = {w_final}, J(w) = {loss(w_final)}")
"""

EX02_REGRESSION_MD = r"""
## Task 4: fitting a line (3 points)

Given inputs $x_n$ and targets $t_n$, fit the line $y_n = w_0 + w_1 x_n$ by minimising the
mean squared error

$$J(w_0, w_1) = \frac{1}{N} \sum_{n=1}^{N} (y_n - t_n)^2$$

with batch gradient descent, starting from $w_0 = w_1 = 0$. The gradient is
$\frac{\partial J}{\partial w_0} = \frac{2}{N}\sum_n (y_n - t_n)$ and
$\frac{\partial J}{\partial w_1} = \frac{2}{N}\sum_n (y_n - t_n)\,x_n$.
`fit_line(x, t, eta, epochs)` takes `epochs` steps with learning rate `eta` and returns
`np.array([w0, w1])`.
"""

EX02_REGRESSION = """
def fit_line(x, t, eta, epochs):
    w0, w1 = 0.0, 0.0
    for _ in range(epochs):
        y = w0 + w1 * x
        grad_w0 = 2 * np.mean(y - t)
        grad_w1 = 2 * np.mean((y - t) * x)
        w0 = w0 - eta * grad_w0
        w1 = w1 - eta * grad_w1
    return np.array([w0, w1])
"""

EX02_RUN_REGRESSION_MD = """
A small noisy data set drawn around the line $t = 0.7 - 1.3\\,x$: the fit should come close.
"""

EX02_RUN_REGRESSION = """
rng = np.random.default_rng(seed)
x = rng.uniform(-1, 1, size=50)
t = 0.7 - 1.3 * x + rng.normal(0, 0.1, size=50)
w_line = fit_line(x, t, 0.1, epochs)
print("fitted (w0, w1):", w_line, " true: (0.7, -1.3)")
"""

EX02_TEMPLATE = {
    "loss": """
def loss(w):
    # TODO: J(w) = w1^2 + w2^2 + 30 sin(w1) sin(w2)
    ...
""",
    "gradient": """
def gradient(w):
    # TODO: return dJ/dw as an array of shape (2,)
    ...
""",
    "descent": """
def gradient_descent(w, eta, epochs):
    # TODO: `epochs` steps of w <- w - eta * gradient(w); return the final w
    ...
""",
    "regression": """
def fit_line(x, t, eta, epochs):
    # TODO: batch gradient descent on the mean squared error, from w0 = w1 = 0
    ...
""",
}

EX02_MUTANTS: dict[str, dict[str, str]] = {
    # cos instead of sin in the loss; the gradient stays that of the true loss
    "loss_cos": {
        "loss": """
def loss(w):
    w1, w2 = w[0], w[1]
    return w1**2 + w2**2 + 30 * np.cos(w1) * np.cos(w2)
""",
    },
    # wrong sign on the 30 cos sin terms; the descent follows the wrong gradient
    "gradient_sign": {
        "gradient": """
def gradient(w):
    w1, w2 = w[0], w[1]
    dw1 = 2 * w1 - 30 * np.cos(w1) * np.sin(w2)
    dw2 = 2 * w2 - 30 * np.sin(w1) * np.cos(w2)
    return np.array([dw1, dw2])
""",
    },
    # the intercept w0 is never updated
    "fit_line_no_intercept": {
        "regression": """
def fit_line(x, t, eta, epochs):
    w0, w1 = 0.0, 0.0
    for _ in range(epochs):
        y = w0 + w1 * x
        grad_w1 = 2 * np.mean((y - t) * x)
        w1 = w1 - eta * grad_w1
    return np.array([w0, w1])
""",
    },
}

EX02_CELLS: list[Cell] = [
    ("md", EX02_INTRO, None),
    ("code", EX02_IMPORTS, None),
    ("code", EX02_PARAMETERS, "parameters"),
    ("md", EX02_LOSS_MD, None),
    ("code", EX02_LOSS, "loss"),
    ("md", EX02_GRADIENT_MD, None),
    ("code", EX02_GRADIENT, "gradient"),
    ("md", EX02_DESCENT_MD, None),
    ("code", EX02_DESCENT, "descent"),
    ("md", EX02_RUN_DESCENT_MD, None),
    ("code", EX02_RUN_DESCENT, None),
    ("md", EX02_REGRESSION_MD, None),
    ("code", EX02_REGRESSION, "regression"),
    ("md", EX02_RUN_REGRESSION_MD, None),
    ("code", EX02_RUN_REGRESSION, None),
]

# ------------------------------------------------ exercise 2: bundled student uploads

ALICE = {  # correct, in her own style
    "loss": """
def loss(w):
    a, b = np.asarray(w, dtype=float)
    return a * a + b * b + 30.0 * np.sin(a) * np.sin(b)
""",
    "gradient": """
def gradient(w):
    a, b = np.asarray(w, dtype=float)
    # product rule on 30 sin(a) sin(b)
    return np.array([2.0 * a + 30.0 * np.cos(a) * np.sin(b),
                     2.0 * b + 30.0 * np.sin(a) * np.cos(b)])
""",
    "descent": """
def gradient_descent(w, eta, epochs):
    trajectory = [np.asarray(w, dtype=float)]
    for _ in range(epochs):
        trajectory.append(trajectory[-1] - eta * gradient(trajectory[-1]))
    return trajectory[-1]
""",
    "regression": """
def fit_line(x, t, eta, epochs):
    # design matrix with a column of ones for the intercept
    X = np.column_stack([np.ones_like(x, dtype=float), x])
    w = np.zeros(2)
    for _ in range(epochs):
        residual = X @ w - t
        w -= eta * 2.0 * X.T @ residual / len(t)
    return w
""",
}

BOB = {  # the sign of the sine term in the gradient is wrong
    "gradient": """
def gradient(w):
    # d/dw1 of sin(w1) sin(w2) ... I think the cos brings a minus sign?
    g1 = 2 * w[0] - 30 * np.cos(w[0]) * np.sin(w[1])
    g2 = 2 * w[1] - 30 * np.sin(w[0]) * np.cos(w[1])
    return np.array([g1, g2])
""",
}

CAROL = {  # the fit_line cell raises a NameError (a typo, caught by her own sanity check)
    "regression": """
def fit_line(x, t, eta, epochs):
    w = np.zeros(2)
    for _ in range(epochs):
        y = w[0] + w[1] * x
        grad = np.array([2 * np.mean(y - t), 2 * np.mean((y - t) * X)])
        w = w - eta * grad
    return w

# quick sanity check: a perfect line through (0, 1) with slope 2
print(fit_line(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0]), 0.1, 500))
""",
}


# ====================================================================== exercise 8

EX08_INTRO = r"""
# Exercise 8: Open-set learning with an adapted softmax loss

A classifier trained with the usual softmax loss is confident on *every* input, even on
digits of a class it has never seen. Here you train a network on the known digits 0-4
and, in addition, on a few *unknown* digits (5, 6, 7) for which the target is the uniform
distribution. The network learns to be unsure on things it does not know; the grader
then shows it the digits 8 and 9, which it never saw at all.

The data folder is MNIST-format (`torchvision.datasets.MNIST`); its path is the
parameter `data_dir`.
"""

EX08_IMPORTS = """
import numpy as np
import torch
import torchvision
"""

EX08_PARAMETERS = """
# parameters (the grader sets data_dir and device)
seed = 0
epochs = 3
batch_size = 64
data_dir = "data"
device = "cpu"
"""

EX08_FILTER_MD = r"""
## Task 1: filter and relabel the data set (2 points)

Implement `filter_dataset(X, y, known, unknown)`. `X` is a tensor of samples `(N, ...)`,
`y` an `int64` tensor of class labels `(N,)`, `known` and `unknown` lists of classes.

* keep only the samples whose class is in `known` or in `unknown`, in their original order;
* a known class gets the label of its position in `known` (`known[i]` becomes `i`);
* an unknown class gets the label `-1`.

Return `(X_kept, y_new)`, with `y_new` of dtype `int64`.
"""

EX08_FILTER = """
def filter_dataset(X, y, known, unknown):
    keep = torch.isin(y, torch.tensor(list(known) + list(unknown), dtype=y.dtype))
    X_kept, y_kept = X[keep], y[keep]
    y_new = torch.full_like(y_kept, -1, dtype=torch.int64)
    for index, cls in enumerate(known):
        y_new[y_kept == cls] = index
    return X_kept, y_new
"""

EX08_LOSS_MD = r"""
## Task 2: the adapted softmax loss (2 + 3 points)

For logits $\mathbf z_n$ of $C$ classes and the softmax
$y_{n,c} = e^{z_{n,c}} / \sum_k e^{z_{n,k}}$, the loss over a batch of $N$ samples is

$$J = -\frac{1}{N}\sum_{n=1}^N \sum_{c=1}^C t_{n,c} \log y_{n,c}$$

with $\mathbf t_n$ one-hot for a known label and $t_{n,c} = 1/C$ for the label $-1$.
Its gradient is $\frac{\partial J}{\partial z_{n,c}} = \frac{1}{N}(y_{n,c} - t_{n,c})$.

Implement it as a `torch.autograd.Function` named `AdaptedSoftMax`: `forward(ctx, logits,
targets)` returns the loss (a 0-d tensor) and saves what `backward` needs;
`backward(ctx, grad)` returns the gradient for `logits` (times the incoming `grad`) and
`None` for `targets`. Compute the gradient yourself: no autograd inside.
"""

EX08_LOSS = """
class AdaptedSoftMax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, targets):
        C = logits.shape[1]
        t = torch.full_like(logits, 1.0 / C)
        known = targets >= 0
        t[known] = torch.nn.functional.one_hot(targets[known].long(), C).to(logits.dtype)
        log_y = torch.log_softmax(logits, dim=1)
        ctx.save_for_backward(log_y, t)
        return -(t * log_y).sum(dim=1).mean()

    @staticmethod
    def backward(ctx, grad):
        log_y, t = ctx.saved_tensors
        N = log_y.shape[0]
        return grad * (log_y.exp() - t) / N, None
"""

EX08_TRAINING_MD = r"""
## Task 3: train an open-set classifier (3 points)

Load the training data, keep the known classes 0-4 and use 5, 6, 7 as unknown (label
`-1`), and train a network named `model` with your `AdaptedSoftMax` loss. The grader
evaluates `model` (on the CPU, after this notebook ran) on hidden digits: it must take
float images of shape `(N, 1, 28, 28)` in $[0, 1]$ and return logits of shape `(N, 5)`.
It checks the accuracy on known digits and that the network is less confident (lower
maximum softmax) on the never-seen digits 8 and 9.
"""

EX08_LOAD_DATA = """
torch.manual_seed(seed)
to_tensor = torchvision.transforms.ToTensor()
train_set = torchvision.datasets.MNIST(data_dir, train=True, download=False, transform=to_tensor)
test_set = torchvision.datasets.MNIST(data_dir, train=False, download=False, transform=to_tensor)
X_train = torch.stack([image for image, _ in train_set])
y_train = torch.tensor([label for _, label in train_set], dtype=torch.int64)
X_test = torch.stack([image for image, _ in test_set])
y_test = torch.tensor([label for _, label in test_set], dtype=torch.int64)
known, unknown = [0, 1, 2, 3, 4], [5, 6, 7]
"""

EX08_TRAINING = (
    EX08_LOAD_DATA
    + """
X_open, y_open = filter_dataset(X_train, y_train, known, unknown)
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(X_open, y_open), batch_size=batch_size, shuffle=True
)

model = torch.nn.Sequential(
    torch.nn.Flatten(),
    torch.nn.Linear(28 * 28, 128),
    torch.nn.ReLU(),
    torch.nn.Linear(128, len(known)),
).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(epochs):
    total = 0.0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        batch_loss = AdaptedSoftMax.apply(model(xb), yb)
        batch_loss.backward()
        optimizer.step()
        total += batch_loss.item() * len(xb)
    print(f"epoch {epoch + 1}: loss {total / len(X_open):.4f}")

model.eval()
model = model.cpu()
X_known, y_known = filter_dataset(X_test, y_test, known, [])
X_never, _ = filter_dataset(X_test, y_test, [], [8, 9])
with torch.no_grad():
    p_known = torch.softmax(model(X_known), dim=1)
    p_never = torch.softmax(model(X_never), dim=1)
accuracy = (p_known.argmax(dim=1) == y_known).float().mean().item()
print(f"test accuracy on the known classes: {accuracy:.3f}")
print(f"mean max-softmax: known {p_known.max(dim=1).values.mean():.3f}, "
      f"never seen (8, 9) {p_never.max(dim=1).values.mean():.3f}")
"""
)

EX08_TEMPLATE = {
    "filter": """
def filter_dataset(X, y, known, unknown):
    # TODO: keep the known and unknown classes, relabel known -> index, unknown -> -1
    ...
""",
    "loss": """
class AdaptedSoftMax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, targets):
        # TODO: the mean adapted softmax loss; save what backward needs in ctx
        ...

    @staticmethod
    def backward(ctx, grad):
        # TODO: return (gradient w.r.t. logits, None)
        ...
""",
    "training": EX08_LOAD_DATA
    + """
# TODO: filter the training data with filter_dataset, wrap it in a DataLoader
# (batch_size, shuffle=True), build a network `model` that maps (N, 1, 28, 28) images to
# (N, 5) logits, and train it for `epochs` epochs with AdaptedSoftMax.apply and Adam.
# Finally call model.eval(), move it to the CPU and print the test accuracy.
model = ...
""",
    "theory-1": """
*Your answer here.*
""",
    "quiz": """
answer_1 = ...  # TODO: a list of letters
""",
}

_RELABEL_INLINE = """
# this notebook's filter_dataset forgets to relabel, so the training relabels by itself
def relabelled(X, y, known, unknown):
    keep = torch.isin(y, torch.tensor(list(known) + list(unknown), dtype=y.dtype))
    y_new = torch.full_like(y[keep], -1)
    for index, cls in enumerate(known):
        y_new[y[keep] == cls] = index
    return X[keep], y_new
"""

EX08_MUTANTS: dict[str, dict[str, str]] = {
    # filter_dataset returns the original labels; the training cell relabels correctly itself
    "filter_no_relabel": {
        "filter": """
def filter_dataset(X, y, known, unknown):
    keep = torch.isin(y, torch.tensor(list(known) + list(unknown), dtype=y.dtype))
    return X[keep], y[keep]
""",
        "training": _RELABEL_INLINE + EX08_TRAINING.replace("filter_dataset(", "relabelled("),
    },
    # forward sums over the batch instead of averaging; backward is the mean version
    "forward_sum": {
        "loss": EX08_LOSS.replace(
            "return -(t * log_y).sum(dim=1).mean()", "return -(t * log_y).sum()"
        ),
    },
    # backward forgets the incoming gradient (harmless in training, where it is 1)
    "backward_ignores_grad": {
        "loss": EX08_LOSS.replace(
            "return grad * (log_y.exp() - t) / N, None", "return (log_y.exp() - t) / N, None"
        ),
    },
}

EX08_THEORY_MD = r"""
## Task 5: theory (2 points, graded by hand)

Why does a network trained with the plain softmax cross-entropy on the known classes only
assign a *high* confidence to images of classes it has never seen? Answer in two or three
sentences in the cell below (a Markdown cell; keep its tag `theory-1`).
"""

EX08_THEORY = """
The softmax normalises the logits of the known classes to sum to one, so every input,
known or not, is mapped onto one of the known classes; cross-entropy rewards large logit
margins, nothing in training penalises confident outputs far from the training data, and
so the margin (and the max-softmax) stays large on unknown inputs too.
"""

EX08_QUIZ_MD = r"""
## Task 6: multiple choice (1 point)

Which statements about the adapted softmax loss are true? Set `answer_1` to the list of
all correct letters, for example `["a", "c"]`.

* (a) It needs labels for the classes that only appear at test time (8 and 9).
* (b) For a sample of an unknown class, it is smallest when the softmax output is uniform.
* (c) It is the same as cross-entropy with label smoothing on every sample.
* (d) For a sample of a known class, it equals the usual cross-entropy.
"""

EX08_QUIZ = """
answer_1 = ["b", "d"]
"""

EX08_CELLS: list[Cell] = [
    ("md", EX08_INTRO, None),
    ("code", EX08_IMPORTS, None),
    ("code", EX08_PARAMETERS, "parameters"),
    ("md", EX08_FILTER_MD, None),
    ("code", EX08_FILTER, "filter"),
    ("md", EX08_LOSS_MD, None),
    ("code", EX08_LOSS, "loss"),
    ("md", EX08_TRAINING_MD, None),
    ("code", EX08_TRAINING, "training"),
    ("md", EX08_THEORY_MD, None),
    ("md", EX08_THEORY, "theory-1"),
    ("md", EX08_QUIZ_MD, None),
    ("code", EX08_QUIZ, "quiz"),
]


# ====================================================================== main


def _check_mutants(base: Sequence[Cell], mutants: Mapping[str, Mapping[str, str]]) -> None:
    sources = {tag: src for _, src, tag in base if tag}
    for name, overrides in mutants.items():
        for tag, src in overrides.items():
            if src == sources[tag]:
                raise ValueError(f"mutant {name}: cell {tag!r} is unchanged")


def main() -> list[Path]:
    written: list[Path] = []

    def emit(nb: nbformat.NotebookNode, path: Path) -> None:
        write(nb, path)
        written.append(path)

    _check_mutants(EX02_CELLS, EX02_MUTANTS)
    _check_mutants(EX08_CELLS, EX08_MUTANTS)

    for folder, cells, template, mutants in (
        (RUBRICS / "ex02_gradient_descent", EX02_CELLS, EX02_TEMPLATE, EX02_MUTANTS),
        (RUBRICS / "ex08_open_set", EX08_CELLS, EX08_TEMPLATE, EX08_MUTANTS),
    ):
        emit(build(cells), folder / "solution.ipynb")
        emit(build(replace(cells, template)), folder / "template.ipynb")
        for name, overrides in mutants.items():
            emit(build(replace(cells, overrides)), folder / "mutants" / f"{name}.ipynb")

    uploads = EXAMPLES / "ex02_gradient_descent"
    emit(build(replace(EX02_CELLS, ALICE)), uploads / "alice.ipynb")
    emit(build(replace(EX02_CELLS, BOB)), uploads / "bob.ipynb")
    emit(build(replace(EX02_CELLS, CAROL)), uploads / "carol.ipynb")
    emit(build(replace(EX02_CELLS, EX02_TEMPLATE)), uploads / "dave.ipynb")
    truncated = nbformat.writes(build(EX02_CELLS)).encode("utf-8")[:200]
    try:  # make sure it really is broken JSON
        json.loads(truncated)
    except ValueError:
        pass
    else:  # pragma: no cover - would mean the notebook is under 200 bytes
        raise AssertionError("the truncated notebook still parses")
    (uploads / "erin.ipynb").write_bytes(truncated)
    written.append(uploads / "erin.ipynb")
    emit(build(EX02_CELLS, metadata=False), uploads / "frank.ipynb")
    return written


if __name__ == "__main__":
    for path in main():
        print(path.relative_to(ROOT))
