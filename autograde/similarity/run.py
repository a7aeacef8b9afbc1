"""`autograde similarity RESULTS_DIR` (and `grade --similarity`): the answers kept in a results
folder, compared task by task with the template's code left out; writes similarity/pairs.csv
and similarity/similarity.html there."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autograde.batch.results_folder import KeptAnswers, ResultsFolder
from autograde.errors import AutogradeError
from autograde.rubric import Assignment
from autograde.similarity.answers import answers_of
from autograde.similarity.compare import THRESHOLD, Match, similar_pairs
from autograde.similarity.page import pairs_csv, similarity_html


@dataclass
class SimilarityRun:
    matches: list[Match]
    compared: int
    threshold: float
    csv: Path
    html: Path
    notes: list[str] = field(default_factory=list)


def check_similarity(root: Path, assignment: Assignment, threshold: float = THRESHOLD,
                     kept: KeptAnswers | None = None) -> SimilarityRun:
    """Compare the answers kept in the results folder `root` (graded for `assignment`);
    `kept`: what `ResultsFolder.read_answers` already found there."""
    if not 0 < threshold <= 1:
        raise AutogradeError(f"--threshold {threshold}: a share between 0 (exclusive) and 1")
    folder = ResultsFolder(root)
    answers, graded_for, notes = kept if kept is not None else folder.read_answers()
    if not answers:
        raise AutogradeError(
            f"{root}: no students/*/answers.json: grade the uploads with this version of "
            "`autograde grade` first (it keeps each task's answer code)"
        )
    other = sorted(graded_for - {assignment.id})
    if other:
        raise AutogradeError(f"{root}: answers graded for {other}, not for {assignment.id!r}")
    template = answers_of(assignment.path(assignment.rubric.template), assignment)
    matches = similar_pairs(answers, template, threshold)
    csv_path, html_path = folder.write_similarity(
        pairs_csv(matches), similarity_html(assignment.id, matches, threshold, len(answers)))
    return SimilarityRun(matches, len(answers), threshold, csv_path, html_path, notes)
