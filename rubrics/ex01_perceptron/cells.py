"""Notebook cells of exercise 1 (numpy basics, the perceptron): solution, template and mutants.

`rubrics/_build_notebooks.py` turns this module into the notebooks of this folder. A cell is
`(kind, source, tag)`; `TEMPLATE` and each entry of `MUTANTS` swap the sources of tagged
code cells. Regenerate after an edit: `.venv/bin/python rubrics/_build_notebooks.py`.
"""

from __future__ import annotations

Cell = tuple[str, str, str | None]


EX01_INTRO = r"""
# Exercise 1: numpy basics and the perceptron

In this exercise you write a few numpy helpers and then the perceptron, the oldest
learning machine: a linear classifier trained sample by sample with the perceptron
learning rule. Finally you train it on a small linearly separable data set.

Conventions used throughout (the grader relies on them):

* a data matrix `X` has shape `(N, D)`, one sample per row, dtype `float64`;
* a weight vector `w` has shape `(D + 1,)`; **`w[0]` is the bias**, `w[1:]` are the
  weights of the `D` features;
* targets and predictions are the integers `0` and `1`.

Fill in the cells marked `TODO`. Do not rename the functions: the grader calls them with
its own inputs and compares the results with a reference implementation. Keep the tags
of the cells (View > Cell Toolbar > Tags) as they are. Use numpy only.
"""

EX01_IMPORTS = """
import os

import numpy as np
"""

EX01_PARAMETERS = """
# parameters (the grader sets data_dir and may override the others)
seed = 0
epochs = 20
data_dir = "data"
"""

EX01_NUMPY_MD = r"""
## Task 1: numpy basics (2 points)

* `add_bias(X)`: for `X` of shape `(N, D)` return an array of shape `(N, D + 1)` whose
  **first** column is all ones, followed by the columns of `X`. Do not modify `X`.
* `standardize(X)`: return `(X - mean) / std`, with the mean and the standard deviation
  (`np.std`, i.e. `ddof=0`) taken **per column**, so that every column of the result has
  mean 0 and standard deviation 1. Same shape as `X`.

No Python loops needed: use `np.hstack` / `np.column_stack` / `np.ones` and broadcasting.
"""

EX01_NUMPY = """
def add_bias(X):
    return np.hstack([np.ones((X.shape[0], 1)), X])


def standardize(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)
"""

EX01_PREDICT_MD = r"""
## Task 2: prediction (2 points)

The perceptron computes the activation $a = w_0 + \sum_{d=1}^{D} w_d x_d =
\mathbf w^\top \tilde{\mathbf x}$ with $\tilde{\mathbf x} = (1, x_1, \dots, x_D)$ and
outputs the step function of it:

$$y = H(a) = \begin{cases} 1 & a \ge 0 \\ 0 & a < 0 \end{cases}$$

(an activation of exactly 0 gives class 1). Implement `predict(w, X)` for a weight vector
`w` of shape `(D + 1,)` and a data matrix `X` of shape `(N, D)` (**without** a bias
column: add it yourself). Return an integer array of shape `(N,)` with values 0 and 1.
"""

EX01_PREDICT = """
def predict(w, X):
    activation = add_bias(X) @ w
    return (activation >= 0).astype(int)
"""

EX01_TRAIN_MD = r"""
## Task 3: the perceptron learning rule (3 points)

Implement `train_perceptron(X, t, w_init, eta, epochs)`. Starting from a copy of `w_init`,
make `epochs` passes over the data; in each pass visit the samples **in the given order**
$n = 1, \dots, N$ and, using the *current* weights, predict $y_n$ for sample $n$ and update

$$\mathbf w \leftarrow \mathbf w + \eta\,(t_n - y_n)\,\tilde{\mathbf x}_n .$$

A correctly classified sample leaves $\mathbf w$ unchanged; a misclassified one moves the
decision boundary towards it. Always do all `epochs` passes (once every sample is right,
further passes change nothing). `t` holds the targets 0/1, shape `(N,)`. Return the
final weights, shape `(D + 1,)`, and do not modify `w_init`.
"""

EX01_TRAIN = """
def train_perceptron(X, t, w_init, eta, epochs):
    Xb = add_bias(X)
    w = np.array(w_init, dtype=float)  # a copy: the caller's array stays untouched
    for _ in range(epochs):
        for x_n, t_n in zip(Xb, t):
            y_n = 1 if x_n @ w >= 0 else 0
            w = w + eta * (t_n - y_n) * x_n
    return w
"""

EX01_SEPARATION_MD = r"""
## Task 4: separating a data set (3 points)

The file `train.csv` in `data_dir` holds 100 points of two classes in the plane
(columns `x1, x2, t`) that a straight line separates. The cell below loads it.

* Implement `accuracy(w, X, t)`: the fraction (a float in [0, 1]) of samples whose
  prediction equals the target.
* Train a perceptron on `X_train, t_train` from `w = 0` (three zeros) with `eta = 0.1`
  for `epochs` epochs, store the weights in `w_trained`, and define
  `classify(X)`, which returns the predictions (shape `(N,)`, 0/1) of your trained
  perceptron for a data matrix `X` of shape `(N, 2)`.

The grader calls `classify` on new points of the same two classes that you have not
seen: it must classify (almost) all of them correctly.
"""

