"""Notebook cells of exercise 11 (adversarial training): solution, template and mutants from one source.

`rubrics/_build_notebooks.py` turns this module into the notebooks of this folder. A cell is
`(kind, source, tag)`; `TEMPLATE` and each entry of `MUTANTS` swap the sources of tagged
code cells. Regenerate after an edit: `.venv/bin/python rubrics/_build_notebooks.py`.
"""

from __future__ import annotations

Cell = tuple[str, str, str | None]


EX11_INTRO = r"""
# Exercise 11: Adversarial examples and adversarial training

Back-propagation does not have to stop at the weights: the gradient of the loss with
respect to the *input image* says how to change the image to increase the loss. One
small step of size $\epsilon$ along the sign of that gradient, the *fast gradient sign
method* (FGSM), gives an image that looks unchanged to us but fools the network. Here you
compute that gradient, build FGSM images, compare them with random noise of the same
size, and finally train a network on clean and adversarial images together so that it
resists such perturbations.

The network of this exercise is a two-layer perceptron given by its weight tensors:
`mlp(X, W1, b1, W2, b2)` (defined below) maps images `X` of shape `(N, 1, 28, 28)` to
logits `(N, 10)`; `W1` is `(H, 784)`, `b1` `(H,)`, `W2` `(10, H)`, `b2` `(10,)`. The grader
calls your functions with its own weights and images (float32 tensors, pixels in
$[0, 1]$, labels `int64`) and compares the results with a reference implementation.
Keep the tags of the cells as they are.

The data folder is MNIST-format (`torchvision.datasets.MNIST`); its path is the
parameter `data_dir`.
"""

EX11_IMPORTS = """
import numpy as np
import torch
import torch.nn.functional as F
import torchvision
"""

EX11_PARAMETERS = """
# parameters (the grader sets data_dir and device)
seed = 0
epochs = 6
clean_epochs = 1
eps = 0.1
batch_size = 64
hidden = 64
data_dir = "data"
device = "cpu"
"""

EX11_NETWORK_MD = r"""
## The network (given)

`mlp` is the network as a function of its weights; `MLP` is the same network as a
`torch.nn.Module`, whose method `weights()` returns `(W1, b1, W2, b2)`, so that
`mlp(X, *model.weights())` equals `model(X)`.
"""

EX11_NETWORK = """
def mlp(X, W1, b1, W2, b2):
    \"\"\"Logits of flatten -> linear (W1, b1) -> ReLU -> linear (W2, b2).\"\"\"
    return torch.relu(X.flatten(1) @ W1.T + b1) @ W2.T + b2


class MLP(torch.nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.hidden = torch.nn.Linear(28 * 28, hidden)
        self.out = torch.nn.Linear(hidden, 10)

    def weights(self):
        return self.hidden.weight, self.hidden.bias, self.out.weight, self.out.bias

    def forward(self, X):
        return mlp(X, *self.weights())
"""

EX11_GRADIENT_MD = r"""
## Task 1: the gradient with respect to the input (3 points)

Implement `input_gradient(X, y, W1, b1, W2, b2)`: the gradient
$\partial J / \partial X$ of the **mean** cross-entropy over the batch,

$$J = -\frac{1}{N}\sum_{n=1}^N \log \mathrm{softmax}\big(\mathrm{mlp}(X)_n\big)_{y_n},$$

with respect to the input images `X`. Return a tensor of the same shape as `X` (and no
graph attached). Use `torch.autograd` on a copy of `X` that requires a gradient; do not
change `X` or the weights.
"""

EX11_GRADIENT = """
def input_gradient(X, y, W1, b1, W2, b2):
    X = X.detach().clone().requires_grad_(True)
    loss = F.cross_entropy(mlp(X, W1, b1, W2, b2), y)
    (grad,) = torch.autograd.grad(loss, X)
    return grad
"""

