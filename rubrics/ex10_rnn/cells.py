"""Notebook cells of exercise 10 (text generation with an RNN): solution, template and mutants.

`rubrics/_build_notebooks.py` turns this module into the notebooks of this folder. A cell is
`(kind, source, tag)`; `TEMPLATE` and each entry of `MUTANTS` swap the sources of tagged
code cells. Regenerate after an edit: `.venv/bin/python rubrics/_build_notebooks.py`.
"""

from __future__ import annotations

Cell = tuple[str, str, str | None]


EX10_INTRO = r"""
# Exercise 10: Text generation with a recurrent network

A recurrent network reads a text one character at a time and predicts the next one. Trained
on an *unlabeled* text, it needs no labels at all: the text supervises itself, since the
target for each position is simply the character that follows. Once trained, the network
writes new text, one character after the other, each fed back as the next input.

The corpus is the file `corpus.txt` (plain UTF-8, a few KB of simple English sentences, one
per line) in the folder given by the parameter `data_dir`.

The grader calls your functions with its own inputs, so keep their names and arguments:

| task | what the grader calls | returns |
|---|---|---|
| 1 | `build_vocab(text)` | `list[str]` |
| 1 | `encode(text, vocab)`, `one_hot(indices, vocab_size)` | `int64`, `float32` tensors |
| 2 | `make_samples(indices, seq_len, step)` | `(X, Y)`, `int64` tensors `(N, seq_len)` |
| 3 | `CharRNN(vocab_size, hidden_size)` | an `nn.Module`: `(batch, seq, vocab)` -> `(batch, seq, vocab)` |
| 4 | your trained `model` (through `predict_next`) | next-character logits |
| 5 | `generate(model, vocab, prompt, length, temperature, seed)` | `str` |

The last code cell ("grader interface") is given: do not change it. Keep the tags of the
cells (View > Cell Toolbar > Tags) as they are.
"""

EX10_IMPORTS = """
import os

import numpy as np
import torch
from torch import nn
"""

EX10_PARAMETERS = """
# parameters (the grader sets data_dir and device)
seed = 0
epochs = 4
hidden_size = 48
seq_len = 30
step = 5
batch_size = 64
learning_rate = 0.01
data_dir = "data"
device = "cpu"
"""

EX10_LOAD = """
with open(os.path.join(data_dir, "corpus.txt"), encoding="utf-8") as handle:
    text = handle.read()
print(f"{len(text)} characters, {len(text.splitlines())} lines")
print(text[:200])
"""

EX10_VOCAB_MD = r"""
## Task 1: vocabulary and encoding (3 points)

* `build_vocab(text)`: the distinct characters of `text`, **sorted** (`sorted(set(text))`),
  as a list of one-character strings. Character `vocab[i]` gets the index `i`.
* `encode(text, vocab)`: the index of each character of `text` in `vocab`, as an `int64`
  tensor of shape `(len(text),)`.
* `one_hot(indices, vocab_size)`: for an integer tensor `indices` of any shape, a `float32`
  tensor of shape `indices.shape + (vocab_size,)` with a 1 at each index and 0 elsewhere.
  Write it yourself (no `torch.nn.functional.one_hot`).
"""

EX10_VOCAB = """
def build_vocab(text):
    return sorted(set(text))


def encode(text, vocab):
    index = {char: i for i, char in enumerate(vocab)}
    return torch.tensor([index[char] for char in text], dtype=torch.int64)


def one_hot(indices, vocab_size):
    indices = torch.as_tensor(indices, dtype=torch.int64)
    out = torch.zeros(*indices.shape, vocab_size, dtype=torch.float32)
    out.scatter_(-1, indices.unsqueeze(-1), 1.0)
    return out
"""

EX10_USE_VOCAB = """
vocab = build_vocab(text)
encoded = encode(text, vocab)
print(f"{len(vocab)} characters: {''.join(vocab)!r}")
print(text[:20], "->", encoded[:20].tolist())
"""

