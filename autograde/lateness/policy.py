"""The late policy (`--late-policy`), durations and the deadline (`--deadline`, `--timezone`).

Grammar of a late policy: `none`, or clauses separated by commas, each at most once:

    P%/PERIOD        deduct P percent per started PERIOD late (`10%/day`, `2%/hour`, `5%/12h`);
                     PERIOD is `day`, `hour`, `week` or a duration
    prorated         ... per PERIOD pro rata instead (1.5 days at 10%/day: 15%, not 20%)
    max=P%           never deduct more than P percent by the rate (a cut-off still gives 0)
    grace=DURATION   late by at most this is on time (`grace=15m`); later counts from the deadline
    cutoff=WHEN      submitted after WHEN: no credit. WHEN is a time (ISO 8601, as --deadline) or
                     a duration after the deadline in force (`cutoff=3d`); an extension moves
                     either by the same amount as the student's deadline
    of=score|max     the percentages are of the raw score (default) or of the maximum points
    unknown=none|max|zero
                     a submission the LMS marks late whose time is unknown (Canvas `_LATE_`):
                     no deduction and a note (default), the policy's largest deduction short of a
                     cut-off (`max=`, else 100%), or no credit

Durations: numbers with units w, d, h, m, s, e.g. `2d`, `36h`, `1d12h`, `90m`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from fractions import Fraction
from typing import Literal

from autograde.errors import AutogradeError

_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1),
          "m": timedelta(minutes=1), "s": timedelta(seconds=1)}
_PERIODS = {"day": timedelta(days=1), "hour": timedelta(hours=1), "week": timedelta(weeks=1)}
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[wdhms])+")
_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")


def parse_duration(text: str) -> timedelta:
    """`2d`, `36h`, `1d12h`, `15m`; ValueError naming the text otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    if not _DURATION.fullmatch(cleaned):
        raise ValueError(f"{text!r} is not a duration (write e.g. 2d, 36h, 1d12h, 15m)")
    return sum((float(n) * _UNITS[u] for n, u in _PART.findall(cleaned)), timedelta())


