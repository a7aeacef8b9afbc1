"""Notebook cells of exercise 6 (PyTorch basics, a CNN on FashionMNIST): solution, template
and mutants from one source.

`rubrics/_build_notebooks.py` turns this module into the notebooks of this folder. A cell is
`(kind, source, tag)`; `TEMPLATE` and each entry of `MUTANTS` swap the sources of tagged
code cells. Regenerate after an edit: `.venv/bin/python rubrics/_build_notebooks.py`.
"""

from __future__ import annotations

Cell = tuple[str, str, str | None]


EX06_INTRO = r"""
# Exercise 6: PyTorch basics, a CNN on FashionMNIST

You build the pieces of a PyTorch training pipeline one by one: the input transform, the
data set and its loaders, the output sizes of convolution and pooling layers, a fully
connected network, a convolutional network, the loss and the optimizer, a training epoch,
and finally you train the CNN.

The data folder is FashionMNIST-format (`torchvision.datasets.FashionMNIST`, 28x28
grey-scale images of 10 clothing classes); its path is the parameter `data_dir`. Nothing
is downloaded: always pass `download=False`.

The grader calls these names with its own inputs (keep them, and keep the cell tags):

| name | what the grader does with it |
|---|---|
| `transform` | calls it on uint8 numpy images `(H, W)`; expects a float32 tensor `(1, H, W)` |
| `train_set`, `test_set` | reads an item |
| `train_loader`, `test_loader` | reads the batch size and whether the loaders shuffle |
| `conv_output_size(size, kernel_size, stride=1, padding=0)` | calls it with ints; expects an int |
| `make_mlp(hidden, num_classes=10)` | builds networks, counts layers and parameters, runs a forward pass |
| `make_cnn(channels=(16, 32), num_classes=10)` | the same, for the CNN |
| `loss_fn`, `optimizer` | calls `loss_fn(logits, labels)`; reads the optimizer's class |
| `train_epoch(model, loader, loss_fn, optimizer)` | one epoch on a small linear model (`check_train_epoch`) |
| `cnn` | your trained CNN: its logits on hidden test images |
"""

EX06_IMPORTS = """
import numpy as np
import torch
import torchvision

# normalisation constants of the FashionMNIST training images (mean and std of pixel / 255)
MEAN = 0.2860
STD = 0.3530
"""

EX06_PARAMETERS = """
# parameters (the grader sets data_dir and device)
seed = 0
epochs = 2
batch_size = 32
lr = 1e-3
data_dir = "data"
device = "cpu"
"""

EX06_TRANSFORM_MD = r"""
## Task 1: the input transform (2 points)

Define `transform`, a `torchvision.transforms.Compose` of

* `ToTensor()`: a uint8 image `(H, W)` (PIL image or numpy array) becomes a float32 tensor
  `(1, H, W)` with values `pixel / 255` in $[0, 1]$;
* `Normalize((MEAN,), (STD,))` with the constants `MEAN = 0.2860` and `STD = 0.3530` of the
  cell above: every value $x$ becomes $(x - \text{MEAN}) / \text{STD}$.

The grader calls `transform(image)` on uint8 numpy arrays of shape `(H, W)` and compares the
result with $(\text{image}/255 - \text{MEAN})/\text{STD}$ of shape `(1, H, W)`. The hidden test
images of Task 8 are normalised the same way.
"""

EX06_TRANSFORM = """
transform = torchvision.transforms.Compose([
    torchvision.transforms.ToTensor(),
    torchvision.transforms.Normalize((MEAN,), (STD,)),
])
"""

EX06_DATA_MD = r"""
## Task 2: data set and data loaders (2 points)

* `train_set` and `test_set`: `torchvision.datasets.FashionMNIST` read from `data_dir`
  (`train=True` and `train=False`), with `download=False` and `transform=transform`, so
  `train_set[i]` is a pair (tensor `(1, 28, 28)`, int label).
* `train_loader`: a `torch.utils.data.DataLoader` over `train_set` with batch size
  `batch_size` (a parameter) that shuffles the samples every epoch.
* `test_loader`: a `DataLoader` over `test_set` with batch size `batch_size` that keeps the
  order of the test set (no shuffling).
"""

