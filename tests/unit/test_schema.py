"""Rubric schema and loader: the library rubrics load; bad rubrics fail with messages that
name the file, the field and what was expected."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from autograde.checks import (
    AccuracyCheck,
    BackwardCheck,
    ChoiceCheck,
    ExistsCheck,
    GradientCheck,
    ManualCheck,
    ValueCheck,
)
from autograde.errors import AssignmentNotFound, RubricError
from autograde.rubric import load_assignment, load_rubric_file
from autograde.rubric.schema import Limits, parse_bytes, parse_seconds

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "rubrics"


@pytest.fixture(autouse=True)
def _no_library_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOGRADE_RUBRICS", raising=False)


def minimal() -> dict[str, Any]:
    """A small valid rubric: one task, an exists gate and a value check."""
    return {
        "schema": 1,
        "assignment": "demo",
        "title": "Demo",
        "tasks": [
            {
                "id": "first",
                "points": 2,
                "checks": [
                    {"kind": "exists", "target": "f"},
                    {"kind": "value", "call": "f", "reference": "reference.ex02:loss",
                     "args": [{"draw": "uniform", "shape": [2]}]},
                ],
            }
        ],
    }


def write(tmp_path: Path, data: Any = None, text: str | None = None) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir(exist_ok=True)
    path = folder / "rubric.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(data), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(RubricError) as info:
        load_rubric_file(path)
    message = str(info.value)
    assert str(path) in message, "the message must name the rubric file"
    return message


# ---------------------------------------------------------------- library rubrics


def test_ex02_library_rubric_loads() -> None:
    assignment = load_assignment("ex02_gradient_descent")
    rubric = assignment.rubric
    assert assignment.id == "ex02_gradient_descent"
    assert assignment.folder == LIBRARY / "ex02_gradient_descent"
    assert [t.id for t in rubric.tasks] == ["loss", "gradient", "descent", "regression"]
    assert rubric.max_points == 2 + 3 + 2 + 3
    # limits written as durations and sizes in the YAML
    assert rubric.limits.cell_timeout == 60.0
    assert rubric.limits.total_timeout == 300.0
    assert rubric.limits.memory == 2 * 1024**3
    # the gate check is worth nothing by default, the value check carries weight 3
    loss_checks = rubric.tasks[0].checks
    assert isinstance(loss_checks[0], ExistsCheck) and loss_checks[0].weight == 0
    assert isinstance(loss_checks[2], ValueCheck) and loss_checks[2].weight == 3
    assert isinstance(rubric.tasks[1].checks[1], GradientCheck)
    assert {m.notebook for m in rubric.mutants} == {
        "mutants/loss_cos.ipynb",
        "mutants/gradient_sign.ipynb",
        "mutants/descent_in_place.ipynb",
        "mutants/fit_line_no_intercept.ipynb",
    }
    assert len(assignment.digest) == 16
    int(assignment.digest, 16)


def test_ex08_library_rubric_loads() -> None:
    assignment = load_assignment("ex08_open_set")
    rubric = assignment.rubric
    assert [t.id for t in rubric.tasks] == [
        "filter", "loss_forward", "loss_backward", "training", "theory", "quiz"
    ]
    assert rubric.max_points == 13
    assert set(rubric.hidden_data) == {"known_test", "unknown_test"}
    assert rubric.limits.memory == 4 * 1024**3
    assert rubric.limits.cell_timeout == 180.0
    backward = rubric.tasks[2].checks[0]
    assert isinstance(backward, BackwardCheck)
    assert backward.grad_none == ["targets"]
    accuracy = rubric.tasks[3].checks[1]
    assert isinstance(accuracy, AccuracyCheck) and accuracy.data == "known_test"
    assert rubric.tasks[3].visible == "hidden"
    manual = rubric.tasks[4].checks[0]
    assert isinstance(manual, ManualCheck) and manual.cell_tag == "theory-1"
    choice = rubric.tasks[5].checks[0]
    assert isinstance(choice, ChoiceCheck) and set(choice.correct) <= set(choice.options or [])


def test_load_assignment_by_path(tmp_path: Path) -> None:
    path = write(tmp_path, minimal())
    assignment = load_assignment(str(path))
    assert assignment.id == "demo"
    assert assignment.folder == path.parent
    assert assignment.path("template.ipynb") == path.parent / "template.ipynb"


def test_load_assignment_by_assignment_field_in_other_folder(tmp_path: Path) -> None:
    data = minimal()
    data["assignment"] = "week3"
    folder = tmp_path / "lib" / "some_folder"
    folder.mkdir(parents=True)
    (folder / "rubric.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    assert load_assignment("week3", library=tmp_path / "lib").folder == folder


def test_unknown_assignment_lists_known_ids() -> None:
    with pytest.raises(AssignmentNotFound) as info:
        load_assignment("ex99_nothing")
    message = str(info.value)
    assert "ex99_nothing" in message
    assert "ex02_gradient_descent" in message
    assert "ex08_open_set" in message


def test_unknown_assignment_in_empty_library(tmp_path: Path) -> None:
    with pytest.raises(AssignmentNotFound, match="known: none"):
        load_assignment("x", library=tmp_path)


def test_digest_changes_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, minimal())
    first = load_rubric_file(path).digest
    data = minimal()
    data["title"] = "Other"
    write(tmp_path, data)
    assert load_rubric_file(path).digest != first


# ---------------------------------------------------------------- bad rubrics


def test_minimal_rubric_is_valid(tmp_path: Path) -> None:
    assert load_rubric_file(write(tmp_path, minimal())).rubric.max_points == 2


def test_unknown_top_level_key(tmp_path: Path) -> None:
    data = minimal()
    data["pionts"] = 3
    message = error_of(write(tmp_path, data))
    assert "pionts" in message
    assert "Extra inputs are not permitted" in message


def test_unknown_check_kind(tmp_path: Path) -> None:
    data = minimal()
    data["tasks"][0]["checks"][1] = {"kind": "frobnicate", "target": "f"}
    message = error_of(write(tmp_path, data))
    assert "tasks.0.checks.1" in message
    assert "frobnicate" in message
    # what was expected: the known kinds
    for kind in ("exists", "value", "gradient", "accuracy"):
        assert kind in message


def test_negative_rtol(tmp_path: Path) -> None:
    data = minimal()
    data["tasks"][0]["checks"][1]["rtol"] = -0.5
    message = error_of(write(tmp_path, data))
    assert "tasks.0.checks.1." in message
    assert message.rstrip().endswith("(got -0.5)")
    assert "rtol" in message
    assert "greater than or equal to 0" in message


def test_negative_rtol_dotted_path_is_the_yaml_path(tmp_path: Path) -> None:
    data = minimal()
    data["tasks"][0]["checks"][1]["rtol"] = -0.5
    message = error_of(write(tmp_path, data))
    assert "tasks.0.checks.1.rtol:" in message


def test_bad_probe_argument_names_one_clean_path(tmp_path: Path) -> None:
    data = minimal()
    data["tasks"][0]["checks"][1]["args"] = [{"draw": "uniform", "shape": [-2]}]
    message = error_of(write(tmp_path, data))
    assert "tasks.0.checks.1.args.0.shape.0" in message
    assert "tagged-union" not in message
    assert "(1 problem(s))" in message


def test_not_yaml(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, text="tasks: [1, 2\n  foo: : :\n"))
    assert "not valid YAML" in message


def test_yaml_list_is_not_a_rubric(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, text="- schema\n- tasks\n"))
    assert "mapping" in message
    assert "schema" in message and "tasks" in message


def test_empty_file_is_not_a_rubric(tmp_path: Path) -> None:
    assert "mapping" in error_of(write(tmp_path, text=""))


def test_unsupported_schema_version(tmp_path: Path) -> None:
    data = minimal()
    data["schema"] = 2
    message = error_of(write(tmp_path, data))
    assert "schema" in message
    assert "2" in message
    assert "schema 1" in message


def test_missing_schema_version(tmp_path: Path) -> None:
    data = minimal()
    del data["schema"]
    message = error_of(write(tmp_path, data))
    assert "schema: Field required" in message


def test_duplicate_task_ids(tmp_path: Path) -> None:
    data = minimal()
    data["tasks"].append(copy.deepcopy(data["tasks"][0]))
    message = error_of(write(tmp_path, data))
    assert "unique" in message
    assert "'first'" in message


def test_mutant_naming_unknown_task(tmp_path: Path) -> None:
    data = minimal()
    data["mutants"] = [{"notebook": "mutants/m.ipynb", "loses": {"frist": 1}}]
    message = error_of(write(tmp_path, data))
    assert "mutants/m.ipynb" in message
    assert "'frist'" in message
    assert "unknown task" in message


def test_grad_none_names_undeclared_input(tmp_path: Path) -> None:
    data = minimal()
    data["tasks"][0]["checks"][1] = {
        "kind": "backward", "function": "F", "reference": "reference.ex08:adapted_softmax_forward",
        "inputs": {"logits": {"draw": "normal", "shape": [4, 3], "torch": True, "requires_grad": True}},
        "grad_none": ["targets"],
    }
    message = error_of(write(tmp_path, data))
    assert "tasks.0.checks.1" in message
    assert "grad_none" in message
    assert "'targets'" in message
    assert "not declared" in message


def test_accuracy_data_not_in_hidden_data(tmp_path: Path) -> None:
    data = minimal()
    data["hidden_data"] = {"known": {"generator": "reference.ex08_data:hidden_samples"}}
    data["tasks"][0]["checks"][1] = {"kind": "accuracy", "model": "model", "data": "secret", "min": 0.5}
    message = error_of(write(tmp_path, data))
    assert "'secret'" in message
    assert "hidden_data" in message
    assert "'first'" in message  # the task


def test_accuracy_data_declared_is_fine(tmp_path: Path) -> None:
    data = minimal()
    data["hidden_data"] = {"secret": {"generator": "reference.ex08_data:hidden_samples"}}
    data["tasks"][0]["checks"][1] = {"kind": "accuracy", "model": "model", "data": "secret", "min": 0.5}
    load_rubric_file(write(tmp_path, data))


@pytest.mark.parametrize("case", ["hidden", "mutant", "duplicate"])
def test_cross_field_errors_name_the_field(tmp_path: Path, case: str) -> None:
    data = minimal()
    if case == "hidden":
        data["tasks"][0]["checks"][1] = {"kind": "accuracy", "model": "m", "data": "secret", "min": 0.5}
        where = "tasks.0.checks.1.data"
    elif case == "mutant":
        data["mutants"] = [{"notebook": "m.ipynb", "loses": {"frist": 1}}]
        where = "mutants.0.loses"
    else:
        data["tasks"].append(copy.deepcopy(data["tasks"][0]))
        where = "tasks.1.id"
    assert where in error_of(write(tmp_path, data))


def test_task_with_only_weightless_checks(tmp_path: Path) -> None:
    data = minimal()
    data["tasks"][0]["checks"] = [{"kind": "exists", "target": "f"}]
    message = error_of(write(tmp_path, data))
    assert "tasks.0" in message
    assert "weight > 0" in message


def test_exists_check_with_weight_counts(tmp_path: Path) -> None:
    data = minimal()
    data["tasks"][0]["checks"] = [{"kind": "exists", "target": "f", "weight": 1}]
    load_rubric_file(write(tmp_path, data))


def test_requires_grad_without_torch(tmp_path: Path) -> None:
    data = minimal()
    data["tasks"][0]["checks"][1] = {
        "kind": "gradient", "of": "f", "grad": "g",
        "at": {"draw": "uniform", "shape": [2], "requires_grad": True},
    }
    message = error_of(write(tmp_path, data))
    assert "tasks.0.checks.1" in message
    assert "requires_grad needs torch: true" in message


def test_requires_grad_with_integer_dtype(tmp_path: Path) -> None:
    data = minimal()
    data["tasks"][0]["checks"][1] = {
        "kind": "gradient", "of": "f", "grad": "g",
        "at": {"draw": "uniform", "shape": [2], "torch": True, "dtype": "int64",
               "requires_grad": True},
    }
    assert "a float dtype" in error_of(write(tmp_path, data))


def test_requires_grad_with_torch_is_fine(tmp_path: Path) -> None:
    data = minimal()
    data["tasks"][0]["checks"][1] = {
        "kind": "gradient", "of": "f", "grad": "g",
        "at": {"draw": "uniform", "shape": [2], "torch": True, "requires_grad": True},
    }
    load_rubric_file(write(tmp_path, data))


def test_value_call_without_reference(tmp_path: Path) -> None:
    data = minimal()
    del data["tasks"][0]["checks"][1]["reference"]
    assert "needs a `reference`" in error_of(write(tmp_path, data))


def test_bad_limits_are_named(tmp_path: Path) -> None:
    data = minimal()
    data["limits"] = {"cell_timeout": "soon", "memory": "2 parsecs"}
    message = error_of(write(tmp_path, data))
    assert "(2 problem(s))" in message
    assert "limits.cell_timeout" in message and "'soon'" in message
    assert "limits.memory" in message and "'2 parsecs'" in message


# ---------------------------------------------------------------- durations and sizes


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(5, 5.0), (2.5, 2.5), ("60s", 60.0), ("2m", 120.0), ("1h", 3600.0), ("1.5h", 5400.0),
     ("250ms", 0.25), (" 7 s ", 7.0), ("30", 30.0)],
)
def test_durations_parse(text: Any, seconds: float) -> None:
    assert parse_seconds(text) == pytest.approx(seconds)
    assert Limits.model_validate({"cell_timeout": text}).cell_timeout == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["soon", "5 sec", "-1s", "1d", 0, -3, "0s", True, None, [60]])
def test_bad_durations_fail(bad: Any) -> None:
    with pytest.raises(ValueError):
        parse_seconds(bad)
    with pytest.raises(ValueError):
        Limits.model_validate({"probe_timeout": bad})


@pytest.mark.parametrize(
    ("text", "size"),
    [("2GiB", 2 * 1024**3), ("512MB", 512 * 10**6), ("512MiB", 512 * 1024**2), ("1.5KiB", 1536),
     ("10kb", 10_000), (" 3 GB ", 3 * 10**9), ("100", 100), ("100B", 100), (1048576, 1048576)],
)
def test_sizes_parse(text: Any, size: int) -> None:
    assert parse_bytes(text) == size
    assert Limits.model_validate({"memory": text}).memory == size


@pytest.mark.parametrize("bad", ["2 parsecs", "2Gi", "GiB", "-1GiB", "1e9", 2.5, True, None])
def test_bad_sizes_fail(bad: Any) -> None:
    with pytest.raises(ValueError):
        parse_bytes(bad)
    with pytest.raises(ValueError):
        Limits.model_validate({"output_bytes": bad})


@pytest.mark.parametrize("bad", [-1, 0])
def test_nonpositive_sizes_fail(bad: int) -> None:
    with pytest.raises(ValueError):
        Limits.model_validate({"memory": bad})
