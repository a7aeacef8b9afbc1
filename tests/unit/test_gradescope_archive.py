"""`autograde gradescope`: the archive's files (one assignment's part of the library, the
scripts executable, the manifest's digest that of the rubric), a reproducible zip, bad
inputs as clear errors, and what run_autograder writes for uploads it cannot grade."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograde.cli.main import main
from autograde.errors import AutogradeError
from autograde.gradescope import autograder
from autograde.gradescope.archive import build_archive
from autograde.rubric import load_assignment

ROOT = Path(__file__).resolve().parents[2]
RUBRICS = ROOT / "rubrics"
OTHER_ASSIGNMENTS = [p.name for p in RUBRICS.iterdir() if (p / "rubric.yaml").is_file()]


@pytest.fixture(scope="module")
def ex02_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gs") / "ex02.zip"
    build_archive(load_assignment("ex02_gradient_descent"), out, log=lambda _: None)
    return out


@pytest.fixture(scope="module")
def ex08_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gs") / "ex08.zip"
    build_archive(load_assignment("ex08_open_set"), out, log=lambda _: None)
    return out


def names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def library_names(path: Path) -> list[str]:
    return sorted(n.removeprefix("library/") for n in names(path) if n.startswith("library/"))


def test_ex02_carries_its_rubric_template_and_local_reference_module_only(ex02_zip):
    assert library_names(ex02_zip) == [
        "rubrics/ex02_gradient_descent/rubric.yaml",
        "rubrics/ex02_gradient_descent/solution_code.py",  # `reference: solution_code.py:loss`
        "rubrics/ex02_gradient_descent/template.ipynb",
    ]
    top = sorted({n.split("/")[0] for n in names(ex02_zip)})
    assert top == ["engine", "library", "manifest.json", "run_autograder", "setup.sh"]
    engine = [n for n in names(ex02_zip) if n.startswith("engine/")]
    assert len(engine) == 1 and engine[0].endswith("-py3-none-any.whl")


def test_ex08_carries_the_reference_modules_its_rubric_imports_and_nothing_else(ex08_zip):
    # reference.ex08 (checks), reference.ex08_data (data generators), which imports
    # reference.idx_images; not cells.py, the solution or the mutants
    assert library_names(ex08_zip) == [
        "reference/__init__.py",
        "reference/ex08.py",
        "reference/ex08_data.py",
        "reference/idx_images.py",
        "rubrics/ex08_open_set/rubric.yaml",
        "rubrics/ex08_open_set/template.ipynb",
    ]
    others = [a for a in OTHER_ASSIGNMENTS if a != "ex08_open_set"]
    assert not [n for n in names(ex08_zip) for a in others if a in n]


def test_scripts_are_executable_and_everything_else_is_not(ex08_zip):
    with zipfile.ZipFile(ex08_zip) as archive:
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
        times = {info.date_time for info in archive.infolist()}
    assert modes.pop("setup.sh") == 0o755
    assert modes.pop("run_autograder") == 0o755
    assert set(modes.values()) == {0o644}
    assert times == {(1980, 1, 1, 0, 0, 0)}


def test_manifest_names_the_assignment_and_the_digest_of_the_rubric_it_carries(ex08_zip):
    with zipfile.ZipFile(ex08_zip) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        rubric = archive.read("library/rubrics/ex08_open_set/rubric.yaml")
    assert rubric == (RUBRICS / "ex08_open_set" / "rubric.yaml").read_bytes()
    assert manifest["rubric_digest"] == hashlib.sha256(rubric).hexdigest()[:16]
    assert manifest["assignment"] == "ex08_open_set"
    assert manifest["offline"] is False and manifest["wheels"] == []
    assert manifest["library"] == [f"library/{n}" for n in library_names(ex08_zip)]


def test_the_same_library_gives_the_same_bytes(ex02_zip, tmp_path):
    again = tmp_path / "again.zip"
    build_archive(load_assignment("ex02_gradient_descent"), again, log=lambda _: None)
    assert again.read_bytes() == ex02_zip.read_bytes()


def test_the_scripts_are_valid_bash(ex02_zip, tmp_path):
    import subprocess

    with zipfile.ZipFile(ex02_zip) as archive:
        for name in ("setup.sh", "run_autograder"):
            script = tmp_path / name
            script.write_bytes(archive.read(name))
            assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0, name


# ---------------------------------------------------------------- bad input


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["gradescope", *args])
    return result.exit_code, result.output


def test_unknown_assignment_is_exit_2_with_the_known_ones():
    code, output = run_cli("ex99_nothing", "--out", "/tmp/never.zip")
    assert code == 2
    assert "no rubric for assignment 'ex99_nothing'" in output and "ex02_gradient_descent" in output


def test_an_out_below_a_file_is_exit_2_naming_it(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    code, output = run_cli("ex02_gradient_descent", "--out", str(blocker / "a.zip"))
    assert code == 2
    assert f"{blocker} is a file, not a folder" in output
    assert list(tmp_path.iterdir()) == [blocker]


def test_an_out_that_is_a_folder_is_exit_2(tmp_path):
    code, output = run_cli("ex02_gradient_descent", "--out", str(tmp_path))
    assert code == 2 and "is a folder; name the zip file" in output


def test_an_out_in_a_read_only_file_system_is_exit_2(tmp_path):
    code, output = run_cli("ex02_gradient_descent", "--out", "/proc/autograder.zip")
    assert code == 2 and "--out /proc/autograder.zip" in output


def test_a_wheelhouse_that_is_no_folder_is_exit_2(tmp_path):
    code, output = run_cli("ex02_gradient_descent", "--out", str(tmp_path / "a.zip"),
                           "--wheelhouse", str(tmp_path / "none"))
    assert code == 2 and "none: not a folder" in output
    assert not (tmp_path / "a.zip").exists()


def test_a_wheelhouse_lacking_a_needed_wheel_names_the_package(tmp_path):
    wheelhouse = tmp_path / "wheels"
    wheelhouse.mkdir()
    with pytest.raises(AutogradeError) as caught:
        build_archive(load_assignment("ex02_gradient_descent"), tmp_path / "a.zip", wheelhouse,
                      log=lambda _: None)
    message = str(caught.value)
    assert f"--wheelhouse {wheelhouse}" in message
    assert "No matching distribution found for numpy" in message  # the first the engine needs
    assert not (tmp_path / "a.zip").exists()


# ---------------------------------------------------------------- run_autograder without a kernel


@pytest.fixture
def layout(ex02_zip: Path, tmp_path: Path) -> Path:
    """/autograder as Gradescope lays it out, the archive unzipped in source/."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(ex02_zip) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    return root


