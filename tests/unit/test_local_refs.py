"""Reference modules kept in an assignment's folder (`reference: solution_code.py:f`): loaded
from that folder under a name of its own, again after the file changed, errors naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from autograde.checks.base import load_reference
from autograde.errors import RubricError
from autograde.rubric import load_rubric_file
from autograde.rubric.datasets import _generator_source


def _assignment(folder: Path, module: str, **top: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "solution_code.py").write_text(module)
    rubric = {
        "schema": 1,
        "assignment": folder.name,
        "title": "local",
        **top,
        "tasks": [
            {
                "id": "f",
                "points": 1,
                "checks": [{"kind": "value", "call": "f", "args": [2], "reference": "solution_code.py:f"}],
            }
        ],
    }
    path = folder / "rubric.yaml"
    path.write_text(yaml.safe_dump(rubric))
    return path


def _reference(path: Path) -> str:
    spec = load_rubric_file(path).rubric.tasks[0].checks[0].reference
    assert isinstance(spec, str)
    return spec


def test_two_assignments_with_the_same_file_name_do_not_share_a_module(tmp_path: Path):
    one = _assignment(tmp_path / "one", "def f(x):\n    return x + 1\n")
    two = _assignment(tmp_path / "two", "def f(x):\n    return x * 10\n")
    assert load_reference(_reference(one))(2) == 3
    assert load_reference(_reference(two))(2) == 20
    assert not (tmp_path / "one" / "__pycache__").exists()  # the folder keeps only its own files


def test_loading_again_after_the_file_changed_sees_the_change(tmp_path: Path):
    path = _assignment(tmp_path / "a", "def f(x):\n    return 1\n")
    assert load_reference(_reference(path))(0) == 1
    (tmp_path / "a" / "solution_code.py").write_text("def f(x):\n    return 2\n")
    assert load_reference(_reference(path))(0) == 2


def test_a_missing_file_or_name_is_an_error_naming_the_file(tmp_path: Path):
    path = _assignment(tmp_path / "a", "def g(x):\n    return 1\n")
    with pytest.raises(RubricError, match=r"solution_code.py defines no 'f'"):
        load_reference(_reference(path))
    (tmp_path / "a" / "solution_code.py").unlink()
    with pytest.raises(
        RubricError, match=r"tasks.0.checks.0.reference: 'solution_code.py:f': there is no file"
    ):
        load_rubric_file(path)


def test_a_local_generator_is_digested_and_never_shipped(tmp_path: Path):
    generator = {"generator": "solution_code.py:write", "options": {}}
    path = _assignment(
        tmp_path / "a", "def f(x):\n    return x\n\ndef write(folder):\n    pass\n", data_dir=generator
    )
    loaded = load_rubric_file(path).rubric
    assert loaded.data_dir is not None
    assert _generator_source(loaded.data_dir.generator)  # the data-set cache key reads its source
    _assignment(tmp_path / "b", "def f(x):\n    return x\n", files=["solution_code.py"])
    with pytest.raises(RubricError, match=r"files.0: 'solution_code.py' would give students"):
        load_rubric_file(tmp_path / "b" / "rubric.yaml")
