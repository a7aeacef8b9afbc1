"""`grade --similarity` and `autograde similarity` on a real batch of ex02 uploads (real
kernels, the local backend): a copy with other names, comments and order is paired with its
original in every task it answers; an independent correct solution and two untouched templates
are paired with nobody."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.similarity_samples import COPY, OWN

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EX02 = ROOT / "rubrics" / "ex02_gradient_descent"
AUTOGRADE = str(Path(sys.executable).with_name("autograde"))

def _with_answers(source: Path, answers: dict[str, str], target: Path) -> None:
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        for tag in cell.metadata.get("tags", []):
            if tag in answers:
                cell.source = answers[tag]
    nbformat.write(nb, target)


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k in ("TMPDIR", "LANG")}
    env.update(PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin", HOME=str(cwd), COLUMNS="200")
    return subprocess.run([AUTOGRADE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def _pairs(path: Path) -> set[tuple[str, str, str]]:
    with path.open(encoding="utf-8") as handle:
        return {(row["task"], row["student_a"], row["student_b"]) for row in csv.DictReader(handle)}


def test_copies_are_paired_and_independent_work_and_templates_are_not(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "ann.ipynb").write_bytes((EX02 / "solution.ipynb").read_bytes())
    _with_answers(EX02 / "solution.ipynb", COPY, uploads / "ben.ipynb")
    _with_answers(EX02 / "solution.ipynb", OWN, uploads / "cat.ipynb")
    for name in ("dan", "eve"):
        (uploads / f"{name}.ipynb").write_bytes((EX02 / "template.ipynb").read_bytes())
    out = tmp_path / "results"
    done = _run("grade", str(uploads), "-a", "ex02_gradient_descent", "--out", str(out), "--seed", "2",
                "--similarity", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    with (out / "grades.csv").open(encoding="utf-8") as handle:
        grades = {row["student"]: row["total"] for row in csv.DictReader(handle)}
    assert grades["ann"] == grades["ben"] == grades["cat"] == "10"  # all three correct
    pairs = _pairs(out / "similarity" / "pairs.csv")
    assert pairs == {(task, "ann", "ben") for task in ("loss", "gradient", "descent", "regression")}
    assert "similarity: 4 pair(s)" in done.stdout
    page = (out / "similarity" / "similarity.html").read_text(encoding="utf-8")
    assert "ann and ben" in page and "cat" not in page

    # the command on its own: the same pairs, from the answers the batch kept
    (out / "similarity" / "pairs.csv").unlink()
    again = _run("similarity", str(out), cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _pairs(out / "similarity" / "pairs.csv") == pairs
    # a stricter threshold than any pair is an empty list, not an error
    none = _run("similarity", str(out), "--threshold", "1", "--assignment", "ex02_gradient_descent",
                cwd=tmp_path)
    assert none.returncode == 0 and "similarity: " in none.stdout
    bad = _run("similarity", str(out), "--threshold", "0", cwd=tmp_path)
    assert bad.returncode == 2 and "threshold" in bad.stderr.lower()
