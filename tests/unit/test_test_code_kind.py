"""`kind: test_code`: its rubric model, the harness's `script` op (run here, in this process,
as the live self-check runs it) and its judge on scripted probe records."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from autograde.checks.base import ProbeResult, SelfCheck, kind_for
from autograde.checks.testcode import TestCodeCheck, lines_of
from autograde.errors import RubricError
from autograde.pipeline.plan import build_plan
from autograde.rubric import load_rubric_file
from autograde.selfcheck.bundle import npz_bytes
from autograde.selfcheck.live import harness

KIND = kind_for("test_code")


def model(**fields: Any) -> TestCodeCheck:
    return TestCodeCheck.model_validate({"kind": "test_code", **fields})


def rubric_file(tmp_path: Path, checks: list[dict[str, Any]]) -> Path:
    tasks = [{"id": "q", "points": 1, "checks": checks}]
    data = {"schema": 1, "assignment": "t", "title": "T", "tasks": tasks}
    (tmp_path / "t").mkdir(exist_ok=True)
    path = tmp_path / "t" / "rubric.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


# ---------------------------------------------------------------- the model


def test_code_that_does_not_compile_names_the_line(tmp_path: Path) -> None:
    path = rubric_file(tmp_path, [{"kind": "test_code", "code": "x = 1\nassert f(1) == \n"}])
    with pytest.raises(RubricError) as info:
        load_rubric_file(path)
    message = str(info.value)
    assert "tasks.0.checks.0.code" in message
    assert "does not compile: line 2: 'assert f(1) ==': invalid syntax" in message


def test_empty_code_is_refused() -> None:
    with pytest.raises(ValueError, match="the test code is empty"):
        model(code="  \n")


def test_names_in_reports() -> None:
    assert model(code="# a comment\n\nassert squares(1) == [1]\n").display_name() == (
        "test code assert squares(1) == [1]"
    )
    long = model(code="assert some_function_with_a_long_name(1, 2, 3) == [1, 2, 3]")
    # the first 37 characters, then ...
    assert long.display_name() == "test code assert some_function_with_a_long_name..."
    assert model(code="assert secret() == 1", visible="hidden").display_name() == "hidden test code"
    assert model(code="assert f()", name="q1 test 2").display_name() == "q1 test 2"


def test_it_runs_in_full_in_a_self_check_and_keeps_no_field_back() -> None:
    assert KIND.self_check(model(code="assert True")) == SelfCheck.FULL
    assert KIND.secret_fields == frozenset()


def test_lines_compared_without_trailing_space_or_surrounding_blank_lines() -> None:
    assert lines_of("\n\n[1, 4]  \r\nTrue\t\n\n") == ["[1, 4]", "True"]
    assert lines_of("a\n\nb") == ["a", "", "b"]  # a blank line inside counts


# ---------------------------------------------------------------- the harness's script op


def run_script(code: str, namespace: dict[str, Any]) -> dict[str, Any]:
    spec = {"id": "t0c0p0", "op": "script", "target": "test", "code": code}
    record, _ = harness().run_in_memory(spec, 0, namespace, io.BytesIO(npz_bytes({})))
    return record


def test_script_prints_and_shows_its_last_expression_like_a_cell() -> None:
    namespace: dict[str, Any] = {"squares": lambda n: [i * i for i in range(1, n + 1)]}
    record = run_script("print(squares(2))\nx = 5\nsquares(1)", namespace)
    assert record["status"] == "ok" and record["raised"] is None
    assert record["output"] == "[1, 4]\n[1]\n"
    assert namespace["x"] == 5  # run in the notebook's namespace
    assert run_script("print('a')\nNone", {})["output"] == "a\n"  # None shows nothing
    wrapped = run_script("list(range(30))", {})["output"]  # IPython's pretty form: one item a line
    assert wrapped.splitlines()[:2] == ["[0,", " 1,"] and len(wrapped.splitlines()) == 30


def test_script_records_the_failing_line_of_the_test() -> None:
    record = run_script("a = 1\nassert a == 2, 'a is not 2'\nprint('never')", {})
    assert record["status"] == "ok"
    assert record["raised"] == "AssertionError: a is not 2"
    assert record["exception"] == "AssertionError"
    assert (record["line"], record["source"], record["in_test"]) == (2, "assert a == 2, 'a is not 2'", True)
    assert record["output"] == ""


def test_script_points_into_the_notebooks_code_when_that_raised() -> None:
    namespace: dict[str, Any] = {}
    exec(compile("def f(x):\n    return 1 / x\n", "/tmp/cell7.py", "exec"), namespace)
    record = run_script("f(0)", namespace)
    assert record["exception"] == "ZeroDivisionError"
    assert record["in_test"] is False and record["line"] == 2


def test_script_output_is_cut_at_ten_thousand_characters() -> None:
    record = run_script("for _ in range(2000):\n    print('0123456789')", {})
    assert record["output"].startswith("0123456789\n")
    assert record["output"].endswith("... (cut at 10000 characters)")
    assert len(record["output"]) < 10_100


# ---------------------------------------------------------------- the judge


def probe(record: dict[str, Any], status: str = "ok", message: str = "") -> Any:
    result = ProbeResult(status, message, {"id": "p", "status": status, **record}, {})
    return lambda probe_id: result


def passed(output: str = "") -> dict[str, Any]:
    return {"output": output, "raised": None, "exception": None, "line": None, "source": None,
            "in_test": False}


def raised(exception: str, text: str, line: int, source: str, in_test: bool = True) -> dict[str, Any]:
    return {**passed(), "raised": text, "exception": exception, "line": line, "source": source,
            "in_test": in_test}


def judge(check: TestCodeCheck, record: Any, hidden: bool = False) -> Any:
    return KIND.judge(check, {"probe": "p", "hidden": hidden}, record)


def test_a_test_that_raises_nothing_passes_with_its_success_message() -> None:
    assert judge(model(code="assert True"), probe(passed())).status == "pass"
    verdict = judge(model(code="assert True", success_message="well done"), probe(passed()))
    assert (verdict.status, verdict.message, verdict.fraction) == ("pass", "well done", 1.0)


def test_an_assertion_fails_and_another_exception_is_an_error() -> None:
    check = model(code="assert f(1) == 2", failure_message="f(1) should be 2.")
    verdict = judge(check, probe(raised("AssertionError", "AssertionError", 1, "assert f(1) == 2")))
    assert verdict.status == "fail"
    assert verdict.message == "f(1) should be 2. (AssertionError (test line 1: assert f(1) == 2))"
    undefined = raised("NameError", "NameError: name 'f' is not defined", 1, "f(1)")
    error = judge(model(code="f(1)"), probe(undefined))
    assert error.status == "error" and error.fraction == 0.0
    assert error.message == "NameError: name 'f' is not defined (test line 1: f(1))"


def test_a_hidden_test_never_quotes_its_source() -> None:
    check = model(code="x = 1\nassert secret_answer() == 42", visible="hidden")
    record = raised("AssertionError", "AssertionError", 2, "assert secret_answer() == 42")
    verdict = judge(check, probe(record), hidden=True)
    assert verdict.message == "AssertionError (test line 2)"
    # the notebook's own line may be shown: it is the student's code
    inside = raised("ValueError", "ValueError: bad", 3, "raise ValueError('bad')", in_test=False)
    assert judge(check, probe(inside), hidden=True).message == (
        "ValueError: bad (line 3 of the notebook's code: raise ValueError('bad'))"
    )
    # a probe error the harness described itself (SystemExit, say) loses the source too
    failed = probe({}, "error", "SystemExit: 1 (line 2: assert secret_answer() == 42")
    verdict = judge(check, failed, hidden=True)
    assert verdict.status == "error" and verdict.message == "the test: SystemExit: 1 (line 2)"


def test_expected_output_compared_line_by_line() -> None:
    check = model(code="print(f())", expect_output="[1, 4]\nTrue\n")
    assert judge(check, probe(passed("\n[1, 4]   \nTrue\n\n"))).status == "pass"
    verdict = judge(check, probe(passed("[1, 4]\nFalse\n")))
    assert verdict.status == "fail"
    assert verdict.message == "expected output line 2 'True', got 'False'"
    short = judge(check, probe(passed("[1, 4]\n")))
    assert short.message == "expected output line 2 'True', got '(nothing)'"
    hidden = judge(model(code="print(f())", expect_output="42", visible="hidden"), probe(passed("41")), True)
    assert hidden.message == "its output differs from the expected output at line 1: got '41'"
    assert "42" not in hidden.message


def test_a_timed_out_test_says_so() -> None:
    verdict = judge(model(code="while True: pass"), probe({}, "timeout", "did not finish within 10s"))
    assert verdict.status == "timeout" and "did not finish within 10s" in verdict.message


# ---------------------------------------------------------------- planning


def test_test_code_probes_run_after_every_other_probe(tmp_path: Path) -> None:
    path = rubric_file(
        tmp_path,
        [
            {"kind": "test_code", "code": "f = None"},  # rebinds f: must not spoil the value check
            {"kind": "value", "variable": "f", "expect": 2},
            {"kind": "test_code", "code": "assert True", "visible": "hidden"},
        ],
    )
    plan = build_plan(load_rubric_file(path), seed=1, public_only=False, probe_timeout=5)
    assert [p["op"] for p in plan.probes][-2:] == ["script", "script"]
    assert plan.probes[0]["op"] == "lookup"
    states = [item.state for item in plan.checks if item.check.kind == "test_code"]
    assert [s["hidden"] for s in states] == [False, True]
    assert plan.probes[-1]["code"] == "assert True"
    assert plan.probes[-1]["target"] == "hidden test code"  # a crash message never quotes it
    assert plan.probes[-2]["target"] == "test code f = None"
    assert np.isscalar(plan.probes[-1]["timeout"])
