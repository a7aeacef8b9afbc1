"""After a batch: `results.json`, every report with the rubric's tasks, as data.

The batch's other reports are their own modules (lms.csv, class.html, feedback.html,
gradescope.json); `autograde.batch.results_folder.ResultsFolder` writes them all.
"""

from __future__ import annotations

from typing import Any

from autograde.results import GradeReport
from autograde.rubric import Assignment


def results_json(reports: list[GradeReport], assignment: Assignment) -> dict[str, Any]:
    rubric = assignment.rubric
    return {
        "assignment": assignment.id,
        "title": rubric.title,
        "max_points": rubric.max_points,
        "rubric_digest": assignment.digest,
        "tasks": [
            {"id": task.id, "title": task.title, "points": task.points, "visible": task.visible}
            for task in rubric.tasks
        ],
        "students": [report.to_json() for report in sorted(reports, key=lambda r: r.student)],
    }
