"""Notebook cells of exercise 3 (nonlinear regression with a two-layer network): solution,
template and mutants from one source.

`rubrics/_build_notebooks.py` turns this module into the notebooks of this folder. A cell is
`(kind, source, tag)`; `TEMPLATE` and each entry of `MUTANTS` swap the sources of tagged
code cells. Regenerate after an edit: `.venv/bin/python rubrics/_build_notebooks.py`.
"""

from __future__ import annotations

Cell = tuple[str, str, str | None]


EX03_INTRO = r"""
# Exercise 3: Nonlinear regression with a two-layer network

A straight line cannot fit $f(x) = \sin(\pi x)$. A network with one hidden layer of $K$
tanh units can: in this exercise you write its forward pass, its loss, the gradient of the
loss by backpropagation and gradient descent, all in numpy, and train it on noisy samples
of $f$.

Shapes used throughout (the grader relies on them; all arrays `float64`):

| name | shape | meaning |
|------|-------|---------|
| `X`  | `(N, D)` | inputs, one sample per row (here $D = 1$) |
| `T`  | `(N, O)` | targets (here $O = 1$) |
| `W1` | `(K, D + 1)` | hidden layer; **column 0 holds the biases** |
| `W2` | `(O, K + 1)` | output layer; **column 0 holds the bias** |

The network computes $\tilde X = [\mathbf 1, X]$ (a column of ones in front),
$H = \tanh(\tilde X W_1^\top)$ of shape `(N, K)`, $\tilde H = [\mathbf 1, H]$ and the
linear output $Y = \tilde H W_2^\top$ of shape `(N, O)`.

Fill in the cells marked `TODO`. Do not rename the functions: the grader calls them with
its own inputs (also with $D > 1$ or $O > 1$) and compares the results with a reference
implementation. Keep the tags of the cells as they are. Use numpy only.
"""

EX03_IMPORTS = """
import numpy as np
"""

EX03_PARAMETERS = """
# parameters (the grader may override these)
seed = 0
epochs = 2000
"""

EX03_FORWARD_MD = r"""
## Task 1: the forward pass (2 points)

Implement `forward(X, W1, W2)`, returning the network outputs $Y$ of shape `(N, O)` as
defined above. Do not modify the arguments.
"""

EX03_FORWARD = """
def forward(X, W1, W2):
    ones = np.ones((X.shape[0], 1))
    H = np.tanh(np.hstack([ones, X]) @ W1.T)
    return np.hstack([ones, H]) @ W2.T
"""

EX03_LOSS_MD = r"""
## Task 2: the loss (1 point)

Implement `loss(X, T, W1, W2)`: the squared error summed over the outputs and averaged
over the samples,

$$J(W_1, W_2) = \frac{1}{N} \sum_{n=1}^{N} \sum_{o=1}^{O} (y_{no} - t_{no})^2 .$$

Return a single number.
"""

EX03_LOSS = """
def loss(X, T, W1, W2):
    Y = forward(X, W1, W2)
    return np.sum((Y - T) ** 2) / X.shape[0]
"""

EX03_GRADIENT_MD = r"""
## Task 3: the gradient by backpropagation (3 points)

Implement `gradients(X, T, W1, W2)`, returning the tuple `(dW1, dW2)` of the partial
derivatives $\partial J / \partial W_1$ (shape `(K, D + 1)`) and $\partial J / \partial W_2$
(shape `(O, K + 1)`). With $A = \tilde X W_1^\top$ and $H = \tanh(A)$:

$$\frac{\partial J}{\partial Y} = \frac{2}{N}(Y - T), \qquad
\frac{\partial J}{\partial W_2} = \Big(\frac{\partial J}{\partial Y}\Big)^{\!\top} \tilde H, \qquad
\frac{\partial J}{\partial A} = \Big(\frac{\partial J}{\partial Y}\, W_2^{(1:)}\Big) \odot (1 - H^2), \qquad
\frac{\partial J}{\partial W_1} = \Big(\frac{\partial J}{\partial A}\Big)^{\!\top} \tilde X$$

where $W_2^{(1:)}$ = `W2[:, 1:]` leaves out the bias column (the constant 1 of $\tilde H$
has no input to pass a gradient to) and $\odot$ multiplies elementwise. The grader
compares your gradient with finite differences of *your* loss (through the helpers in the
cell after this one) and with the reference.
"""

