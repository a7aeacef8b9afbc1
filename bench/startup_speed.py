"""Start-up time of the `autograde` command: wall seconds of each light command, median of 5.

    python bench/startup_speed.py [--runs N]

Each run is a fresh process of the installed `autograde` script (what a user types), output
discarded. `list` runs with the user's summary cache as it is (warm after its first run);
`list (cold cache)` with an empty cache folder each time, so every rubric is loaded and
validated in full. The issue's target: `--help` and `list` under 0.3 s. The main benchmark
(bench/speed.py) imports `measure`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "list": ["list"],
    "list --markdown": ["list", "--markdown"],
    "grade --help": ["grade", "--help"],
    "check --help": ["check", "--help"],
    "rubric test --help": ["rubric", "test", "--help"],
    "bundle --help": ["bundle", "--help"],
    "manual --help": ["manual", "--help"],
    "sandbox --help": ["sandbox", "--help"],
    "import --help": ["import", "--help"],
    "assign --help": ["assign", "--help"],
}
COLD = "list (cold cache)"


def _command() -> list[str]:
    script = Path(sys.executable).with_name("autograde")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from autograde.cli.main import main; main()"]


def _once(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [*_command(), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"autograde {' '.join(args)} exited {done.returncode}: {done.stderr.decode()}")
    return seconds


def measure(runs: int = 5) -> dict[str, float]:
    """Median wall seconds of each command over `runs` fresh processes, by command."""
    env = dict(os.environ)
    figures = {
        name: statistics.median(_once(args, env) for _ in range(runs)) for name, args in COMMANDS.items()
    }
    cold = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="autograde-cache-") as empty:
            cold.append(_once(["list"], {**env, "AUTOGRADE_CACHE": empty}))
    figures[COLD] = statistics.median(cold)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (the median is shown)")
    args = parser.parse_args()
    for name, seconds in measure(args.runs).items():
        print(f"autograde {name:<24} {seconds:6.3f} s")


if __name__ == "__main__":
    main()
