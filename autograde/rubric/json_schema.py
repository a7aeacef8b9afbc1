"""The JSON Schema of rubric files (`autograde rubric schema`), for editors and CI.

pydantic writes it from the same models that validate a rubric (`autograde.rubric.schema`);
a task's checks are the union of the check kinds registered when it is written, told apart by
`kind`, so a course's own kinds are in it too. The loader stays the judge: the schema cannot
say what the cross-field rules say (unique task ids, declared data sets, mutants naming real
tasks), and `autograde rubric validate` does.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def rubric_json_schema() -> dict[str, Any]:
    """The schema (JSON Schema 2020-12) of a rubric file, as loaded from YAML."""
    from pydantic import Field, TypeAdapter

    from autograde.rubric.schema import Rubric, registered_check_models

    models = registered_check_models()
    check: Any = Annotated[Union.__getitem__(models), Field(discriminator="kind")]
    keys, definitions = TypeAdapter.json_schemas(
        [("rubric", "validation", TypeAdapter(Rubric)), ("check", "validation", TypeAdapter(check))],
        by_alias=True,
    )
    defs = definitions["$defs"]
    defs["Task"]["properties"]["checks"]["items"] = keys[("check", "validation")]
    rubric = defs.pop("Rubric")
    return {
        "$schema": DIALECT,
        **rubric,
        "title": "autograde rubric (schema 1)",
        "description": "One assignment's rubric: tasks, their checks, limits, data and mutants.",
        "$defs": defs,
    }
