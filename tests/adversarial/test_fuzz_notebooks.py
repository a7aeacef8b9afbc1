"""Fuzz: 300 random corruptions of valid ex02 notebooks (the solution and its mutants) graded in
ONE batch through the CLI. Every upload is a row with a status, no row is a grader error (a
crash of ingest, staging or judging), every rejected row names its file, the batch completes,
and corruptions confined to saved outputs or metadata (or a UTF-8 byte-order mark) grade
exactly as the uncorrupted notebook does.

The seed is printed (and in every failure message); AUTOGRADE_FUZZ_SEED=N replays a run.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import random
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EX02 = ROOT / "rubrics" / "ex02_gradient_descent"
CLI = str(Path(sys.executable).with_name("autograde"))
STATUSES = {"graded", "invalid notebook", "rejected: too large"}
DEEP = "@@deep{}@@"  # replaced by that many nested lists once the JSON text is written
Json = Any


@dataclass
class Case:
    name: str
    data: bytes
    expect: dict[str, float] | None = None  # exact points: the corruption cannot touch the grade


def bases() -> dict[str, tuple[Json, dict[str, float]]]:
    """The solution and each mutant, with the points the rubric says it earns."""
    rubric = yaml.safe_load((EX02 / "rubric.yaml").read_text())
    full = {task["id"]: float(task["points"]) for task in rubric["tasks"]}
    found = {"solution": (json.loads((EX02 / "solution.ipynb").read_text()), full)}
    for mutant in rubric["mutants"]:
        points = {task: full[task] - float(mutant["loses"].get(task, 0)) for task in full}
        found[Path(mutant["notebook"]).stem] = (json.loads((EX02 / mutant["notebook"]).read_text()), points)
    return found


def dumps(data: Json) -> bytes:
    text = json.dumps(data, indent=1)
    text = re.sub('"@@deep([0-9]+)@@"', lambda m: "[" * int(m[1]) + "]" * int(m[1]), text)
    return text.encode("utf-8")


def junk(rng: random.Random) -> Json:
    return rng.choice([
        None, True, -1, 2**70, 1.5, "", "x" * rng.randint(1, 50), [], {}, [1, "a", None],
        {"output_type": "future"}, DEEP.format(rng.choice([50, 200, 900, 3000])),
        "y" * rng.randint(100_000, 2_000_000), {"cell_type": "banana"}, ["a", 3],
    ])


# ---------------------------------------------------------------- outputs and metadata only


def _output(rng: random.Random) -> Json:
    return rng.choice([
        {"output_type": "future output", "data": 5},
        {"output_type": "stream", "name": 7, "text": ["a", 3]},
        {"output_type": "display_data"},
        {"output_type": "execute_result", "data": {"text/plain": "1"}, "execution_count": "x"},
        {"output_type": "error", "ename": None},
        DEEP.format(300), "not an output", 12,
        {"output_type": "stream", "name": "stdout", "text": "z" * 1_000_000},
    ])


def outputs_only(nb: Json, rng: random.Random) -> str:
    """Corrupt what a grader never reads: saved outputs, execution counts, refused metadata."""
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    cell = rng.choice(code)
    what = rng.choice(["outputs", "not-a-list", "execution_count", "metadata", "attachments", "kernel"])
    if what == "outputs":
        cell["outputs"] = [_output(rng) for _ in range(rng.randint(1, 4))]
    elif what == "not-a-list":
        cell["outputs"] = rng.choice([{"a": 1}, "text", 5, None])
    elif what == "execution_count":
        cell["execution_count"] = rng.choice(["seven", -3, 1.5, {}, [1]])
    elif what == "metadata":
        cell["metadata"].update(collapsed="yes", scrolled=[1], widgets=DEEP.format(300))
        nb["metadata"]["authors"] = 5
    elif what == "attachments":
        md = rng.choice([c for c in nb["cells"] if c["cell_type"] == "markdown"])
        md["attachments"] = rng.choice([5, {"x.png": {"image/png": 7}}, {"x.png": DEEP.format(200)}])
    else:
        nb["metadata"]["kernelspec"] = rng.choice(["python3", 5, {"name": 3}, []])
    return what


# ---------------------------------------------------------------- structure


def _nodes(data: Json) -> list[Json]:
    found, stack = [], [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict | list):
            found.append(item)
            stack.extend(item.values() if isinstance(item, dict) else item)
    return found


def structural(nb: Json, rng: random.Random) -> str:
    """Missing or mistyped keys, unknown cell types, huge and deep values, anywhere."""
    ops = []
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(["delete", "retype", "add", "cell_type", "cell", "version", "top"])
        cells = nb.get("cells") if isinstance(nb.get("cells"), list) and nb["cells"] else None
        if op in {"cell_type", "cell"} and cells is None:
            op = "top"
        ops.append(op)
        if op == "cell_type":
            cell = rng.choice(nb["cells"])
            if isinstance(cell, dict):
                cell["cell_type"] = rng.choice(["banana", "heading", "", 5, None, "Code"])
        elif op == "cell":
            nb["cells"][rng.randrange(len(nb["cells"]))] = junk(rng)
        elif op == "version":
            nb[rng.choice(["nbformat", "nbformat_minor"])] = rng.choice([3, 5, 99, "4", None, -1, 4.0])
        elif op == "top":
            nb[rng.choice(["cells", "metadata"])] = junk(rng)
        else:
            node = rng.choice(_nodes(nb))
            if isinstance(node, dict) and node:
                key = rng.choice(sorted(node))
                if op == "delete":
                    del node[key]
                elif op == "retype":
                    node[key] = junk(rng)
                else:
                    node[f"future_{rng.randint(0, 99)}"] = junk(rng)
            elif isinstance(node, list) and node:
                index = rng.randrange(len(node))
                if op == "delete":
                    del node[index]
                else:
                    node[index] = junk(rng)
    return "-".join(ops)


# ---------------------------------------------------------------- bytes


def as_bytes(nb: Json, rng: random.Random) -> tuple[str, bytes]:
    """Wrong encodings, truncation, flipped bytes, JSON that is no notebook."""
    md = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    md["source"] = ["Übung: Gradientenabstieg, café\n", *md["source"]]  # so that latin-1 is not UTF-8
    text = json.dumps(nb, indent=1, ensure_ascii=False)
    raw = text.encode("utf-8")
    what = rng.choice(["utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252", "truncated", "flipped",
                       "not-a-dict", "empty", "garbage", "bom-truncated"])
    if what in {"utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252"}:
        return what, text.encode(what)
    if what == "truncated":
        return what, raw[: rng.randrange(len(raw))]
    if what == "flipped":
        data = bytearray(raw)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return what, bytes(data)
    if what == "not-a-dict":
        return what, json.dumps(rng.choice([[nb], 5, "notebook", None, True, [], nb["cells"]])).encode()
    if what == "empty":
        return what, rng.choice([b"", b" \n", b"\xef\xbb\xbf"])
    if what == "garbage":
        return what, rng.randbytes(rng.randint(1, 5000))
    return what, b"\xef\xbb\xbf" + raw[: rng.randrange(len(raw))]


def cases(seed: int, count: int = 300) -> list[Case]:
    rng = random.Random(seed)
    notebooks = bases()
    names = sorted(notebooks)
    made = []
    for index in range(count):
        base_name = rng.choice(names)
        nb, points = copy.deepcopy(notebooks[base_name][0]), notebooks[base_name][1]
        prefix = f"f{index:03d}_{base_name}"
        if index < 16:  # these run: outputs and metadata never cost a grade
            what = outputs_only(nb, rng)
            made.append(Case(f"{prefix}_outputs_{what}", dumps(nb), points))
        elif index < 20:
            made.append(Case(f"{prefix}_bom", b"\xef\xbb\xbf" + dumps(nb), points))
        elif index < 22:  # over the size cap
            nb["metadata"]["blob"] = "z" * (21 * 2**20)
            made.append(Case(f"{prefix}_huge", dumps(nb)))
        elif index < 90:
            made.append(Case(f"{prefix}_{structural(nb, rng)}", dumps(nb)))
        else:
            what, raw = as_bytes(nb, rng)
            made.append(Case(f"{prefix}_{what}", raw))
    return made


def test_every_corruption_is_a_row(tmp_path: Path) -> None:
    seed = int(os.environ.get("AUTOGRADE_FUZZ_SEED", random.SystemRandom().randrange(2**32)))
    print(f"fuzz seed: {seed} (AUTOGRADE_FUZZ_SEED={seed} replays it)")
    uploads, out = tmp_path / "uploads", tmp_path / "out"
    uploads.mkdir()
    made = cases(seed)
    for case in made:
        (uploads / f"{case.name}.ipynb").write_bytes(case.data)
    done = subprocess.run(
        [CLI, "grade", str(uploads), "--assignment", "ex02_gradient_descent", "--out", str(out),
         "--seed", "0", "-j", "2"],
        capture_output=True, text=True, timeout=900,
    )
    where = f"seed {seed}: "
    assert done.returncode == 0, where + done.stdout[-3000:] + done.stderr[-3000:]
    with open(out / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == sorted(case.name for case in made), where + "not every upload is a row"
    problems = []
    for case in made:
        report = json.loads((out / "students" / case.name / "report.json").read_text())
        status, notes = report["status"], report["notes"]
        if status not in STATUSES or rows[case.name]["status"] != status:
            problems.append(f"{case.name}: status {status!r}: {notes}")
        elif status != "graded" and not any(f"{case.name}.ipynb" in note for note in notes):
            problems.append(f"{case.name}: {status} without a reason naming the file: {notes}")
        elif case.expect is not None:
            points = {task["id"]: task["points"] for task in report["tasks"]}
            if status != "graded" or points != case.expect:
                problems.append(f"{case.name}: {status} {points}, expected {case.expect}: {notes}")
    assert not problems, where + "\n".join(problems[:20])

