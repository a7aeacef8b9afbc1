"""Notebook cells of exercise 12 (an RBF layer in PyTorch): solution, template and mutants from one source.

`rubrics/_build_notebooks.py` turns this module into the notebooks of this folder. A cell is
`(kind, source, tag)`; `TEMPLATE` and each entry of `MUTANTS` swap the sources of tagged
code cells. Regenerate after an edit: `.venv/bin/python rubrics/_build_notebooks.py`.
"""

from __future__ import annotations

Cell = tuple[str, str, str | None]


EX12_INTRO = r"""
# Exercise 12: A radial basis function layer in PyTorch

A radial basis function (RBF) unit $k$ has a *centre* $\mathbf c_k \in \mathbb R^D$ and a
*width* $\sigma_k > 0$; on an input $\mathbf x$ it outputs

$$a_k(\mathbf x) = \exp\left(-\frac{\lVert \mathbf x - \mathbf c_k \rVert^2}{2\sigma_k^2}\right).$$

You write this activation for a whole batch without Python loops, wrap it in a custom
`torch.nn.Module` with trainable centres and widths, build a network with a 2-D
bottleneck after the RBF layer, train it on three concentric rings and plot what the
bottleneck does with them.

The grader calls your functions and classes with its own tensors (float32 unless said
otherwise) and compares the results with a reference implementation. Keep the names,
the argument order and the tags of the cells as they are. The data folder (parameter
`data_dir`) holds `train.csv` and `test.csv` with the header `x1,x2,label`.
"""

EX12_IMPORTS = """
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
"""

EX12_PARAMETERS = """
# parameters (the grader sets data_dir and device)
seed = 0
num_centers = 12
steps = 200
lr = 0.05
data_dir = "data"
device = "cpu"
"""

EX12_ACTIVATION_MD = r"""
## Task 1: the RBF activation, batched (3 points)

Implement `rbf_activation(X, centers, widths)` for inputs `X` of shape `(N, D)`, centres
`centers` `(K, D)` and widths `widths` `(K,)` (the $\sigma_k$, all positive). Return the
`(N, K)` tensor with entry `[n, k]` $= \exp(-\lVert \mathbf x_n - \mathbf c_k\rVert^2 / (2\sigma_k^2))$.
No Python loops: use broadcasting (or `torch.cdist`), so that autograd can differentiate
the result with respect to the centres and the widths.
"""

EX12_ACTIVATION = """
def rbf_activation(X, centers, widths):
    sq_dist = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(dim=2)
    return torch.exp(-sq_dist / (2 * widths[None, :] ** 2))
"""

EX12_INIT_MD = r"""
## Task 2: initialisation (2 points)

* `init_centers(X, K, seed)`: the centres start on the data: return `K` **distinct** rows
  of `X` `(N, D)`, chosen at random with a `torch.Generator` seeded with `seed`
  (for example the first `K` entries of a random permutation), shape `(K, D)`.
* `init_widths(centers)`: all `K` widths start equal to
  $\sigma = d_\max / \sqrt{2K}$, where $d_\max$ is the largest distance between two of the
  centres; return a tensor of shape `(K,)` with the dtype of `centers`.
"""

EX12_INIT = """
def init_centers(X, K, seed):
    generator = torch.Generator().manual_seed(int(seed))
    index = torch.randperm(X.shape[0], generator=generator)[:K]
    return X[index].clone()


def init_widths(centers):
    K = centers.shape[0]
    d_max = torch.cdist(centers, centers).max()
    return torch.full((K,), float(d_max) / math.sqrt(2 * K), dtype=centers.dtype)
"""

EX12_LAYER_MD = r"""
## Task 3: the RBF layer (2 points)

Write `class RBFLayer(torch.nn.Module)` with the constructor `RBFLayer(centers, widths)`
(initial values, shapes `(K, D)` and `(K,)`). It has exactly two trainable parameters
(`torch.nn.Parameter`): `centers` `(K, D)`, a copy of the initial centres, and
`log_widths` `(K,)`, the logarithm of the initial widths (so every width stays positive
while training). The method `widths()` returns $\exp$(`log_widths`); `forward(X)` maps
`(N, D)` to the `(N, K)` activations with your `rbf_activation`. The grader checks the
layer's parameter count and output shape.
"""

EX12_LAYER = """
class RBFLayer(torch.nn.Module):
    def __init__(self, centers, widths):
        super().__init__()
        self.centers = torch.nn.Parameter(centers.detach().clone())
        self.log_widths = torch.nn.Parameter(widths.detach().log())

    def widths(self):
        return self.log_widths.exp()

    def forward(self, X):
        return rbf_activation(X, self.centers, self.widths())
"""

