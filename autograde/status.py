"""The one status vocabulary: what a check and a whole submission can end as.

Each status is a `str` enum (its value is what the reports and the journal store), and
carries what every reporter needs to show it: a label, a style (rich colour and CSS
class), whether it counts as a failure on the class page, and whether a person still has
to look at it. Reporters, the class page, the manual flow and the journal ask the status,
never a list of strings of their own.
"""

from __future__ import annotations

from typing import TypeVar

from autograde.runner.compat import StrEnum

_V = TypeVar("_V", bound="_Vocabulary")


class _Vocabulary(StrEnum):
    """A status read back from a report by its stored value."""

    @classmethod
    def known(cls: type[_V], value: str) -> _V | None:
        """The status of this name, or None for a name the vocabulary does not have (a
        reporter then shows the raw text, escaped, in a neutral style)."""
        try:
            return cls(value)
        except ValueError:
            return None


class CheckStatus(_Vocabulary):
    """How one check of a rubric ended."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"  # the student's code raised
    TIMEOUT = "timeout"
    CRASHED = "crashed"  # the kernel died while the check ran
    NOT_RUN = "not-run"  # never reached (an earlier crash, a rejected upload)
    MANUAL = "manual"  # waits for a person (`autograde manual export`)
    GRADED_BY_HAND = "graded-by-hand"  # a person gave its points (`autograde manual merge`)
    GRADER_ERROR = "grader-error"  # the grader failed, not the student
    # a student's self-check only (never in a grade)
    ANSWERED = "answered"  # a choice or free-text answer is given; it is judged after submission
    AFTER_SUBMISSION = "after-submission"  # needs what stays with the instructor

    @property
    def label(self) -> str:
        return _CHECK_LABELS[self]

    @property
    def style(self) -> str:
        return _CHECK_STYLES[self]

    @property
    def is_failure(self) -> bool:
        """Lost points the student can act on (or the grader must): counted on the class page."""
        return self not in _NOT_FAILURES

    @property
    def needs_person(self) -> bool:
        return self is CheckStatus.MANUAL

    @property
    def gradable_by_hand(self) -> bool:
        """A manual check in this state takes a hand grade (a first one, or a corrected one)."""
        return self in (CheckStatus.MANUAL, CheckStatus.GRADED_BY_HAND)

    @property
    def css_class(self) -> str:
        """The class of its element on a page (`st-pass`); derived from a known status only."""
        return "st-" + self.value

    @property
    def badge_colour(self) -> str:
        """The background of its badge on a feedback page."""
        return _CHECK_BADGES[self]

    @classmethod
    def label_of(cls, value: str) -> str:
        """The label of a status read back from a report; an unknown one shows as it is."""
        known = cls.known(value)
        return known.label if known is not None else value

    @classmethod
    def parse(cls, value: str) -> CheckStatus:
        """A status read back from a report; an unknown one is a grader error, never a pass."""
        return cls.known(value) or cls.GRADER_ERROR


_NOT_FAILURES = frozenset(
    {
        CheckStatus.PASS,
        CheckStatus.MANUAL,
        CheckStatus.GRADED_BY_HAND,
        CheckStatus.ANSWERED,
        CheckStatus.AFTER_SUBMISSION,
    }
)
_CHECK_LABELS = {
    CheckStatus.PASS: "PASS",
    CheckStatus.FAIL: "FAIL",
    CheckStatus.ERROR: "ERROR",
    CheckStatus.TIMEOUT: "TIMEOUT",
    CheckStatus.CRASHED: "CRASHED",
    CheckStatus.NOT_RUN: "NOT RUN",
    CheckStatus.MANUAL: "MANUAL",
    CheckStatus.GRADED_BY_HAND: "GRADED BY HAND",
    CheckStatus.GRADER_ERROR: "GRADER ERROR",
    CheckStatus.ANSWERED: "ANSWERED",
    CheckStatus.AFTER_SUBMISSION: "AFTER SUBMISSION",
}
_CHECK_STYLES = {
    CheckStatus.PASS: "green",
    CheckStatus.FAIL: "red",
    CheckStatus.ERROR: "red",
    CheckStatus.TIMEOUT: "yellow",
    CheckStatus.CRASHED: "red",
    CheckStatus.NOT_RUN: "dim",
    CheckStatus.MANUAL: "cyan",
    CheckStatus.GRADED_BY_HAND: "cyan",
    CheckStatus.GRADER_ERROR: "magenta",
    CheckStatus.ANSWERED: "cyan",
    CheckStatus.AFTER_SUBMISSION: "dim",
}
_CHECK_BADGES = {
    CheckStatus.PASS: "#1a7f37",
    CheckStatus.FAIL: "#cf222e",
    CheckStatus.ERROR: "#8250df",
    CheckStatus.TIMEOUT: "#bc4c00",
    CheckStatus.CRASHED: "#8250df",
    CheckStatus.NOT_RUN: "#57606a",
    CheckStatus.MANUAL: "#0969da",
    CheckStatus.GRADED_BY_HAND: "#0969da",
    CheckStatus.GRADER_ERROR: "#8250df",
    CheckStatus.ANSWERED: "#0969da",
    CheckStatus.AFTER_SUBMISSION: "#57606a",
}
NEUTRAL_BADGE = "#6e7781"  # a status outside the vocabulary


class SubmissionStatus(_Vocabulary):
    """How one upload ended as a whole (the `status` column of the gradebook)."""

    GRADED = "graded"
    GRADER_ERROR = "grader error"  # graded again when the batch is rerun
    INVALID = "invalid"
    INVALID_NOTEBOOK = "invalid notebook"
    NOT_A_NOTEBOOK = "not a notebook"
    TOO_LARGE = "rejected: too large"
    REJECTED = "rejected"  # an unsafe upload: a link, a zip member outside the export, ...
    NO_SUBMISSION = "no submission"  # on the roster, nothing uploaded
    PENDING = "pending"  # collected, not graded yet (never in a finished gradebook)

    @property
    def label(self) -> str:
        return self.value

    @property
    def style(self) -> str:
        if self is SubmissionStatus.GRADED:
            return "green"
        if self is SubmissionStatus.GRADER_ERROR:
            return "magenta"
        return "red"

    @property
    def is_failure(self) -> bool:
        """Not graded: the row holds no score the student earned by running."""
        return self is not SubmissionStatus.GRADED

    @property
    def needs_person(self) -> bool:
        """The instructor must act (a grader error to rerun, an upload to look at)."""
        return self not in (SubmissionStatus.GRADED, SubmissionStatus.NO_SUBMISSION)

    @property
    def regrade_on_rerun(self) -> bool:
        """A journal entry with this status is graded again on the next run."""
        return self is SubmissionStatus.GRADER_ERROR

    @classmethod
    def parse(cls, value: str) -> SubmissionStatus:
        """A status read back from a report; unknown ones are kept apart as rejected."""
        return cls.known(value) or cls.REJECTED
