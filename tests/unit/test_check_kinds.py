"""The check-kind registry: a kind registered in one module (tests/toy_kind.py) joins the rubric
schema; unknown kinds and bad fields still fail with the file and the field; every built-in
kind names its checks itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml

import autograde
from autograde.checks import REGISTRY, CheckKind, kind_for, register
from autograde.checks.base import registered_models
from autograde.errors import RubricError
from autograde.rubric import load_rubric_file
from autograde.rubric.schema import CheckBase, Task
from tests.toy_kind import Toy, ToyCheck


def rubric_with(check: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": 1,
        "assignment": "demo",
        "title": "Demo",
        "tasks": [{"id": "first", "points": 1, "checks": [{"kind": "exists", "target": "f"}, check]}],
    }


def load(tmp_path: Path, check: dict[str, Any]) -> Any:
    path = tmp_path / "demo" / "rubric.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(rubric_with(check)))
    return load_rubric_file(path)


def error_of(tmp_path: Path, check: dict[str, Any]) -> str:
    with pytest.raises(RubricError) as info:
        load(tmp_path, check)
    message = str(info.value)
    assert str(tmp_path / "demo" / "rubric.yaml") in message, "the message must name the rubric file"
    return message


# ---------------------------------------------------------------- a kind from outside


def test_a_registered_kind_validates_in_a_rubric(tmp_path: Path) -> None:
    check = load(tmp_path, {"kind": "toy", "variable": "word", "min_length": 3}).rubric.tasks[0].checks[1]
    assert isinstance(check, ToyCheck)
    assert (check.variable, check.min_length, check.weight) == ("word", 3, 1.0)
    assert kind_for("toy") is REGISTRY["toy"] and isinstance(kind_for("toy"), Toy)
    assert ToyCheck in registered_models()


def test_a_registered_kind_s_bad_fields_are_named(tmp_path: Path) -> None:
    message = error_of(tmp_path, {"kind": "toy", "variable": "word", "min_length": 0})
    assert "tasks.0.checks.1.min_length: Input should be greater than or equal to 1 (got 0)" in message
    message = error_of(tmp_path, {"kind": "toy", "variable": "word", "min_lenght": 2})
    assert "tasks.0.checks.1.min_lenght: Extra inputs are not permitted" in message
    message = error_of(tmp_path, {"kind": "toy"})
    assert "tasks.0.checks.1.variable: Field required" in message
    assert "(1 problem(s))" in message


def test_an_unknown_kind_names_the_file_the_field_and_the_known_kinds(tmp_path: Path) -> None:
    message = error_of(tmp_path, {"kind": "palindrome", "variable": "word"})
    assert "tasks.0.checks.1: Input tag 'palindrome' found using 'kind' does not match" in message
    for kind in ("'toy'", "'exists'", "'value'", "'manual'", "'accuracy'"):
        assert kind in message
    assert "(1 problem(s))" in message


def test_a_check_without_a_kind_names_the_field(tmp_path: Path) -> None:
    message = error_of(tmp_path, {"variable": "word"})
    assert "tasks.0.checks.1: Unable to extract tag using discriminator 'kind'" in message


def test_a_rule_on_the_whole_check_names_the_check_not_its_kind(tmp_path: Path) -> None:
    message = error_of(tmp_path, {"kind": "shape", "call": "f", "variable": "g", "expect": [2]})
    assert "tasks.0.checks.1: give exactly one of `call` or `variable`" in message
    assert "checks.1.shape" not in message  # `shape` is the kind, not a field of the check


def test_a_task_built_in_code_takes_registered_models() -> None:
    task = Task.model_validate({"id": "t", "points": 1, "checks": [{"kind": "toy", "variable": "w"}]})
    assert isinstance(task.checks[0], ToyCheck)
    assert task.model_dump()["checks"][0] == {
        "kind": "toy", "variable": "w", "min_length": 1,
        "visible": None, "weight": 1.0, "tag": None, "name": None,
    }


# ---------------------------------------------------------------- registering


def test_a_kind_needs_a_literal_kind_name() -> None:
    class Loose(CheckBase):
        pass

    class LooseKind(CheckKind):
        model = Loose

    with pytest.raises(TypeError, match="Literal of one string"):
        register(LooseKind)
    assert "Loose" not in {type(kind).__name__ for kind in REGISTRY.values()}


def test_a_kind_name_cannot_be_taken_twice() -> None:
    class AnotherValue(CheckBase):
        kind: Literal["value"]

    class AnotherValueKind(CheckKind):
        model = AnotherValue

    with pytest.raises(TypeError, match="'value' is already registered"):
        register(AnotherValueKind)
    assert type(kind_for("value")).__name__ == "Value"


# ---------------------------------------------------------------- one name per check


@pytest.mark.parametrize(("fields", "name"), [
    ({"kind": "exists", "target": "loss"}, "exists loss"),
    ({"kind": "shape", "call": "forward", "args": [1], "expect": [2]}, "shape forward"),
    ({"kind": "value", "variable": "answer", "expect": 3}, "value answer"),
    ({"kind": "gradient", "of": "loss", "grad": "loss_grad", "at": {"draw": "normal", "shape": [2]}},
     "gradient loss_grad"),
    ({"kind": "backward", "function": "Softmax", "reference": "reference.ex08:softmax", "inputs": {"x": 1}},
     "backward Softmax"),
    ({"kind": "accuracy", "model": "net", "data": "test", "min": 0.5}, "accuracy net"),
    ({"kind": "confidence", "model": "net", "known": "k", "unknown": "u"}, "confidence net"),
    ({"kind": "error", "model": "decoder", "data": "test", "max": 1}, "error decoder"),
    ({"kind": "module", "call": "make_net", "params": 3}, "module make_net"),
    ({"kind": "plot", "variable": "fig"}, "plot fig"),
    ({"kind": "property", "call": "noise", "judge": "reference.ex02:loss"}, "property noise"),
    ({"kind": "choice", "variable": "q1", "correct": ["a"]}, "choice q1"),
    ({"kind": "manual", "cell_tag": "theory-1"}, "manual theory-1"),
    ({"kind": "toy", "variable": "word"}, "toy word"),
    ({"kind": "value", "variable": "answer", "expect": 3, "name": "the answer"}, "the answer"),
])
def test_each_kind_names_its_checks(fields: dict[str, Any], name: str) -> None:
    gate = {"kind": "manual", "cell_tag": "t"}  # a task needs a check with weight; `exists` has none
    check = Task.model_validate({"id": "t", "points": 1, "checks": [fields, gate]}).checks[0]
    assert check.display_name() == name
    assert check.display_name() == name


def test_a_kind_that_says_nothing_is_named_by_its_kind() -> None:
    class Bare(CheckBase):
        kind: Literal["bare"]

    assert Bare.model_validate({"kind": "bare"}).display_name() == "bare"
    assert Bare.model_validate({"kind": "bare", "name": "a bare check"}).display_name() == "a bare check"


# ---------------------------------------------------------------- a module added to the package

NEW_MODULE = '''
from typing import Literal

from autograde.checks.base import CheckKind, register
from autograde.rubric.schema import CheckBase


class EchoCheck(CheckBase):
    kind: Literal["echo"]
    said: str


@register
class Echo(CheckKind):
    model = EchoCheck
'''

VALIDATE = '''
from autograde.rubric.schema import Task
check = Task.model_validate({"id": "t", "points": 1, "checks": [{"kind": "echo", "said": "hi"}]}).checks[0]
print(type(check).__name__, check.display_name())
'''


def test_a_module_added_to_the_checks_package_needs_no_other_edit(tmp_path: Path) -> None:
    """A copy of the package with one new file in autograde/checks/ validates `kind: echo`."""
    package = Path(autograde.__file__).parent
    shutil.copytree(package, tmp_path / "autograde", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "autograde" / "checks" / "echo.py").write_text(NEW_MODULE)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", VALIDATE], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["EchoCheck", "echo"]
