"""Notebook cells of the course exam: solution, template and mutants from one source.

`rubrics/_build_notebooks.py` turns this module into the notebooks of this folder. A cell is
`(kind, source, tag)`; `TEMPLATE` and each entry of `MUTANTS` swap the sources of tagged
cells. Regenerate after an edit: `.venv/bin/python rubrics/_build_notebooks.py`.
"""

from __future__ import annotations

Cell = tuple[str, str, str | None]


EXAM_INTRO = r"""
# Exam: Deep Learning

The exam has three parts, 24 points in all:

* **practical tasks** (14 points): numpy and PyTorch code, graded automatically;
* **theory** (5 points): short answers in your own words, graded by hand;
* **single and multiple choice** (5 points), graded automatically.

Write your code in the cells marked `TODO` and your theory answers in the Markdown cells
below each theory question. Do not rename the functions and variables, and keep the tags of
the cells (View > Cell Toolbar > Tags): the grader calls your functions with its own inputs,
some of them hidden, and compares the results with a reference. Every function is
called on its own, so it must not depend on variables you defined elsewhere.

What the grader calls:

| task | name | arguments | returns |
|---|---|---|---|
| 1 | `softmax(z)` | `z`: numpy float64 array `(N, C)` | numpy array `(N, C)` |
| 2 | `cross_entropy(z, t)` | `z`: float64 `(N, C)`, `t`: int64 `(N,)` labels in `0..C-1` | a float |
| 3 | `conv_output_size(size, kernel, stride=1, padding=0)` | Python ints | a Python int |
| 4 | `make_cnn(num_classes=10)` and `flat_features` | an int | a `torch.nn.Module`; an int |
| 5 | `loss(w)`, `gradient(w)` | `w`: float64 array `(2,)` | a float; an array `(2,)` |
| 6 | `ce_grad(logits, targets)` | float64 tensor `(N, C)`, int64 tensor `(N,)` | a tuple of two tensors |
| 10 | `q1`, `q2` | | one letter each (a string) |
| 11 | `q3`, `q4` | | a list of letters each |

**How the choice questions are scored.** Every question is all or nothing: your answer must
be exactly the set of correct letters. There is no partial credit: a missing correct letter
or one wrong letter too many costs the whole question, and so does a letter that is not one
of the options. Upper or lower case, spaces and a closing parenthesis do not matter (`"B)"`
counts as `"b"`), nor does the order of the letters in a list. A single-choice answer is a
string such as `"c"`; a multiple-choice answer is a list such as `["a", "c"]`.
"""

EXAM_IMPORTS = """
import numpy as np
import torch
from torch import nn
"""

EXAM_PARAMETERS = """
# parameters (the grader may override these)
seed = 0
batch_size = 4
device = "cpu"
"""

EXAM_SOFTMAX_MD = r"""
## Task 1: a numerically stable softmax (2 points)

Implement `softmax(z)` for a numpy array of logits `z` of shape `(N, C)`: row by row,

$$\mathrm{softmax}(\mathbf z)_c = \frac{e^{z_c}}{\sum_k e^{z_k}}.$$

Return a float64 array of shape `(N, C)`. It must stay finite and correct for logits as
large as 1000 (`np.exp(1000)` overflows): use that the softmax does not change when the
same number is subtracted from every logit of a row.
"""

EXAM_SOFTMAX = """
def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)
"""

EXAM_CE_MD = r"""
## Task 2: cross-entropy (2 points)

Implement `cross_entropy(z, t)`: the mean cross-entropy of logits `z` `(N, C)` with integer
labels `t` `(N,)`,

$$J = -\frac{1}{N}\sum_{n=1}^{N} \log \mathrm{softmax}(\mathbf z_n)_{t_n}
    = \frac{1}{N}\sum_{n=1}^{N} \Big(\log \sum_k e^{z_{n,k}} - z_{n,t_n}\Big).$$

Return a single float. Like the softmax, it must stay finite and correct for logits as
large as 1000 (hint: log-sum-exp with the maximum taken out).
"""

EXAM_CE = """
def cross_entropy(z, t):
    z = np.asarray(z, dtype=np.float64)
    t = np.asarray(t, dtype=np.int64)
    m = z.max(axis=1, keepdims=True)
    log_sum_exp = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    return float(np.mean(log_sum_exp - z[np.arange(len(t)), t]))
"""

