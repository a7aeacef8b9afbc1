"""The batch journal: append, reload, torn lines, last entry wins, the batch's seed."""

from __future__ import annotations

import json

from autograde.batch.journal import BATCH, JOURNAL, GradeKey, Journal, batch_seed, config_digest
from autograde.results import GradeReport


def report(student: str, score: float) -> GradeReport:
    return GradeReport(student=student, file=f"{student}.ipynb", assignment="a", status="graded",
                       score=score, max_score=10)


def test_reload_finds_what_was_appended(tmp_path):
    key = GradeKey("alice", "f1", "c1")
    Journal(tmp_path).append(key, report("alice", 7))
    again = Journal(tmp_path)
    found = again.done(key)
    assert found is not None and found.score == 7
    assert again.done(GradeKey("alice", "f2", "c1")) is None  # the file changed
    assert again.done(GradeKey("alice", "f1", "c2")) is None  # the rubric/config changed
    assert again.done(GradeKey("bob", "f1", "c1")) is None


def test_last_entry_wins_and_torn_line_is_ignored(tmp_path):
    journal = Journal(tmp_path)
    journal.append(GradeKey("alice", "f1", "c"), report("alice", 3))
    journal.append(GradeKey("alice", "f2", "c"), report("alice", 9))
    path = tmp_path / JOURNAL
    with open(path, "a") as handle:
        handle.write('{"key": {"student": "bob", "file_sha')  # killed mid-write
    again = Journal(tmp_path)
    assert again.torn == 1
    assert again.done(GradeKey("alice", "f2", "c")).score == 9
    assert again.done(GradeKey("alice", "f1", "c")) is None
    again.append(GradeKey("bob", "f", "c"), report("bob", 5))  # appends on a fresh line
    third = Journal(tmp_path)
    assert third.torn == 1 and third.done(GradeKey("bob", "f", "c")).score == 5


def test_batch_seed_is_kept_for_resumed_runs(tmp_path):
    first = batch_seed(tmp_path, "a", None)
    assert batch_seed(tmp_path, "a", None) == first
    assert json.loads((tmp_path / BATCH).read_text())["seed"] == first
    assert batch_seed(tmp_path, "a", 42) == 42
    assert batch_seed(tmp_path, "a", None) == 42


def test_config_digest_changes_with_each_input():
    base = config_digest("r1", {"epochs": 5}, 1, {"backend": "local"})
    assert base == config_digest("r1", {"epochs": 5}, 1, {"backend": "local"})
    assert base != config_digest("r2", {"epochs": 5}, 1, {"backend": "local"})
    assert base != config_digest("r1", {"epochs": 6}, 1, {"backend": "local"})
    assert base != config_digest("r1", {"epochs": 5}, 2, {"backend": "local"})
    assert base != config_digest("r1", {"epochs": 5}, 1, {"backend": "docker"})


def test_a_grader_fault_is_not_done_and_is_graded_again(tmp_path):
    key = GradeKey("alice", "f1", "c")
    journal = Journal(tmp_path)
    failed = report("alice", 0)
    failed.status = "grader error"
    failed.notes = ["grader error: the Docker engine went away"]
    journal.append(key, failed)
    assert Journal(tmp_path).done(key) is None
    journal.append(key, report("alice", 8))
    found = Journal(tmp_path).done(key)
    assert found is not None and found.score == 8