EX03_GRADIENT = """
def gradients(X, T, W1, W2):
    N = X.shape[0]
    ones = np.ones((N, 1))
    Xb = np.hstack([ones, X])
    H = np.tanh(Xb @ W1.T)
    Hb = np.hstack([ones, H])
    Y = Hb @ W2.T
    dY = 2 * (Y - T) / N
    dW2 = dY.T @ Hb
    dA = (dY @ W2[:, 1:]) * (1 - H**2)
    dW1 = dA.T @ Xb
    return dW1, dW2
"""

EX03_FLAT_MD = r"""
The grader checks your gradient with the two helpers below; **do not change them**. They
fix a small data set and a hidden layer of `K_check = 3` units, and view the loss and its
gradient as functions of one flat vector `w` of the 3 * 2 + 1 * 4 = 10 weights
(`W1` row by row, then `W2`).
"""

EX03_FLAT = """
_check_rng = np.random.default_rng(3)
X_check = _check_rng.uniform(-1, 1, size=(8, 1))
T_check = np.sin(np.pi * X_check)
K_check = 3


def unflatten(w):
    w = np.asarray(w, dtype=float)
    return w[: 2 * K_check].reshape(K_check, 2), w[2 * K_check :].reshape(1, K_check + 1)


def loss_flat(w):
    return loss(X_check, T_check, *unflatten(w))


def gradient_flat(w):
    dW1, dW2 = gradients(X_check, T_check, *unflatten(w))
    return np.concatenate([np.ravel(dW1), np.ravel(dW2)])
"""

EX03_DESCENT_MD = r"""
## Task 4: gradient descent (2 points)

Implement `train(X, T, W1, W2, eta, epochs)`: starting from `W1, W2`, take `epochs`
full-batch gradient descent steps on both layers at once,

$$W_1 \leftarrow W_1 - \eta \frac{\partial J}{\partial W_1}, \qquad
W_2 \leftarrow W_2 - \eta \frac{\partial J}{\partial W_2}$$

(both gradients taken at the weights before the step), and return the tuple
`(W1, W2)` of the final weights. Do not modify the arrays passed in.
"""

EX03_DESCENT = """
def train(X, T, W1, W2, eta, epochs):
    W1 = np.array(W1, dtype=float)  # copies: the caller's arrays stay untouched
    W2 = np.array(W2, dtype=float)
    for _ in range(epochs):
        dW1, dW2 = gradients(X, T, W1, W2)
        W1 = W1 - eta * dW1
        W2 = W2 - eta * dW2
    return W1, W2
"""

EX03_APPROX_MD = r"""
## Task 5: function approximation (3 points)

The cell below draws 40 noisy samples $t = \sin(\pi x) + \varepsilon$ with $x$ uniform in
$[-1, 1]$ and noise of standard deviation 0.1, and initial weights for $K = 10$ hidden
units. Train your network on them with `train` (learning rate `eta = 0.2`, `epochs`
steps), store the weights as `W1_trained, W2_trained`, and define `model(X)`, which
returns the outputs (shape `(N, 1)`) of the trained network for inputs `X` of shape
`(N, 1)`.

The grader evaluates `model` on hidden points of $[-1, 1]$ against the noise-free
$\sin(\pi x)$: the mean squared error must be at most 0.03.
"""

EX03_DATA = """
rng = np.random.default_rng(seed)
x_train = rng.uniform(-1, 1, size=(40, 1))
t_train = np.sin(np.pi * x_train) + rng.normal(0, 0.1, size=(40, 1))
K = 10
W1_init = rng.normal(0, 1, size=(K, 2))
W2_init = rng.normal(0, 0.5, size=(1, K + 1))
"""