EX06_DATA = """
train_set = torchvision.datasets.FashionMNIST(data_dir, train=True, download=False, transform=transform)
test_set = torchvision.datasets.FashionMNIST(data_dir, train=False, download=False, transform=transform)
train_loader = torch.utils.data.DataLoader(train_set, batch_size=batch_size, shuffle=True)
test_loader = torch.utils.data.DataLoader(test_set, batch_size=batch_size, shuffle=False)

image, label = train_set[0]
print(f"{len(train_set)} training and {len(test_set)} test images")
print(f"first image: shape {tuple(image.shape)}, mean {image.mean():.3f}, class {train_set.classes[label]}")
"""

EX06_SIZES_MD = r"""
## Task 3: output sizes of convolution and pooling (2 points)

Along one spatial axis, a convolution or pooling layer with kernel size $k$, stride $s$ and
padding $p$ maps an input of size $n$ to

$$n_\text{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 .$$

Implement `conv_output_size(size, kernel_size, stride=1, padding=0)`; return an `int` (use
integer division `//`). `MaxPool2d(2)` has kernel size 2 and stride 2 (its stride defaults
to its kernel size), so it halves even sizes.
"""

EX06_SIZES = """
def conv_output_size(size, kernel_size, stride=1, padding=0):
    return (size + 2 * padding - kernel_size) // stride + 1

# the sizes through the CNN of Task 5
after_conv1 = conv_output_size(28, 3, 1, 1)
after_pool = conv_output_size(after_conv1, 2, 2)
after_conv2 = conv_output_size(after_pool, 3, 2, 1)
print(after_conv1, after_pool, after_conv2)
"""

EX06_MLP_MD = r"""
## Task 4: a fully connected network (2 points)

Implement `make_mlp(hidden, num_classes=10)`, returning a `torch.nn.Sequential` of exactly

| layer | output for an input `(N, 1, 28, 28)` |
|---|---|
| `Flatten()` | `(N, 784)` |
| `Linear(784, hidden)` | `(N, hidden)` |
| `ReLU()` | `(N, hidden)` |
| `Linear(hidden, num_classes)` | `(N, num_classes)` |

The grader checks the layer types in this order, the number of trainable parameters
($784 \cdot h + h + h \cdot C + C$) and the output shape, for several `hidden` and
`num_classes`. (Without the `ReLU`, the two linear layers would compose to a single
linear map.)
"""

EX06_MLP = """
def make_mlp(hidden, num_classes=10):
    return torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(28 * 28, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, num_classes),
    )

mlp = make_mlp(128)
print(mlp)
print("trainable parameters:", sum(p.numel() for p in mlp.parameters() if p.requires_grad))
"""

EX06_CNN_MD = r"""
## Task 5: a convolutional network (3 points)

Implement `make_cnn(channels=(16, 32), num_classes=10)` with `c1, c2 = channels`, returning
a `torch.nn.Sequential` of exactly these layers (use `conv_output_size` to check the sizes):

| layer | output for an input `(N, 1, 28, 28)` |
|---|---|
| `Conv2d(1, c1, kernel_size=3, padding=1)` | `(N, c1, 28, 28)` |
| `ReLU()` | |
| `MaxPool2d(2)` | `(N, c1, 14, 14)` |
| `Conv2d(c1, c2, kernel_size=3, stride=2, padding=1)` | `(N, c2, 7, 7)` |
| `ReLU()` | |
| `Flatten()` | `(N, c2 * 7 * 7)` |
| `Linear(c2 * 7 * 7, num_classes)` | `(N, num_classes)` |

The grader checks the layer types, the number of trainable parameters and the output shape
for several `channels` and `num_classes`.
"""

EX06_CNN = """
def make_cnn(channels=(16, 32), num_classes=10):
    c1, c2 = channels
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, c1, kernel_size=3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(c1, c2, kernel_size=3, stride=2, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(c2 * 7 * 7, num_classes),
    )

print(make_cnn())
print("output shape:", tuple(make_cnn()(torch.zeros(2, 1, 28, 28)).shape))
"""

