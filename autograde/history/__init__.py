"""The numbered runs of a results folder and what changed between them.

Every `autograde grade` run and every `autograde manual merge` of a results folder is kept
as a numbered run in RESULTS_DIR/runs/NNNN.json (`record`): what it graded with (rubric
digest, parameters, seed, backend, versions, time) and what every student had after it (score,
status, each check's status, the upload's digest). `diff` compares two runs per student and
names why a score changed. The journal keeps every report each run graded, so nothing of an
earlier run is lost when a later one regrades.
"""