EX10_SAMPLES_MD = r"""
## Task 2: supervised samples from unlabeled text (2 points)

`make_samples(indices, seq_len, step)` cuts the encoded text (an `int64` tensor of shape
`(L,)`) into windows. Window `k` starts at `s = k * step`; its input is
`indices[s : s + seq_len]` and its target is the same window **shifted by one character**,
`indices[s + 1 : s + seq_len + 1]`: at every position the target is the next character.
Take every start `s = 0, step, 2 * step, ...` for which the target window still fits
(`s + seq_len < L`). Return `(X, Y)`, two `int64` tensors of shape `(N, seq_len)`.
"""

EX10_SAMPLES = """
def make_samples(indices, seq_len, step):
    starts = range(0, len(indices) - seq_len, step)
    X = torch.stack([indices[s : s + seq_len] for s in starts])
    Y = torch.stack([indices[s + 1 : s + seq_len + 1] for s in starts])
    return X, Y
"""

EX10_USE_SAMPLES = """
X_train, Y_train = make_samples(encoded, seq_len, step)
print("X:", tuple(X_train.shape), "Y:", tuple(Y_train.shape))
print(repr("".join(vocab[i] for i in X_train[1])), "->", repr("".join(vocab[i] for i in Y_train[1])))
"""

EX10_NETWORK_MD = r"""
## Task 3: the network (2 points)

`CharRNN(vocab_size, hidden_size)` is an `nn.Module` with exactly two layers, created in
this order:

* `self.rnn = nn.RNN(vocab_size, hidden_size, batch_first=True)` (one layer, tanh),
* `self.out = nn.Linear(hidden_size, vocab_size)`.

`forward(x)` takes one-hot inputs `x` of shape `(batch, seq, vocab_size)` (float32) and
returns the logits of the next character at every position, shape `(batch, seq, vocab_size)`,
starting from a zero hidden state. The grader checks the layers, the number of parameters
and the output shape, and it loads its own weights into your network (in the order of
`model.parameters()`) to compare the logits with a reference.
"""

EX10_NETWORK = """
class CharRNN(nn.Module):
    def __init__(self, vocab_size, hidden_size):
        super().__init__()
        self.rnn = nn.RNN(vocab_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, x):
        hidden, _ = self.rnn(x)
        return self.out(hidden)
"""

EX10_TRAINING_MD = r"""
## Task 4: training (3 points)

Train a `CharRNN(len(vocab), hidden_size)` named `model` on `(X_train, Y_train)` for
`epochs` epochs: mini-batches of `batch_size` (shuffled), one-hot inputs, the cross-entropy
between the logits and the next characters at **every** position, Adam with
`learning_rate`. Leave `model` on the CPU in eval mode.

The grader measures the next-character accuracy on held-out text of the same kind: windows
of 30 characters, one-hot, through `predict_next` (grader interface below), which takes the
logits at the last position. A well-trained network gets far more than half right.
"""

EX10_TRAINING = """
torch.manual_seed(seed)
model = CharRNN(len(vocab), hidden_size).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(X_train, Y_train), batch_size=batch_size, shuffle=True
)
loss_fn = nn.CrossEntropyLoss()

for epoch in range(epochs):
    model.train()
    total = 0.0
    for xb, yb in loader:
        xb, yb = one_hot(xb, len(vocab)).to(device), yb.to(device)
        optimizer.zero_grad()
        logits = model(xb)
        batch_loss = loss_fn(logits.reshape(-1, len(vocab)), yb.reshape(-1))
        batch_loss.backward()
        optimizer.step()
        total += batch_loss.item() * len(xb)
    print(f"epoch {epoch + 1}: loss {total / len(X_train):.4f}")

model = model.cpu().eval()
with torch.no_grad():
    predicted = model(one_hot(X_train, len(vocab))).argmax(dim=-1)
print(f"next-character accuracy on the training windows: {(predicted == Y_train).float().mean():.3f}")
"""

