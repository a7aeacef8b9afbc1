"""`autograde import nbgrader` on the nbgrader corpus of ../shared/authoring, graded with real
kernels through the local backend: point totals as SOURCES.md states them, solution full and
template 0 (`rubric test`), nbgrader's own release graded 0 and matched by grade id, the
manual cells on the manual sheet, support files beside the notebook, locked cells restored,
hidden tests kept out of the student bundle."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from autograde.authoring.draft import write_draft
from autograde.authoring.nbgrader import import_nbgrader
from autograde.cli.main import main
from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.rubric import Assignment, load_rubric_file
from tests.authoring_data import authoring

pytestmark = pytest.mark.integration

DOCS = "nbgrader/docs-example-course"
APPS = "nbgrader/tests/apps/files"
ML_STUB = (  # ml-tutorial's ClearSolutions.code_stub, as the CLI takes it (`\\n` between lines)
    '##### Implement this part of the code #####\\n'
    'raise NotImplementedError("Code not implemented, follow the instructions.")'
)
# assignment -> (corpus file, automatic points, manual points, tasks); figures from SOURCES.md
CORPUS = {
    "ps1_problem1": (f"{DOCS}/source/ps1/problem1.ipynb", 3, 7, 7),
    "ps1_problem2": (f"{DOCS}/source/ps1/problem2.ipynb", 0, 3, 2),
    # AUTOTEST is not implemented: its 4 test cells (3 points) and the 0-point one give no task
    "ps1_autotest": (f"{DOCS}/source/ps1_autotest/problem1.ipynb", 0, 7, 3),
    "test": (f"{APPS}/test.ipynb", 3, 3, 6),
    "test_hidden_tests": (f"{APPS}/test-hidden-tests.ipynb", 3, 0, 4),
    "test_v0": (f"{APPS}/test-v0.ipynb", 3, 3, 6),
    "submitted_unchanged": (f"{APPS}/submitted-unchanged.ipynb", 2, 5, 4),
    "open_relative_file": (f"{APPS}/open_relative_file.ipynb", 10, 0, 1),
    "test_taskcell": ("nbgrader/tests/preprocessors/files/test_taskcell.ipynb", 3, 5, 7),
    "intropy": ("courses/introPy/intropy/solutions/week_1/4_numpy.ipynb", 0, 0, 15),
    "ml_tutorial": ("courses/ml-tutorial/source/1/anomaly_detection.ipynb", 0, 0, 5),
}


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every corpus notebook imported once (ml-tutorial through the CLI, with its own stub)."""
    lib = tmp_path_factory.mktemp("nbgrader_library")
    for ident, (relative, *_) in CORPUS.items():
        if ident == "ml_tutorial":
            cli(
                "import",
                "nbgrader",
                str(authoring(relative)),
                "--out",
                str(lib / ident),
                "--code-stub",
                ML_STUB,
            )
        else:
            write_draft(import_nbgrader(authoring(relative), ident), lib / ident)
    return lib


def assignment(library: Path, ident: str) -> Assignment:
    return load_rubric_file(library / ident / "rubric.yaml")


def test_point_totals_as_sources_md_says(library: Path) -> None:
    for ident, (_, auto, manual, tasks) in CORPUS.items():
        rubric = assignment(library, ident).rubric
        kinds = {task.id: {check.kind for check in task.checks} for task in rubric.tasks}
        by_hand = sum(task.points for task in rubric.tasks if kinds[task.id] == {"manual"})
        automatic = sum(task.points for task in rubric.tasks if "manual" not in kinds[task.id])
        assert (automatic, by_hand, len(rubric.tasks)) == (auto, manual, tasks), ident
    notes = (library / "ps1_autotest" / "made-by.txt").read_text()
    assert notes.count("AUTOTEST") >= 5 and "(1 point left out)" in notes and "(0 points left out)" in notes
    ml = library / "ml_tutorial"
    assert (
        "cell 17 (ad_model): the student's version of this answer cell does not compile"
        in (ml / "made-by.txt").read_text()
    )
    assert sorted(assignment(library, "ml_tutorial").rubric.files) == [
        "data/all_data.pickle",
        "data/past_data.pickle",
    ]
    assert (ml / "data" / "past_data.pickle").read_bytes() == authoring(
        "courses/ml-tutorial/source/1/data/past_data.pickle"
    ).read_bytes()
    assert "`tests`" in (library / "intropy" / "made-by.txt").read_text()


