"""Similarity of answers (copydetect's fingerprints, the template left out): copies made by
renaming, reordering and commenting are found; independent answers and the template are not;
the page escapes what students wrote."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograde.batch.results_folder import ResultsFolder
from autograde.errors import AutogradeError
from autograde.rubric import load_assignment
from autograde.similarity.answers import answers_of
from autograde.similarity.compare import THRESHOLD, similar_pairs
from autograde.similarity.page import marked, pairs_csv, similarity_html
from autograde.similarity.run import check_similarity
from tests import similarity_samples as samples

HELPERS = '''def mse(y, t):
    return np.mean((y - t) ** 2)


def predict(w, x):
    return w[0] + w[1] * x


def step(w, x, t, eta):
    y = predict(w, x)
    return w - eta * np.array([2 * np.mean(y - t), 2 * np.mean((y - t) * x)])
'''
# the same code: names changed, comments added, functions in another order
HELPERS_REORDERED = '''def update(weights, inputs, targets, rate):
    # one gradient step
    out = forward(weights, inputs)
    return weights - rate * np.array([2 * np.mean(out - targets), 2 * np.mean((out - targets) * inputs)])


def forward(weights, inputs):
    return weights[0] + weights[1] * inputs


def error(out, targets):
    return np.mean((out - targets) ** 2)
'''
# written independently, correct as well
HELPERS_OWN = '''def mse(y, t):
    d = y - t
    return float(d @ d) / d.size


def predict(w, x):
    return np.polyval(w[::-1], x)


def step(w, x, t, eta):
    r = predict(w, x) - t
    g = np.array([r.sum(), (r * x).sum()]) * 2 / len(x)
    return w - eta * g
'''
TEMPLATE = {
    "gradient": "def gradient(w):\n    # your code here\n    ...\n",
    "regression": "def fit_line(x, t, eta, epochs):\n    # your code here\n    ...\n",
    "helpers": "def mse(y, t):\n    ...\n\n\ndef predict(w, x):\n    ...\n\n\n"
               "def step(w, x, t, eta):\n    ...\n",
}
EX02 = load_assignment("ex02_gradient_descent")
SOLUTION = answers_of(EX02.path(EX02.rubric.solution), EX02)
ORIGINAL = {"gradient": SOLUTION["gradient"], "regression": SOLUTION["regression"], "helpers": HELPERS}
COPY = {"gradient": samples.COPY["gradient"], "regression": samples.COPY["regression"],
        "helpers": HELPERS_REORDERED}
OWN = {"gradient": samples.OWN["gradient"], "regression": samples.OWN["regression"], "helpers": HELPERS_OWN}


def _pairs(answers: dict[str, dict[str, str]], threshold: float = THRESHOLD) -> set[tuple[str, str, str]]:
    return {(m.task, m.first, m.second) for m in similar_pairs(answers, TEMPLATE, threshold)}


def test_a_renamed_commented_reordered_copy_is_found_in_every_task() -> None:
    found = _pairs({"ann": ORIGINAL, "ben": COPY})
    assert found == {("gradient", "ann", "ben"), ("regression", "ann", "ben"), ("helpers", "ann", "ben")}


def test_the_shares_are_the_same_in_every_process() -> None:
    """copydetect hashes with Python's salted `hash`: without stable k-gram hashes the shares,
    and so the pairs, changed from one run to the next."""
    code = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "from tests.unit.test_similarity import ORIGINAL, COPY, TEMPLATE\n"
            "from autograde.similarity.compare import similar_pairs\n"
            "found = similar_pairs({'a': ORIGINAL, 'b': COPY}, TEMPLATE, 0.01)\n"
            "print([(m.task, m.similarity) for m in found])")
    root = str(Path(__file__).resolve().parents[2])
    runs = {subprocess.run([sys.executable, "-c", code, root], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in (1, 2, 5, 7)}
    assert len(runs) == 1, runs


def test_independent_answers_and_the_template_are_not_paired() -> None:
    answers = {"ann": ORIGINAL, "cat": OWN, "dan": dict(TEMPLATE), "eve": dict(TEMPLATE)}
    assert _pairs(answers, threshold=0.3) == set()


def test_the_template_is_left_out_so_handed_out_code_matches_nobody() -> None:
    # a long scaffold every student got, with a short answer each: the scaffold counts for nobody
    scaffold = HELPERS + "\n\n" + SOLUTION["regression"]
    template = {"task": scaffold + "\ndef answer(x):\n    ...\n"}
    one = {"task": scaffold + "\ndef answer(x):\n    return x + 1\n"}
    two = {"task": scaffold + "\ndef answer(x):\n    return np.sqrt(np.abs(x)) * 3 - np.tanh(x) / 7\n"}
    assert similar_pairs({"a": one, "b": two}, template, 0.3) == []
    assert similar_pairs({"a": one, "b": two}, {}, 0.8) != []  # without the template: the scaffold matches


def test_most_alike_first_and_each_share_in_the_csv() -> None:
    answers = {"ann": ORIGINAL, "ben": COPY, "cat": OWN, "fay": {"gradient": SOLUTION["gradient"]}}
    matches = similar_pairs(answers, TEMPLATE, 0.8)
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    rows = pairs_csv(matches).splitlines()
    assert rows[0] == "task,student_a,student_b,similarity,share_a,share_b"
    assert "gradient,ann,fay,1.00,1.00,1.00" in rows
    assert len(rows) == 1 + len(matches)


def test_the_page_escapes_student_code_and_marks_the_matches() -> None:
    hostile = {k: v.replace("# one partial derivative", "# </pre><script>alert(1)</script>")
               for k, v in COPY.items()}
    assert hostile != COPY
    matches = similar_pairs({"ann": ORIGINAL, "<b>ben</b>": hostile}, TEMPLATE, THRESHOLD)
    assert len(matches) == 3
    page = similarity_html("ex02", matches, THRESHOLD, 2)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>ben</b>" not in page and "&lt;b&gt;ben&lt;/b&gt;" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert page.count("<mark>") >= 6  # each pair's two sides
    assert marked("a<b>c", [(1, 4)]) == "a<mark>&lt;b&gt;</mark>c"
    assert marked("abcdef", [(0, 3), (2, 5)]) == "<mark>abc</mark><mark>de</mark>f"


def _folder(tmp_path: Path, answers: dict[str, dict[str, str]], assignment: str) -> Path:
    folder = ResultsFolder(tmp_path / "results")
    for student, by_task in answers.items():
        folder.write_answers(student, assignment, by_task)
    return folder.root


def test_a_results_folder_is_checked_and_written(tmp_path: Path) -> None:
    ex02 = EX02
    root = _folder(tmp_path, {"ann": ORIGINAL, "ben": COPY, "cat": OWN}, ex02.id)
    (root / "students" / "zed").mkdir()
    (root / "students" / "zed" / "answers.json").write_text("{not json", encoding="utf-8")
    run = check_similarity(root, ex02)
    assert {(m.task, m.first, m.second) for m in run.matches} >= {("gradient", "ann", "ben")}
    assert all("cat" not in (m.first, m.second) for m in run.matches)
    assert run.compared == 3
    assert [n for n in run.notes if "zed" in n and "left out" in n]
    assert run.csv.read_text(encoding="utf-8").startswith("task,student_a")
    assert re.search(r"<h1>Similarity: ex02_gradient_descent</h1>", run.html.read_text(encoding="utf-8"))


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    ex02 = load_assignment("ex02_gradient_descent")
    (tmp_path / "empty" / "students").mkdir(parents=True)
    with pytest.raises(AutogradeError, match=r"no students/\*/answers.json"):
        check_similarity(tmp_path / "empty", ex02)
    with pytest.raises(AutogradeError, match="not a results folder"):
        check_similarity(tmp_path / "nothing", ex02)
    other = _folder(tmp_path, {"ann": ORIGINAL}, "ex05_classification")
    with pytest.raises(AutogradeError, match="ex05_classification"):
        check_similarity(other, ex02)
    with pytest.raises(AutogradeError, match="threshold"):
        check_similarity(other, ex02, threshold=1.5)
    kept = json.loads((other / "students" / "ann" / "answers.json").read_text(encoding="utf-8"))
    assert kept == {"student": "ann", "assignment": "ex05_classification", "answers": ORIGINAL}