EXAM_SOFTMAX_DEMO = """
z_demo = np.array([[1.0, 2.0, 3.0], [1000.0, 1001.0, 1002.0]])
print("softmax:", softmax(z_demo))
print("cross-entropy:", cross_entropy(z_demo, np.array([2, 0])))
"""

EXAM_CONV_MD = r"""
## Task 3: the output size of a convolution (2 points)

A convolution (or pooling) layer with kernel size $k$, stride $s$ and zero padding $p$ on
each side turns an input of size $n$ (along one axis) into an output of size

$$\left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1.$$

Implement `conv_output_size(size, kernel, stride=1, padding=0)` with Python ints in and a
Python int out (a max-pooling layer `nn.MaxPool2d(2)` is `kernel=2, stride=2`). The grader
also calls it with keyword arguments, e.g. `conv_output_size(13, 3, stride=2, padding=1)`.
"""

EXAM_CONV = """
def conv_output_size(size, kernel, stride=1, padding=0):
    return (size + 2 * padding - kernel) // stride + 1
"""

EXAM_CNN_MD = r"""
## Task 4: a small convolutional network (3 points)

Write `make_cnn(num_classes=10)`, which returns a new `nn.Sequential` with exactly these
layers, in this order, for grey images of shape `(N, 1, 28, 28)`:

1. `nn.Conv2d` from 1 to 8 channels, kernel size 3, padding 1;
2. `nn.ReLU()`, then `nn.MaxPool2d(2)`;
3. `nn.Conv2d` from 8 to 16 channels, kernel size 3, **no** padding;
4. `nn.ReLU()`, then `nn.MaxPool2d(2)`;
5. `nn.Flatten()`, then an `nn.Linear` to `num_classes` outputs.

Work out by hand (your `conv_output_size` helps) how many features enter the `nn.Linear`
layer, and set `flat_features` to that number. The grader checks the layers, the number of
trainable parameters and the output shape `(N, num_classes)` of a forward pass.
"""

EXAM_CNN = """
flat_features = 16 * 6 * 6  # 28 -> conv (pad 1) 28 -> pool 14 -> conv 12 -> pool 6


def make_cnn(num_classes=10):
    return nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(flat_features, num_classes),
    )
"""

EXAM_CNN_DEMO = """
torch.manual_seed(seed)
cnn = make_cnn().to(device)
print(cnn)
print("output shape:", tuple(cnn(torch.zeros(batch_size, 1, 28, 28, device=device)).shape))
print("trainable parameters:", sum(p.numel() for p in cnn.parameters() if p.requires_grad))
"""

EXAM_GRADIENT_MD = r"""
## Task 5: a gradient by hand (3 points)

For $\mathbf w = (w_1, w_2)$ = `(w[0], w[1])` let

$$J(\mathbf w) = \log\left(1 + e^{w_1 w_2}\right) + \tfrac12 (w_1 - w_2)^2.$$

Implement `loss(w)` (a float) and `gradient(w)`, the gradient
$\left(\frac{\partial J}{\partial w_1}, \frac{\partial J}{\partial w_2}\right)$ as an array of
shape `(2,)`, derived by hand (no autograd). Hint: $\frac{d}{dx}\log(1 + e^x) = \sigma(x)$,
the logistic sigmoid. The grader checks `loss` against the reference, `gradient` against
finite differences of *your* `loss`, and `gradient` against the reference on hidden points.
"""

EXAM_GRADIENT = """
def loss(w):
    w1, w2 = w[0], w[1]
    return float(np.logaddexp(0.0, w1 * w2) + 0.5 * (w1 - w2) ** 2)


def gradient(w):
    w1, w2 = w[0], w[1]
    s = 1.0 / (1.0 + np.exp(-w1 * w2))  # sigmoid(w1 w2): the chain rule brings w2 and w1
    return np.array([s * w2 + (w1 - w2), s * w1 - (w1 - w2)])
"""

EXAM_TORCH_MD = r"""
## Task 6: cross-entropy and its gradient with PyTorch (2 points)

Implement `ce_grad(logits, targets)` with PyTorch autograd: for a float64 tensor of logits
`(N, C)` and an int64 tensor of labels `(N,)`, compute the **mean** cross-entropy with
`torch.nn.functional.cross_entropy` and its gradient with respect to the logits with
`.backward()` (the tensor passed in does not require a gradient: work on a copy that does).
Return `(loss, grad)`: a 0-d tensor and a tensor of shape `(N, C)`.
"""

