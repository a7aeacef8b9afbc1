"""The two CSV files of a deadline: extensions (`--extensions`) and submission times
(`--submission-times`). Each has a student column (`student`, `id` or `student_id`: the id,
or a name or email on the roster) and one value column:

    extensions.csv        `extension` (or `deadline`, `extra`): a new deadline (ISO 8601, as
                          --deadline) or extra time after the class deadline (`2d`, `36h`)
    submission times.csv  `submitted_at` (or `submitted`, `time`): ISO 8601, as --deadline

A row that cannot be read is an error naming the file and line; so is a row naming a student
who is neither among the uploads nor on the roster (`match_students`): a mistyped id would
otherwise leave the student it meant with a penalty nobody asked for.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from autograde.errors import AutogradeError

STUDENT_COLUMNS = ("student", "id", "student_id")
EXTENSION_COLUMNS = ("extension", "deadline", "extra")
TIME_COLUMNS = ("submitted_at", "submitted", "time")


@dataclass(frozen=True)
class Row:
    file: str  # the file's name, for messages
    line: int
    student: str  # as written
    value: str

    @property
    def where(self) -> str:
        return f"{self.file}, line {self.line}"

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "student": self.student, "value": self.value}


def read_rows(path: Path, value_columns: tuple[str, ...], check: Callable[[Row], None]) -> list[Row]:
    """Every row of `path`; `check(row)` raises ValueError for a value it cannot read."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            records = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AutogradeError(f"{path}: cannot be read as CSV ({exc})") from None
    if not records:
        raise AutogradeError(f"{path}: empty; expected a header row (student,{value_columns[0]})")
    header = [cell.strip().lower() for cell in records[0]]
    student = next((header.index(c) for c in STUDENT_COLUMNS if c in header), None)
    value = next((header.index(c) for c in value_columns if c in header), None)
    if student is None or value is None:
        raise AutogradeError(
            f"{path}, line 1: needs a column {'/'.join(STUDENT_COLUMNS)} and a column "
            f"{'/'.join(value_columns)}; has {', '.join(header) or 'none'}"
        )
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for line, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        cells = [cell.strip() for cell in record] + [""] * len(header)
        row = Row(str(path), line, cells[student], cells[value])
        if not row.student or not row.value:
            raise AutogradeError(f"{path}, line {line}: needs a student and a {header[value]}")
        first = seen.get(row.student.casefold())
        if first is not None:
            raise AutogradeError(f"{path}, line {line}: {row.student!r} appears twice (also line {first})")
        seen[row.student.casefold()] = line
        try:
            check(row)
        except ValueError as exc:
            raise AutogradeError(f"{path}, line {line}: {exc}") from None
        rows.append(row)
    return rows


def match_students(
    rows: Iterable[Row], known: set[str], resolve: Callable[[str], str | None], what: str
) -> dict[str, Row]:
    """student id -> row; AutogradeError listing every row whose student is unknown."""
    found: dict[str, Row] = {}
    unknown: list[str] = []
    for row in rows:
        student = resolve(row.student)
        if student is None:
            close = difflib.get_close_matches(row.student, sorted(known), n=3)
            hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
            unknown.append(f"  - {row.where}: {row.student!r}{hint}")
            continue
        found[student] = row
    if unknown:
        raise AutogradeError(
            f"{what}: {len(unknown)} row(s) name a student who is neither among the uploads nor on the "
            "roster; fix the id, add the student to --roster, or drop the row:\n" + "\n".join(unknown)
        )
    return found