EX10_GENERATION_MD = r"""
## Task 5: generating text (3 points)

`generate(model, vocab, prompt, length, temperature, seed)` returns the `prompt` followed by
`length` new characters (a `str` of `len(prompt) + length` characters). Create one
`generator = torch.Generator().manual_seed(seed)` at the start, then repeat `length` times:

1. run the model on the one-hot encoding of the whole text so far (shape `(1, T, vocab)`)
   and take the logits at the last position;
2. with `temperature == 0` take the most likely character (`argmax`); otherwise draw from
   `softmax(logits / temperature)` with
   `torch.multinomial(probs, 1, generator=generator)`;
3. append the character to the text.

Run the model without gradients (`torch.no_grad()`). The same seed must always give the same
text. The grader checks the length, the prompt, the characters, that equal seeds give equal
texts and different seeds different ones, and the greedy text (temperature 0) of a network
with its own weights against a reference.
"""

EX10_GENERATION = """
def generate(model, vocab, prompt, length, temperature=1.0, seed=0):
    generator = torch.Generator().manual_seed(seed)
    codes = encode(prompt, vocab).tolist()
    model.eval()
    with torch.no_grad():
        for _ in range(length):
            x = one_hot(torch.tensor(codes), len(vocab)).unsqueeze(0)
            logits = model(x)[0, -1]
            if temperature == 0:
                next_code = int(logits.argmax())
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                next_code = int(torch.multinomial(probs, 1, generator=generator))
            codes.append(next_code)
    return "".join(vocab[i] for i in codes)
"""

EX10_USE_GENERATION = """
for temperature in (0, 0.5, 1.0):
    print(f"--- temperature {temperature}")
    print(generate(model, vocab, "the ", 120, temperature, seed))
"""

EX10_GRADER_MD = r"""
## Grader interface (given: do not change)

The grader calls these helpers: they pass its inputs to your functions and your `model`.
"""

EX10_GRADER = '''
def load_weights(net, weights):
    """Copy the given tensors into net's parameters, in the order of net.parameters()."""
    params = list(net.parameters())
    if len(params) != len(weights):
        raise ValueError(f"the network has {len(params)} parameter tensors, expected {len(weights)}")
    with torch.no_grad():
        for param, weight in zip(params, weights):
            if param.shape != weight.shape:
                raise ValueError(f"parameter of shape {tuple(param.shape)}, weight {tuple(weight.shape)}")
            param.copy_(weight)
    return net.eval()


def rnn_logits(x, *weights):
    """CharRNN with the given weights on the input x: logits (batch, seq, vocab)."""
    net = load_weights(CharRNN(weights[0].shape[1], weights[0].shape[0]), weights)
    with torch.no_grad():
        return net(x)


def generate_with_weights(vocab, prompt, length, temperature, seed, *weights):
    """generate() with a CharRNN that has the given weights."""
    net = load_weights(CharRNN(len(vocab), weights[0].shape[0]), weights)
    return generate(net, vocab, prompt, length, temperature, seed)


def sample_texts(prompt, length, temperature, seeds):
    """generate() with your trained model, once per seed, in order."""
    return [generate(model, vocab, prompt, length, temperature, s) for s in seeds]


def predict_next(X):
    """X: float32 (N, T, vocab) one-hot windows -> (N, vocab) logits of the next character."""
    return model(X)[:, -1, :]
'''

