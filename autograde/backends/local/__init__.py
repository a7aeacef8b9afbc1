"""The local backend: the runner as a confined subprocess of the grader (namespaces,
rlimits, cgroups, orphan reaping, a capped log)."""