EX11_FGSM_MD = r"""
## Task 2: FGSM adversarial images (3 points)

Implement `fgsm(X, y, eps, W1, b1, W2, b2)`, the fast gradient sign method:

$$X_\mathrm{adv} = \mathrm{clip}_{[0, 1]}\Big(X + \epsilon \,
  \mathrm{sign}\big(\partial J / \partial X\big)\Big)$$

It *increases* the loss, and the result must be a valid image: every pixel in $[0, 1]$.
Return a tensor of the shape of `X` (no graph attached).
"""

EX11_FGSM = """
def fgsm(X, y, eps, W1, b1, W2, b2):
    grad = input_gradient(X, y, W1, b1, W2, b2)
    return (X.detach() + eps * grad.sign()).clamp(0.0, 1.0)
"""

EX11_NOISE_MD = r"""
## Task 3: a random baseline (2 points)

Is FGSM any better than random noise of the same size? Implement
`random_sign_noise(X, eps, seed)`: add $\epsilon \cdot s$ with an independent random sign
$s \in \{-1, +1\}$ (each with probability 1/2) for every pixel of every image, then clip
to $[0, 1]$. Draw the signs from a `torch.Generator` seeded with `seed`, so the baseline is
reproducible. Return a tensor of the shape of `X`. (No single right answer: the grader
checks the size of the steps, the range and the statistics of the signs.)
"""

EX11_NOISE = """
def random_sign_noise(X, eps, seed):
    generator = torch.Generator().manual_seed(int(seed))
    signs = torch.randint(0, 2, X.shape, generator=generator).to(X.dtype) * 2 - 1
    return (X.detach() + eps * signs).clamp(0.0, 1.0)
"""

EX11_TRAINING_MD = r"""
## Task 4: adversarial training (2 + 2 points)

Load the training digits, build `model = MLP(hidden)` and train it with Adam
(learning rate `1e-3`, mini-batches of `batch_size`, shuffled) for `epochs` epochs:

* the first `clean_epochs` epochs on clean batches only (loss $J(X)$);
* after that, for every batch, make FGSM images `X_adv` of the batch against the
  *current* weights (`fgsm(xb, yb, eps, *model.weights())`) and minimise
  $\tfrac12 J(X) + \tfrac12 J(X_\mathrm{adv})$.

At the end call `model.eval()` and move it to the CPU. The grader checks the accuracy of
`model` on hidden clean digits and on hidden digits perturbed (FGSM, $\epsilon = 0.12$)
against a network you never see: a network trained on clean digits only fails there.
Below, compare your model's accuracy on the test set under FGSM and under random noise.
"""

EX11_LOAD_DATA = """
torch.manual_seed(seed)
to_tensor = torchvision.transforms.ToTensor()
train_set = torchvision.datasets.MNIST(data_dir, train=True, download=False, transform=to_tensor)
test_set = torchvision.datasets.MNIST(data_dir, train=False, download=False, transform=to_tensor)
X_train = torch.stack([image for image, _ in train_set])
y_train = torch.tensor([label for _, label in train_set], dtype=torch.int64)
X_test = torch.stack([image for image, _ in test_set])
y_test = torch.tensor([label for _, label in test_set], dtype=torch.int64)
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True
)
"""

EX11_TRAIN_LOOP = """
model = MLP(hidden).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(epochs):
    total = 0.0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        loss = F.cross_entropy(model(xb), yb)
        if epoch >= clean_epochs:
            X_adv = fgsm(xb, yb, eps, *model.weights())
            loss = 0.5 * loss + 0.5 * F.cross_entropy(model(X_adv), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
    print(f"epoch {epoch + 1}: loss {total / len(X_train):.4f}")
"""

EX11_EVALUATE = """
model.eval()
model = model.cpu()
weights = [w.detach() for w in model.weights()]


def accuracy(X):
    with torch.no_grad():
        return (model(X).argmax(dim=1) == y_test).float().mean().item()


print(f"test accuracy: clean {accuracy(X_test):.3f}, "
      f"FGSM {accuracy(fgsm(X_test, y_test, eps, *weights)):.3f}, "
      f"random noise {accuracy(random_sign_noise(X_test, eps, seed)):.3f}")
"""

