"""The committed course notebooks are exactly what their source makes: `rubrics/_build_notebooks.py`
of each assignment's `cells.py`, and `autograde assign` of an assignment written as one master
notebook (ex02). A hand edit of a solution, template, mutant or rubric (or a source edit without
regenerating) fails here, naming the file."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from autograde.authoring.draft import write_draft
from autograde.authoring.master import assign_master

ROOT = Path(__file__).resolve().parents[2]
MASTERS = ("ex02_gradient_descent",)  # assignment folders made by `autograde assign`


def _driver():
    sys.path.insert(0, str(ROOT / "rubrics"))
    path = ROOT / "rubrics" / "_build_notebooks.py"
    spec = importlib.util.spec_from_file_location("_build_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_assignment_folder_has_one_source_of_its_notebooks():
    folders = sorted(p.parent for p in (ROOT / "rubrics").glob("*/rubric.yaml"))
    assert folders
    for folder in folders:
        sources = [name for name in ("cells.py", "master.ipynb") if (folder / name).is_file()]
        expected = ["master.ipynb"] if folder.name in MASTERS else ["cells.py"]
        assert sources == expected, f"{folder.name}: {sources}"


def test_committed_notebooks_match_their_source():
    stale = []
    for path, content in _driver().library().items():
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            stale.append(str(path.relative_to(ROOT)))
    assert not stale, f"regenerate with rubrics/_build_notebooks.py: {stale}"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_master_made_folders_are_what_assign_makes(tmp_path: Path):
    for name in MASTERS:
        folder = ROOT / "rubrics" / name
        write_draft(assign_master(folder / "master.ipynb", name), tmp_path / name)
        made, committed = _files(tmp_path / name), _files(folder)
        assert sorted(made) == sorted(committed), f"{name}: files differ"
        stale = sorted(path for path in made if made[path] != committed[path])
        assert not stale, (
            f"run `autograde assign rubrics/{name}/master.ipynb --out rubrics/{name}`: {stale} differ"
        )
