"""Notebook cells of exercise 4 (multi-output network on batches): solution, template and mutants.

`rubrics/_build_notebooks.py` turns this module into the notebooks of this folder. A cell is
`(kind, source, tag)`; `TEMPLATE` and each entry of `MUTANTS` swap the sources of tagged
code cells. Regenerate after an edit: `.venv/bin/python rubrics/_build_notebooks.py`.
"""

from __future__ import annotations

Cell = tuple[str, str, str | None]


EX04_INTRO = r"""
# Exercise 4: A multi-output network on batches

You implement a two-layer network with several outputs in numpy, process whole batches
of samples with matrix products, and train it with stochastic gradient descent on a small
regression table (four inputs, three targets).

Conventions used by every task (the grader calls your functions with its own inputs):

* inputs `X` of shape `(N, D)`, targets `T` and outputs `Y` of shape `(N, O)`, all `float64`;
* the bias is a leading column of ones: $\mathbf X_b = [\mathbf 1, \mathbf X]$ of shape `(N, D+1)`;
* `W1` has shape `(D+1, K)` (row 0: the hidden biases), `W2` has shape `(K+1, O)` (row 0: the output biases);
* hidden layer $\mathbf H = \sigma(\mathbf X_b \mathbf W_1)$ with the logistic $\sigma(a) = 1/(1+e^{-a})$,
  then $\mathbf H_b = [\mathbf 1, \mathbf H]$ and the (linear) output $\mathbf Y = \mathbf H_b \mathbf W_2$.

Fill in the cells marked `TODO`. Do not rename the functions and keep the cell tags as they are.
The data folder is the parameter `data_dir`; it holds `regression.csv`.
"""

EX04_IMPORTS = """
import os

import numpy as np
"""

EX04_PARAMETERS = """
# parameters (the grader may override these; it sets data_dir)
seed = 0
epochs = 100
batch_size = 16
eta = 0.1
hidden_units = 20
data_dir = "data"
"""

EX04_DATA_MD = r"""
## The data

`regression.csv` has a header row `x1,x2,x3,x4,t1,t2,t3` and one sample per row: the
first four columns are the inputs, the last three the targets.
"""

EX04_DATA = """
data = np.loadtxt(os.path.join(data_dir, "regression.csv"), delimiter=",", skiprows=1)
X_data, T_data = data[:, :4], data[:, 4:]
print("inputs", X_data.shape, "targets", T_data.shape)
"""

EX04_FORWARD_MD = r"""
## Task 1: the batched forward pass (2 points)

Implement `forward(X, W1, W2)`: for a batch `X` of shape `(N, D)` return the outputs
`Y = H_b W2` of shape `(N, O)` as defined above. Use matrix products, no loop over samples.
"""

EX04_HELPERS_MD = r"""
Two helpers you may use everywhere: the logistic function and the bias column.
"""

EX04_HELPERS = """
def logistic(A):
    return 1.0 / (1.0 + np.exp(-A))


def add_bias(M):
    return np.concatenate([np.ones((M.shape[0], 1)), M], axis=1)
"""

EX04_FORWARD = """
def forward(X, W1, W2):
    H = logistic(add_bias(X) @ W1)
    return add_bias(H) @ W2
"""

EX04_LOSS_MD = r"""
## Task 2: the loss of a batch (1 point)

Implement `loss(Y, T)`, the mean over the $N$ samples of the squared Euclidean distance:

$$J = \frac{1}{N} \sum_{n=1}^{N} \lVert \mathbf y_n - \mathbf t_n \rVert^2$$

`Y` and `T` have shape `(N, O)`; return a single number.
"""

EX04_LOSS = """
def loss(Y, T):
    return np.sum((Y - T) ** 2) / len(Y)
"""

