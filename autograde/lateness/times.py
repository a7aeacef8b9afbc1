"""When each upload was submitted, and where that comes from, first found first:

    submission-times  the instructor's --submission-times CSV
    file-name         a time in the upload's name inside its source (`..._2026-12-01T23-59-10_...`,
                      `20261201T235910`); the name of the zip or folder itself is never read
                      (an export's name carries the time of the download)
    zip               the zip member's time (zip stores a wall-clock time without a zone: it is
                      read in --timezone, else in the deadline's offset); the zip default
                      1980-01-01 00:00 and times every member of an archive shares (the time
                      the export was made) are no submission times
    lms-late-flag     Canvas's `_LATE_` in the file name, without a time: late by an unknown time
    mtime             the file's modification time (uploads from a folder, single files)
    unknown           none of these
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from pathlib import PurePosixPath

from autograde.batch.uploads import Stamp, Upload
from autograde.errors import AutogradeError
from autograde.lateness.extensions import Row
from autograde.lateness.policy import local_time, parse_time

_DASHED = re.compile(
    r"(?<!\d)(\d{4})-(\d{2})-(\d{2})[T_ ](\d{2})[-:.h](\d{2})(?:[-:.](\d{2}))?(Z|[+-]\d{2}:?\d{2})?(?!\d)"
)
_COMPACT = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{2}:?\d{2})?(?!\d)")
_CANVAS_LATE = re.compile(r"^[^/_]+_(?:LATE|late)_\d+_\d+_")
ZIP_DEFAULT = (1980, 1, 1, 0, 0, 0)
SHARED_ZIP_TIME = 3  # this many members of one archive, all at one time: the export's time


@dataclass
class SubmissionTime:
    at: datetime | None
    source: str  # one of the names above
    text: str  # "submission time from ...", for the reports
    flagged_late: bool = False  # the LMS marks it late (Canvas `_LATE_`)
    notes: list[str] = field(default_factory=list)


def _offset(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text.upper() == "Z":
        return timezone.utc
    digits = text.replace(":", "")
    sign = -1 if digits[0] == "-" else 1
    from datetime import timedelta

    return timezone(sign * timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5])))


def name_time(name: str, zone: tzinfo, zone_name: str) -> tuple[datetime, str] | None:
    """A time written in an upload's name (its path inside the source), with how it was read."""
    for pattern in (_DASHED, _COMPACT):
        for match in pattern.finditer(name):
            y, mo, d, h, mi, sec, off = match.groups()
            try:
                naive = datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec or 0))
            except ValueError:
                continue  # digits that are no date (an id)
            given = _offset(off)
            if given is not None:
                return naive.replace(tzinfo=given), f"submission time from the file name ({match[0]})"
            try:
                aware = local_time(naive, zone, "the time in the file name")
            except AutogradeError:
                continue
            return aware, f"submission time from the file name ({match[0]}, read in {zone_name})"
    return None


def shared_zip_times(uploads: list[Upload]) -> dict[str, int]:
    """Archives (by the origin before `!`) whose members all carry one time: archive -> count."""
    times: dict[str, set[tuple[int, ...]]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    for upload in uploads:
        if upload.stamp is not None and upload.stamp.zip_time is not None and "!" in upload.origin:
            archive = upload.origin.split("!", 1)[0]
            times[archive].add(upload.stamp.zip_time)
            counts[archive] += 1
    return {a: counts[a] for a, found in times.items() if len(found) == 1 and counts[a] >= SHARED_ZIP_TIME}


def submission_time(
    upload: Upload, zone: tzinfo, zone_name: str, override: Row | None, shared: dict[str, int]
) -> SubmissionTime:
    """The submission time of one upload (see the module docstring for the order)."""
    notes: list[str] = []
    if override is not None:
        at = parse_time(override.value, zone, override.where)
        return SubmissionTime(at, "submission-times", f"submission time from {override.where}")
    stamp: Stamp | None = upload.stamp
    if stamp is None:
        return SubmissionTime(None, "unknown", "submission time unknown")
    named = name_time(stamp.name, zone, zone_name)
    flagged = bool(_CANVAS_LATE.match(PurePosixPath(stamp.name).name))
    if named is not None:
        return SubmissionTime(named[0], "file-name", named[1], flagged)
    if stamp.zip_time is not None:
        archive = upload.origin.split("!", 1)[0]
        if stamp.zip_time == ZIP_DEFAULT:
            notes.append("the zip member carries no time (1980-01-01, the zip default)")
        elif archive in shared:
            notes.append(
                f"all {shared[archive]} uploads of {archive} carry the same zip time, the time the "
                "export was made rather than each submission's: not used"
            )
        else:
            try:
                at = local_time(datetime(*stamp.zip_time), zone, "the zip member's time")
            except AutogradeError as exc:
                notes.append(str(exc))
            else:
                text = (f"submission time from the zip member's time (zip stores no time zone: "
                        f"read in {zone_name})")
                return SubmissionTime(at, "zip", text, flagged)
    if flagged:
        return SubmissionTime(
            None, "lms-late-flag", "Canvas marks it late (_LATE_ in the file name); its time is unknown",
            True, notes,
        )
    if stamp.mtime is not None:
        at = datetime.fromtimestamp(stamp.mtime, timezone.utc).astimezone(zone)
        return SubmissionTime(at, "mtime", "submission time from the file's modification time", False, notes)
    return SubmissionTime(None, "unknown", "submission time unknown", False, notes)
