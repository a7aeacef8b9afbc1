"""Pairs of uploads whose answer to a task share more code than chance, with copydetect's
winnowed fingerprints (the MOSS method): its tokenizer replaces every identifier by one
letter and drops comments and whitespace, so renaming variables, adding comments and moving
functions around leave the fingerprints of the code as they were. The template's fingerprints
of the same task are boilerplate and do not count: code every student was handed matches
nobody. An answer too short to carry `MIN_TOKENS` fingerprintable tokens after that says
nothing (a one-line correct answer is the same for everyone) and is never paired.
"""

from __future__ import annotations

import hashlib
import io
import itertools
from dataclasses import dataclass, field
from typing import Any

NOISE = 25  # k: the length in filtered characters of a fingerprinted k-gram (copydetect's default)
GUARANTEE = 30  # a match of at least this many filtered characters is always found
MIN_TOKENS = 40  # an answer with fewer fingerprinted characters than this is not compared
THRESHOLD = 0.6  # a pair is reported when both answers are at least this share of shared code


@dataclass
class Match:
    """Two uploads' answers to one task that share code: the shares of each answer that
    match, and the matching character ranges of each (for the side-by-side view)."""

    task: str
    first: str
    second: str
    similarity: tuple[float, float]
    code: tuple[str, str]
    spans: tuple[list[tuple[int, int]], list[tuple[int, int]]] = field(default_factory=lambda: ([], []))

    @property
    def score(self) -> float:
        """The smaller share: a short answer copied into a long one is not a copy of it."""
        return min(self.similarity)


def _stable_kgrams(string: str, k: int) -> Any:
    """The hash of each k-gram, the same in every process: copydetect's own uses Python's
    `hash`, which is salted per process (PYTHONHASHSEED), so its winnowing picked other
    fingerprints, and gave other shares, in every run."""
    import numpy as np

    return np.array([int.from_bytes(hashlib.blake2b(string[i:i + k].encode(), digest_size=8).digest(),
                                    "little", signed=True) for i in range(len(string) - k + 1)],
                    dtype=np.int64)


def _copydetect() -> Any:
    try:
        import copydetect
        import copydetect.utils
    except ImportError as exc:
        from autograde.errors import AutogradeError

        raise AutogradeError(
            "the similarity check needs copydetect: pip install 'autograde-notebooks[grader]'"
        ) from exc
    copydetect.utils.hashed_kgrams = _stable_kgrams  # what get_document_fingerprints calls
    return copydetect


def _fingerprint(code: str, boilerplate: Any = None) -> Any:
    return _copydetect().CodeFingerprint("answer.py", NOISE, GUARANTEE - NOISE + 1, boilerplate=boilerplate,
                                         language="python", fp=io.StringIO(code))



def _spans(slices: Any) -> list[tuple[int, int]]:
    return [(int(start), int(end)) for start, end in zip(slices[0], slices[1], strict=True)]


def similar_pairs(answers: dict[str, dict[str, str]], template: dict[str, str],
                  threshold: float = THRESHOLD) -> list[Match]:
    """`answers`: student -> task -> code; `template`: task -> the template's code. Every pair
    of students whose answers to a task are at least `threshold` alike, most alike first."""
    compare_files = _copydetect().compare_files
    found: list[Match] = []
    tasks = sorted({task for by_task in answers.values() for task in by_task})
    for task in tasks:
        boilerplate = _fingerprint(template[task]).hashes if task in template else None
        prints = {}
        for student in sorted(answers):
            code = answers[student].get(task)
            if code is None or not code.strip():
                continue
            fingerprint = _fingerprint(code, list(boilerplate) if boilerplate is not None else None)
            if fingerprint.token_coverage >= MIN_TOKENS:
                prints[student] = fingerprint
        for first, second in itertools.combinations(sorted(prints), 2):
            overlap, shares, slices = compare_files(prints[first], prints[second])
            if overlap == 0:
                continue
            match = Match(task, first, second, (float(shares[0]), float(shares[1])),
                          (answers[first][task], answers[second][task]),
                          (_spans(slices[0]), _spans(slices[1])))
            if match.score >= threshold:
                found.append(match)
    found.sort(key=lambda m: (-m.score, m.task, m.first, m.second))
    return found
