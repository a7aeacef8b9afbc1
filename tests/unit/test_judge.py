"""The judge (pipeline/judge.py), through `grade_submission` on the fake backend: how the
run ended (memory, time limit, a signal, the runner failing, a fatal reason in run.json)
becomes the submission's status and the reason every check without a result gets; a
check kind that fails is that check's grader error only; the cell hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograde.backends import fake
from autograde.checks.base import REGISTRY
from autograde.status import CheckStatus, SubmissionStatus
from tests.unit.fake_grading import checks, grade, responder

NOTHING = fake.Script()  # a run that left no probe result at all


def _all_not_run_because(report, reason: str) -> None:
    found = checks(report)
    assert len(found) == 3
    for check in found.values():
        assert check.status == CheckStatus.NOT_RUN, check
        assert check.message.startswith(reason), check.message


def test_a_correct_run_gets_every_point(tmp_path: Path):
    report = grade(tmp_path, fake.Script(respond=responder()))
    assert report.status == SubmissionStatus.GRADED, report.notes
    assert (report.score, report.max_score) == (3.0, 3.0)
    assert report.backend == "fake"


def test_a_probe_that_left_nothing_is_not_run_with_the_plain_reason(tmp_path: Path):
    report = grade(tmp_path, fake.Script(respond=responder(ratio=None)))
    found = checks(report)
    assert found["value ratio"].status == CheckStatus.NOT_RUN
    assert found["value ratio"].message.startswith("no result was produced for this check")
    assert found["value answer"].status == CheckStatus.PASS
    assert report.status == SubmissionStatus.GRADED and report.score == 2.0


def test_out_of_memory_is_the_reason_of_every_check_without_a_result(tmp_path: Path):
    report = grade(tmp_path, fake.Script(oom_killed=True, returncode=-9))
    reason = "the sandbox ran out of memory (limit 2 GiB) before this check ran"
    _all_not_run_because(report, reason)
    assert any("ran out of memory (limit 2 GiB)" in note for note in report.notes), report.notes
    assert report.status == SubmissionStatus.GRADED and report.score == 0.0


def test_the_total_time_limit_is_the_reason_when_the_run_timed_out(tmp_path: Path):
    script = fake.Script(timed_out=True)
    report = grade(tmp_path, script, total_timeout="45s")
    _all_not_run_because(report, "the submission ran over its total time limit (45s)")
    assert report.status == SubmissionStatus.GRADED
    assert script.runs and script.runs[0].total_timeout == 45.0


def test_a_signal_is_named_when_the_sandbox_was_killed(tmp_path: Path):
    report = grade(tmp_path, fake.Script(returncode=-11))
    _all_not_run_because(report, "the sandbox was killed by signal 11 before this check ran")


def test_a_failing_runner_is_a_grader_error_with_its_log(tmp_path: Path):
    report = grade(tmp_path, fake.Script(returncode=1, log_tail="Traceback: runner broke"))
    assert report.status == SubmissionStatus.GRADER_ERROR
    _all_not_run_because(report, "the grader's runner failed (exit 1)")
    assert any("runner broke" in note for note in report.notes), report.notes


def test_a_fatal_reason_in_run_json_is_the_reason_and_a_grader_error(tmp_path: Path):
    fatal = "this GPU job found no GPU in the sandbox"
    report = grade(tmp_path, fake.Script(summary={"fatal": fatal, "notes": ["the runner's note"]}))
    assert report.status == SubmissionStatus.GRADER_ERROR
    _all_not_run_because(report, fatal)
    assert fatal in report.notes and "the runner's note" in report.notes


def test_results_that_did_come_back_count_whatever_happened_after(tmp_path: Path):
    script = fake.Script(respond=responder(ratio=None), oom_killed=True, returncode=-9)
    found = checks(grade(tmp_path, script))
    assert found["value answer"].status == CheckStatus.PASS
    assert found["value ratio"].message.startswith("the sandbox ran out of memory")


def test_a_check_kind_that_fails_is_that_checks_grader_error_only(tmp_path: Path, monkeypatch):
    def broken(check, planned, probe):
        raise KeyError("a bug in the kind")

    monkeypatch.setattr(REGISTRY["exists"], "judge", broken)
    report = grade(tmp_path, fake.Script(respond=responder()))
    found = checks(report)
    assert found["exists helper"].status == CheckStatus.GRADER_ERROR
    assert "the check itself failed" in found["exists helper"].message
    assert "a bug in the kind" in found["exists helper"].message
    assert found["value answer"].status == found["value ratio"].status == CheckStatus.PASS
    assert report.status == SubmissionStatus.GRADER_ERROR  # the journal grades it again
    assert report.grader_errors[0] == f"answer/exists helper: {found['exists helper'].message}"


def test_a_failed_check_points_at_the_tagged_cell_that_raised(tmp_path: Path):
    cells = [
        {"number": 1, "tags": ["parameters"], "status": "ok"},
        {"number": 2, "tags": ["answer"], "status": "error", "ename": "NameError",
         "evalue": "name 'x' is not defined", "line": "line 3"},
    ]
    missing = fake.failed("missing", "`answer` is not defined")
    report = grade(tmp_path, fake.Script(respond=responder(answer=missing), cells=cells))
    message = checks(report)["value answer"].message
    assert message.startswith("`answer` is not defined")
    assert "(the cell tagged `answer`, cell 2, raised NameError: name 'x' is not defined, line 3)" in message
    assert report.cells == cells


@pytest.mark.parametrize("cells", [b"{not json", b'{"a": "cells.json is not a list"}', None])
def test_an_unusable_cells_record_costs_only_the_cell_hints(tmp_path: Path, cells):
    report = grade(tmp_path, fake.Script(respond=responder(), cells=cells))
    assert report.status == SubmissionStatus.GRADED and report.score == 3.0
    assert report.cells == []


@pytest.mark.parametrize("summary", [b"\x00not json", b"[1, 2]", None])
def test_an_unusable_run_summary_is_no_fatal_and_no_note(tmp_path: Path, summary):
    report = grade(tmp_path, fake.Script(respond=responder(), summary=summary))
    assert report.status == SubmissionStatus.GRADED and report.score == 3.0


def test_versions_are_read_without_importing_torch():
    """A report names torch's version; reading it must not cost a torch import (seconds)."""
    import json
    import subprocess
    import sys

    probe = (
        "import sys, json\n"
        "from autograde.pipeline.judge import versions\n"
        "found = versions()\n"
        "print(json.dumps([sorted(found), 'torch' in sys.modules]))\n"
    )
    command = [sys.executable, "-c", probe]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    names, imported = json.loads(done.stdout)
    assert {"autograde", "python", "numpy", "torch"} <= set(names)
    assert imported is False
