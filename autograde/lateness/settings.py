"""A batch's deadline settings: from the options of this run, else those its results folder
keeps (batch.json, key `deadline`, beside the seed).

Each option given replaces its own part (--deadline, --timezone, --late-policy, --extensions,
--submission-times); the parts not given are kept from the folder; `--deadline none` removes
them all. A rerun with other settings re-penalises every report without regrading (deadlines
are no part of the journal's key). Naive times (no offset) in the policy and the CSV files are
read in --timezone, else in the deadline's own offset; a naive --deadline needs --timezone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograde.errors import AutogradeError
from autograde.lateness.extensions import EXTENSION_COLUMNS, TIME_COLUMNS, Row, read_rows
from autograde.lateness.policy import LatePolicy, parse_duration, parse_policy, parse_time, parse_zone

if TYPE_CHECKING:
    from autograde.batch.results_folder import ResultsFolder

NONE = "none"


@dataclass
class DeadlineOptions:
    """The options of one run; None: not given (keep the folder's)."""

    deadline: str | None = None  # ISO 8601, or "none" to remove the folder's settings
    timezone: str | None = None
    late_policy: str | None = None
    extensions: Path | None = None
    submission_times: Path | None = None

    def given(self) -> list[str]:
        names = {"timezone": "--timezone", "late_policy": "--late-policy", "extensions": "--extensions",
                 "submission_times": "--submission-times"}
        return [option for name, option in names.items() if getattr(self, name) is not None]


@dataclass
class DeadlineSettings:
    """What batch.json keeps: the deadline as an aware ISO time and the rows of the CSV files."""

    deadline: str
    timezone: str | None = None
    policy: str = NONE
    extensions: list[Row] = field(default_factory=list)
    times: list[Row] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"deadline": self.deadline, "timezone": self.timezone, "policy": self.policy,
                "extensions": [r.to_json() for r in self.extensions],
                "submission_times": [r.to_json() for r in self.times]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeadlineSettings:
        return cls(str(data["deadline"]), data.get("timezone"), str(data.get("policy", NONE)),
                   [Row(**r) for r in data.get("extensions", [])],
                   [Row(**r) for r in data.get("submission_times", [])])


@dataclass
class Deadline:
    """The settings, read: every time aware, the policy parsed."""

    settings: DeadlineSettings
    at: datetime
    zone: tzinfo
    zone_name: str  # for the reports: "Europe/Berlin", or "UTC+01:00" (the deadline's offset)
    policy: LatePolicy

    def extension(self, row: Row) -> datetime:
        """The deadline in force for a student with this extension row."""
        try:
            return self.at + parse_duration(row.value)
        except ValueError:
            return parse_time(row.value, self.zone, row.where)

    def describe(self, kept: bool) -> str:
        where = " (kept from the results folder's batch.json)" if kept else ""
        extras = [f"{len(self.settings.extensions)} extension(s)"] if self.settings.extensions else []
        if self.settings.times:
            extras.append(f"{len(self.settings.times)} submission time(s) given")
        more = f"; {', '.join(extras)}" if extras else ""
        at = self.at.isoformat()
        return f"deadline {at} ({self.zone_name}), late policy {self.policy.text}{more}{where}"


def read(settings: DeadlineSettings) -> Deadline:
    """Parse and check the settings (AutogradeError naming the option, file and line)."""
    zone: tzinfo | None = parse_zone(settings.timezone) if settings.timezone else None
    at = parse_time(settings.deadline, zone, "--deadline")
    if zone is None:
        zone = at.tzinfo
        assert zone is not None
        zone_name = f"its offset {at.strftime('%z')[:3]}:{at.strftime('%z')[3:]}"
    else:
        zone_name = str(settings.timezone)
    policy = parse_policy(settings.policy, zone)
    deadline = Deadline(settings, at, zone, zone_name, policy)
    for row in settings.extensions:
        deadline.extension(row)
    for row in settings.times:
        parse_time(row.value, zone, row.where)
    return deadline


def _check_extension(zone: tzinfo | None) -> Any:
    def check(row: Row) -> None:
        try:
            parse_duration(row.value)  # extra time (never negative: the grammar has no sign)
            return
        except ValueError:
            pass
        if zone is None:  # checked again once the deadline's offset is known (`read`)
            return
        parse_time(row.value, zone, row.where)

    return check


def resolve(kept: dict[str, Any] | None, options: DeadlineOptions) -> tuple[Deadline | None, bool]:
    """The deadline of this run from `options` and the folder's `kept` settings (batch.json's
    `deadline`); (None, _) for none. The flag says whether anything came from the folder."""
    if options.deadline is not None and options.deadline.strip().lower() == NONE:
        if options.given():
            raise AutogradeError(f"--deadline none removes the deadline; {', '.join(options.given())} "
                                 "cannot go with it")
        return None, False
    stored = DeadlineSettings.from_json(kept) if kept else None
    if options.deadline is None and stored is None:
        if options.given():
            given = ", ".join(options.given())
            raise AutogradeError(f"{given} needs --deadline (this results folder has none)")
        return None, False
    settings = replace(stored) if stored is not None else DeadlineSettings(deadline="")
    if options.timezone is not None:
        settings.timezone = options.timezone
    zone = parse_zone(settings.timezone) if settings.timezone else None
    if options.deadline is not None:
        settings.deadline = parse_time(options.deadline, zone, "--deadline").isoformat()
    if options.late_policy is not None:
        settings.policy = options.late_policy
    if options.extensions is not None:
        settings.extensions = read_rows(options.extensions, EXTENSION_COLUMNS, _check_extension(zone))
    if options.submission_times is not None:
        settings.times = read_rows(options.submission_times, TIME_COLUMNS, lambda row: None)
    kept_any = stored is not None and (
        options.deadline is None or options.late_policy is None or options.extensions is None
    )
    return read(settings), kept_any


def read_deadline(folder: ResultsFolder, assignment_id: str, options: DeadlineOptions) -> Deadline | None:
    """This run's deadline: `resolve` over what the results folder keeps for the assignment."""
    return resolve(folder.kept_deadline(assignment_id), options)[0]