EX10_TEMPLATE = {
    "vocab": """
def build_vocab(text):
    # TODO: the sorted list of the distinct characters of text
    ...


def encode(text, vocab):
    # TODO: int64 tensor of shape (len(text),): the index of each character in vocab
    ...


def one_hot(indices, vocab_size):
    # TODO: float32 tensor of shape indices.shape + (vocab_size,) (no F.one_hot)
    ...
""",
    "samples": """
def make_samples(indices, seq_len, step):
    # TODO: windows starting at 0, step, 2 * step, ... while s + seq_len < len(indices);
    # X[k] = indices[s : s + seq_len], Y[k] = the same window shifted by one character
    ...
""",
    "network": """
class CharRNN(nn.Module):
    def __init__(self, vocab_size, hidden_size):
        super().__init__()
        # TODO: self.rnn (nn.RNN, batch_first=True), then self.out (nn.Linear)
        ...

    def forward(self, x):
        # TODO: (batch, seq, vocab_size) one-hot -> (batch, seq, vocab_size) logits
        ...
""",
    "training": """
torch.manual_seed(seed)
# TODO: model = CharRNN(len(vocab), hidden_size); train it for `epochs` epochs with Adam
# (learning_rate) on shuffled mini-batches of (one_hot(X), Y) with the cross-entropy at
# every position; finally move it to the CPU and call model.eval().
model = ...
""",
    "generation": """
def generate(model, vocab, prompt, length, temperature=1.0, seed=0):
    # TODO: generator = torch.Generator().manual_seed(seed); then `length` times: logits of
    # the last position for the whole text so far, argmax (temperature 0) or
    # torch.multinomial(softmax(logits / temperature), 1, generator=generator); append.
    # Return prompt + the new characters as one str.
    ...
""",
}

EX10_MUTANTS: dict[str, dict[str, str]] = {
    # the characters in the order of their first appearance: the encoding the network learns
    # differs from the sorted one the grader's held-out text uses
    "vocab_unsorted": {
        "vocab": EX10_VOCAB.replace("return sorted(set(text))", "return list(dict.fromkeys(text))"),
    },
    # the targets are the inputs themselves, not the next characters
    "targets_not_shifted": {
        "samples": EX10_SAMPLES.replace(
            "Y = torch.stack([indices[s + 1 : s + seq_len + 1] for s in starts])",
            "Y = torch.stack([indices[s : s + seq_len] for s in starts])",
        ),
    },
    # the last window, whose target ends with the last character, is dropped
    "samples_drop_last": {
        "samples": EX10_SAMPLES.replace(
            "starts = range(0, len(indices) - seq_len, step)",
            "starts = range(0, len(indices) - seq_len - 1, step)",
        ),
    },
    # nn.RNN without batch_first: it reads (batch, seq, vocab) as (seq, batch, vocab), so
    # batch and time are mixed up; the shapes still fit
    "no_batch_first": {
        "network": EX10_NETWORK.replace(
            "nn.RNN(vocab_size, hidden_size, batch_first=True)", "nn.RNN(vocab_size, hidden_size)"
        ),
    },
    # sampling ignores the seed: torch.multinomial without the seeded generator
    "generate_unseeded": {
        "generation": EX10_GENERATION.replace(
            "torch.multinomial(probs, 1, generator=generator)", "torch.multinomial(probs, 1)"
        ),
    },
    # each step sees only the last character: the context (hidden state) is lost
    "generate_last_char_only": {
        "generation": EX10_GENERATION.replace(
            "x = one_hot(torch.tensor(codes), len(vocab)).unsqueeze(0)",
            "x = one_hot(torch.tensor(codes[-1:]), len(vocab)).unsqueeze(0)",
        ),
    },
}

EX10_CELLS: list[Cell] = [
    ("md", EX10_INTRO, None),
    ("code", EX10_IMPORTS, None),
    ("code", EX10_PARAMETERS, "parameters"),
    ("code", EX10_LOAD, None),
    ("md", EX10_VOCAB_MD, None),
    ("code", EX10_VOCAB, "vocab"),
    ("code", EX10_USE_VOCAB, None),
    ("md", EX10_SAMPLES_MD, None),
    ("code", EX10_SAMPLES, "samples"),
    ("code", EX10_USE_SAMPLES, None),
    ("md", EX10_NETWORK_MD, None),
    ("code", EX10_NETWORK, "network"),
    ("md", EX10_TRAINING_MD, None),
    ("code", EX10_TRAINING, "training"),
    ("md", EX10_GENERATION_MD, None),
    ("code", EX10_GENERATION, "generation"),
    ("code", EX10_USE_GENERATION, None),
    ("md", EX10_GRADER_MD, None),
    ("code", EX10_GRADER, None),
]

CELLS = EX10_CELLS
TEMPLATE = EX10_TEMPLATE
MUTANTS = EX10_MUTANTS
