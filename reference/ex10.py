"""Exercise 10 reference: character-level text generation with a simple recurrent network.

The vocabulary is the sorted list of the distinct characters of a text; a character is
encoded as its index in that list and fed to the network one-hot. Supervised samples come
from the unlabeled text itself: a window of `seq_len` characters is the input and the same
window shifted by one character is the target. The network is one `nn.RNN` layer (tanh,
batch_first) followed by a `nn.Linear` output layer that gives next-character logits at
every time step. Text is generated one character at a time, greedily (temperature 0) or by
sampling from softmax(logits / temperature) with a `torch.Generator` seeded by `seed`.

The host-side judges at the end are used by the rubric's `property` checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from reference.ex10_data import ALPHABET

__all__ = [
    "CharRNN",
    "build_vocab",
    "encode",
    "generate",
    "generate_with_weights",
    "judge_greedy",
    "judge_sample_format",
    "judge_seeded",
    "judge_vocab",
    "make_samples",
    "one_hot",
    "rnn_forward",
    "rnn_step",
]

Weights = Sequence[torch.Tensor]


# ---------------------------------------------------------------- vocabulary and encoding


def build_vocab(text: str) -> list[str]:
    """The distinct characters of `text`, sorted by code point."""
    return sorted(set(text))


def encode(text: str, vocab: Sequence[str]) -> torch.Tensor:
    """Each character's index in `vocab`, as an int64 tensor of shape (len(text),)."""
    index = {char: i for i, char in enumerate(vocab)}
    return torch.tensor([index[char] for char in text], dtype=torch.int64)


