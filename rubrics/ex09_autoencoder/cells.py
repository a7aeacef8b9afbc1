"""Notebook cells of exercise 9 (auto-encoder): solution, template and mutants from one source.

`rubrics/_build_notebooks.py` turns this module into the notebooks of this folder. A cell is
`(kind, source, tag)`; `TEMPLATE` and each entry of `MUTANTS` swap the sources of tagged
code cells. Regenerate after an edit: `.venv/bin/python rubrics/_build_notebooks.py`.
"""

from __future__ import annotations

Cell = tuple[str, str, str | None]


EX09_INTRO = r"""
# Exercise 9: An auto-encoder and its deep features

An auto-encoder is a pair of networks trained together: the *encoder* compresses an image
into a short deep feature vector of $K$ numbers, the *decoder* turns such a vector back
into an image. Trained to reproduce its own input, the network has to squeeze everything
it needs into the $K$ features. Here you build a convolutional encoder, a decoder made of
fractionally strided (transposed) convolutions, train the pair on digits, and then decode
*manipulated* deep features: images on the way from one digit to another.

The data folder is MNIST-format (`torchvision.datasets.MNIST`, `download=False`); its path
is the parameter `data_dir`. The grader calls these names (details in each task):

| name | called as | returns |
|---|---|---|
| `conv_transpose_output_size` | `(size, kernel, stride, padding, output_padding)`, integers | an integer |
| `Encoder` | `Encoder(K)`, then `(N, 1, 28, 28)` float images | an `nn.Module`; `(N, K)` features |
| `Decoder` | `Decoder(K)`, then `(N, K)` features | an `nn.Module`; `(N, 1, 28, 28)` images |
| `AutoEncoder` | `AutoEncoder(K)`, attributes `encoder`, `decoder` | an `nn.Module` |
| `autoencoder` | your trained `AutoEncoder`, on images `(N, 1, 28, 28)` in $[0, 1]$ | `(N, 1, 28, 28)` |
| `interpolate` | `(z1, z2, alphas)`: tensors `(K,)`, `(K,)`, `(S,)` | a tensor `(S, K)` |
| `interpolation_images` | `(z1, z2, steps)`: tensors `(K,)`, `(K,)`, an integer | `(steps, 1, 28, 28)` |

Fill in the cells marked `TODO`. Keep the names and the cell tags as they are.
"""

EX09_IMPORTS = """
import numpy as np
import torch
import torchvision
from torch import nn
"""

EX09_PARAMETERS = """
# parameters (the grader sets data_dir and device)
seed = 0
epochs = 2
batch_size = 16
K = 8
data_dir = "data"
device = "cpu"
"""

EX09_OUTPUT_SIZE_MD = r"""
## Task 1: the output size of a fractionally strided convolution (2 points)

A transposed convolution (`nn.ConvTranspose2d`, dilation 1) with kernel size $k$, stride
$s$, padding $p$ and output padding $o$ turns an input of spatial size $n$ into an output of
size

$$n' = (n - 1)\,s - 2p + k + o .$$

Implement `conv_transpose_output_size(size, kernel, stride, padding, output_padding)` for
integer arguments; return an integer. The grader compares it with the size that
`nn.ConvTranspose2d` gives. Use it to choose the decoder's layers below: which kernel,
padding and output padding double the size with stride 2 (7 to 14, 14 to 28)?
"""

EX09_OUTPUT_SIZE = """
def conv_transpose_output_size(size, kernel, stride=1, padding=0, output_padding=0):
    return (size - 1) * stride - 2 * padding + kernel + output_padding


layer = nn.ConvTranspose2d(1, 1, kernel_size=3, stride=2, padding=1, output_padding=1)
print("formula:", conv_transpose_output_size(7, 3, 2, 1, 1),
      "nn.ConvTranspose2d:", layer(torch.zeros(1, 1, 7, 7)).shape[-1])
"""