EX11_TRAINING = EX11_LOAD_DATA + EX11_TRAIN_LOOP + EX11_EVALUATE

EX11_TEMPLATE = {
    "input-gradient": """
def input_gradient(X, y, W1, b1, W2, b2):
    # TODO: dJ/dX of the mean cross-entropy of mlp(X, W1, b1, W2, b2); same shape as X
    ...
""",
    "fgsm": """
def fgsm(X, y, eps, W1, b1, W2, b2):
    # TODO: X + eps * sign(dJ/dX), clipped to [0, 1]
    ...
""",
    "noise": """
def random_sign_noise(X, eps, seed):
    # TODO: X + eps * (random signs from a torch.Generator seeded with seed), clipped to [0, 1]
    ...
""",
    "training": EX11_LOAD_DATA
    + """
# TODO: model = MLP(hidden); train it with Adam (lr 1e-3) for `epochs` epochs: clean batches
# for the first `clean_epochs` epochs, then 0.5 * J(clean) + 0.5 * J(FGSM of the batch).
# Finally call model.eval(), move it to the CPU and print its clean and FGSM test accuracy.
model = ...
""",
}

EX11_MUTANTS: dict[str, dict[str, str]] = {
    # the loss summed over the batch: the gradient is N times too large, its sign unchanged
    "gradient_sum": {
        "input-gradient": EX11_GRADIENT.replace(
            "F.cross_entropy(mlp(X, W1, b1, W2, b2), y)",
            "F.cross_entropy(mlp(X, W1, b1, W2, b2), y, reduction=\"sum\")",
        ),
    },
    # gradient descent on the input: easier images, and training on them gives no robustness
    "fgsm_descent": {
        "fgsm": EX11_FGSM.replace("X.detach() + eps * grad.sign()", "X.detach() - eps * grad.sign()"),
    },
    # no clipping: pixels outside [0, 1]; the training still makes the network robust
    "fgsm_no_clip": {
        "fgsm": EX11_FGSM.replace(
            "return (X.detach() + eps * grad.sign()).clamp(0.0, 1.0)",
            "return X.detach() + eps * grad.sign()",
        ),
    },
    # eps times the raw gradient: steps of about 1e-4, so training sees clean images only
    "fgsm_raw_gradient": {
        "fgsm": EX11_FGSM.replace("eps * grad.sign()", "eps * grad"),
    },
    # uniform noise in [-eps, eps] instead of random signs: most steps are smaller than eps
    "noise_uniform": {
        "noise": EX11_NOISE.replace(
            "signs = torch.randint(0, 2, X.shape, generator=generator).to(X.dtype) * 2 - 1",
            "signs = torch.rand(X.shape, generator=generator).to(X.dtype) * 2 - 1",
        ),
    },
    # the adversarial images are made but the second loss term uses the clean batch again
    "train_clean_only": {
        "training": EX11_TRAINING.replace(
            "0.5 * F.cross_entropy(model(X_adv), yb)", "0.5 * F.cross_entropy(model(xb), yb)"
        ),
    },
}

EX11_CELLS: list[Cell] = [
    ("md", EX11_INTRO, None),
    ("code", EX11_IMPORTS, None),
    ("code", EX11_PARAMETERS, "parameters"),
    ("md", EX11_NETWORK_MD, None),
    ("code", EX11_NETWORK, None),
    ("md", EX11_GRADIENT_MD, None),
    ("code", EX11_GRADIENT, "input-gradient"),
    ("md", EX11_FGSM_MD, None),
    ("code", EX11_FGSM, "fgsm"),
    ("md", EX11_NOISE_MD, None),
    ("code", EX11_NOISE, "noise"),
    ("md", EX11_TRAINING_MD, None),
    ("code", EX11_TRAINING, "training"),
]

CELLS = EX11_CELLS
TEMPLATE = EX11_TEMPLATE
MUTANTS = EX11_MUTANTS
