"""The exceptions autograde raises, in one tree.

    AutogradeError                  base of everything raised on purpose
    ├── RubricError                 a rubric file is missing, not YAML, or fails the schema
    ├── AssignmentNotFound          no rubric for the requested assignment id
    ├── SubmissionError             the student's file cannot be graded at all
    │   ├── NotANotebook            not JSON / not nbformat 4 / fails nbformat validation
    │   └── SubmissionTooLarge      over the size or shape caps, rejected before parsing
    ├── SandboxError                the backend could not run the runner: a launch that failed,
    │   │                           an image that is missing, an engine that failed mid-run
    │   └── EngineUnavailable       the Docker engine cannot be reached at all
    ├── WireError                   a file that came out of the sandbox is malformed or too big
    └── ClusterError                a Dask cluster that cannot be reached, started or trusted
                                    (the command stops; what was graded is journaled)

Errors of the student's code are not exceptions here: they are data in the report
(cell records, check statuses). Third-party exceptions (the docker SDK's, an OSError of
launching the runner) are translated at the backend's boundary with
``raise SandboxError(...) from exc``; grading turns any AutogradeError into that upload's
grader-error row, and the journal grades such a row again on the next run.
"""

from __future__ import annotations

from autograde.status import SubmissionStatus


class AutogradeError(Exception):
    """Base class of every error autograde raises on purpose."""


class RubricError(AutogradeError):
    """A rubric is missing, unreadable, or invalid; the message names file and field."""


class AssignmentNotFound(AutogradeError):
    """The requested assignment id has no rubric in the rubric library."""


class SubmissionError(AutogradeError):
    """The submitted file cannot be graded; the status column of the gradebook says why."""

    status: SubmissionStatus = SubmissionStatus.INVALID


class NotANotebook(SubmissionError):
    status = SubmissionStatus.INVALID_NOTEBOOK


class SubmissionTooLarge(SubmissionError):
    status = SubmissionStatus.TOO_LARGE


class SandboxError(AutogradeError):
    """The sandbox backend could not run the runner: a fault of the grader, not the student."""


class WireError(AutogradeError):
    """Data that left the sandbox is malformed, of a forbidden type, or over its size cap."""


class EngineUnavailable(SandboxError):
    """The Docker engine cannot be reached (not running, no socket, not answering)."""


class ClusterError(AutogradeError):
    """A cluster that cannot be reached, set up or trusted: the command stops and says why."""
