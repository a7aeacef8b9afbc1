#!/usr/bin/env bash
# The whole test suite (`make test`) in two pytest processes side by side:
#   - the library tests (`-m library`): every notebook of the rubric library graded, then
#     self-checked from the CLI and in a notebook, one notebook at a time;
#   - everything else, much of which waits on kernels, time limits and Docker.
# The two overlap well on a small machine. Each has its own temporary folder; the library
# log is printed when both are done. Fails when either fails (pytest's exit 5, nothing
# collected, included). Arguments go to both pytest runs.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
work=$(mktemp -d -t autograde-tests-XXXXXX)
AUTOGRADE_LIBRARY_JOBS=${AUTOGRADE_LIBRARY_JOBS:-1} \
    "$PY" -m pytest -m library --basetemp="$work/library" "$@" >"$work/library.log" 2>&1 &
library_pid=$!
"$PY" -m pytest -m "not library" --basetemp="$work/rest" "$@"
rest=$?
wait "$library_pid"
library=$?
echo "==================== library tests (run beside the others) ===================="
cat "$work/library.log"
echo "library tests: exit $library; the other tests: exit $rest"
rm -rf "$work"
[ "$rest" -eq 0 ] && [ "$library" -eq 0 ]
