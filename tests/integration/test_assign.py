"""`autograde assign` end to end: a small master notebook (written as rubrics/README.md says)
becomes an assignment folder that `autograde rubric test` passes and `autograde bundle` ships
without solution code; a notebook graded in the local sandbox cannot read the assignment's
host-side reference module, while a copy of it outside the library is readable."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat import v4

from autograde.cli.main import main
from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.rubric import load_assignment

pytestmark = pytest.mark.integration

SOLUTION_MARK = "np.multiply(x, x)"  # only the solution (and its reference module) has it


def _master(path: Path) -> None:
    cells = [
        v4.new_raw_cell("# autograde\ntitle: Small\nlimits: {cell_timeout: 20s, total_timeout: 120s}"),
        v4.new_markdown_cell("# Small\n\nTwo functions."),
        v4.new_code_cell("import numpy as np"),
        v4.new_code_cell("seed = 0", metadata={"tags": ["parameters"]}),
        v4.new_code_cell(
            "# autograde:\n#   task: square\n#   points: 2\n#   inputs: [{draw: normal, shape: [4]}]\n"
            'def square(x):\n    """x squared, elementwise."""\n'
            f"    ### BEGIN SOLUTION\n    return {SOLUTION_MARK}\n"
            "    ### END SOLUTION"
        ),
        v4.new_code_cell(
            "# autograde:\n#   mutant: doubled\n#   description: adds instead of multiplying\n"
            "#   loses: {square: 2, norm: 1}\ndef square(x):\n    return x + x"
        ),
        v4.new_code_cell(
            "def norm(v):\n    # BEGIN SOLUTION\n    return float(np.sqrt(np.sum(square(v))))\n"
            "    # END SOLUTION",
            metadata={
                "tags": ["task:norm", "points:1"],
                "autograde": {
                    "checks": [{"kind": "value", "call": "norm", "args": [{"draw": "uniform", "shape": [3]}]}]
                },
            },
        ),
        v4.new_code_cell("print(norm(np.array([3.0, 4.0])))"),
    ]
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def root() -> Iterator[Path]:
    """Outside /tmp and HOME, which the sandbox hides anyway: only the host secrets protect it."""
    try:
        found = Path(tempfile.mkdtemp(prefix="autograde-assign-", dir="/var/tmp"))
    except OSError as exc:
        pytest.skip(f"/var/tmp is not writable here: {exc}")
    yield found
    shutil.rmtree(found, ignore_errors=True)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_an_assigned_master_passes_rubric_test_and_bundles_without_solution(root: Path):
    master = root / "master.ipynb"
    _master(master)
    lib = root / "lib"
    runner = CliRunner()
    for _ in range(2):
        made = runner.invoke(main, ["assign", str(master), "--out", str(lib / "small")])
        assert made.exit_code == 0, made.output
        if _ == 0:
            first = _files(lib / "small")
    assert _files(lib / "small") == first  # twice: the same bytes
    tested = runner.invoke(main, ["rubric", "test", "--library", str(lib)])
    assert tested.exit_code == 0, tested.output
    assert "solution.ipynb: 3/3" in tested.output and "template.ipynb: 0/3" in tested.output
    assert "mutants/doubled.ipynb: 0/3" in tested.output
    bundled = runner.invoke(main, ["bundle", "small", "--library", str(lib), "--out", str(root / "bundle")])
    assert bundled.exit_code == 0, bundled.output
    shipped = _files(root / "bundle")
    assert any(name.endswith(".check") for name in shipped)
    for name, data in shipped.items():
        members = [data]
        if name.endswith(".check"):
            with zipfile.ZipFile(root / "bundle" / name) as archive:
                members = [archive.read(member) for member in archive.namelist()]
        for member in members:
            for secret in (SOLUTION_MARK, "np.sqrt(np.sum", "x + x", "SOLUTION"):
                assert secret.encode() not in member, (name, secret)
    assert SOLUTION_MARK in (lib / "small" / "solution_code.py").read_text()


def _snoop(folder: Path, module: Path) -> Path:
    """A submission whose `square` runs the reference module it reads from `module`."""
    code = (
        "def square(x):\n"
        "    try:\n"
        f"        source = open({str(module)!r}).read()\n"
        "    except OSError:\n"
        "        return None\n"
        "    space = {}\n"
        "    exec(source, space)\n"
        "    return space['square'](x)\n"
    )
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell("import numpy as np"),
            v4.new_code_cell("seed = 0", metadata={"tags": ["parameters"]}),
            v4.new_code_cell(code, metadata={"tags": ["square"]}),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"snoop-{module.parent.name}.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_notebook_cannot_read_the_reference_module_in_the_sandbox(root: Path, tmp_path: Path):
    _master(root / "master.ipynb")
    made = CliRunner().invoke(
        main, ["assign", str(root / "master.ipynb"), "--out", str(root / "lib" / "small")]
    )
    assert made.exit_code == 0, made.output
    public = root / "public"
    public.mkdir()
    shutil.copy(root / "lib" / "small" / "solution_code.py", public)
    assignment = load_assignment("small", root / "lib")
    points = {}
    for module in (root / "lib" / "small" / "solution_code.py", public / "solution_code.py"):
        report = grade_submission(_snoop(tmp_path, module), assignment, GradeOptions(grading_seed=1))
        if any("file system not fully protected" in note for note in report.notes):
            pytest.skip(f"no mount namespace here: {report.notes}")
        points[module.parent.name] = next(t.points for t in report.tasks if t.id == "square")
    assert points == {"public": 2, "small": 0}  # the copy outside the library reads: the check is real
