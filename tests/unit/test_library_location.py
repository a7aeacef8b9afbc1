"""Where the course library is found: --library, $AUTOGRADE_LIBRARY, $AUTOGRADE_RUBRICS, the
checkout, else an error that says what to do; `reference` importable from that library only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograde import library
from autograde.cli.main import main
from autograde.errors import RubricError

ROOT = Path(__file__).resolve().parents[2]


def make_library(root: Path, *assignments: str) -> Path:
    for name in assignments:
        folder = root / "rubrics" / name
        folder.mkdir(parents=True)
        (folder / "rubric.yaml").write_text(
            f"schema: 1\nassignment: {name}\ntitle: {name.upper()}\ntemplate: t.ipynb\nsolution: s.ipynb\n"
            "tasks:\n  - id: only\n    points: 1\n    checks:\n"
            "      - {kind: shape, call: f, args: [1], expect: []}\n"
        )
    (root / "reference").mkdir(exist_ok=True)
    return root


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(library.LIBRARY_ENV, raising=False)
    monkeypatch.delenv(library.RUBRICS_ENV, raising=False)


def test_the_checkout_is_the_default():
    assert library.default_library() == ROOT / "rubrics"


def test_autograde_library_comes_before_autograde_rubrics(tmp_path, monkeypatch):
    make_library(tmp_path / "lib", "a")
    monkeypatch.setenv(library.RUBRICS_ENV, str(ROOT / "rubrics"))
    monkeypatch.setenv(library.LIBRARY_ENV, str(tmp_path / "lib"))
    assert library.default_library() == tmp_path / "lib" / "rubrics"
    monkeypatch.delenv(library.LIBRARY_ENV)
    assert library.default_library() == ROOT / "rubrics"


def test_an_installed_package_without_library_says_what_to_do(monkeypatch):
    monkeypatch.setattr(library, "checkout_rubrics", lambda: None)
    with pytest.raises(RubricError, match=r"no course library: pass --library DIR or set AUTOGRADE_LIBRARY"):
        library.default_library()


def test_a_folder_without_rubrics_is_not_a_library(tmp_path, monkeypatch):
    monkeypatch.setenv(library.LIBRARY_ENV, str(tmp_path))
    with pytest.raises(RubricError, match=r"\$AUTOGRADE_LIBRARY=.*: not a course library"):
        library.default_library()


def test_the_library_option_of_list_and_validate(tmp_path, monkeypatch):
    make_library(tmp_path / "lib", "alpha", "beta")
    monkeypatch.setenv(library.LIBRARY_ENV, str(ROOT))  # the option wins over the environment
    listed = CliRunner().invoke(main, ["list", "--markdown", "--library", str(tmp_path / "lib")])
    assert listed.exit_code == 0, listed.output
    assert "alpha" in listed.output and "beta" in listed.output and "ex02" not in listed.output
    validated = CliRunner().invoke(main, ["rubric", "validate", "--library", str(tmp_path / "lib")])
    assert validated.exit_code == 2  # the notebooks its rubrics name are missing
    assert "alpha/rubric.yaml" in validated.output
    assert "notebooks named in the rubric are missing" in validated.output


def test_library_and_rubrics_options(tmp_path):
    make_library(tmp_path / "lib", "alpha")
    folder = CliRunner().invoke(main, ["list", "--markdown", "--rubrics", str(tmp_path / "lib" / "rubrics")])
    assert folder.exit_code == 0 and "alpha" in folder.output
    both = CliRunner().invoke(
        main, ["list", "--library", str(tmp_path / "lib"), "--rubrics", str(tmp_path / "lib" / "rubrics")]
    )
    assert both.exit_code == 2 and "not both" in both.output
    wrong = CliRunner().invoke(main, ["list", "--library", str(tmp_path)])
    assert wrong.exit_code == 2
    assert f"--library {tmp_path}: not a course library" in wrong.output


def test_reference_comes_from_the_library_it_was_loaded_from(tmp_path):
    """A fresh interpreter outside the checkout: `reference` is not importable until an
    assignment of a library is loaded, then it is that library's."""
    lib = make_library(tmp_path / "lib", "alpha")
    (lib / "reference" / "__init__.py").write_text("WHERE = 'copied library'\n")
    probe = (
        "import importlib.util, sys\n"
        "from pathlib import Path\n"
        "assert importlib.util.find_spec('reference') is None, 'reference is installed'\n"
        "from autograde.rubric import load_assignment\n"
        f"load_assignment('alpha', Path({str(lib / 'rubrics')!r}))\n"
        "import reference\n"
        "print(reference.WHERE)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "copied library"


def test_host_secrets_without_a_default_library(tmp_path, monkeypatch):
    """An installed autograde given --library only: the run hides that library and its reference."""
    from autograde.pipeline.grade import host_secrets
    from autograde.rubric import load_assignment

    lib = make_library(tmp_path / "lib", "alpha")
    monkeypatch.setattr(library, "checkout_rubrics", lambda: None)
    hidden = host_secrets(load_assignment("alpha", lib / "rubrics"))
    assert {lib / "rubrics" / "alpha", lib / "rubrics", lib / "reference"} <= set(hidden)
    assert ROOT / "rubrics" not in hidden


def test_a_rubric_folder_alone_uses_the_default_librarys_reference(tmp_path):
    """`--rubrics DIR` with no reference/ beside DIR (a copy of some rubrics) is judged with
    the default library's reference, as when `reference` was installed."""
    lib = make_library(tmp_path / "lib", "alpha")
    (lib / "reference").rmdir()
    probe = (
        "from pathlib import Path\n"
        "from autograde.rubric import load_assignment\n"
        f"load_assignment('alpha', Path({str(lib / 'rubrics')!r}))\n"
        "import reference\n"
        "print(Path(reference.__file__).parent)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(ROOT / "reference")
