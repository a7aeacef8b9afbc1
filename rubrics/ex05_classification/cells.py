"""Notebook cells of exercise 5 (binary and categorical classification): solution, template, mutants.

`rubrics/_build_notebooks.py` turns this module into the notebooks of this folder. A cell is
`(kind, source, tag)`; `TEMPLATE` and each entry of `MUTANTS` swap the sources of tagged
code cells. Regenerate after an edit: `.venv/bin/python rubrics/_build_notebooks.py`.
"""

from __future__ import annotations

Cell = tuple[str, str, str | None]


EX05_INTRO = r"""
# Exercise 5: Binary and categorical classification

You implement, in numpy, the pieces of a classification network: the logistic output and
the binary cross-entropy for two classes, the softmax and the categorical cross-entropy
for several classes, the accuracy, and the gradients of a two-layer network with a
softmax output. Then you train it on a small three-class table.

Conventions (the grader calls your functions with its own inputs, all `float64` arrays):

* logits `Z` and probabilities `Y` of shape `(N, O)`, one-hot targets `T` of shape `(N, O)`
  (row `n` has a single 1 in the column of sample `n`'s class);
* the network is that of exercise 4: $\mathbf X_b = [\mathbf 1, \mathbf X]$,
  $\mathbf H = \sigma(\mathbf X_b \mathbf W_1)$, logits $\mathbf Z = [\mathbf 1, \mathbf H]\,\mathbf W_2$,
  with `W1` of shape `(D+1, K)` and `W2` of shape `(K+1, O)` (row 0: the biases).

Fill in the cells marked `TODO`. Do not rename the functions and keep the cell tags as they are.
The data folder is the parameter `data_dir`; it holds `train.csv` and `test.csv`.
"""

EX05_IMPORTS = """
import os

import numpy as np
"""

EX05_PARAMETERS = """
# parameters (the grader may override these; it sets data_dir)
seed = 0
epochs = 300
eta = 1.0
hidden_units = 10
data_dir = "data"
"""

EX05_DATA_MD = r"""
## The data

`train.csv` and `test.csv` have a header row `x1,x2,x3,x4,label` and one sample per row:
four inputs and the class (0, 1 or 2) in the last column.
"""

EX05_DATA = """
def read_table(name):
    table = np.loadtxt(os.path.join(data_dir, name), delimiter=",", skiprows=1)
    X = table[:, :4]
    labels = table[:, 4].astype(int)
    return X, np.eye(3)[labels]  # inputs and one-hot targets


X_train, T_train = read_table("train.csv")
X_test, T_test = read_table("test.csv")
print("train", X_train.shape, T_train.shape, " test", X_test.shape, T_test.shape)
"""

EX05_LOGISTIC_MD = r"""
## Task 1: the logistic function (1 point)

Implement `logistic(Z)`: $\sigma(z) = 1 / (1 + e^{-z})$ elementwise, for an array of any shape.
"""

EX05_LOGISTIC = """
def logistic(Z):
    return 1.0 / (1.0 + np.exp(-Z))
"""

EX05_BCE_MD = r"""
## Task 2: binary cross-entropy (2 points)

Implement `binary_cross_entropy(Y, T)` for predicted probabilities `Y` of shape `(N,)`
(values strictly between 0 and 1) and targets `T` of shape `(N,)` with values 0 or 1:

$$J = -\frac{1}{N} \sum_{n=1}^N \left[ t_n \log y_n + (1 - t_n) \log (1 - y_n) \right]$$

Return a single number.
"""

EX05_BCE = """
def binary_cross_entropy(Y, T):
    return -np.mean(T * np.log(Y) + (1 - T) * np.log(1 - Y))
"""

EX05_SOFTMAX_MD = r"""
## Task 3: softmax (2 points)

Implement `softmax(Z)` for logits `Z` of shape `(N, O)`, row by row:
$y_{n,c} = e^{z_{n,c}} / \sum_k e^{z_{n,k}}$. It must work for large logits too (the
grader tries values in the thousands, where $e^z$ overflows): subtract each row's maximum
first, which does not change the result.
"""

EX05_SOFTMAX = """
def softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)
"""

EX05_CCE_MD = r"""
## Task 4: categorical cross-entropy (2 points)

Implement `categorical_cross_entropy(Y, T)` for probabilities `Y` and one-hot targets `T`,
both of shape `(N, O)`:

$$J = -\frac{1}{N} \sum_{n=1}^N \sum_{c=1}^O t_{n,c} \log y_{n,c}$$

Return a single number (the mean over the samples, not the sum).
"""

EX05_CCE = """
def categorical_cross_entropy(Y, T):
    return -np.sum(T * np.log(Y)) / len(Y)
"""

