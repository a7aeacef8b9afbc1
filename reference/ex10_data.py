"""A small English-like grammar for exercise 10 (character-level RNN), deterministic from a seed.

Every line of the corpus is one sentence of the grammar

    sentence := DET [ADJ] NOUN VERB DET [ADJ] NOUN [ADVERB] "."

written in lower case, one sentence per line. The words (and so the alphabet: the
characters of the words, space, period and newline) are fixed, so a public training
corpus and a hidden held-out text share one vocabulary.

`write_text_folder` writes the public corpus (`corpus.txt`, plain UTF-8, a few KB) that the
notebook reads from `data_dir`; `hidden_windows` returns one-hot windows of fresh text and
the index of the character that follows each window (the labels stay on the host).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ADJECTIVES",
    "ADVERBS",
    "ALPHABET",
    "CORPUS_FILE",
    "DETERMINERS",
    "NOUNS",
    "VERBS",
    "corpus",
    "hidden_windows",
    "sentence",
    "write_text_folder",
]

CORPUS_FILE = "corpus.txt"
DETERMINERS = ("the", "a", "my", "one")
ADJECTIVES = ("small", "big", "red", "quiet", "happy")
NOUNS = ("cat", "dog", "bird", "fox", "child", "robot")
VERBS = ("sees", "likes", "chases", "finds", "hears", "helps")
ADVERBS = ("today", "again", "slowly")
ADJECTIVE_PROBABILITY = 0.3
ADVERB_PROBABILITY = 0.3

# every character a sentence can contain, sorted: the vocabulary of the exercise
ALPHABET: tuple[str, ...] = tuple(
    sorted(set("".join(DETERMINERS + ADJECTIVES + NOUNS + VERBS + ADVERBS)) | {" ", ".", "\n"})
)


def _noun_phrase(rng: np.random.Generator) -> list[str]:
    words = [DETERMINERS[rng.integers(len(DETERMINERS))]]
    if rng.random() < ADJECTIVE_PROBABILITY:
        words.append(ADJECTIVES[rng.integers(len(ADJECTIVES))])
    words.append(NOUNS[rng.integers(len(NOUNS))])
    return words


def sentence(rng: np.random.Generator) -> str:
    """One sentence of the grammar, ending with a period (no newline)."""
    words = [*_noun_phrase(rng), VERBS[rng.integers(len(VERBS))], *_noun_phrase(rng)]
    if rng.random() < ADVERB_PROBABILITY:
        words.append(ADVERBS[rng.integers(len(ADVERBS))])
    return " ".join(words) + "."


def corpus(rng: np.random.Generator, sentences: int) -> str:
    """`sentences` sentences, one per line, each line ending with a newline."""
    if sentences < 0:
        raise ValueError("sentences must be >= 0")
    return "".join(sentence(rng) + "\n" for _ in range(sentences))


def write_text_folder(path: str | os.PathLike[str], *, sentences: int = 200, seed: int = 0) -> None:
    """Write `path/corpus.txt`: at least `sentences` sentences (UTF-8, one per line).

    Sentences are appended beyond `sentences` until every character of ALPHABET occurs, so
    `sorted(set(text))` is always the exercise's vocabulary.
    """
    rng = np.random.default_rng(seed)
    text = corpus(rng, sentences)
    while set(text) != set(ALPHABET):
        text += sentence(rng) + "\n"
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CORPUS_FILE).write_text(text, encoding="utf-8")


def hidden_windows(
    rng: np.random.Generator, *, count: int, seq_len: int
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """`count` windows of fresh text: inputs one-hot (count, seq_len, len(ALPHABET)) float32,
    labels (count,) int64: the ALPHABET index of the character after each window."""
    if count < 1 or seq_len < 1:
        raise ValueError("count and seq_len must be >= 1")
    text = ""
    # roughly 30 characters a sentence; enough text for well-spread windows
    while len(text) < 4 * (count + seq_len) + seq_len + 1:
        text += sentence(rng) + "\n"
    index = {char: i for i, char in enumerate(ALPHABET)}
    codes = np.array([index[char] for char in text], dtype=np.int64)
    starts = rng.choice(len(codes) - seq_len, size=count, replace=False)
    windows = codes[starts[:, None] + np.arange(seq_len)[None, :]]
    inputs = np.eye(len(ALPHABET), dtype=np.float32)[windows]
    labels = codes[starts + seq_len]
    return inputs, labels