def one_hot(indices: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """float32 one-hot vectors: shape indices.shape + (vocab_size,)."""
    indices = torch.as_tensor(indices).to(torch.int64)
    out = torch.zeros((*indices.shape, int(vocab_size)), dtype=torch.float32)
    out.scatter_(-1, indices.unsqueeze(-1), 1.0)
    return out


# ---------------------------------------------------------------- supervised samples


def make_samples(indices: torch.Tensor, seq_len: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Input windows and next-character targets from one encoded text.

    Window k starts at k * step; X[k] = indices[s : s + seq_len] and
    Y[k] = indices[s + 1 : s + seq_len + 1], for every start s with s + seq_len < len(indices).
    Both are int64 of shape (N, seq_len); N = 0 gives empty (0, seq_len) tensors.
    """
    codes = torch.as_tensor(indices).to(torch.int64).reshape(-1)
    seq_len, step = int(seq_len), int(step)
    starts = list(range(0, len(codes) - seq_len, step))
    if not starts:
        empty = torch.zeros((0, seq_len), dtype=torch.int64)
        return empty, empty.clone()
    X = torch.stack([codes[s : s + seq_len] for s in starts])
    Y = torch.stack([codes[s + 1 : s + seq_len + 1] for s in starts])
    return X, Y


# ---------------------------------------------------------------- the network


class CharRNN(nn.Module):
    """nn.RNN(vocab_size, hidden_size, batch_first=True) then nn.Linear(hidden_size, vocab_size).

    forward(x): x float (batch, seq, vocab_size) one-hot -> logits (batch, seq, vocab_size).
    """

    def __init__(self, vocab_size: int, hidden_size: int) -> None:
        super().__init__()
        self.rnn = nn.RNN(vocab_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden, _ = self.rnn(x)
        logits: torch.Tensor = self.out(hidden)
        return logits


def rnn_step(
    x_t: torch.Tensor,
    h: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor,
    b_hh: torch.Tensor,
) -> torch.Tensor:
    """One Elman step: h' = tanh(x_t W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return torch.tanh(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


def rnn_forward(
    x: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor,
    b_hh: torch.Tensor,
    w_out: torch.Tensor,
    b_out: torch.Tensor,
) -> torch.Tensor:
    """Logits (batch, seq, vocab) of the network with these weights (float64, step by step).

    The weights are those of CharRNN in `parameters()` order: the RNN's weight_ih, weight_hh,
    bias_ih, bias_hh, then the Linear layer's weight and bias. h_0 = 0.
    """
    x, w_ih, w_hh, b_ih, b_hh, w_out, b_out = (
        torch.as_tensor(t).detach().to(torch.float64) for t in (x, w_ih, w_hh, b_ih, b_hh, w_out, b_out)
    )
    h = torch.zeros((x.shape[0], w_hh.shape[0]), dtype=torch.float64)
    outputs = []
    for t in range(x.shape[1]):
        h = rnn_step(x[:, t], h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h @ w_out.T + b_out)
    return torch.stack(outputs, dim=1)


# ---------------------------------------------------------------- generation


def _next_index(logits: torch.Tensor, temperature: float, generator: torch.Generator) -> int:
    """argmax for temperature 0, else one draw from softmax(logits / temperature)."""
    if temperature == 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits.to(torch.float32) / temperature, dim=-1)
    return int(torch.multinomial(probs, 1, generator=generator))


def generate(
    model: nn.Module, vocab: Sequence[str], prompt: str, length: int, temperature: float = 1.0, seed: int = 0
) -> str:
    """`prompt` followed by `length` generated characters (the model sees the whole text so far)."""
    generator = torch.Generator().manual_seed(int(seed))
    vocab = list(vocab)
    codes = encode(prompt, vocab).tolist()
    model.eval()
    with torch.no_grad():
        for _ in range(int(length)):
            x = one_hot(torch.tensor(codes, dtype=torch.int64), len(vocab))[None]
            logits = model(x)[0, -1]
            codes.append(_next_index(logits, float(temperature), generator))
    return "".join(vocab[i] for i in codes)


def generate_with_weights(
    vocab: Sequence[str], prompt: str, length: int, temperature: float, seed: int, *weights: torch.Tensor
) -> str:
    """generate() for the network with the given weights (rnn_forward's order), with the hidden
    state carried from step to step instead of recomputed."""
    w_ih, w_hh, b_ih, b_hh, w_out, b_out = (torch.as_tensor(w).detach().to(torch.float64) for w in weights)
    vocab = list(vocab)
    generator = torch.Generator().manual_seed(int(seed))
    codes = encode(prompt, vocab).tolist()
    if not codes:
        raise ValueError("the prompt must not be empty")
    eye = torch.eye(len(vocab), dtype=torch.float64)
    h = torch.zeros(w_hh.shape[0], dtype=torch.float64)
    for code in codes[:-1]:
        h = rnn_step(eye[code], h, w_ih, w_hh, b_ih, b_hh)
    for _ in range(int(length)):
        h = rnn_step(eye[codes[-1]], h, w_ih, w_hh, b_ih, b_hh)
        codes.append(_next_index(h @ w_out.T + b_out, float(temperature), generator))
    return "".join(vocab[i] for i in codes)


# ---------------------------------------------------------------- judges of `property` checks


def _plain(value: Any) -> Any:
    """Judges receive literal arguments as numpy values (0-d arrays, lists of them): make them
    plain Python again (str, int, float, lists)."""
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _first_difference(got: str, expected: str) -> str:
    for position, (a, b) in enumerate(zip(got, expected, strict=False)):
        if a != b:
            return f"first difference at position {position}: got {a!r}, expected {b!r}"
    return f"got {len(got)} characters, expected {len(expected)}"


def judge_vocab(result: Any, text: str) -> str | None:
    """build_vocab(text) must be the sorted list of the distinct characters of `text`."""
    if not isinstance(result, list | tuple) or not all(isinstance(c, str) for c in result):
        return f"expected a list of one-character strings, got {type(result).__name__}"
    got = list(result)
    if any(len(c) != 1 for c in got):
        return "every vocabulary entry must be a single character"
    if len(set(got)) != len(got):
        return "the vocabulary lists a character more than once"
    expected = build_vocab(str(_plain(text)))
    if set(got) != set(expected):
        missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
        return f"wrong characters: missing {missing}, not in the text {extra}"
    if got != expected:
        return "the characters are right but not sorted (use sorted(set(text)))"
    return None


def _texts(result: Any, count: int) -> list[str] | str:
    if not isinstance(result, list | tuple) or len(result) != count:
        return f"expected a list of {count} texts, got {type(result).__name__}"
    for item in result:
        if not isinstance(item, str):
            return f"generate returned {type(item).__name__}, expected a str"
    return list(result)


def judge_sample_format(
    result: Any, prompt: str, length: int, temperature: float, seeds: Sequence[int]
) -> str | None:
    """Each generated text: the prompt followed by `length` characters of the vocabulary."""
    prompt, length, seeds = str(_plain(prompt)), int(_plain(length)), [int(s) for s in _plain(seeds)]
    texts = _texts(result, len(seeds))
    if isinstance(texts, str):
        return texts
    alphabet = set(ALPHABET)
    for seed, text in zip(seeds, texts, strict=True):
        if len(text) != len(prompt) + length:
            return (
                f"seed {seed}: {len(text)} characters; expected the prompt ({len(prompt)}) "
                f"plus {length} new ones = {len(prompt) + length}"
            )
        if not text.startswith(prompt):
            return f"seed {seed}: the text does not start with the prompt {prompt!r}"
        strangers = sorted(set(text) - alphabet)
        if strangers:
            return f"seed {seed}: characters outside the vocabulary: {strangers}"
    return None


def judge_seeded(
    result: Any, prompt: str, length: int, temperature: float, seeds: Sequence[int]
) -> str | None:
    """Texts for equal seeds are equal, texts for different seeds differ."""
    seeds = [int(s) for s in _plain(seeds)]
    texts = _texts(result, len(seeds))
    if isinstance(texts, str):
        return texts
    first: dict[int, str] = {}
    for seed, text in zip(seeds, texts, strict=True):
        if seed in first and first[seed] != text:
            return (
                f"seed {seed} gave two different texts ({_first_difference(text, first[seed])}); "
                "sample with a torch.Generator seeded with `seed`"
            )
        first.setdefault(seed, text)
    if len(set(first.values())) < len(first):
        return f"different seeds {sorted(first)} gave the same text; is the seed used for sampling?"
    return None


def judge_greedy(
    result: Any,
    vocab: Sequence[str],
    prompt: str,
    length: int,
    temperature: float,
    seed: int,
    *weights: torch.Tensor,
) -> str | None:
    """The student's text equals the reference generation with the same weights (temperature 0)."""
    if not isinstance(result, str):
        return f"expected a str, got {type(result).__name__}"
    expected = generate_with_weights(
        [str(c) for c in _plain(vocab)],
        str(_plain(prompt)),
        int(_plain(length)),
        float(_plain(temperature)),
        int(_plain(seed)),
        *weights,
    )
    if result != expected:
        return f"greedy text {result!r} differs from the expected one: {_first_difference(result, expected)}"
    return None

