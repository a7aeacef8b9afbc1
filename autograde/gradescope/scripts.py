"""The two scripts Gradescope runs from the archive: `setup.sh` (once, as root, when the
autograder image is built) and `run_autograder` (once per submission).

setup.sh installs Python 3.11 where the image lacks it (Ubuntu's apt), makes a venv at
VENV, installs the engine's wheel with its grader extra (from the archive's wheels/ folder
when it has one, else from PyPI, torch from PyTorch's CPU index), then makes the
assignment's public data folder once. run_autograder runs `autograde.gradescope.autograder`;
when the venv is missing (setup failed) it still writes a results.json that says so.
"""

from __future__ import annotations

VENV = "/opt/autograde-gradescope/venv"
CACHE = "/autograder/autograde-cache"  # the data folders made by setup.sh (outside the library)
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"

SETUP_SH = f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (made by `autograde gradescope`).
set -euo pipefail
SOURCE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
VENV={VENV}
export AUTOGRADE_LIBRARY="$SOURCE/library" AUTOGRADE_CACHE={CACHE}

python_ok() {{
    command -v "$1" >/dev/null 2>&1 \\
        && "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1
}}
if ! python_ok python3.11; then
    if command -v apt-get >/dev/null 2>&1; then
        echo "installing python3.11 with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv >/dev/null
    fi
fi
if ! python_ok python3.11; then
    echo "setup.sh: no Python 3.11 with venv here and apt-get could not install one" >&2
    exit 1
fi

python3.11 -m venv "$VENV"
ENGINE=$(ls "$SOURCE"/engine/*.whl)
if [ -d "$SOURCE/wheels" ]; then
    echo "installing autograde from the archive's wheels (offline)"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir \\
        --no-index --find-links "$SOURCE/wheels" "$ENGINE[grader]"
else
    echo "installing autograde and its dependencies from PyPI (torch from {TORCH_CPU_INDEX})"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir \\
        --extra-index-url {TORCH_CPU_INDEX} "$ENGINE[grader]"
fi
"$VENV/bin/python" -m autograde.gradescope.autograder prepare --source "$SOURCE"
"""

RUN_AUTOGRADER = f"""#!/usr/bin/env bash
# Gradescope runs this once per submission: it grades /autograder/submission/*.ipynb and
# writes /autograder/results/results.json (made by `autograde gradescope`).
set -uo pipefail
SOURCE=/autograder/source
VENV={VENV}
export AUTOGRADE_LIBRARY="$SOURCE/library" AUTOGRADE_CACHE={CACHE}
if [ ! -x "$VENV/bin/python" ]; then
    mkdir -p /autograder/results
    cat >/autograder/results/results.json <<'JSON'
{{"score": 0, "tests": [],
 "output": "The autograder is not installed (setup.sh did not finish): nothing was graded."}}
JSON
    echo "run_autograder: $VENV/bin/python is missing: setup.sh did not finish" >&2
    exit 1
fi
exec "$VENV/bin/python" -m autograde.gradescope.autograder run --root /autograder
"""