def results(root: Path) -> dict:
    return json.loads((root / "results" / "results.json").read_text())


RUBRIC_TASKS = ["loss", "gradient", "descent", "regression"]  # rubrics/ex02_gradient_descent/rubric.yaml
RUBRIC_POINTS = 2 + 3 + 2 + 3


def test_no_notebook_is_a_zero_with_what_to_upload(layout):
    (layout / "submission" / "answers.zip").write_bytes(b"PK")
    assert autograder.run(layout) == 0
    found = results(layout)
    assert found["score"] == 0 and found["max_score"] == RUBRIC_POINTS
    assert "no notebook was uploaded (found: answers.zip)" in found["output"]
    assert [t["name"].split(":")[0] for t in found["tests"]] == RUBRIC_TASKS
    assert all(t["score"] == 0 for t in found["tests"])
    assert found["tests"][3]["visibility"] == "after_published"  # regression is hidden


def test_two_notebooks_are_a_zero_naming_both(layout):
    for name in ("a.ipynb", "b.ipynb"):
        (layout / "submission" / name).write_text("{}")
    assert autograder.run(layout) == 0
    found = results(layout)
    assert found["score"] == 0
    assert "2 notebooks were uploaded (a.ipynb, b.ipynb): upload exactly one" in found["output"]


def test_a_notebook_linked_to_the_archive_is_never_read(layout):
    reference = layout / "source" / "library" / "rubrics" / "ex02_gradient_descent" / "rubric.yaml"
    (layout / "submission" / "answers.ipynb").symlink_to(reference)
    assert autograder.run(layout) == 0
    found = results(layout)
    assert found["score"] == 0
    assert "answers.ipynb: is a symbolic link; links are never followed" in found["output"]
    assert "probe_timeout" in reference.read_text()  # a line of the rubric ...
    assert "probe_timeout" not in json.dumps(found)  # ... that no result shows


def test_a_changed_rubric_is_a_grader_failure_that_says_so(layout):
    rubric = layout / "source" / "library" / "rubrics" / "ex02_gradient_descent" / "rubric.yaml"
    rubric.write_text(rubric.read_text() + "\n# edited\n")
    (layout / "submission" / "a.ipynb").write_text("{}")
    assert autograder.run(layout) == 1
    found = results(layout)
    assert found["score"] == 0 and found["tests"] == []
    assert "The autograder failed, not your notebook" in found["output"]
    assert "the archive was changed after" in found["output"]


def test_a_missing_manifest_is_a_grader_failure(layout):
    (layout / "source" / "manifest.json").unlink()
    assert autograder.run(layout) == 1
    assert "cannot read the archive's manifest" in results(layout)["output"]


@pytest.mark.parametrize(
    ("metadata", "student", "note"),
    [
        (None, "submission", None),
        ('{"users": [{"name": "Ada L", "email": "ada@uni.edu", "sid": "s123"}]}', "s123", None),
        ('{"users": [{"email": "a@x.org"}, {"id": 77}]}', "a@x.org+77", None),
        ("not json", "submission", "could not be read"),
        ('{"users": "nobody"}', "submission", "names no user"),
        ("[1, 2]", "submission", "names no user"),
    ],
)
def test_the_student_comes_from_the_metadata_and_odd_metadata_is_a_note(tmp_path, metadata, student, note):
    path = tmp_path / "submission_metadata.json"
    if metadata is not None:
        path.write_text(metadata)
    who, notes = autograder.student_of(path)
    assert who == student
    assert (note is None and notes == []) or (note is not None and note in notes[0])
