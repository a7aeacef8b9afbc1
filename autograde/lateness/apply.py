"""The late block of each report of a run, applied through `autograde.lateness.score.rescore`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from fractions import Fraction

from autograde.batch.results_folder import ResultsFolder
from autograde.batch.uploads import Roster, Upload
from autograde.lateness.extensions import Row, match_students
from autograde.lateness.policy import duration_text, parse_duration
from autograde.lateness.score import rescore
from autograde.lateness.settings import Deadline
from autograde.lateness.times import shared_zip_times, submission_time
from autograde.pipeline.ingest import safe_id
from autograde.results import GradeReport, LateBlock
from autograde.status import SubmissionStatus


def _iso(at: datetime | None, deadline: Deadline) -> str | None:
    return None if at is None else at.astimezone(deadline.zone).isoformat(timespec="seconds")


def _pct(value: Fraction) -> str:
    return f"{float(value * 100):.4g}%"


class Lateness:
    """The late blocks of one run's uploads (None: no deadline; every report loses its block)."""

    def __init__(self, deadline: Deadline | None, uploads: list[Upload], roster: Roster | None) -> None:
        self.deadline = deadline
        self.blocks: dict[str, LateBlock] = {}
        if deadline is None:
            return
        known = {u.student for u in uploads} | set(roster.ids if roster else [])
        roster_ids = set(roster.ids) if roster else set()

        def resolve(raw: str) -> str | None:
            student = safe_id(raw)
            if student in known:
                return student
            found = roster.resolve(raw) if roster is not None else None
            return found if found in known or found in roster_ids else None

        extensions = match_students(deadline.settings.extensions, known, resolve, "--extensions")
        times = match_students(deadline.settings.times, known, resolve, "--submission-times")
        shared = shared_zip_times(uploads)
        for upload in uploads:
            if upload.status == SubmissionStatus.NO_SUBMISSION or upload.stamp is None:
                continue
            base = upload.student.split("~")[0]  # a second upload of a student: the same extension
            self.blocks[upload.student] = self._block(upload, deadline, extensions.get(base),
                                                      times.get(base), shared)

    def keep(self, folder: ResultsFolder) -> None:
        """The settings in force, kept in the results folder for the next run (or removed)."""
        folder.keep_deadline(None if self.deadline is None else self.deadline.settings.to_json())

    def apply(self, report: GradeReport) -> None:
        """Give the report this run's late block (a copy: each report its own) and rescore it."""
        found = self.blocks.get(report.student)
        if found is None and report.late is None and report.raw_score is None:
            return  # no deadline now or before: the score stands as grading made it
        report.late = None if found is None else replace(found, notes=list(found.notes))
        rescore(report)

    @staticmethod
    def _block(
        upload: Upload,
        deadline: Deadline,
        extension: Row | None,
        override: Row | None,
        shared: dict[str, int],
    ) -> LateBlock:
        policy = deadline.policy
        in_force, extension_text = deadline.at, None
        if extension is not None:
            in_force = deadline.extension(extension)
            try:
                extension_text = f"+{duration_text(parse_duration(extension.value))} ({extension.where})"
            except ValueError:
                extension_text = f"until {_iso(in_force, deadline)} ({extension.where})"
        cutoff = policy.cutoff(in_force, in_force - deadline.at)
        found = submission_time(upload, deadline.zone, deadline.zone_name, override, shared)
        notes = list(found.notes)
        late_seconds: float | None = None
        if found.at is None:
            fraction = policy.unknown_fraction() if found.flagged_late else Fraction(0)
            if not found.flagged_late:
                verdict = "submission time unknown: not judged late (give it with --submission-times)"
            elif fraction == 0:
                verdict = ("late according to Canvas, by an unknown time: no deduction "
                           "(give its time with --submission-times, or set unknown= in the late policy)")
            else:
                verdict = (f"late according to Canvas, by an unknown time: {_pct(fraction)} deducted "
                           f"(unknown={policy.unknown} in the late policy)")
        else:
            late_by: timedelta = found.at - in_force
            late_seconds = late_by.total_seconds()
            after_cutoff = cutoff is not None and found.at > cutoff
            fraction, verdict = policy.fraction(late_by, after_cutoff)
            if found.flagged_late and late_by <= timedelta():
                notes.append("Canvas marks it late (_LATE_), but its submission time is before the deadline "
                             "in force here (Canvas's due date may differ from --deadline)")
        return LateBlock(
            policy=policy.text,
            deadline=_iso(in_force, deadline) or "",
            submitted_at=_iso(found.at, deadline),
            source=found.source,
            source_text=found.text,
            late_seconds=late_seconds,
            extension=extension_text,
            fraction=float(fraction),
            base=policy.base,
            verdict=verdict,
            notes=notes,
        )