EX06_LOSS_MD = r"""
## Task 6: loss function and optimizer (2 points)

Create the network `cnn = make_cnn()` on `device` (given), then

* `loss_fn`: the cross-entropy loss for logits `(N, C)` and int64 labels `(N,)`, averaged
  over the batch (`torch.nn.CrossEntropyLoss`; it applies the log-softmax itself);
* `optimizer`: `torch.optim.Adam` over the parameters of `cnn` with learning rate `lr`.
"""

EX06_LOSS_GIVEN = """
torch.manual_seed(seed)
cnn = make_cnn().to(device)
"""

EX06_LOSS = (
    EX06_LOSS_GIVEN
    + """
loss_fn = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(cnn.parameters(), lr=lr)
"""
)

EX06_EPOCH_MD = r"""
## Task 7: one training epoch (3 points)

Implement `train_epoch(model, loader, loss_fn, optimizer)`: put the model in training mode,
then for every batch `(inputs, targets)` of `loader` (moved to `device`, where the model
is): reset the gradients, compute the outputs and the loss, back-propagate, and take an
optimizer step.
Return the mean loss per sample over the epoch as a Python float:
$\sum_b \text{loss}_b \cdot |b| \,/\, \sum_b |b|$ (with batches of equal size, simply the
mean of the batch losses).

The cell after it, `check_train_epoch`, is what the grader calls: one epoch of your
`train_epoch` on a small `Linear` model with a given state, cross-entropy, plain SGD and
no shuffling; it compares the returned loss and the updated weights with the reference.
Do not edit that cell.
"""

EX06_EPOCH = """
def train_epoch(model, loader, loss_fn, optimizer):
    model.train()
    total, count = 0.0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(inputs)
        count += len(inputs)
    return total / count
"""

EX06_CHECK_EPOCH = """
# used by the grader: do not edit
def check_train_epoch(weight, bias, X, y, lr, batch_size):
    model = torch.nn.Linear(weight.shape[1], weight.shape[0]).to(device)
    with torch.no_grad():
        model.weight.copy_(weight)
        model.bias.copy_(bias)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X, y), batch_size=batch_size, shuffle=False
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    mean_loss = train_epoch(model, loader, torch.nn.CrossEntropyLoss(), optimizer)
    return mean_loss, model.weight.detach().cpu(), model.bias.detach().cpu()
"""

EX06_TRAINING_MD = r"""
## Task 8: train the CNN (4 points)

Train `cnn` for `epochs` epochs with your `train_epoch`, `train_loader`, `loss_fn` and
`optimizer`, printing the mean loss of every epoch; then compute its accuracy on
`test_loader`. Finally call `cnn.eval()` and move it to the CPU. The grader evaluates `cnn`
on hidden test images, normalised as your `transform` does: float32 `(N, 1, 28, 28)`; it
must return logits `(N, 10)` and reach an accuracy of at least 85 %.
"""

EX06_TRAINING = """
for epoch in range(epochs):
    mean_loss = train_epoch(cnn, train_loader, loss_fn, optimizer)
    print(f"epoch {epoch + 1}: mean training loss {mean_loss:.4f}")

cnn.eval()
correct = 0
with torch.no_grad():
    for images, labels in test_loader:
        images, labels = images.to(device), labels.to(device)
        correct += (cnn(images).argmax(dim=1) == labels).sum().item()
print(f"test accuracy: {correct / len(test_set):.3f}")
cnn = cnn.cpu()
"""