def test_solution_full_and_template_zero(library: Path) -> None:
    out = cli("rubric", "test", "--library", str(library), "ps1_problem1")
    assert "ps1_problem1 solution.ipynb: 3/10" in out and "ps1_problem1 template.ipynb: 0/10" in out


def test_nbgrader_release_is_zero_matched_by_grade_id_and_on_the_manual_sheet(
    library: Path, tmp_path: Path
) -> None:
    release = authoring(f"{DOCS}/release/ps1/problem1.ipynb")
    results = tmp_path / "results"
    cli("grade", str(release), "-a", "ps1_problem1", "--library", str(library), "--out", str(results))
    cli("manual", "export", str(results), "-a", "ps1_problem1", "--library", str(library))
    rows = list(csv.DictReader(io.StringIO((results / "manual" / "sheet.csv").read_text())))
    answers = {row["check"]: row["answer"] for row in rows}
    assert set(answers) == {"sum_of_squares_equation", "sum_of_squares_application", "cell-938593c4a215c6cc"}
    assert answers["sum_of_squares_equation"] == "YOUR ANSWER HERE"
    grades = list(csv.DictReader(io.StringIO((results / "grades.csv").read_text())))
    assert [float(g["total"]) for g in grades] == [0.0]


def test_submitted_unchanged_and_a_locked_cell_restored(library: Path, tmp_path: Path) -> None:
    sub = assignment(library, "submitted_unchanged")
    unchanged = authoring(f"{APPS}/submitted-unchanged.ipynb")
    nb = nbformat.read(unchanged, as_version=4)
    ro1 = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ro1")
    ro1.source = "a = 1  # the student edits a read-only cell to pass bar"
    edited = tmp_path / "edited.ipynb"
    nbformat.write(nb, edited)
    for path in (unchanged, edited):
        report = grade_submission(path, sub, GradeOptions(grading_seed=1))
        earned = {task.id: task.points for task in report.tasks}
        assert (earned["foo"], earned["bar"]) == (1, 0), (path.name, report.notes)


def test_support_file_beside_the_notebook(library: Path) -> None:
    relative = assignment(library, "open_relative_file")
    report = grade_submission(
        library / "open_relative_file" / "solution.ipynb", relative, GradeOptions(grading_seed=1)
    )
    assert report.score == 10, report.notes


def test_hidden_tests_graded_and_never_in_the_bundle(library: Path, tmp_path: Path) -> None:
    hidden = assignment(library, "test_hidden_tests")
    # the corpus's "solution" answers squares(n) and sum_of_squares(n) for n in {1, 2, 10}
    # only, so it passes the public asserts and fails the hidden ones at n = 11
    report = grade_submission(
        library / "test_hidden_tests" / "solution.ipynb", hidden, GradeOptions(grading_seed=1)
    )
    earned = {task.id: task.points for task in report.tasks}
    assert earned == {
        "correct_squares": 0,
        "squares_invalid_input": 1,
        "correct_sum_of_squares": 0,
        "sum_of_squares_uses_squares": 0.5,
    }, report.notes
    public = [
        c for t in report.tasks for c in t.checks if c.visible == "public" and t.id == "correct_squares"
    ]
    assert [c.status for c in public] == ["pass"]
    out = tmp_path / "bundle"
    cli("bundle", "test_hidden_tests", "--library", str(library), "--out", str(out))
    texts = [p.read_bytes() for p in out.rglob("*") if p.is_file() and not zipfile.is_zipfile(p)]
    for archive in (p for p in out.rglob("*") if p.is_file() and zipfile.is_zipfile(p)):
        with zipfile.ZipFile(archive) as zf:
            texts += [zf.read(name) for name in zf.namelist()]
    assert texts and not any(b"squares(11)" in text or b"sum_of_squares(11)" in text for text in texts)
    assert any(b"squares(2) == [1, 4]" in text for text in texts)  # the public asserts are there
