"""One upload, in the order its data flows: ingest -> plan -> (protocol, the sandbox run)
-> judge -> scoring. `grade.grade_submission` runs the stages top to bottom."""