EX04_GRADIENT_MD = r"""
## Task 3: the gradients for a batch (3 points)

Implement `gradient(X, T, W1, W2)` returning the pair `(dW1, dW2)` of the gradients of
$J$ (Task 2, for the outputs of `forward(X, W1, W2)`) with respect to `W1` and `W2`;
each has the shape of its weight matrix. With $\mathbf\Delta = \frac{2}{N}(\mathbf Y - \mathbf T)$:

$$\frac{\partial J}{\partial \mathbf W_2} = \mathbf H_b^T \mathbf\Delta \qquad
\frac{\partial J}{\partial \mathbf W_1} = \mathbf X_b^T \left[(\mathbf\Delta \mathbf W_2^{[1:]\,T})
\odot \mathbf H \odot (1 - \mathbf H)\right]$$

where $\mathbf W_2^{[1:]}$ is `W2` without its bias row.
"""

EX04_GRADIENT = """
def gradient(X, T, W1, W2):
    N = len(X)
    Xb = add_bias(X)
    H = logistic(Xb @ W1)
    Hb = add_bias(H)
    Delta = 2.0 / N * (Hb @ W2 - T)
    dW2 = Hb.T @ Delta
    dW1 = Xb.T @ ((Delta @ W2[1:].T) * H * (1.0 - H))
    return dW1, dW2
"""

EX04_BATCHES_MD = r"""
## Task 4: batches (2 points)

Implement `batches(X, T, batch_size, seed)`:

* the order of the samples is `np.random.default_rng(seed).permutation(N)`; `seed` is an
  int or an existing `np.random.Generator` (`np.random.default_rng` accepts both);
* consecutive runs of `batch_size` samples of that order form the batches; the last
  batch holds the remaining samples and may be smaller (do not drop it);
* return a list of pairs `(X_batch, T_batch)`.
"""

EX04_BATCHES = """
def batches(X, T, batch_size, seed):
    order = np.random.default_rng(seed).permutation(len(X))
    return [
        (X[order[start : start + batch_size]], T[order[start : start + batch_size]])
        for start in range(0, len(X), batch_size)
    ]
"""

EX04_TRAIN_MD = r"""
## Task 5: stochastic gradient descent (2 points)

Implement `train(X, T, W1, W2, eta, epochs, batch_size, seed)`. Make one generator
`rng = np.random.default_rng(seed)` before the first epoch. In every epoch go through
`batches(X, T, batch_size, rng)` (so each epoch gets a new order) and for each batch
compute both gradients (Task 3) and then update both matrices:
$\mathbf W \leftarrow \mathbf W - \eta \frac{\partial J}{\partial \mathbf W}$.
Return the final pair `(W1, W2)`; do not modify the arrays passed in.
"""

EX04_TRAIN = """
def train(X, T, W1, W2, eta, epochs, batch_size, seed):
    W1, W2 = W1.copy(), W2.copy()
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        for X_batch, T_batch in batches(X, T, batch_size, rng):
            dW1, dW2 = gradient(X_batch, T_batch, W1, W2)
            W1 = W1 - eta * dW1
            W2 = W2 - eta * dW2
    return W1, W2
"""

EX04_MODEL_MD = r"""
## Task 6: train the network on the data (2 points)

Initialise the weights randomly (scaled by one over the square root of the number of
inputs of a layer) and keep them in `W1_init` and `W2_init` (the grader looks at
them), then train on the whole table, and define `model(X)`: a function that
returns the trained network's outputs `(N, 3)` for inputs `X` `(N, 4)`. The grader calls
it on new samples of the same distribution and measures the mean squared error per
output value; it must be at most 0.05 (predicting the mean of the targets gives about 0.7).
"""

EX04_MODEL = """
rng = np.random.default_rng(seed)
D, O = X_data.shape[1], T_data.shape[1]
W1_init = rng.normal(0.0, 1.0 / np.sqrt(D + 1), size=(D + 1, hidden_units))
W2_init = rng.normal(0.0, 1.0 / np.sqrt(hidden_units + 1), size=(hidden_units + 1, O))
W1_trained, W2_trained = train(X_data, T_data, W1_init, W2_init, eta, epochs, batch_size, seed)


def model(X):
    return forward(X, W1_trained, W2_trained)


print("training loss:", loss(model(X_data), T_data))
"""