EX03_APPROX = """
W1_trained, W2_trained = train(x_train, t_train, W1_init, W2_init, 0.2, epochs)


def model(X):
    return forward(X, W1_trained, W2_trained)


x_grid = np.linspace(-1, 1, 201).reshape(-1, 1)
print("training loss:", loss(x_train, t_train, W1_trained, W2_trained))
print("MSE against sin(pi x) on a grid:", np.mean((model(x_grid) - np.sin(np.pi * x_grid)) ** 2))
"""

EX03_TEMPLATE = {
    "forward": """
def forward(X, W1, W2):
    # TODO: H = tanh([1, X] W1^T), Y = [1, H] W2^T; return Y of shape (N, O)
    ...
""",
    "loss": """
def loss(X, T, W1, W2):
    # TODO: the squared error summed over outputs, averaged over the N samples
    ...
""",
    "gradient": """
def gradients(X, T, W1, W2):
    # TODO: backpropagation; return (dW1, dW2) with the shapes of W1 and W2
    ...
""",
    "descent": """
def train(X, T, W1, W2, eta, epochs):
    # TODO: `epochs` full-batch gradient descent steps; return (W1, W2)
    ...
""",
    "approximation": """
# TODO: train from W1_init, W2_init with eta = 0.2 for `epochs` epochs
W1_trained, W2_trained = ..., ...


def model(X):
    # TODO: the outputs of the trained network, shape (N, 1)
    ...
""",
}

EX03_MUTANTS: dict[str, dict[str, str]] = {
    # sums the squared errors over the samples instead of averaging; the gradient (of
    # the mean) then disagrees with finite differences of this loss
    "loss_sum": {
        "loss": """
def loss(X, T, W1, W2):
    Y = forward(X, W1, W2)
    return np.sum((Y - T) ** 2)
""",
    },
    # forgets the derivative of tanh in the backward pass through the hidden layer
    "tanh_derivative_missing": {
        "gradient": """
def gradients(X, T, W1, W2):
    N = X.shape[0]
    ones = np.ones((N, 1))
    Xb = np.hstack([ones, X])
    H = np.tanh(Xb @ W1.T)
    Hb = np.hstack([ones, H])
    Y = Hb @ W2.T
    dY = 2 * (Y - T) / N
    dW2 = dY.T @ Hb
    dA = dY @ W2[:, 1:]
    dW1 = dA.T @ Xb
    return dW1, dW2
""",
    },
    # steps along the gradient (ascent) instead of against it
    "descent_sign": {
        "descent": """
def train(X, T, W1, W2, eta, epochs):
    W1 = np.array(W1, dtype=float)
    W2 = np.array(W2, dtype=float)
    for _ in range(epochs):
        dW1, dW2 = gradients(X, T, W1, W2)
        W1 = W1 + eta * dW1
        W2 = W2 + eta * dW2
    return W1, W2
""",
    },
    # the output layer ignores its bias W2[:, 0]
    "forward_no_output_bias": {
        "forward": """
def forward(X, W1, W2):
    ones = np.ones((X.shape[0], 1))
    H = np.tanh(np.hstack([ones, X]) @ W1.T)
    return H @ W2[:, 1:].T
""",
    },
}

EX03_CELLS: list[Cell] = [
    ("md", EX03_INTRO, None),
    ("code", EX03_IMPORTS, None),
    ("code", EX03_PARAMETERS, "parameters"),
    ("md", EX03_FORWARD_MD, None),
    ("code", EX03_FORWARD, "forward"),
    ("md", EX03_LOSS_MD, None),
    ("code", EX03_LOSS, "loss"),
    ("md", EX03_GRADIENT_MD, None),
    ("code", EX03_GRADIENT, "gradient"),
    ("md", EX03_FLAT_MD, None),
    ("code", EX03_FLAT, None),
    ("md", EX03_DESCENT_MD, None),
    ("code", EX03_DESCENT, "descent"),
    ("md", EX03_APPROX_MD, None),
    ("code", EX03_DATA, None),
    ("code", EX03_APPROX, "approximation"),
]

CELLS = EX03_CELLS
TEMPLATE = EX03_TEMPLATE
MUTANTS = EX03_MUTANTS
