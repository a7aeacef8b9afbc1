"""Every `grade` run of a results folder is a numbered run; `autograde diff` says whose score
changed between two runs and why (real kernels, the CLI as an instructor runs it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.integration.test_batch import CLI, EX02, EXAMPLES, grade, gradebook, journal_students, uploads_dir

pytestmark = pytest.mark.integration


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120, env={
        "PATH": "/usr/bin:/bin", "HOME": "/tmp", "COLUMNS": "200"})


def diff_json(out: Path, *args: str) -> dict[str, dict]:
    done = cli("diff", str(out), "--json", *args)
    assert done.returncode == 0, done.stderr
    return {change["student"]: change for change in json.loads(done.stdout)["changes"]}


def test_runs_are_numbered_and_diff_names_the_reason(tmp_path: Path) -> None:
    uploads = uploads_dir(tmp_path)
    out = tmp_path / "out"
    rubric_dir = tmp_path / "rubric"
    shutil.copytree(EX02, rubric_dir)
    rubric = str(rubric_dir / "rubric.yaml")
    args = [str(uploads), "-a", rubric, "--out", str(out), "--seed", "5"]
    first = grade(*args)
    assert "score(s) changed" not in first.stdout  # the first run has nothing to compare with
    assert gradebook(out)["dave"]["total"] == "0"

    # run 2: dave uploads a new version
    shutil.copy(EXAMPLES / "alice.ipynb", uploads / "dave.ipynb")
    second = grade(*args)
    assert "1 score(s) changed, 5 unchanged" in second.stdout
    changes = diff_json(out)
    assert list(changes) == ["dave"]
    assert (changes["dave"]["before"], changes["dave"]["after"], changes["dave"]["change"]) == (0, 10, 10)
    assert changes["dave"]["reasons"] == ["upload changed"]
    assert {c["check"] for c in changes["dave"]["checks"]} >= {"loss/value loss", "gradient/value gradient"}
    assert all((c["before"], c["after"]) == ("fail", "pass") for c in changes["dave"]["checks"])

    # run 3: the loss task is worth 4 points instead of 2
    data = yaml.safe_load((rubric_dir / "rubric.yaml").read_text())
    loss = next(task for task in data["tasks"] if task["id"] == "loss")
    loss["points"] = 4
    (rubric_dir / "rubric.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    grade(*args)
    changes = diff_json(out)
    book = gradebook(out)
    # every graded upload whose loss passes gains 2 points; dave and bob have it right
    gained = {s for s, row in book.items() if row["status"] == "graded" and row["loss"] == "4"}
    assert set(changes) == gained and {"alice", "bob", "dave"} <= gained
    assert all(changes[s]["change"] == 2 for s in gained)
    assert all(len(changes[s]["reasons"]) == 1 and changes[s]["reasons"][0].startswith("rubric changed")
               for s in gained)
    page = (out / "class.html").read_text()
    assert 'id="changes"' in page and 'data-student="alice"' in page

    # run 4: another seed; nothing changes, but everything was graded again
    grade(str(uploads), "-a", rubric, "--out", str(out), "--seed", "6")
    assert diff_json(out) == {}
    assert journal_students(out).count("alice") == 3  # runs 1, 3 and 4: nothing earlier is lost

    # across runs: dave's two reasons from run 1 to run 3
    across = diff_json(out, "--from", "1", "--to", "3")
    assert across["dave"]["reasons"][0] == "upload changed"
    assert across["dave"]["reasons"][1].startswith("rubric changed")
    assert (across["dave"]["before"], across["dave"]["after"]) == (0, 12)

    listed = cli("runs", str(out))
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows] == ["1", "2", "3", "4"]

    unknown = cli("diff", str(out), "--to", "9")
    assert unknown.returncode == 2
    assert f"{out}: no run 9 (its runs are 1, 2, 3, 4" in unknown.stderr
