"""`autograde import otter` on otter's tutorial and main fixture (../shared/authoring), graded
with real kernels through the local backend: the solution earns every automatic point and the
template none (`rubric test`), no hidden case reaches a file a student gets (the template, the
`autograde bundle` output), and a file of the config's `files:` is found by the notebook."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml
from click.testing import CliRunner

from autograde.cli.main import main
from tests.authoring_data import authoring

pytestmark = pytest.mark.integration

CORPUS = {
    "demo": "otter/docs/tutorial/demo.ipynb",
    "example": "otter/test_assign/files/example.ipynb",
}


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _reads_data(folder: Path) -> Path:
    """A small v1 master whose answer reads data.csv (the corpus's, put beside it)."""
    shutil.copyfile(authoring("otter/test_assign/files/data.csv"), folder / "data.csv")
    nb = nbformat.v4.new_notebook()
    raw, code = nbformat.v4.new_raw_cell, nbformat.v4.new_code_cell
    tests = [code("rows[0]"), code("len(rows)")]
    for test, shown in zip(tests, ["['a', 'b', 'c']", "3"], strict=True):
        test.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": shown}, execution_count=1)]
    nb.cells = [
        raw("# ASSIGNMENT CONFIG\nfiles:\n    - data.csv"),
        raw("# BEGIN QUESTION\nname: q1"),
        nbformat.v4.new_markdown_cell("Read `data.csv` into `rows`."),
        raw("# BEGIN SOLUTION"),
        code("import csv\nrows = list(csv.reader(open('data.csv'))) # SOLUTION"),
        raw("# END SOLUTION"),
        raw("# BEGIN TESTS"),
        *tests,
        raw("# END TESTS"),
        raw("# END QUESTION"),
    ]
    master = folder / "reads_data.ipynb"
    nbformat.write(nb, str(master))
    return master


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lib = tmp_path_factory.mktemp("otter_library")
    for ident, relative in CORPUS.items():
        cli("import", "otter", str(authoring(relative)), "--out", str(lib / ident))
    source = tmp_path_factory.mktemp("otter_master")
    cli("import", "otter", str(_reads_data(source)), "--out", str(lib / "reads_data"))
    return lib


def test_solution_full_automatic_points_template_zero(library: Path) -> None:
    out = cli("rubric", "test", "--library", str(library))
    # demo: 3 automatic points; example: 42 automatic by otter's count, less question5's point,
    # which has no tests and becomes a manual check; 104.5 + 42 in all (SOURCES.md)
    for line in (
        "demo solution.ipynb: 3/3",
        "demo template.ipynb: 0/3",
        "example solution.ipynb: 41/146.5",
        "example template.ipynb: 0/146.5",
        "reads_data solution.ipynb: 1/1",  # data.csv found beside the notebook
        "reads_data template.ipynb: 0/1",
    ):
        assert f"ok   {line}" in out, out


def _hidden_lines(rubric: Path) -> set[str]:
    """Lines of the hidden cases' code that no public case has."""
    checks = [c for t in yaml.safe_load(rubric.read_text())["tasks"] for c in t["checks"]]
    code = [c for c in checks if c["kind"] == "test_code"]

    def lines(hidden: bool) -> set[str]:
        found = {
            line.removeprefix("_otter_value = ").strip()  # the display of a scalar (cases.check_code)
            for check in code
            if (check.get("visible") == "hidden") == hidden
            for line in check["code"].splitlines()
            if "_otter_value.item()" not in line
        }
        return {line for line in found if len(line) > 8}

    return lines(True) - lines(False)


def _text(data: bytes) -> str:
    """A file as text: a JSON file (a notebook, bundle.json) as its strings, unescaped."""
    text = data.decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except ValueError:
        return text
    strings: list[str] = []

    def walk(item: object) -> None:
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, dict):
            for key, inner in item.items():
                strings.append(str(key))
                walk(inner)
        elif isinstance(item, list):
            for inner in item:
                walk(inner)

    walk(value)
    return "\n".join(strings)


def _lines(text: str) -> set[str]:
    return {line.strip().removeprefix("_otter_value = ") for line in text.splitlines()}


def test_no_hidden_case_reaches_a_student(library: Path, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    cli("bundle", *CORPUS, "--library", str(library), "--out", str(out))
    for ident in CORPUS:
        notebook, check = out / f"{ident}.ipynb", out / f"{ident}.check"
        blobs = [notebook.read_bytes(), (library / ident / "template.ipynb").read_bytes()]
        with zipfile.ZipFile(check) as zf:
            blobs += [zf.read(name) for name in zf.namelist()]
        seen = set().union(*(_lines(_text(blob)) for blob in blobs))
        hidden = _hidden_lines(library / ident / "rubric.yaml")
        assert len(hidden) >= 3  # demo: square(2.5), 4 np.isclose; example: identity, allclose, ...
        assert not hidden & seen, (ident, hidden & seen)
        assert {"square(0) == 0", "isinstance(x, int)"} & seen  # the public cases self-check
