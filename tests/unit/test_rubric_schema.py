"""`autograde rubric schema`: a JSON Schema (2020-12) that a real validator (jsonschema)
accepts, that every rubric of the library meets, and that refuses what the loader refuses
(the loader stays the judge of the cross-field rules a schema cannot state)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from autograde.cli.main import main
from autograde.errors import RubricError
from autograde.rubric import discover
from autograde.rubric.loader import load_rubric_file

LIBRARY = discover()
Validator = jsonschema.Draft202012Validator
EX02 = next(path for path in LIBRARY if path.parent.name.startswith("ex02"))

@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    done = CliRunner().invoke(main, ["rubric", "schema"])
    assert done.exit_code == 0, done.output
    loaded: dict[str, Any] = json.loads(done.output)
    return loaded

@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)  # a schema the dialect accepts
    return jsonschema.Draft202012Validator(schema)

def _problems(validator: jsonschema.Draft202012Validator, data: Any) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(data)]

def test_the_schema_names_its_dialect_and_writes_to_a_file(schema: dict[str, Any], tmp_path: Path) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    out = tmp_path / "rubric.schema.json"
    done = CliRunner().invoke(main, ["rubric", "schema", "--out", str(out)])
    assert done.exit_code == 0 and done.output == ""
    assert json.loads(out.read_text(encoding="utf-8")) == schema
    nested = tmp_path / "new" / "folder" / "rubric.schema.json"  # folders made as needed
    assert CliRunner().invoke(main, ["rubric", "schema", "--out", str(nested)]).exit_code == 0
    assert json.loads(nested.read_text(encoding="utf-8")) == schema
    blocked = tmp_path / "a-file" / "rubric.schema.json"  # under a file: a clear error, exit 2
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    refused = CliRunner().invoke(main, ["rubric", "schema", "--out", str(blocked)])
    assert refused.exit_code == 2 and f"--out {blocked}: cannot write it" in refused.output

@pytest.mark.parametrize("path", LIBRARY, ids=[p.parent.name for p in LIBRARY])
def test_every_library_rubric_meets_the_schema(validator: Validator, path: Path) -> None:
    assert _problems(validator, yaml.safe_load(path.read_text(encoding="utf-8"))) == []

def _ex02() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EX02.read_text(encoding="utf-8"))
    return data

def _first_check(data: dict[str, Any]) -> dict[str, Any]:
    """The first check that calls a function with arguments."""
    return next(c for t in data["tasks"] for c in t["checks"] if "args" in c)

def _edit(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(_ex02())
    change(data)
    return data

# (what, edit, the loader and the schema accept it)
EDITS = [
    ("as it is", lambda d: None, True),
    ("a duration with a unit", lambda d: d["limits"].update(cell_timeout="2m"), True),
    ("a duration in seconds", lambda d: d["limits"].update(cell_timeout=45), True),
    ("a size in GiB", lambda d: d["limits"].update(memory="3GiB"), True),
    ("a size in bytes", lambda d: d["limits"].update(memory=2**31), True),
    ("a literal argument", lambda d: _first_check(d).update(args=[3, [1.0, 2.0]]), True),
    ("a fixed argument", lambda d: _first_check(d).update(args=[{"value": [1, 2]}]), True),
    ("a typo in a key", lambda d: d["tasks"][0].update(pionts=d["tasks"][0].pop("points")), False),
    ("negative points", lambda d: d["tasks"][0].update(points=-1), False),
    ("an unknown check kind", lambda d: _first_check(d).update(kind="valu"), False),
    ("a duration in words", lambda d: d["limits"].update(cell_timeout="a minute"), False),
    ("a zero duration", lambda d: d["limits"].update(cell_timeout=0), False),
    ("a size in gigs", lambda d: d["limits"].update(memory="2 gigs"), False),
    ("an unknown draw", lambda d: _first_check(d).update(args=[{"draw": "poisson", "shape": [3]}]), False),
    ("a draw with a typo", lambda d: _first_check(d).update(args=[{"draw": "normal", "shap": [3]}]), False),
    ("a task without checks", lambda d: d["tasks"][0].update(checks=[]), False),
    ("another schema version", lambda d: d.update(schema=2), False),
    ("a bad task id", lambda d: d["tasks"][0].update(id="two words"), False),
]

@pytest.mark.parametrize(("what", "edit", "valid"), EDITS, ids=[e[0] for e in EDITS])
def test_the_schema_accepts_what_the_loader_accepts(
    validator: jsonschema.Draft202012Validator, tmp_path: Path, what: str, edit: Any, valid: bool
) -> None:
    data = _edit(edit)
    folder = tmp_path / EX02.parent.name
    shutil.copytree(EX02.parent, folder)  # the files its references name
    (folder / "rubric.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    try:
        load_rubric_file(folder / "rubric.yaml")
        loads = True
    except RubricError:
        loads = False
    assert loads is valid, what
    assert (_problems(validator, data) == []) is valid, _problems(validator, data)

def test_a_check_kind_registered_by_a_course_is_in_the_schema() -> None:
    import tests.toy_kind  # noqa: F401  (registers `kind: toy`)
    from autograde.rubric.json_schema import rubric_json_schema

    schema = rubric_json_schema()
    data = _edit(lambda d: d["tasks"][0]["checks"].append({"kind": "toy", "variable": "word"}))
    assert _problems(jsonschema.Draft202012Validator(schema), data) == []
    toy = {"kind": "toy", "variable": "word", "min_length": 0}
    data = _edit(lambda d: d["tasks"][0]["checks"].append(toy))
    assert _problems(jsonschema.Draft202012Validator(schema), data) != []