EX04_TEMPLATE = {
    "forward": """
def forward(X, W1, W2):
    # TODO: H = logistic([1, X] W1), return [1, H] W2 of shape (N, O)
    ...
""",
    "loss": """
def loss(Y, T):
    # TODO: mean over the samples of the squared Euclidean distance
    ...
""",
    "gradient": """
def gradient(X, T, W1, W2):
    # TODO: return (dW1, dW2), the gradients of the loss w.r.t. W1 and W2
    ...
""",
    "batches": """
def batches(X, T, batch_size, seed):
    # TODO: permute with np.random.default_rng(seed).permutation(N), cut into batches
    ...
""",
    "train": """
def train(X, T, W1, W2, eta, epochs, batch_size, seed):
    # TODO: stochastic gradient descent; return (W1, W2)
    ...
""",
    "model": """
# TODO: initialise W1_init and W2_init, train them on X_data, T_data and define model(X)
def model(X):
    ...
""",
}

EX04_MUTANTS: dict[str, dict[str, str]] = {
    # the loss sums over the batch instead of averaging
    "loss_sum": {
        "loss": """
def loss(Y, T):
    return np.sum((Y - T) ** 2)
""",
    },
    # the factor 1/N is missing from both gradients
    "gradient_no_mean": {
        "gradient": """
def gradient(X, T, W1, W2):
    Xb = add_bias(X)
    H = logistic(Xb @ W1)
    Hb = add_bias(H)
    Delta = 2.0 * (Hb @ W2 - T)
    dW2 = Hb.T @ Delta
    dW1 = Xb.T @ ((Delta @ W2[1:].T) * H * (1.0 - H))
    return dW1, dW2
""",
    },
    # the last, smaller batch is dropped
    "batches_drop_last": {
        "batches": """
def batches(X, T, batch_size, seed):
    order = np.random.default_rng(seed).permutation(len(X))
    return [
        (X[order[start : start + batch_size]], T[order[start : start + batch_size]])
        for start in range(0, len(X) - batch_size + 1, batch_size)
    ]
""",
    },
    # every epoch reuses the seed: the same order of batches in every epoch
    "train_same_order": {
        "train": """
def train(X, T, W1, W2, eta, epochs, batch_size, seed):
    W1, W2 = W1.copy(), W2.copy()
    for _ in range(epochs):
        for X_batch, T_batch in batches(X, T, batch_size, seed):
            dW1, dW2 = gradient(X_batch, T_batch, W1, W2)
            W1 = W1 - eta * dW1
            W2 = W2 - eta * dW2
    return W1, W2
""",
    },
}

EX04_CELLS: list[Cell] = [
    ("md", EX04_INTRO, None),
    ("code", EX04_IMPORTS, None),
    ("code", EX04_PARAMETERS, "parameters"),
    ("md", EX04_DATA_MD, None),
    ("code", EX04_DATA, None),
    ("md", EX04_HELPERS_MD, None),
    ("code", EX04_HELPERS, None),
    ("md", EX04_FORWARD_MD, None),
    ("code", EX04_FORWARD, "forward"),
    ("md", EX04_LOSS_MD, None),
    ("code", EX04_LOSS, "loss"),
    ("md", EX04_GRADIENT_MD, None),
    ("code", EX04_GRADIENT, "gradient"),
    ("md", EX04_BATCHES_MD, None),
    ("code", EX04_BATCHES, "batches"),
    ("md", EX04_TRAIN_MD, None),
    ("code", EX04_TRAIN, "train"),
    ("md", EX04_MODEL_MD, None),
    ("code", EX04_MODEL, "model"),
]

CELLS = EX04_CELLS
TEMPLATE = EX04_TEMPLATE
MUTANTS = EX04_MUTANTS

MUTANTS["mut_model_swap_args_1"] = {  # saved by `autograde rubric mutate --save`
    "model": r"""
rng = np.random.default_rng(seed)
D, O = X_data.shape[1], T_data.shape[1]
W1_init = rng.normal(1.0 / np.sqrt(D + 1), 0.0, size=(D + 1, hidden_units))
W2_init = rng.normal(0.0, 1.0 / np.sqrt(hidden_units + 1), size=(hidden_units + 1, O))
W1_trained, W2_trained = train(X_data, T_data, W1_init, W2_init, eta, epochs, batch_size, seed)


def model(X):
    return forward(X, W1_trained, W2_trained)


print("training loss:", loss(model(X_data), T_data))
""",
}
