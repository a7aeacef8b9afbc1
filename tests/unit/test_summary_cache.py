"""`autograde list` reads cached rubric summaries, and never a stale or an invalid one: the
cache key covers the rubric's bytes, its folder's listing and the engine (summary_cache.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograde.cli.main import main
from autograde.rubric import discover, load_rubric_file
from autograde.rubric import summary_cache as cache
from autograde.rubric.table import markdown

LIBRARY = Path(__file__).resolve().parents[2] / "rubrics"
EX01_ROW = (
    "| **ex01_perceptron**<br>Exercise 1: numpy basics and the perceptron | "
    "`numpy`: numpy basics: a bias column, standardised features (2)<br>"
    "`predict`: perceptron prediction with a bias (2)<br>"
    "`train`: the perceptron learning rule (3)<br>"
    "`separation`: a trained perceptron separates two classes (3) | 10 |"
)


@pytest.fixture
def library(tmp_path, monkeypatch):
    """A copy of two assignments of the library (ex02 names a module of its own folder),
    with an empty summary cache of its own."""
    rubrics = tmp_path / "rubrics"
    for name in ("ex01_perceptron", "ex02_gradient_descent"):
        shutil.copytree(LIBRARY / name, rubrics / name)
    monkeypatch.setenv("AUTOGRADE_CACHE", str(tmp_path / "cache"))
    return rubrics


def listing(rubrics: Path) -> tuple[int, str]:
    done = CliRunner().invoke(main, ["list", "--markdown", "--rubrics", str(rubrics)])
    return done.exit_code, done.output


def cached_entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / cache.FOLDER).glob("*.json"))


def test_first_list_caches_each_summary_and_the_next_reads_them(library, tmp_path):
    code, first = listing(library)
    assert code == 0, first
    assert EX01_ROW in first  # as the README's table has it (hand-checked against the rubric)
    assert len(cached_entries(tmp_path)) == 2
    assert listing(library) == (0, first)


def test_an_edited_rubric_is_listed_as_it_is_now(library):
    assert listing(library)[0] == 0
    rubric = library / "ex01_perceptron" / "rubric.yaml"
    text = rubric.read_text()
    edited = text.replace('title: "Exercise 1: numpy basics and the perceptron"', 'title: "Perceptrons"')
    edited = edited.replace("    points: 2\n", "    points: 5\n", 1)  # task numpy: 2 -> 5 points
    assert edited.count("Perceptrons") == 1 and edited != text
    rubric.write_text(edited)
    code, output = listing(library)
    assert code == 0, output
    row = next(line for line in output.splitlines() if "**ex01_perceptron**" in line)
    assert row.startswith("| **ex01_perceptron**<br>Perceptrons | ")
    assert "standardised features (5)" in row
    assert row.endswith("| 13 |")  # 5 + 2 + 3 + 3


def test_a_rubric_made_invalid_after_caching_is_reported(library):
    assert listing(library)[0] == 0
    rubric = library / "ex01_perceptron" / "rubric.yaml"
    rubric.write_text(rubric.read_text().replace("    points: 2\n", "    points: -1\n", 1))
    for _ in range(2):  # never cached, so reported on every run
        code, output = listing(library)
        assert code == 2
        assert "invalid rubric" in output and "tasks.0.points" in output
        assert str(rubric) in output.replace("\n", "")


def test_a_removed_module_of_the_folder_is_reported(library):
    # the rubric's bytes are the same; its folder's listing is not
    assert listing(library)[0] == 0
    (library / "ex02_gradient_descent" / "solution_code.py").unlink()
    code, output = listing(library)
    assert code == 2
    assert "solution_code.py" in output and "there is no file" in output


@pytest.mark.parametrize("where", ["a file", "a folder under a file"])
def test_an_unusable_cache_folder_only_costs_the_full_load(library, tmp_path, monkeypatch, where):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("AUTOGRADE_CACHE", str(blocker if where == "a file" else blocker / "cache"))
    for _ in range(2):
        code, output = listing(library)
        assert code == 0, output
        assert EX01_ROW in output
    assert blocker.read_text() == ""


def test_a_damaged_entry_is_replaced(library, tmp_path):
    assert listing(library)[0] == 0
    for entry in cached_entries(tmp_path):
        entry.write_text('{"assignment": "ex01_perceptron", "title": 3}')
    code, output = listing(library)
    assert code == 0, output
    assert EX01_ROW in output
    assert all('"tasks"' in entry.read_text() for entry in cached_entries(tmp_path))


def test_the_key_follows_the_engine_code():
    path = LIBRARY / "ex01_perceptron" / "rubric.yaml"
    raw = path.read_bytes()
    module = Path(cache.__file__).with_name("schema.py")
    before = module.stat()
    key = cache.summary_key(path, raw)
    try:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
        cache.engine_fingerprint.cache_clear()
        assert cache.summary_key(path, raw) != key
    finally:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
        cache.engine_fingerprint.cache_clear()
    assert cache.summary_key(path, raw) == key
    assert cache.summary_key(path, raw + b"\n") != key


def test_cached_summaries_list_the_library_as_full_loads_do(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADE_CACHE", str(tmp_path))
    paths = discover(LIBRARY)
    full = markdown([load_rubric_file(path).rubric for path in paths])
    assert markdown([cache.summarize(path) for path in paths]) == full  # loaded, then cached
    assert len(list((tmp_path / cache.FOLDER).glob("*.json"))) == len(paths)
    assert markdown([cache.summarize(path) for path in paths]) == full  # read from the cache


def test_the_oldest_entries_are_removed_beyond_the_limit(library, tmp_path, monkeypatch):
    folder = tmp_path / "cache" / cache.FOLDER
    folder.mkdir(parents=True)
    for age in range(3):  # three entries of older engines
        old = folder / f"{age:064x}.json"
        old.write_text("{}")
        os.utime(old, (0, 1e9 * (age + 1)))
    monkeypatch.setattr(cache, "KEEP", 3)
    assert listing(library)[0] == 0  # writes two entries: the two oldest go
    names = sorted(path.name for path in cached_entries(tmp_path))
    assert len(names) == 3 and f"{2:064x}.json" in names