EX09_ENCODER_MD = r"""
## Task 2: the encoder (2 points)

Write a class `Encoder(nn.Module)` whose constructor takes `K` and whose `forward` maps
images `(N, 1, 28, 28)` to deep features `(N, K)`. Define every layer as a module
attribute (`nn.ReLU()` too, not `torch.relu`), in the order `forward` applies them:

1. `Conv2d(1, 16, kernel_size=3, padding=1)`, `ReLU`, `MaxPool2d(2)`: 16 x 14 x 14;
2. `Conv2d(16, 32, kernel_size=3, padding=1)`, `ReLU`, `MaxPool2d(2)`: 32 x 7 x 7;
3. `Flatten`, `Linear(32 * 7 * 7, K)`.

The grader builds `Encoder(K)` for several `K` and checks the layer types (the
convolutions, poolings and the linear layer in this order), the number of trainable
parameters and the output shape.
"""

EX09_ENCODER = """
class Encoder(nn.Module):
    def __init__(self, K):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.act1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.act2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(32 * 7 * 7, K)

    def forward(self, x):
        x = self.pool1(self.act1(self.conv1(x)))
        x = self.pool2(self.act2(self.conv2(x)))
        return self.fc(self.flatten(x))
"""

EX09_DECODER_MD = r"""
## Task 3: the decoder (2 points)

Write a class `Decoder(nn.Module)` whose constructor takes `K` and whose `forward` maps
deep features `(N, K)` to images `(N, 1, 28, 28)` with pixel values in $[0, 1]$. Again
every layer is a module attribute, in the order `forward` applies them:

1. `Linear(K, 32 * 7 * 7)`, `ReLU`, `Unflatten(1, (32, 7, 7))`: 32 x 7 x 7;
2. `ConvTranspose2d(32, 16, ...)` with stride 2, `ReLU`: 16 x 14 x 14;
3. `ConvTranspose2d(16, 1, ...)` with stride 2, `Sigmoid`: 1 x 28 x 28.

Both transposed convolutions use kernel size 3 and padding 1; pick their `output_padding`
with your function from Task 1. The grader checks the layer types (linear, the two
transposed convolutions and the final sigmoid in this order), the number of trainable
parameters and the output shape.
"""

EX09_DECODER = """
class Decoder(nn.Module):
    def __init__(self, K):
        super().__init__()
        self.fc = nn.Linear(K, 32 * 7 * 7)
        self.act1 = nn.ReLU()
        self.unflatten = nn.Unflatten(1, (32, 7, 7))
        self.deconv1 = nn.ConvTranspose2d(32, 16, kernel_size=3, stride=2, padding=1, output_padding=1)
        self.act2 = nn.ReLU()
        self.deconv2 = nn.ConvTranspose2d(16, 1, kernel_size=3, stride=2, padding=1, output_padding=1)
        self.out = nn.Sigmoid()

    def forward(self, z):
        x = self.unflatten(self.act1(self.fc(z)))
        x = self.act2(self.deconv1(x))
        return self.out(self.deconv2(x))
"""

EX09_AUTOENCODER_MD = r"""
## Task 4: the auto-encoder (1 point)

Write a class `AutoEncoder(nn.Module)` whose constructor takes `K` and creates the
attributes `encoder = Encoder(K)` and `decoder = Decoder(K)` (in this order); `forward`
encodes and then decodes: `(N, 1, 28, 28)` to `(N, 1, 28, 28)`.
"""

EX09_AUTOENCODER = """
class AutoEncoder(nn.Module):
    def __init__(self, K):
        super().__init__()
        self.encoder = Encoder(K)
        self.decoder = Decoder(K)

    def forward(self, x):
        return self.decoder(self.encoder(x))
"""

EX09_TRAINING_MD = r"""
## Task 5: training (3 points)

Load the training images, create `autoencoder = AutoEncoder(K)` and train it for `epochs`
epochs to reproduce its input: the mean squared error between `autoencoder(x)` and `x` is
the loss, the optimizer `Adam` with learning rate `5e-3`, mini-batches of `batch_size`
shuffled images. The class labels are not used.

The grader evaluates `autoencoder` (on the CPU, in eval mode, after this notebook ran) on
hidden digits: the mean squared error of the reconstructions must be at most 0.03.
"""

