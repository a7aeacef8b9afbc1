"""otter's point rules (`TestFile.resolve_test_file_points` and
`AssignmentTestsManager.determine_question_point_value`), as otter applies them:

- `points: [a, b, ...]` gives each test case its value (one per case);
- `points: {each: x}` makes the question worth x per case;
- case-level points (a TEST CONFIG `points`) are used as given; the cases without points share
  what the question's total leaves, equally; without a question total the question is worth
  1 split equally when no case has points, else the cases without points get 0;
- a non-manual question without tests is worth its `points`, else 1; a manual question
  without `points` counts 0 (otter's summary).
"""

from __future__ import annotations

from collections.abc import Sequence

from autograde.authoring.otter.config import OtterError

Points = float | list[float] | dict[str, float] | None
_TOL = 1e-9


def total_of(points: Points, cases: int) -> float | list[float] | None:
    """The question's `points` with `{each: x}` resolved into a total."""
    if isinstance(points, dict):
        return float(points.get("each", 1)) * cases
    return points


def case_points(points: Points, given: Sequence[float | None], where: str) -> list[float]:
    """Each test case's points, from the question's `points` and the cases' own (None: not given)."""
    if not given:
        return []
    total = total_of(points, len(given))
    if isinstance(total, list):
        if len(total) != len(given):
            raise OtterError(
                f"{where}: `points` lists {len(total)} values but the question has {len(given)} test cases"
            )
        return [float(value) for value in total]
    specified = sum(value for value in given if value is not None)
    unspecified = sum(1 for value in given if value is None)
    if total is None:
        share = 0.0 if specified else 1.0 / len(given)
    else:
        if specified > total + _TOL:
            raise OtterError(
                f"{where}: the test cases' points ({specified:g}) exceed the question's points ({total:g})"
            )
        if unspecified:
            share = (total - specified) / unspecified
        elif abs(specified - total) > _TOL:
            raise OtterError(
                f"{where}: the test cases' points ({specified:g}) do not add up to the question's "
                f"points ({total:g})"
            )
        else:
            share = 0.0
    return [float(value) if value is not None else share for value in given]


def rounded(value: float) -> float:
    """A point total as otter reports it: rounded to 5 decimals (int when whole)."""
    out = round(value, 5)
    return float(int(out)) if out % 1 == 0 else out


def question_points(points: Points, given: Sequence[float | None], manual: bool, where: str) -> float:
    """The question's value: the sum of its cases' points, or the rule for a question without tests."""
    if not given:
        if isinstance(points, list):
            raise OtterError(f"{where}: `points` is a list but the question has no test cases")
        if isinstance(points, dict):
            return 0.0
        if points is None:
            return 0.0 if manual else 1.0
        return float(points)
    return rounded(sum(case_points(points, given, where)))