EX05_ACCURACY_MD = r"""
## Task 5: accuracy (1 point)

Implement `accuracy(Y, T)`: the share (between 0 and 1) of samples whose most probable
class in `Y` is the class of the one-hot target in `T`; both have shape `(N, O)`.
"""

EX05_ACCURACY = """
def accuracy(Y, T):
    return np.mean(np.argmax(Y, axis=1) == np.argmax(T, axis=1))
"""

EX05_NETWORK_MD = r"""
## Task 6: the network and its gradients (1 + 3 points)

Implement `network(X, W1, W2)` returning the logits `Z` of shape `(N, O)` (see the
conventions above), and `gradient(X, T, W1, W2)` returning the pair `(dW1, dW2)` of the
gradients of $J$ = `categorical_cross_entropy(softmax(network(X, W1, W2)), T)` with respect
to `W1` and `W2`. For softmax outputs with one-hot targets,
$\partial J / \partial \mathbf Z = \frac{1}{N}(\mathbf Y - \mathbf T)$; propagate it back as in exercise 4.
"""

EX05_NETWORK = """
def add_bias(M):
    return np.concatenate([np.ones((M.shape[0], 1)), M], axis=1)


def network(X, W1, W2):
    H = logistic(add_bias(X) @ W1)
    return add_bias(H) @ W2
"""

EX05_GRADIENT = """
def gradient(X, T, W1, W2):
    Xb = add_bias(X)
    H = logistic(Xb @ W1)
    Hb = add_bias(H)
    G = (softmax(Hb @ W2) - T) / len(X)
    dW2 = Hb.T @ G
    dW1 = Xb.T @ ((G @ W2[1:].T) * H * (1 - H))
    return dW1, dW2
"""

EX05_TRAIN_MD = r"""
## Task 7: gradient descent (2 points)

Implement `train(X, T, W1, W2, eta, epochs)`: `epochs` steps of full-batch gradient
descent $\mathbf W \leftarrow \mathbf W - \eta \frac{\partial J}{\partial \mathbf W}$ on
both matrices (both gradients computed before either matrix changes). Return the final
pair `(W1, W2)`; do not modify the arrays passed in.
"""

EX05_TRAIN = """
def train(X, T, W1, W2, eta, epochs):
    W1, W2 = W1.copy(), W2.copy()
    for _ in range(epochs):
        dW1, dW2 = gradient(X, T, W1, W2)
        W1 = W1 - eta * dW1
        W2 = W2 - eta * dW2
    return W1, W2
"""

EX05_PREDICT_MD = r"""
## Task 8: train a classifier (3 points)

Initialise the weights randomly (scaled by one over the square root of the number of
inputs of a layer) and keep them in `W1_init` and `W2_init` (the grader looks at
them), then train on `train.csv`, and define `predict(X)`: the trained network's
class probabilities `(N, 3)` for inputs `X` `(N, 4)`. The grader calls it on new samples
of the same distribution and compares the probabilities with the one-hot targets: the
mean squared difference per value (the Brier score divided by the number of classes)
must be at most 0.06. Guessing 1/3 for every class gives 0.22; a network with about
95 % accuracy stays well below 0.06.
"""

EX05_PREDICT = """
rng = np.random.default_rng(seed)
D, O = X_train.shape[1], T_train.shape[1]
W1_init = rng.normal(0.0, 1.0 / np.sqrt(D + 1), size=(D + 1, hidden_units))
W2_init = rng.normal(0.0, 1.0 / np.sqrt(hidden_units + 1), size=(hidden_units + 1, O))
W1_trained, W2_trained = train(X_train, T_train, W1_init, W2_init, eta, epochs)


def predict(X):
    return softmax(network(X, W1_trained, W2_trained))


print("train loss:", categorical_cross_entropy(predict(X_train), T_train))
print("test accuracy:", accuracy(predict(X_test), T_test))
"""

EX05_TEMPLATE = {
    "logistic": """
def logistic(Z):
    # TODO: 1 / (1 + exp(-z)) elementwise
    ...
""",
    "bce": """
def binary_cross_entropy(Y, T):
    # TODO: the mean binary cross-entropy of probabilities Y and targets T in {0, 1}
    ...
""",
    "softmax": """
def softmax(Z):
    # TODO: row-wise softmax, stable for large logits
    ...
""",
    "cce": """
def categorical_cross_entropy(Y, T):
    # TODO: the mean categorical cross-entropy for one-hot targets T
    ...
""",
    "accuracy": """
def accuracy(Y, T):
    # TODO: the share of samples whose most probable class is the target class
    ...
""",
    "network": """
def add_bias(M):
    return np.concatenate([np.ones((M.shape[0], 1)), M], axis=1)


def network(X, W1, W2):
    # TODO: the logits Z = [1, logistic([1, X] W1)] W2
    ...
""",
    "gradient": """
def gradient(X, T, W1, W2):
    # TODO: return (dW1, dW2) of the categorical cross-entropy of softmax(network(X, W1, W2))
    ...
""",
    "train": """
def train(X, T, W1, W2, eta, epochs):
    # TODO: full-batch gradient descent; return (W1, W2)
    ...
""",
    "predict": """
# TODO: initialise W1_init and W2_init, train them on X_train, T_train and define predict(X)
def predict(X):
    ...
""",
}

