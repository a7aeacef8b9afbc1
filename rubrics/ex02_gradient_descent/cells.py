"""Notebook cells of exercise 2 (gradient descent): solution, template and mutants from one source.

`rubrics/_build_notebooks.py` turns this module into the notebooks of this folder. A cell is
`(kind, source, tag)`; `TEMPLATE` and each entry of `MUTANTS` swap the sources of tagged
code cells. Regenerate after an edit: `.venv/bin/python rubrics/_build_notebooks.py`.
"""

from __future__ import annotations

Cell = tuple[str, str, str | None]


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

CELLS = EX02_CELLS
TEMPLATE = EX02_TEMPLATE
MUTANTS = EX02_MUTANTS
