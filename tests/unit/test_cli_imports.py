"""`autograde --help` and the light commands load click (and what they print with), never the
grading stack: a structural test (which modules a command imports), not a timed one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

GRADING_STACK = ["numpy", "torch", "papermill", "nbformat", "nbclient", "docker", "jupyter_client"]

# runs one command in a fresh interpreter and prints which of the named modules it imported
PROBE = """
import json, sys
from autograde.cli.main import main
try:
    main(sys.argv[2:], prog_name="autograde")
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "loaded": [m for m in json.loads(sys.argv[1]) if m in sys.modules]}))
"""


def loaded_by(args: list[str], watch: list[str], cache: Path | None = None) -> list[str]:
    """The modules of `watch` that `autograde ARGS` imported; `cache`: the rubric summary
    cache folder it uses (None: the user's, as it is)."""
    env = dict(os.environ)
    if cache is not None:
        env["AUTOGRADE_CACHE"] = str(cache)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(watch), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env=env,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, done.stdout + done.stderr
    loaded: list[str] = result["loaded"]
    return loaded


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["grade", "--help"],
        ["check", "--help"],
        ["list", "--help"],
        ["rubric", "--help"],
        ["rubric", "test", "--help"],
        ["sandbox", "build", "--help"],
        ["manual", "merge", "--help"],
        ["bundle", "--help"],
        ["manual", "--help"],
        ["sandbox", "--help"],
        ["import", "--help"],
        ["assign", "--help"],
        ["rubric", "validate", "--help"],
        ["rubric", "mutate", "--help"],
    ],
)
def test_help_imports_click_only(args):
    assert loaded_by(args, [*GRADING_STACK, "rich", "pydantic", "yaml", "autograde.rubric"]) == []


@pytest.mark.parametrize("args", [["list"], ["list", "--markdown"], ["rubric", "validate"]])
def test_library_commands_do_not_import_the_grading_stack(args):
    # they load and validate every rubric (pydantic, yaml; the check kinds' models, whose
    # modules import numpy) and print with rich, nothing more
    assert loaded_by(args, [m for m in GRADING_STACK if m != "numpy"]) == []


def test_probe_sees_what_a_command_imports(tmp_path):
    # the probe itself works: a module the command does import is reported (an empty summary
    # cache: every rubric is loaded in full)
    assert loaded_by(["list"], ["pydantic", "yaml", "rich"], cache=tmp_path) == ["pydantic", "yaml", "rich"]


RUBRIC_STACK = ["numpy", "pydantic", "yaml", "autograde.checks", "autograde.rubric.schema"]


@pytest.mark.parametrize("args", [["list"], ["list", "--markdown"]])
def test_list_with_cached_summaries_loads_no_rubric(tmp_path, args):
    # the first run loads every rubric in full and caches its summary; the next one reads the
    # summaries alone: no YAML parser, no schema, no check kinds (and so no numpy)
    assert "pydantic" in loaded_by(args, RUBRIC_STACK, cache=tmp_path)
    assert loaded_by(args, [*RUBRIC_STACK, *GRADING_STACK], cache=tmp_path) == []


def test_rubric_schema_does_not_import_numpy():
    code = "import sys, autograde.rubric; print(sorted(m for m in ('numpy', 'torch') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