EX12_NETWORK_MD = r"""
## Task 4: a network with a 2-D bottleneck (2 points)

Write `class RBFNet(torch.nn.Module)` with the constructor
`RBFNet(centers, widths, num_classes)`: the submodules, in this order, are
`self.rbf = RBFLayer(centers, widths)`, `self.bottleneck = torch.nn.Linear(K, 2)` and
`self.out = torch.nn.Linear(2, num_classes)`, nothing else. `features(X)` returns the 2-D
bottleneck `(N, 2)`, `forward(X)` the logits `(N, num_classes)`.
"""

EX12_NETWORK = """
class RBFNet(torch.nn.Module):
    def __init__(self, centers, widths, num_classes):
        super().__init__()
        self.rbf = RBFLayer(centers, widths)
        self.bottleneck = torch.nn.Linear(centers.shape[0], 2)
        self.out = torch.nn.Linear(2, num_classes)

    def features(self, X):
        return self.bottleneck(self.rbf(X))

    def forward(self, X):
        return self.out(self.features(X))
"""

EX12_PLOT_MD = r"""
## Task 5: plotting the bottleneck (2 points)

Implement `plot_bottleneck(X, y, centers, widths, W, b)`: compute the bottleneck
$Z = \mathrm{rbf\_activation}(X, \text{centers}, \text{widths})\, W^\top + \mathbf b$ of the
inputs `X` `(N, D)` (with `W` `(2, K)` and `b` `(2,)`, the weight and bias of the bottleneck
layer) and draw it on a new figure: one `ax.scatter(Z[:, 0], Z[:, 1], label=...)` call
**per class**, for the classes present in `y` `(N,)` in increasing order, each with the
points of that class in their original order. Label both axes and return the figure.
"""

EX12_PLOT = """
def plot_bottleneck(X, y, centers, widths, W, b):
    with torch.no_grad():
        Z = rbf_activation(X, centers, widths) @ W.T + b
    fig, ax = plt.subplots(figsize=(5, 5))
    for c in torch.unique(y).tolist():
        points = Z[y == c]
        ax.scatter(points[:, 0], points[:, 1], s=8, label=f"class {c}")
    ax.set_xlabel("bottleneck unit 1")
    ax.set_ylabel("bottleneck unit 2")
    ax.legend()
    return fig
"""

EX12_TRAINING_MD = r"""
## Task 6: training (2 points)

Load `train.csv` and `test.csv`, initialise `num_centers` centres and their widths with
your functions of task 2 (seed `seed`), build `model = RBFNet(centers, widths, 3)` and train
it full-batch with Adam (learning rate `lr`) on the cross-entropy for `steps` steps. Then
call `model.eval()`, move it to the CPU, print the test accuracy and plot the bottleneck
of the test points. The grader checks the accuracy of `model` on hidden points of the
rings: it takes a float32 tensor `(N, 2)` and returns logits `(N, 3)`.
"""

EX12_LOAD_DATA = """
torch.manual_seed(seed)
train = np.loadtxt(f"{data_dir}/train.csv", delimiter=",", skiprows=1)
test = np.loadtxt(f"{data_dir}/test.csv", delimiter=",", skiprows=1)
X_train = torch.tensor(train[:, :2], dtype=torch.float32)
y_train = torch.tensor(train[:, 2], dtype=torch.int64)
X_test = torch.tensor(test[:, :2], dtype=torch.float32)
y_test = torch.tensor(test[:, 2], dtype=torch.int64)
"""

EX12_TRAINING = (
    EX12_LOAD_DATA
    + """
centers = init_centers(X_train, num_centers, seed)
model = RBFNet(centers, init_widths(centers), 3).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=lr)
X_dev, y_dev = X_train.to(device), y_train.to(device)
for step in range(steps):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(X_dev), y_dev)
    loss.backward()
    optimizer.step()
    if (step + 1) % 50 == 0:
        print(f"step {step + 1}: loss {loss.item():.4f}")

model.eval()
model = model.cpu()
with torch.no_grad():
    accuracy = (model(X_test).argmax(dim=1) == y_test).float().mean().item()
print(f"test accuracy: {accuracy:.3f}")
fig = plot_bottleneck(
    X_test, y_test, model.rbf.centers.detach(), model.rbf.widths().detach(),
    model.bottleneck.weight.detach(), model.bottleneck.bias.detach(),
)
"""
)

