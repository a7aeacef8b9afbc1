"""Deadlines, late policies and extensions for a batch (`autograde grade --deadline`).

    policy.py      the grammar of --late-policy, durations, --deadline and its time zone
    extensions.py  the extensions CSV and the submission-times CSV (student -> value)
    times.py       each upload's submission time, and where it comes from
    settings.py    the batch's deadline settings, kept in batch.json between runs
    apply.py       the late block of each report, and `rescore`: the final score from the
                   task points and the late block (idempotent; manual merge calls it too)

The penalty is never part of what grading produced: every run computes each report's late
block from its settings and applies it to the report, graded or reused from the journal, so a
rerun with another deadline re-penalises without regrading, and a hand-grade merge rescores
through the same `rescore`.
"""
