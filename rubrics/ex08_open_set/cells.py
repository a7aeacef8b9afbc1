"""Notebook cells of exercise 8 (open-set learning): solution, template and mutants from one source.

`rubrics/_build_notebooks.py` turns this module into the notebooks of this folder. A cell is
`(kind, source, tag)`; `TEMPLATE` and each entry of `MUTANTS` swap the sources of tagged
code cells. Regenerate after an edit: `.venv/bin/python rubrics/_build_notebooks.py`.
"""

from __future__ import annotations

Cell = tuple[str, str, str | None]


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

CELLS = EX08_CELLS
TEMPLATE = EX08_TEMPLATE
MUTANTS = EX08_MUTANTS