EXAM_TORCH = """
def ce_grad(logits, targets):
    x = logits.detach().clone().requires_grad_(True)
    value = torch.nn.functional.cross_entropy(x, targets)
    value.backward()
    return value.detach(), x.grad
"""

EXAM_THEORY_1_MD = r"""
## Task 7: theory (2 points, graded by hand)

Why do the gradients of the first layers of a deep network with sigmoid activations often
become very small (vanishing gradients), and why does ReLU help? Answer in two or three
sentences in the Markdown cell below (keep its tag `theory-1`).
"""

EXAM_THEORY_1 = """
Backpropagation multiplies the error by the derivative of every activation on the way back,
and the sigmoid's derivative is at most 0.25 (and near 0 where it saturates), so the product
over many layers shrinks exponentially with the depth. ReLU's derivative is exactly 1 for
every positive input, so the gradient passes through active units without shrinking.
"""

EXAM_THEORY_2_MD = r"""
## Task 8: theory (2 points, graded by hand)

Why may we subtract the maximum logit of a row before computing the softmax (Task 1), and
why should we? Answer in two or three sentences in the Markdown cell below (tag `theory-2`).
"""

EXAM_THEORY_2 = """
Subtracting the same constant m from every logit multiplies numerator and denominator by
e^(-m), so the softmax does not change. We should, because e^z overflows to inf for z above
about 709 (inf / inf = nan); after the shift the largest exponent is e^0 = 1, so nothing
overflows and the denominator is at least 1.
"""

EXAM_THEORY_3_MD = r"""
## Task 9: theory (1 point, graded by hand)

What is a validation set for, and why should the hyperparameters not be chosen on the test
set? One or two sentences in the Markdown cell below (tag `theory-3`).
"""

EXAM_THEORY_3 = """
The validation set is held out from training to choose hyperparameters and to stop early;
choosing them on the test set would fit them to the test data, so the test error would no
longer be an unbiased estimate of the error on new data.
"""

EXAM_SINGLE_MD = r"""
## Task 10: single choice (2 points, 1 per question)

Set `q1` and `q2` to the letter of the **one** correct answer, e.g. `q1 = "a"`.

**q1.** Which activation function has a derivative that is never larger than 0.25?

* (a) ReLU
* (b) the logistic sigmoid
* (c) tanh
* (d) the identity

**q2.** How many trainable parameters does `nn.Conv2d(3, 16, kernel_size=5)` have?

* (a) 400
* (b) 1200
* (c) 1216
* (d) 1225
"""

EXAM_SINGLE = """
q1 = "b"
q2 = "c"
"""

EXAM_MULTI_MD = r"""
## Task 11: multiple choice (3 points: q3 2 points, q4 1 point)

Set `q3` and `q4` to the list of **all** correct letters, e.g. `q3 = ["a", "b"]`.
Remember: all or nothing, so a wrong letter costs as much as a missing one.

**q3.** Which of these usually reduce overfitting?

* (a) dropout
* (b) training more epochs on the same data
* (c) weight decay (an L2 penalty on the weights)
* (d) data augmentation

**q4.** Which statements about `nn.BatchNorm2d` are true?

* (a) In eval mode it normalises with the running statistics collected during training.
* (b) It has no trainable parameters.
* (c) In training mode, the output for one sample depends on the other samples of the batch.
* (d) It must come after the activation function.
"""

EXAM_MULTI = """
q3 = ["a", "c", "d"]
q4 = ["a", "c"]
"""

EXAM_TEMPLATE = {
    "softmax": """
def softmax(z):
    # TODO: the row-wise softmax of z (N, C), stable for large logits
    ...
""",
    "cross-entropy": """
def cross_entropy(z, t):
    # TODO: the mean cross-entropy of logits z (N, C) and labels t (N,), as a float
    ...
""",
    "conv-size": """
def conv_output_size(size, kernel, stride=1, padding=0):
    # TODO: floor((size + 2 padding - kernel) / stride) + 1, as a Python int
    ...
""",
    "cnn": """
flat_features = ...  # TODO: the number of features entering the Linear layer


def make_cnn(num_classes=10):
    # TODO: return the nn.Sequential described above
    ...
""",
    "gradient": """
def loss(w):
    # TODO: J(w) = log(1 + exp(w1 w2)) + (w1 - w2)^2 / 2
    ...


def gradient(w):
    # TODO: dJ/dw as an array of shape (2,), by hand
    ...
""",
    "torch": """
def ce_grad(logits, targets):
    # TODO: mean cross-entropy with torch.nn.functional.cross_entropy, its gradient with
    # respect to the logits by .backward(); return (loss, grad)
    ...
""",
    "theory-1": """
*Your answer here.*
""",
    "theory-2": """
*Your answer here.*
""",
    "theory-3": """
*Your answer here.*
""",
    "single-choice": """
q1 = ...  # TODO: one letter
q2 = ...  # TODO: one letter
""",
    "multiple-choice": """
q3 = ...  # TODO: a list of letters
q4 = ...  # TODO: a list of letters
""",
}