def duration_text(delta: timedelta) -> str:
    """A duration for people: `1d 12h`, `3h 5m`, `40s` (whole seconds, rounded up)."""
    seconds = max(0, math.ceil(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m")) if v]
    if secs and not days:
        parts.append(f"{secs}s")
    return " ".join(parts) or "0s"


def parse_zone(name: str) -> tzinfo:
    """An IANA time zone (`Europe/Berlin`) for --timezone."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise AutogradeError(
            f"--timezone {name!r}: not a known time zone, e.g. Europe/Berlin ({exc})"
        ) from None


def parse_time(text: str, zone: tzinfo | None, what: str) -> datetime:
    """An ISO 8601 time with an offset (`2026-12-01T23:59+01:00`, `...Z`), or a naive one read in
    `zone`; AutogradeError naming `what` (the option, or the file and line) otherwise."""
    raw = text.strip()
    if not re.match(r"\d{4}-\d{2}-\d{2}", raw):
        raise AutogradeError(f"{what}: {text!r} is not an ISO 8601 time; write e.g. 2026-12-01T23:59+01:00")
    if not re.search(r"\d[T ]\d", raw):
        raise AutogradeError(f"{what}: {text!r} has no time of day; write e.g. 2026-12-01T23:59+01:00")
    try:
        found = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        raise AutogradeError(
            f"{what}: {text!r} is not an ISO 8601 time; write e.g. 2026-12-01T23:59+01:00"
        ) from None
    if found.tzinfo is not None:
        return found
    if zone is None:
        raise AutogradeError(
            f"{what}: {text!r} has no time zone: add an offset (e.g. {raw}+01:00) or give --timezone "
            "(e.g. --timezone Europe/Berlin)"
        )
    return local_time(found, zone, what)


def local_time(naive: datetime, zone: tzinfo, what: str) -> datetime:
    """A wall-clock time in `zone`; one a clock change skips or repeats is an error."""
    aware = naive.replace(tzinfo=zone)
    back = aware.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
    if back != naive:
        raise AutogradeError(f"{what}: {naive.isoformat()} does not exist in {zone} (a clock change)")
    if naive.replace(tzinfo=zone, fold=1).utcoffset() != aware.utcoffset():
        raise AutogradeError(
            f"{what}: {naive.isoformat()} happens twice in {zone} (a clock change): give its offset"
        )
    return aware


def _percent(text: str, clause: str) -> Fraction:
    match = _PERCENT.fullmatch(text)
    if not match or Fraction(match[1]) > 100:
        raise ValueError(f"{clause!r}: expected a percentage from 0% to 100%")
    return Fraction(match[1]) / 100


@dataclass(frozen=True)
class LatePolicy:
    text: str  # as given, normalised
    rate: Fraction | None = None  # deducted per period
    period: timedelta | None = None
    prorated: bool = False
    cap: Fraction = Fraction(1)  # the most the rate deducts
    grace: timedelta = timedelta()
    cutoff_after: timedelta | None = None  # after the deadline in force
    cutoff_at: datetime | None = None  # moved by a student's extension
    base: Literal["score", "max"] = "score"
    unknown: Literal["none", "max", "zero"] = "none"

    def cutoff(self, deadline: datetime, shift: timedelta) -> datetime | None:
        """The cut-off for a student whose deadline is `deadline` (`shift` after the class's)."""
        if self.cutoff_after is not None:
            return deadline + self.cutoff_after
        return self.cutoff_at + shift if self.cutoff_at is not None else None

    def fraction(self, late_by: timedelta, after_cutoff: bool) -> tuple[Fraction, str]:
        """The fraction deducted for being `late_by` late, and why, in words."""
        if late_by <= timedelta():
            return Fraction(0), "on time"
        late = f"late by {duration_text(late_by)}"
        if late_by <= self.grace:
            return Fraction(0), f"{late}, within the grace period of {duration_text(self.grace)}: on time"
        if after_cutoff:
            return Fraction(1), f"{late}, after the cut-off: no credit"
        if self.rate is None or self.period is None:
            return Fraction(0), f"{late}: no deduction (policy {self.text})"
        whole, rest = divmod(late_by, self.period)
        tick = timedelta(microseconds=1)
        if self.prorated:
            periods = Fraction(late_by // tick, self.period // tick)
        else:
            periods = Fraction(whole + bool(rest))
        found = min(self.cap, self.rate * periods)
        return found, f"{late}: {_pct(found)} deducted ({self.text})"

    def unknown_fraction(self) -> Fraction:
        return {"none": Fraction(0), "max": self.cap, "zero": Fraction(1)}[self.unknown]


def _pct(value: Fraction) -> str:
    return f"{float(value * 100):.4g}%"


def parse_policy(text: str, zone: tzinfo | None, option: str = "--late-policy") -> LatePolicy:
    """A `LatePolicy` from its text (the grammar above); AutogradeError naming the clause."""
    try:
        return _parse_policy(text, zone, option)
    except ValueError as exc:
        raise AutogradeError(f"{option} {text!r}: {exc}") from None


def _parse_policy(text: str, zone: tzinfo | None, option: str) -> LatePolicy:
    clauses = [c.strip() for c in text.split(",")]
    if [c.lower() for c in clauses] == ["none"]:
        return LatePolicy("none")
    if not all(clauses):
        raise ValueError("an empty clause (two commas, or a comma at an end)")
    values: dict[str, object] = {}
    seen: set[str] = set()
    for clause in clauses:
        name, sep, value = clause.partition("=")
        key = name.strip().lower() if sep else ("rate" if "/" in clause else clause.lower())
        if key in seen:
            raise ValueError(f"{clause!r}: {key} is given twice")
        seen.add(key)
        value = value.strip()
        if key == "rate":
            amount, _, period = clause.partition("/")
            values["rate"] = _percent(amount.strip(), clause)
            length = _PERIODS.get(period.strip().lower()) or parse_duration(period)
            if length <= timedelta():
                raise ValueError(f"{clause!r}: the period must be longer than 0")
            values["period"] = length
        elif key == "prorated":
            values["prorated"] = True
        elif key == "max" and sep:
            values["cap"] = _percent(value, clause)
        elif key == "grace" and sep:
            values["grace"] = parse_duration(value)
        elif key == "cutoff" and sep:
            if _DURATION.fullmatch(value.lower()):
                values["cutoff_after"] = parse_duration(value)
            else:
                values["cutoff_at"] = parse_time(value, zone, f"{option} {clause!r}")
        elif key == "of" and value in ("score", "max"):
            values["base"] = value
        elif key == "unknown" and value in ("none", "max", "zero"):
            values["unknown"] = value
        elif key in ("of", "unknown"):
            choices = "score or max" if key == "of" else "none, max or zero"
            raise ValueError(f"{clause!r}: {key} is {choices}")
        else:
            raise ValueError(
                f"{clause!r} is not a clause (P%/day, prorated, max=P%, grace=DURATION, "
                "cutoff=TIME|DURATION, of=score|max, unknown=none|max|zero; or none)"
            )
    if "prorated" in values and "rate" not in values:
        raise ValueError("prorated needs a rate such as 10%/day")
    if "cap" in values and "rate" not in values:
        raise ValueError("max= needs a rate such as 10%/day")
    return LatePolicy(",".join(clauses), **values)  # type: ignore[arg-type]