EX09_LOAD_DATA = """
torch.manual_seed(seed)
to_tensor = torchvision.transforms.ToTensor()
train_set = torchvision.datasets.MNIST(data_dir, train=True, download=False, transform=to_tensor)
test_set = torchvision.datasets.MNIST(data_dir, train=False, download=False, transform=to_tensor)
X_train = torch.stack([image for image, _ in train_set])
X_test = torch.stack([image for image, _ in test_set])
print("training images:", tuple(X_train.shape), "test images:", tuple(X_test.shape))
"""

EX09_TRAINING = (
    EX09_LOAD_DATA
    + """
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(X_train), batch_size=batch_size, shuffle=True
)
autoencoder = AutoEncoder(K).to(device)
optimizer = torch.optim.Adam(autoencoder.parameters(), lr=5e-3)
loss_function = nn.MSELoss()

for epoch in range(epochs):
    autoencoder.train()
    total = 0.0
    for (xb,) in loader:
        xb = xb.to(device)
        optimizer.zero_grad()
        batch_loss = loss_function(autoencoder(xb), xb)
        batch_loss.backward()
        optimizer.step()
        total += batch_loss.item() * len(xb)
    print(f"epoch {epoch + 1}: training MSE {total / len(X_train):.4f}")

autoencoder = autoencoder.cpu().eval()
with torch.no_grad():
    test_error = nn.functional.mse_loss(autoencoder(X_test), X_test).item()
print(f"test MSE {test_error:.4f}")
"""
)

EX09_INTERPOLATE_MD = r"""
## Task 6: interpolating deep features (2 points)

Implement `interpolate(z1, z2, alphas)`: `z1` and `z2` are deep features of shape `(K,)`,
`alphas` a tensor of $S$ numbers. Return a tensor of shape `(S, K)` whose row $s$ is

$$(1 - \alpha_s)\,\mathbf z_1 + \alpha_s\,\mathbf z_2 ,$$

so that $\alpha = 0$ gives `z1` and $\alpha = 1$ gives `z2` (no loop needed: broadcasting).
"""

EX09_INTERPOLATE = """
def interpolate(z1, z2, alphas):
    alphas = alphas.reshape(-1, 1)
    return (1 - alphas) * z1.reshape(1, -1) + alphas * z2.reshape(1, -1)
"""

EX09_IMAGES_MD = r"""
## Task 7: images from manipulated deep features (1 point)

Implement `interpolation_images(z1, z2, steps)`: `z1` and `z2` are deep features of shape
`(K,)` (for example the features of two test digits, as below, or any other vectors of
this space). Interpolate them with `interpolate` for `steps` values of $\alpha$ evenly
spaced from 0 to 1 (`torch.linspace`) and decode the result with your trained
`autoencoder.decoder`. Return the images, a tensor of shape `(steps, 1, 28, 28)`, without
gradients. The grader calls it on its own deep features (also far from those of the
training digits) and checks the shape and that every pixel is in $[0, 1]$.
"""

EX09_IMAGES = """
def interpolation_images(z1, z2, steps):
    with torch.no_grad():
        z = interpolate(z1, z2, torch.linspace(0, 1, steps))
        return autoencoder.decoder(z)


with torch.no_grad():
    z_test = autoencoder.encoder(X_test[:2])
images = interpolation_images(z_test[0], z_test[1], 7)
print("interpolation images:", tuple(images.shape),
      f"pixel range [{images.min():.3f}, {images.max():.3f}]")
"""

