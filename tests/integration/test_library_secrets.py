"""With `--rubrics DIR`, the local backend hides that library (its other assignments'
solutions) and the reference package beside it, not only the default library: a real
kernel tries to read them and a value check on what it read grades it."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
import yaml

from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.rubric import load_assignment
from autograde.status import CheckStatus
from tests.integration.conftest import ROOT

pytestmark = pytest.mark.integration

PUBLIC = b"hello"


@pytest.fixture
def checkout(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the library in a checkout of its own (rubrics/ beside reference/), outside
    /tmp and HOME (which the sandbox covers anyway), with a public file beside them."""
    import reference  # noqa: F401  (the real one stays imported: the copy's must not shadow it)

    try:
        root = Path(tempfile.mkdtemp(prefix="autograde-library-", dir="/var/tmp"))
    except OSError as exc:
        pytest.skip(f"/var/tmp is not writable here: {exc}")
    monkeypatch.setattr(sys, "path", list(sys.path))  # loading the copy puts it on sys.path
    try:
        shutil.copytree(ROOT / "rubrics", root / "rubrics")
        (root / "reference").mkdir()
        (root / "reference" / "secret.py").write_text("ANSWER = 42\n")
        (root / "public.txt").write_bytes(PUBLIC)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _leak_assignment(root: Path) -> None:
    rubric = {
        "schema": 1,
        "assignment": "leak",
        "title": "reads what it must not",
        "limits": {"cell_timeout": "20s", "total_timeout": "120s"},
        "tasks": [
            {
                "id": "files",
                "title": "bytes read",
                "points": 3,
                "checks": [
                    {"kind": "value", "variable": "solution_bytes", "expect": 0},
                    {"kind": "value", "variable": "reference_bytes", "expect": 0},
                    {"kind": "value", "variable": "public_bytes", "expect": len(PUBLIC)},
                ],
            }
        ],
    }
    (root / "rubrics" / "leak").mkdir()
    (root / "rubrics" / "leak" / "rubric.yaml").write_text(yaml.safe_dump(rubric))


def _snooping_notebook(root: Path, folder: Path) -> Path:
    code = (
        "def size(path):\n"
        "    try:\n"
        "        with open(path, 'rb') as handle:\n"
        "            return len(handle.read())\n"
        "    except OSError:\n"
        "        return 0\n"
        f"solution_bytes = size({str(root / 'rubrics' / 'ex01_perceptron' / 'solution.ipynb')!r})\n"
        f"reference_bytes = size({str(root / 'reference' / 'secret.py')!r})\n"
        f"public_bytes = size({str(root / 'public.txt')!r})\n"
    )
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("seed = 0", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(code)]
    path = folder / "snoop.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_library_an_assignment_came_from_is_hidden(checkout: Path, tmp_path: Path):
    assert (checkout / "rubrics" / "ex01_perceptron" / "solution.ipynb").stat().st_size > 0
    _leak_assignment(checkout)
    assignment = load_assignment("leak", checkout / "rubrics")
    notebook = _snooping_notebook(checkout, tmp_path)
    report = grade_submission(notebook, assignment, GradeOptions(grading_seed=1))
    if any("file system not fully protected" in note for note in report.notes):
        pytest.skip(f"no mount namespace here: {report.notes}")
    found = {check.name: check for check in report.tasks[0].checks}
    assert all(cell["status"] == "ok" for cell in report.cells), report.cells
    assert found["value public_bytes"].status == CheckStatus.PASS, found  # reading works in there
    assert found["value solution_bytes"].status == CheckStatus.PASS, found["value solution_bytes"].message
    assert found["value reference_bytes"].status == CheckStatus.PASS, found["value reference_bytes"].message