EX06_TEMPLATE = {
    "transform": """
# TODO: ToTensor() followed by Normalize with MEAN and STD
transform = ...
""",
    "data": """
# TODO: the FashionMNIST training and test sets from data_dir (download=False, your transform)
train_set = ...
test_set = ...
# TODO: DataLoaders with batch size batch_size; shuffle the training set only
train_loader = ...
test_loader = ...
""",
    "sizes": """
def conv_output_size(size, kernel_size, stride=1, padding=0):
    # TODO: floor((size + 2 * padding - kernel_size) / stride) + 1, as an int
    ...
""",
    "mlp": """
def make_mlp(hidden, num_classes=10):
    # TODO: Flatten, Linear(784, hidden), ReLU, Linear(hidden, num_classes) in a Sequential
    ...
""",
    "cnn": """
def make_cnn(channels=(16, 32), num_classes=10):
    c1, c2 = channels
    # TODO: the Sequential of the table above
    ...
""",
    "loss": EX06_LOSS_GIVEN
    + """
loss_fn = ...  # TODO: the cross-entropy loss
optimizer = ...  # TODO: Adam over cnn's parameters with learning rate lr
""",
    "epoch": """
def train_epoch(model, loader, loss_fn, optimizer):
    # TODO: training mode; for every batch: zero the gradients, forward, loss, backward, step;
    # return the mean loss per sample as a float
    ...
""",
    "training": """
# TODO: train cnn for `epochs` epochs with train_epoch and print the mean loss of each epoch;
# print the accuracy on test_loader; finally cnn.eval() and move cnn to the CPU
""",
}

EX06_MUTANTS: dict[str, dict[str, str]] = {
    # the transform forgets Normalize; the data cell builds its sets with a correct transform
    # of its own, so the training (and the hidden accuracy) is unaffected
    "no_normalize": {
        "transform": """
transform = torchvision.transforms.Compose([torchvision.transforms.ToTensor()])
""",
        "data": """
normalised = torchvision.transforms.Compose([
    torchvision.transforms.ToTensor(),
    torchvision.transforms.Normalize((MEAN,), (STD,)),
])
"""
        + EX06_DATA.replace("transform=transform", "transform=normalised"),
    },
    # the training loader does not shuffle (the generated files are shuffled already)
    "no_shuffle": {
        "data": EX06_DATA.replace(
            "batch_size=batch_size, shuffle=True", "batch_size=batch_size, shuffle=False"
        ),
    },
    # the output size forgets the + 1
    "size_no_plus_one": {
        "sizes": EX06_SIZES.replace(
            "return (size + 2 * padding - kernel_size) // stride + 1",
            "return (size + 2 * padding - kernel_size) // stride",
        ),
    },
    # two linear layers without an activation between them
    "mlp_no_activation": {
        "mlp": EX06_MLP.replace("        torch.nn.ReLU(),\n", ""),
    },
    # the second convolution has no stride; the linear layer is sized for 14 x 14 maps
    "cnn_no_stride": {
        "cnn": EX06_CNN.replace("kernel_size=3, stride=2, padding=1", "kernel_size=3, padding=1").replace(
            "c2 * 7 * 7", "c2 * 14 * 14"
        ),
    },
    # the loss sums over the batch (Adam is invariant to the scale, so the training still works)
    "loss_sum_reduction": {
        "loss": EX06_LOSS.replace("CrossEntropyLoss()", "CrossEntropyLoss(reduction='sum')"),
    },
    # train_epoch returns the sum of the batch losses instead of their mean
    "epoch_loss_sum": {
        "epoch": EX06_EPOCH.replace("total += loss.item() * len(inputs)", "total += loss.item()").replace(
            "return total / count", "return total"
        ),
    },
}

EX06_CELLS: list[Cell] = [
    ("md", EX06_INTRO, None),
    ("code", EX06_IMPORTS, None),
    ("code", EX06_PARAMETERS, "parameters"),
    ("md", EX06_TRANSFORM_MD, None),
    ("code", EX06_TRANSFORM, "transform"),
    ("md", EX06_DATA_MD, None),
    ("code", EX06_DATA, "data"),
    ("md", EX06_SIZES_MD, None),
    ("code", EX06_SIZES, "sizes"),
    ("md", EX06_MLP_MD, None),
    ("code", EX06_MLP, "mlp"),
    ("md", EX06_CNN_MD, None),
    ("code", EX06_CNN, "cnn"),
    ("md", EX06_LOSS_MD, None),
    ("code", EX06_LOSS, "loss"),
    ("md", EX06_EPOCH_MD, None),
    ("code", EX06_EPOCH, "epoch"),
    ("code", EX06_CHECK_EPOCH, None),
    ("md", EX06_TRAINING_MD, None),
    ("code", EX06_TRAINING, "training"),
]

CELLS = EX06_CELLS
TEMPLATE = EX06_TEMPLATE
MUTANTS = EX06_MUTANTS