EX09_TEMPLATE = {
    "output-size": """
def conv_transpose_output_size(size, kernel, stride=1, padding=0, output_padding=0):
    # TODO: the spatial output size of nn.ConvTranspose2d (dilation 1)
    ...


layer = nn.ConvTranspose2d(1, 1, kernel_size=3, stride=2, padding=1, output_padding=1)
print("formula:", conv_transpose_output_size(7, 3, 2, 1, 1),
      "nn.ConvTranspose2d:", layer(torch.zeros(1, 1, 7, 7)).shape[-1])
""",
    "encoder": """
class Encoder(nn.Module):
    def __init__(self, K):
        super().__init__()
        # TODO: the layers of the encoder, as module attributes, in the order they are applied

    def forward(self, x):
        # TODO: (N, 1, 28, 28) -> (N, K)
        ...
""",
    "decoder": """
class Decoder(nn.Module):
    def __init__(self, K):
        super().__init__()
        # TODO: the layers of the decoder, as module attributes, in the order they are applied

    def forward(self, z):
        # TODO: (N, K) -> (N, 1, 28, 28), pixel values in [0, 1]
        ...
""",
    "autoencoder": """
class AutoEncoder(nn.Module):
    def __init__(self, K):
        super().__init__()
        # TODO: self.encoder and self.decoder

    def forward(self, x):
        # TODO: encode, then decode
        ...
""",
    "training": EX09_LOAD_DATA
    + """
# TODO: wrap X_train in a DataLoader (batch_size, shuffle=True), create
# autoencoder = AutoEncoder(K), and train it for `epochs` epochs with nn.MSELoss between
# the reconstruction and the input, and Adam (lr=5e-3). Finally move it to the CPU, call
# autoencoder.eval() and print the test MSE.
autoencoder = ...
""",
    "interpolate": """
def interpolate(z1, z2, alphas):
    # TODO: (S, K) rows (1 - alpha) * z1 + alpha * z2
    ...
""",
    "images": """
def interpolation_images(z1, z2, steps):
    # TODO: interpolate z1 and z2 for torch.linspace(0, 1, steps) and decode; no gradients
    ...


with torch.no_grad():
    z_test = autoencoder.encoder(X_test[:2])
images = interpolation_images(z_test[0], z_test[1], 7)
""",
}

EX09_MUTANTS: dict[str, dict[str, str]] = {
    # the formula forgets the output padding (the decoder itself is written correctly)
    "output_size_no_output_padding": {
        "output-size": EX09_OUTPUT_SIZE.replace(
            "- 2 * padding + kernel + output_padding", "- 2 * padding + kernel"
        ),
    },
    # the encoder pools only once, so its linear layer takes 32 x 14 x 14 inputs
    "encoder_one_pool": {
        "encoder": EX09_ENCODER.replace("        self.pool2 = nn.MaxPool2d(2)\n", "")
        .replace("x = self.pool2(self.act2(self.conv2(x)))", "x = self.act2(self.conv2(x))")
        .replace("nn.Linear(32 * 7 * 7, K)", "nn.Linear(32 * 14 * 14, K)"),
    },
    # the decoder ends with the transposed convolution: pixels outside [0, 1]
    "decoder_no_sigmoid": {
        "decoder": EX09_DECODER.replace("        self.out = nn.Sigmoid()\n", "").replace(
            "return self.out(self.deconv2(x))", "return self.deconv2(x)"
        ),
    },
    # the gradients of all mini-batches pile up: training goes nowhere
    "training_no_zero_grad": {
        "training": EX09_TRAINING.replace("        optimizer.zero_grad()\n", ""),
    },
    # alpha weighs z1 instead of z2: the path runs backwards
    "interpolate_alpha_swapped": {
        "interpolate": EX09_INTERPOLATE.replace(
            "return (1 - alphas) * z1.reshape(1, -1) + alphas * z2.reshape(1, -1)",
            "return alphas * z1.reshape(1, -1) + (1 - alphas) * z2.reshape(1, -1)",
        ),
    },
}

EX09_CELLS: list[Cell] = [
    ("md", EX09_INTRO, None),
    ("code", EX09_IMPORTS, None),
    ("code", EX09_PARAMETERS, "parameters"),
    ("md", EX09_OUTPUT_SIZE_MD, None),
    ("code", EX09_OUTPUT_SIZE, "output-size"),
    ("md", EX09_ENCODER_MD, None),
    ("code", EX09_ENCODER, "encoder"),
    ("md", EX09_DECODER_MD, None),
    ("code", EX09_DECODER, "decoder"),
    ("md", EX09_AUTOENCODER_MD, None),
    ("code", EX09_AUTOENCODER, "autoencoder"),
    ("md", EX09_TRAINING_MD, None),
    ("code", EX09_TRAINING, "training"),
    ("md", EX09_INTERPOLATE_MD, None),
    ("code", EX09_INTERPOLATE, "interpolate"),
    ("md", EX09_IMAGES_MD, None),
    ("code", EX09_IMAGES, "images"),
]

CELLS = EX09_CELLS
TEMPLATE = EX09_TEMPLATE
MUTANTS = EX09_MUTANTS
