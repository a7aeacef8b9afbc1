"""`autograde import otter MASTER`: an otter-grader assignment as an assignment folder.

Reads otter assign's v1 master format (`v1`), the older v0 format (`v0`) and notebooks otter
generated for students (`student`); `config` holds otter's configs, `points` its point rules,
`cases` its test cases, `build` the rubric and notebooks made from them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat

from autograde.authoring.draft import Draft
from autograde.authoring.otter.build import build_draft
from autograde.authoring.otter.config import OtterError
from autograde.authoring.otter.student import is_student, parse_student
from autograde.authoring.otter.v0 import is_v0, parse_v0
from autograde.authoring.otter.v1 import is_v1, parse_v1

__all__ = ["OtterError", "import_otter", "read_notebook"]


def read_notebook(path: Path) -> Any:
    """The notebook at `path` (nbformat 4), or an OtterError saying why it is not one."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except (OSError, json.JSONDecodeError, nbformat.reader.NotJSONError, UnicodeDecodeError) as exc:
        raise OtterError(f"{path.name}: not a notebook ({exc})") from None
    except Exception as exc:  # nbformat's own validation and version errors
        raise OtterError(f"{path.name}: not a valid notebook ({exc})") from None
    return nb


def import_otter(source: Path, assignment: str) -> Draft:
    """The assignment folder of an otter master notebook (v1 or v0) or otter student notebook."""
    nb = read_notebook(source)
    if is_student(nb):
        parsed = parse_student(nb, source)
        kind = "an otter student notebook"
    elif is_v1(nb):
        parsed = parse_v1(nb, source)
        kind = "an otter master (v1)"
    elif is_v0(nb):
        parsed = parse_v0(nb, source)
        kind = "an otter master (v0 format)"
    else:
        raise OtterError(
            f"{source.name}: not an otter notebook (no ASSIGNMENT CONFIG or BEGIN QUESTION cell, "
            "no metadata.otter.tests)"
        )
    return build_draft(parsed, nb, source, assignment, f"{source.name}, {kind}")
