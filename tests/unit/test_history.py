"""The numbered runs of a results folder (`autograde.history`) and their diff."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograde.batch.results_folder import ResultsFolder
from autograde.cli.main import main
from autograde.errors import AutogradeError
from autograde.history.diff import (
    FIRST_GRADED,
    HAND_GRADE,
    LEFT_OUT,
    NOT_REPRODUCIBLE,
    SEED_CHANGED,
    diff_runs,
)
from autograde.history.record import CheckState, RunRecord, StudentState, run_record
from autograde.reporters.run_changes import changes_html, changes_json
from autograde.results import CheckResult, GradeReport, TaskResult

WHEN = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def state(score: float, **changes: object) -> StudentState:
    values: dict[str, object] = {
        "status": "graded", "score": score, "max_score": 10.0, "file_sha256": "aa", "rubric_digest": "r1",
        "seed": 5, "parameters": {"epochs": 100}, "engine": {"autograde": "0.1.0", "backend": "local"},
        "checks": {"loss/value": CheckState(status="pass", message="ok")}, "graded_now": True,
    }
    values.update(changes)
    return StudentState.model_validate(values)


def record(number: int, students: dict[str, StudentState], kind: str = "grade") -> RunRecord:
    return RunRecord.model_validate({
        "number": number, "kind": kind, "started": WHEN, "finished": WHEN, "assignment": "ex02",
        "rubric_digest": "r1", "students": students,
    })


def reasons_between(before: StudentState, after: StudentState) -> list[str]:
    [change] = diff_runs(record(1, {"s": before}), record(2, {"s": after})).changes
    return change.reasons


def test_each_recorded_cause_is_named() -> None:
    failing = {"loss/value": CheckState(status="fail", message="wrong")}
    assert reasons_between(state(10), state(8, file_sha256="bb", checks=failing)) == ["upload changed"]
    assert reasons_between(state(10), state(8, rubric_digest="r2abcdef123456789", checks=failing)) == [
        "rubric changed (r1 -> r2abcdef1234)"]
    assert reasons_between(state(10), state(8, seed=6, checks=failing)) == [SEED_CHANGED]
    assert reasons_between(state(10), state(8, parameters={"epochs": 5}, checks=failing)) == [
        "parameters changed (epochs)"]
    assert reasons_between(state(10), state(8, engine={"autograde": "0.2.0", "backend": "docker"},
                                            checks=failing)) == [
        "engine changed (autograde 0.1.0 -> 0.2.0, backend local -> docker)"]
    by_hand = {"loss/value": CheckState(status="graded-by-hand", message="1 / 2 points, graded by hand")}
    assert reasons_between(state(10), state(9, checks=by_hand)) == [HAND_GRADE]
    # two causes at once, in a fixed order
    assert reasons_between(state(10), state(8, file_sha256="bb", seed=6)) == ["upload changed", SEED_CHANGED]


def test_same_inputs_with_another_result_is_named_not_reproducible() -> None:
    failing = {"loss/value": CheckState(status="fail", message="wrong")}
    assert reasons_between(state(10), state(8, checks=failing)) == [NOT_REPRODUCIBLE]
    # carried over from the journal, not graded in the later run: no cause can be named
    assert reasons_between(state(10), state(8, checks=failing, graded_now=False)) == ["no recorded cause"]


def test_students_added_left_unchanged_and_status_only_changes() -> None:
    before = record(1, {"ann": state(10), "bob": state(4), "cid": state(0)})
    after = record(2, {"ann": state(10), "cid": state(0, status="grader-error"), "dan": state(7)})
    found = diff_runs(before, after)
    assert found.unchanged == 1  # ann
    by_student = {c.student: c for c in found.changes}
    assert by_student["bob"].reasons == [LEFT_OUT] and by_student["bob"].after is None
    assert by_student["dan"].reasons == [FIRST_GRADED] and by_student["dan"].before is None
    assert (by_student["cid"].status_before, by_student["cid"].status_after) == ("graded", "grader-error")
    assert [c.student for c in found.scores_changed] == ["bob", "dan"]  # cid's score is 0 in both


def test_check_changes_list_added_removed_and_changed_checks() -> None:
    before = state(5, checks={"a/one": CheckState(status="pass"), "a/two": CheckState(status="fail")})
    after = state(5, checks={"a/two": CheckState(status="pass", message="now right"),
                             "a/three": CheckState(status="fail", message="new")}, file_sha256="bb")
    [change] = diff_runs(record(1, {"s": before}), record(2, {"s": after})).changes
    assert [(c.check, c.before, c.after, c.message) for c in change.checks] == [
        ("a/one", "pass", None, ""), ("a/three", None, "fail", "new"), ("a/two", "fail", "pass", "now right")]
    assert not change.score_changed


def report(student: str, score: float, status: str = "pass") -> GradeReport:
    check = CheckResult(kind="value", name="value", status=status, message="m" * 500, weight=1.0,
                        visible="public", earned=1.0 if status == "pass" else 0.0)
    task = TaskResult(id="loss", title=None, points=score, max_points=2.0, visible="public", checks=[check])
    return GradeReport(student=student, file=f"{student}.ipynb", assignment="ex02", status="graded",
                       score=score, max_score=2.0, tasks=[task], rubric_digest="r1", grading_seed=5,
                       backend="local", versions={"autograde": "0.1.0"})


def make_run(reports: dict[str, GradeReport], graded: set[str]) -> RunRecord:
    return run_record(kind="grade", started=WHEN, assignment="ex02", rubric_digest="r1",
                      reports=reports, digests={s: "aa" for s in reports}, graded_now=graded, seed=5)


def test_run_record_keeps_what_each_student_had() -> None:
    made = make_run({"ann": report("ann", 2.0), "bob": report("bob", 0.0, "fail")}, {"bob"})
    assert made.graded_now == 1
    assert made.students["bob"].checks["loss/value"].status == "fail"
    assert len(made.students["bob"].checks["loss/value"].message) == 200  # the start of a long message
    assert made.students["ann"].engine == {"autograde": "0.1.0", "backend": "local"}
    assert made.versions == {"autograde": "0.1.0"}


def test_results_folder_numbers_runs_and_never_replaces_one(tmp_path: Path) -> None:
    folder = ResultsFolder(tmp_path)
    assert folder.run_numbers() == [] and folder.last_changes() is None
    first = folder.write_run(make_run({"ann": report("ann", 2.0)}, {"ann"}))
    assert first.number == 1 and folder.last_changes() is None
    # another run took number 2 meanwhile: the next one becomes 3, run 2 is left as it is
    taken = (tmp_path / "runs" / "0002.json")
    taken.write_text(first.model_copy(update={"number": 2}).model_dump_json())
    before = taken.read_bytes()
    third = folder.write_run(make_run({"ann": report("ann", 0.0, "fail")}, {"ann"}))
    assert third.number == 3 and taken.read_bytes() == before
    assert folder.run_numbers() == [1, 2, 3]
    assert json.loads((tmp_path / "runs" / "0003.json").read_text())["number"] == 3
    changes = folder.last_changes()
    assert changes is not None
    assert [(c.student, c.before, c.after) for c in changes.changes] == [("ann", 2, 0)]
    assert not list((tmp_path / "runs").glob(".*"))  # no temporary file left


def test_unknown_or_damaged_runs_are_clear_errors(tmp_path: Path) -> None:
    folder = ResultsFolder(tmp_path)
    with pytest.raises(AutogradeError, match=r"no run 1 \(it has no runs yet"):
        folder.read_run(1)
    folder.write_run(make_run({"ann": report("ann", 2.0)}, {"ann"}))
    with pytest.raises(AutogradeError, match=r"no run 7 \(its runs are 1;"):
        folder.read_run(7)
    damaged = tmp_path / "runs" / "0002.json"
    damaged.write_text('{"number": 2, "kind": "grade"')
    with pytest.raises(AutogradeError, match=r"0002\.json: not a readable run record"):
        folder.read_run(2)
    assert folder.last_changes() is None  # the class page goes on without the section


def test_changes_page_escapes_what_students_control() -> None:
    hostile = "<script>alert(1)</script>"
    found = diff_runs(record(1, {hostile: state(1)}),
                      record(2, {hostile: state(2, file_sha256="bb", checks={
                          "t/<img src=x>": CheckState(status="fail", message="<b>")})}))
    page = changes_html(found)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    data = changes_json(found)
    assert data["changes"][0]["student"] == hostile and data["changes"][0]["change"] == 1


def test_cli_diff_and_runs_on_folders_without_enough_runs(tmp_path: Path) -> None:
    runner = CliRunner()
    empty = runner.invoke(main, ["diff", str(tmp_path)])
    assert empty.exit_code == 2 and "no runs kept yet" in empty.output
    assert "no runs kept yet" in runner.invoke(main, ["runs", str(tmp_path)]).output
    ResultsFolder(tmp_path).write_run(make_run({"ann": report("ann", 2.0)}, {"ann"}))
    single = runner.invoke(main, ["diff", str(tmp_path)])
    assert single.exit_code == 2 and "run 1 is its first run" in single.output
    ResultsFolder(tmp_path).write_run(make_run({"ann": report("ann", 0.0, "fail")}, {"ann"}))
    two = runner.invoke(main, ["diff", str(tmp_path), "--json"])
    assert two.exit_code == 0, two.output
    assert json.loads(two.output)["changes"][0]["reasons"] == [NOT_REPRODUCIBLE]
    bad = runner.invoke(main, ["diff", str(tmp_path), "--from", "0"])
    assert bad.exit_code == 2
