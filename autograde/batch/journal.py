"""The batch journal: every finished grade is appended (and fsynced) as it is produced.

`RESULTS_DIR/journal.jsonl` holds one JSON line per graded upload: the key that says what
was graded (student, sha256 of the file, rubric digest, parameters, seed, backend) and the
report. A rerun of the same command reads it back and grades only what is missing or
changed; a line torn by kill -9 is ignored. `RESULTS_DIR/batch.json` keeps the batch's
grading seed, so a resumed batch grades with the same hidden inputs, and its deadline
settings (`autograde.lateness.settings`). Both are reached
through `autograde.batch.results_folder.ResultsFolder`.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograde.pipeline.wire import write_json_atomic
from autograde.results import GradeReport
from autograde.status import SubmissionStatus

JOURNAL = "journal.jsonl"
BATCH = "batch.json"


@dataclass(frozen=True)
class GradeKey:
    student: str
    file_sha256: str
    config: str  # digest of rubric, parameters, seed and backend

    def to_json(self) -> dict[str, str]:
        return {"student": self.student, "file_sha256": self.file_sha256, "config": self.config}


def config_digest(rubric_digest: str, parameters: dict[str, Any], seed: int, extra: dict[str, Any]) -> str:
    blob = json.dumps(
        {"rubric": rubric_digest, "parameters": parameters, "seed": seed, **extra},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def batch_seed(out_dir: Path, assignment_id: str, wanted: int | None) -> int:
    """The batch's grading seed: --seed, else the one this results folder already uses,
    else a fresh secret one (kept in batch.json so that a resumed run uses it again)."""
    known = read_batch(out_dir)
    seed = wanted if wanted is not None else known.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        seed = secrets.randbits(63)
    if known.get("seed") != seed or known.get("assignment") != assignment_id:
        # what else batch.json keeps (the deadline settings) holds for its assignment only
        kept = known if known.get("assignment") == assignment_id else {}
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out_dir / BATCH, {**kept, "assignment": assignment_id, "seed": seed})
    return seed


def read_batch(out_dir: Path) -> dict[str, Any]:
    """batch.json as a mapping ({} when there is none or it cannot be read)."""
    path = out_dir / BATCH
    if not path.is_file():
        return {}
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def update_batch(out_dir: Path, key: str, value: Any) -> None:
    """Set (or, for None, remove) one key of batch.json, keeping the others."""
    known = read_batch(out_dir)
    if value is None:
        known.pop(key, None)
    else:
        known[key] = value
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out_dir / BATCH, known)


def regrade_on_rerun(report: GradeReport) -> bool:
    """The grader failed on it (the whole upload or one check): a rerun grades it again."""
    return SubmissionStatus.parse(report.status).regrade_on_rerun or bool(report.grader_errors)


class Journal:
    """Append-only; thread-safe; the last line for a student wins."""

    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.path = out_dir / JOURNAL
        self._lock = threading.Lock()
        self.entries: dict[str, tuple[GradeKey, GradeReport]] = {}
        self.torn = 0
        if self.path.is_file():
            self._load()
            self._terminate_torn_tail()

    def _load(self) -> None:
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                    key = GradeKey(**record["key"])
                    report = GradeReport.from_json(record["report"])
                except (ValueError, KeyError, TypeError):
                    self.torn += 1  # a line cut short by a kill, or edited by hand
                    continue
                self.entries[key.student] = (key, report)

    def done(self, key: GradeKey) -> GradeReport | None:
        """The result already graded for this key; None when there is none, or when the
        grader failed on it (an engine that died, a bug): such a row is graded again."""
        found = self.entries.get(key.student)
        if found is None or found[0] != key or regrade_on_rerun(found[1]):
            return None
        return found[1]

    def append(self, key: GradeKey, report: GradeReport) -> None:
        line = json.dumps({"key": key.to_json(), "report": report.to_json()}, default=str) + "\n"
        with self._lock:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            self.entries[key.student] = (key, report)

    def _terminate_torn_tail(self) -> None:
        """A kill -9 mid-write leaves a line without its newline: end it once, on opening,
        so that this run's lines start fresh (every line it writes is complete)."""
        if self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as handle:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
