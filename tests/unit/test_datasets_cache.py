"""The data_dir cache: made once per generator, options and generator code, read-only files;
an edit anywhere in the generator's package (generators import each other) makes a new one."""

from __future__ import annotations

import importlib
import sys

import pytest

from autograde.checks.base import _REFERENCE_CACHE
from autograde.errors import RubricError
from autograde.rubric.datasets import prepare_data_dir
from autograde.rubric.schema import DataSource

GENERATOR = '''
from pathlib import Path
from {pkg}.shared import GREETING

CALLS = []

def write(folder, name="a.txt"):
    CALLS.append(folder)
    (Path(folder) / name).write_text(GREETING)
'''


@pytest.fixture
def package(tmp_path, monkeypatch):
    pkg = f"gen_pkg_{tmp_path.name.replace('-', '_')}"
    root = tmp_path / "src" / pkg
    root.mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "shared.py").write_text("GREETING = 'hello'\n")
    (root / "data.py").write_text(GENERATOR.format(pkg=pkg))
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    monkeypatch.setenv("AUTOGRADE_CACHE", str(tmp_path / "cache"))
    yield pkg, root
    for name in [m for m in sys.modules if m.startswith(pkg)]:
        del sys.modules[name]


def test_made_once_then_reused(package):
    pkg, _ = package
    source = DataSource(generator=f"{pkg}.data:write", options={"name": "x.txt"})
    first = prepare_data_dir("demo", source)
    assert (first / "x.txt").read_text() == "hello"
    assert (first / "x.txt").stat().st_mode & 0o777 == 0o644
    again = prepare_data_dir("demo", source)
    assert again == first
    assert len(importlib.import_module(f"{pkg}.data").CALLS) == 1
    other = prepare_data_dir("demo", DataSource(generator=f"{pkg}.data:write", options={"name": "y.txt"}))
    assert other != first and (other / "y.txt").is_file()


def test_an_edited_module_of_the_package_makes_a_new_folder(package):
    pkg, root = package
    source = DataSource(generator=f"{pkg}.data:write")
    first = prepare_data_dir("demo", source)
    (root / "shared.py").write_text("GREETING = 'hello again'\n")
    # as a new grader process would see it: nothing of the old code imported
    for name in [m for m in sys.modules if m.startswith(pkg)]:
        del sys.modules[name]
    _REFERENCE_CACHE.clear()
    second = prepare_data_dir("demo", source)
    assert second != first
    assert (second / "a.txt").read_text() == "hello again"
    assert (first / "a.txt").read_text() == "hello"


def test_a_missing_generator_module_is_a_rubric_error(package):
    with pytest.raises(RubricError, match="cannot be found"):
        prepare_data_dir("demo", DataSource(generator="no_such_pkg_here.data:write"))