EX05_MUTANTS: dict[str, dict[str, str]] = {
    # softmax without subtracting the row maximum: exp overflows for large logits
    "softmax_no_max": {
        "softmax": """
def softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)
""",
    },
    # the categorical cross-entropy sums over the samples instead of averaging
    "cce_sum": {
        "cce": """
def categorical_cross_entropy(Y, T):
    return -np.sum(T * np.log(Y))
""",
    },
    # the binary cross-entropy forgets the term of the negative class
    "bce_positive_only": {
        "bce": """
def binary_cross_entropy(Y, T):
    return -np.mean(T * np.log(Y))
""",
    },
    # the predicted class is compared with the one-hot matrix instead of its class index
    "accuracy_onehot": {
        "accuracy": """
def accuracy(Y, T):
    return np.mean(np.argmax(Y, axis=1) == T)
""",
    },
    # the factor 1/N is missing from the gradients: training with eta = 1 diverges
    "gradient_no_mean": {
        "gradient": """
def gradient(X, T, W1, W2):
    Xb = add_bias(X)
    H = logistic(Xb @ W1)
    Hb = add_bias(H)
    G = softmax(Hb @ W2) - T
    dW2 = Hb.T @ G
    dW1 = Xb.T @ ((G @ W2[1:].T) * H * (1 - H))
    return dW1, dW2
""",
    },
}

EX05_CELLS: list[Cell] = [
    ("md", EX05_INTRO, None),
    ("code", EX05_IMPORTS, None),
    ("code", EX05_PARAMETERS, "parameters"),
    ("md", EX05_DATA_MD, None),
    ("code", EX05_DATA, None),
    ("md", EX05_LOGISTIC_MD, None),
    ("code", EX05_LOGISTIC, "logistic"),
    ("md", EX05_BCE_MD, None),
    ("code", EX05_BCE, "bce"),
    ("md", EX05_SOFTMAX_MD, None),
    ("code", EX05_SOFTMAX, "softmax"),
    ("md", EX05_CCE_MD, None),
    ("code", EX05_CCE, "cce"),
    ("md", EX05_ACCURACY_MD, None),
    ("code", EX05_ACCURACY, "accuracy"),
    ("md", EX05_NETWORK_MD, None),
    ("code", EX05_NETWORK, "network"),
    ("code", EX05_GRADIENT, "gradient"),
    ("md", EX05_TRAIN_MD, None),
    ("code", EX05_TRAIN, "train"),
    ("md", EX05_PREDICT_MD, None),
    ("code", EX05_PREDICT, "predict"),
]

CELLS = EX05_CELLS
TEMPLATE = EX05_TEMPLATE
MUTANTS = EX05_MUTANTS

MUTANTS["mut_predict_swap_args_1"] = {  # saved by `autograde rubric mutate --save`
    "predict": r"""
rng = np.random.default_rng(seed)
D, O = X_train.shape[1], T_train.shape[1]
W1_init = rng.normal(1.0 / np.sqrt(D + 1), 0.0, size=(D + 1, hidden_units))
W2_init = rng.normal(0.0, 1.0 / np.sqrt(hidden_units + 1), size=(hidden_units + 1, O))
W1_trained, W2_trained = train(X_train, T_train, W1_init, W2_init, eta, epochs)


def predict(X):
    return softmax(network(X, W1_trained, W2_trained))


print("train loss:", categorical_cross_entropy(predict(X_train), T_train))
print("test accuracy:", accuracy(predict(X_test), T_test))
""",
}

MUTANTS["mut_predict_arith_4"] = {  # saved by `autograde rubric mutate --save`
    "predict": r"""
rng = np.random.default_rng(seed)
D, O = X_train.shape[1], T_train.shape[1]
W1_init = rng.normal(0.0, 1.0 / np.sqrt(D + 1), size=(D + 1, hidden_units))
W2_init = rng.normal(0.0, 1.0 * np.sqrt(hidden_units + 1), size=(hidden_units + 1, O))
W1_trained, W2_trained = train(X_train, T_train, W1_init, W2_init, eta, epochs)


def predict(X):
    return softmax(network(X, W1_trained, W2_trained))


print("train loss:", categorical_cross_entropy(predict(X_train), T_train))
print("test accuracy:", accuracy(predict(X_test), T_test))
""",
}