EXAM_MUTANTS: dict[str, dict[str, str]] = {
    # no maximum subtracted: right for small logits, nan once np.exp overflows
    "softmax_overflow": {
        "softmax": """
def softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
""",
        "cross-entropy": """
def cross_entropy(z, t):
    return float(-np.mean(np.log(softmax(z)[np.arange(len(t)), t])))
""",
    },
    # the cross-entropy sums over the batch instead of averaging
    "ce_sum": {
        "cross-entropy": EXAM_CE.replace("float(np.mean(", "float(np.sum("),
    },
    # the padding is forgotten in the output size
    "conv_no_padding": {
        "conv-size": """
def conv_output_size(size, kernel, stride=1, padding=0):
    return (size - kernel) // stride + 1
""",
    },
    # the second convolution is taken to keep the size: 28 -> 14 -> 14 -> 7, so 16 * 7 * 7
    "cnn_flat_features": {
        "cnn": EXAM_CNN.replace(
            "flat_features = 16 * 6 * 6  # 28 -> conv (pad 1) 28 -> pool 14 -> conv 12 -> pool 6",
            "flat_features = 16 * 7 * 7  # 28 -> 28 -> pool 14 -> conv 14 -> pool 7",
        ),
    },
    # the chain rule is forgotten: sigmoid(w1 w2) without the inner derivative
    "gradient_chain_rule": {
        "gradient": EXAM_GRADIENT.replace(
            "return np.array([s * w2 + (w1 - w2), s * w1 - (w1 - w2)])",
            "return np.array([s + (w1 - w2), s - (w1 - w2)])",
        ),
    },
    # reduction="sum": loss and gradient N times too large
    "torch_sum": {
        "torch": EXAM_TORCH.replace(
            "cross_entropy(x, targets)", 'cross_entropy(x, targets, reduction="sum")'
        ),
    },
    # q2 forgets the 16 biases
    "single_wrong": {
        "single-choice": EXAM_SINGLE.replace('q2 = "c"', 'q2 = "b"'),
    },
    # q3 with one wrong option too many: the whole question is lost
    "multi_extra_option": {
        "multiple-choice": EXAM_MULTI.replace('q3 = ["a", "c", "d"]', 'q3 = ["a", "b", "c", "d"]'),
    },
}

EXAM_CELLS: list[Cell] = [
    ("md", EXAM_INTRO, None),
    ("code", EXAM_IMPORTS, None),
    ("code", EXAM_PARAMETERS, "parameters"),
    ("md", EXAM_SOFTMAX_MD, None),
    ("code", EXAM_SOFTMAX, "softmax"),
    ("md", EXAM_CE_MD, None),
    ("code", EXAM_CE, "cross-entropy"),
    ("code", EXAM_SOFTMAX_DEMO, None),
    ("md", EXAM_CONV_MD, None),
    ("code", EXAM_CONV, "conv-size"),
    ("md", EXAM_CNN_MD, None),
    ("code", EXAM_CNN, "cnn"),
    ("code", EXAM_CNN_DEMO, None),
    ("md", EXAM_GRADIENT_MD, None),
    ("code", EXAM_GRADIENT, "gradient"),
    ("md", EXAM_TORCH_MD, None),
    ("code", EXAM_TORCH, "torch"),
    ("md", EXAM_THEORY_1_MD, None),
    ("md", EXAM_THEORY_1, "theory-1"),
    ("md", EXAM_THEORY_2_MD, None),
    ("md", EXAM_THEORY_2, "theory-2"),
    ("md", EXAM_THEORY_3_MD, None),
    ("md", EXAM_THEORY_3, "theory-3"),
    ("md", EXAM_SINGLE_MD, None),
    ("code", EXAM_SINGLE, "single-choice"),
    ("md", EXAM_MULTI_MD, None),
    ("code", EXAM_MULTI, "multiple-choice"),
]

CELLS = EXAM_CELLS
TEMPLATE = EXAM_TEMPLATE
MUTANTS = EXAM_MUTANTS