EX12_TEMPLATE = {
    "activation": """
def rbf_activation(X, centers, widths):
    # TODO: (N, K) activations exp(-||x_n - c_k||^2 / (2 sigma_k^2)), no Python loops
    ...
""",
    "init": """
def init_centers(X, K, seed):
    # TODO: K distinct rows of X chosen at random with a torch.Generator seeded with seed
    ...


def init_widths(centers):
    # TODO: K equal widths d_max / sqrt(2K)
    ...
""",
    "layer": """
class RBFLayer(torch.nn.Module):
    def __init__(self, centers, widths):
        super().__init__()
        # TODO: the parameters self.centers (K, D) and self.log_widths (K,)

    def widths(self):
        # TODO: the widths, exp(log_widths)
        ...

    def forward(self, X):
        # TODO: (N, D) -> (N, K) with rbf_activation
        ...
""",
    "network": """
class RBFNet(torch.nn.Module):
    def __init__(self, centers, widths, num_classes):
        super().__init__()
        # TODO: self.rbf, self.bottleneck (K -> 2), self.out (2 -> num_classes)

    def features(self, X):
        # TODO: the (N, 2) bottleneck
        ...

    def forward(self, X):
        # TODO: the (N, num_classes) logits
        ...
""",
    "plot": """
def plot_bottleneck(X, y, centers, widths, W, b):
    # TODO: Z = rbf_activation(X, centers, widths) W^T + b; one scatter per class (increasing),
    # both axes labelled; return the figure
    ...
""",
    "training": EX12_LOAD_DATA
    + """
# TODO: centres and widths from init_centers / init_widths, model = RBFNet(centers, widths, 3),
# full-batch Adam (lr) for `steps` steps on the cross-entropy; then model.eval(), model.cpu(),
# print the test accuracy and plot the bottleneck of the test points with plot_bottleneck.
model = ...
""",
}

EX12_MUTANTS: dict[str, dict[str, str]] = {
    # sigma instead of sigma^2 in the exponent; the bottleneck plot inherits the error
    "activation_sigma_not_squared": {
        "activation": EX12_ACTIVATION.replace("2 * widths[None, :] ** 2", "2 * widths[None, :]"),
    },
    # the first K rows as centres: deterministic, not a random choice
    "centers_first_rows": {
        "init": EX12_INIT.replace(
            """    generator = torch.Generator().manual_seed(int(seed))
    index = torch.randperm(X.shape[0], generator=generator)[:K]
    return X[index].clone()""",
            "    return X[:K].clone()",
        ),
    },
    # the widths are a plain tensor, not a parameter: never trained, and missing from the count
    "widths_not_parameter": {
        "layer": EX12_LAYER.replace(
            "self.log_widths = torch.nn.Parameter(widths.detach().log())",
            "self.log_widths = widths.detach().log()",
        ),
    },
    # a ReLU after the bottleneck: an extra layer in the network
    "network_extra_relu": {
        "network": EX12_NETWORK.replace(
            """        self.bottleneck = torch.nn.Linear(centers.shape[0], 2)
""",
            """        self.bottleneck = torch.nn.Linear(centers.shape[0], 2)
        self.act = torch.nn.ReLU()
""",
        ).replace("return self.bottleneck(self.rbf(X))", "return self.act(self.bottleneck(self.rbf(X)))"),
    },
    # all points in one scatter, coloured by class: right points, but not one scatter per class
    "plot_one_scatter": {
        "plot": """
def plot_bottleneck(X, y, centers, widths, W, b):
    with torch.no_grad():
        Z = rbf_activation(X, centers, widths) @ W.T + b
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(Z[:, 0], Z[:, 1], c=y, s=8)
    ax.set_xlabel("bottleneck unit 1")
    ax.set_ylabel("bottleneck unit 2")
    return fig
""",
    },
}

EX12_CELLS: list[Cell] = [
    ("md", EX12_INTRO, None),
    ("code", EX12_IMPORTS, None),
    ("code", EX12_PARAMETERS, "parameters"),
    ("md", EX12_ACTIVATION_MD, None),
    ("code", EX12_ACTIVATION, "activation"),
    ("md", EX12_INIT_MD, None),
    ("code", EX12_INIT, "init"),
    ("md", EX12_LAYER_MD, None),
    ("code", EX12_LAYER, "layer"),
    ("md", EX12_NETWORK_MD, None),
    ("code", EX12_NETWORK, "network"),
    ("md", EX12_PLOT_MD, None),
    ("code", EX12_PLOT, "plot"),
    ("md", EX12_TRAINING_MD, None),
    ("code", EX12_TRAINING, "training"),
]

CELLS = EX12_CELLS
TEMPLATE = EX12_TEMPLATE
MUTANTS = EX12_MUTANTS
