"""Students' self-check: check bundles (built by the instructor with the reference, carrying
no reference code, solution, hidden check, hidden data or grading seed) and the two ways to
run one, `autograde check --bundle` (a fresh run, local backend) and `autograde.student`
(the live kernel). Both judge with the check kinds' own code."""