EX01_LOAD = """
data = np.loadtxt(os.path.join(data_dir, "train.csv"), delimiter=",", skiprows=1)
X_train, t_train = data[:, :2], data[:, 2].astype(int)
print("X_train:", X_train.shape, " class counts:", np.bincount(t_train))
"""

EX01_SEPARATION = """
def accuracy(w, X, t):
    return float(np.mean(predict(w, X) == t))


w_trained = train_perceptron(X_train, t_train, np.zeros(3), 0.1, epochs)


def classify(X):
    return predict(w_trained, X)


print("trained weights:", w_trained)
print("training accuracy:", accuracy(w_trained, X_train, t_train))
"""

EX01_TEMPLATE = {
    "numpy": """
def add_bias(X):
    # TODO: (N, D) -> (N, D + 1), a column of ones first
    ...


def standardize(X):
    # TODO: per column: subtract the mean, divide by the standard deviation (ddof=0)
    ...
""",
    "predict": """
def predict(w, X):
    # TODO: 1 where w[0] + w[1:] . x >= 0, else 0; an int array of shape (N,)
    ...
""",
    "train": """
def train_perceptron(X, t, w_init, eta, epochs):
    # TODO: `epochs` passes over the samples in order; w <- w + eta * (t_n - y_n) * x~_n
    ...
""",
    "separation": """
def accuracy(w, X, t):
    # TODO: the fraction of samples predicted correctly
    ...


# TODO: train from w = 0 with eta = 0.1 for `epochs` epochs
w_trained = ...


def classify(X):
    # TODO: the predictions of your trained perceptron, shape (N,)
    ...
""",
}

EX01_MUTANTS: dict[str, dict[str, str]] = {
    # standardises with the mean and std of the whole array instead of per column
    "standardize_global": {
        "numpy": """
def add_bias(X):
    return np.hstack([np.ones((X.shape[0], 1)), X])


def standardize(X):
    return (X - X.mean()) / X.std()
""",
    },
    # the update has the wrong sign: misclassified samples push the boundary away
    "update_sign": {
        "train": """
def train_perceptron(X, t, w_init, eta, epochs):
    Xb = add_bias(X)
    w = np.array(w_init, dtype=float)
    for _ in range(epochs):
        for x_n, t_n in zip(Xb, t):
            y_n = 1 if x_n @ w >= 0 else 0
            w = w - eta * (t_n - y_n) * x_n
    return w
""",
    },
    # the bias w[0] is never updated: the boundary stays a line through w[0]'s start
    "bias_not_learned": {
        "train": """
def train_perceptron(X, t, w_init, eta, epochs):
    w = np.array(w_init, dtype=float)
    for _ in range(epochs):
        for x_n, t_n in zip(X, t):
            y_n = 1 if w[0] + x_n @ w[1:] >= 0 else 0
            w[1:] = w[1:] + eta * (t_n - y_n) * x_n
    return w
""",
    },
    # a single pass over the data, whatever `epochs` says
    "single_epoch": {
        "train": """
def train_perceptron(X, t, w_init, eta, epochs):
    Xb = add_bias(X)
    w = np.array(w_init, dtype=float)
    for x_n, t_n in zip(Xb, t):
        y_n = 1 if x_n @ w >= 0 else 0
        w = w + eta * (t_n - y_n) * x_n
    return w
""",
    },
    # updates on every sample (Hebb-like), also on the correctly classified ones
    "update_always": {
        "train": """
def train_perceptron(X, t, w_init, eta, epochs):
    Xb = add_bias(X)
    w = np.array(w_init, dtype=float)
    for _ in range(epochs):
        for x_n, t_n in zip(Xb, t):
            w = w + eta * (2 * t_n - 1) * x_n
    return w
""",
    },
}

EX01_CELLS: list[Cell] = [
    ("md", EX01_INTRO, None),
    ("code", EX01_IMPORTS, None),
    ("code", EX01_PARAMETERS, "parameters"),
    ("md", EX01_NUMPY_MD, None),
    ("code", EX01_NUMPY, "numpy"),
    ("md", EX01_PREDICT_MD, None),
    ("code", EX01_PREDICT, "predict"),
    ("md", EX01_TRAIN_MD, None),
    ("code", EX01_TRAIN, "train"),
    ("md", EX01_SEPARATION_MD, None),
    ("code", EX01_LOAD, None),
    ("code", EX01_SEPARATION, "separation"),
]

CELLS = EX01_CELLS
TEMPLATE = EX01_TEMPLATE
MUTANTS = EX01_MUTANTS

MUTANTS["mut_train_compare_1"] = {  # saved by `autograde rubric mutate --save`
    "train": r"""
def train_perceptron(X, t, w_init, eta, epochs):
    Xb = add_bias(X)
    w = np.array(w_init, dtype=float)  # a copy: the caller's array stays untouched
    for _ in range(epochs):
        for x_n, t_n in zip(Xb, t):
            y_n = 1 if x_n @ w > 0 else 0
            w = w + eta * (t_n - y_n) * x_n
    return w
""",
}
