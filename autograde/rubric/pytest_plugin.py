"""A pytest plugin for rubric libraries: ``pytest --autograde-library rubrics/`` collects each
assignment's solution, template and mutants as test items and grades each as `autograde
rubric test` does (the same `selftest.run_case`), so a course's CI shows one result per
notebook, with pytest's own selection (``-k ex02``), JUnit XML (``--junit-xml``) and
parallel workers (pytest-xdist).

Installed with the package (entry point ``pytest11``); without ``--autograde-library`` it adds
options and nothing else. Items of one assignment run one after another, each in a warm
sandbox made while the one before was graded (never reused); ``--autograde-cold`` turns that
off.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from autograde.rubric.loader import RUBRIC_FILE

if TYPE_CHECKING:
    from autograde.rubric import Assignment
    from autograde.rubric.selftest import Case

LIBRARY_KEY = pytest.StashKey[Path]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autograde", "autograde: test a rubric library")
    group.addoption("--autograde-library", metavar="DIR", default=None,
                    help="grade every solution, template and mutant of this rubric library as a test "
                         "(a course library folder, or its rubrics/ folder)")
    group.addoption("--autograde-seed", type=int, default=0, metavar="N",
                    help="grading seed for hidden inputs (default 0, as `autograde rubric test`)")
    group.addoption("--autograde-backend", choices=["local", "docker"], default="local",
                    help="sandbox backend (default local)")
    group.addoption("--autograde-cold", action="store_true",
                    help="no warm sandboxes: each notebook's sandbox is made when its test starts")


def pytest_configure(config: pytest.Config) -> None:
    named = config.getoption("autograde_library")
    if not named:
        return
    from autograde.errors import RubricError
    from autograde.library import library_rubrics
    from autograde.rubric.loader import ensure_reference_importable

    root = Path(named).expanduser().resolve()
    if not root.is_dir():
        raise pytest.UsageError(f"--autograde-library {named}: no such folder")
    try:
        rubrics = library_rubrics(root, "--autograde-library ")
    except RubricError as exc:
        raise pytest.UsageError(str(exc)) from None
    if not any(rubrics.glob(f"*/{RUBRIC_FILE}")):
        raise pytest.UsageError(f"--autograde-library {named}: {rubrics} holds no */{RUBRIC_FILE}")
    ensure_reference_importable(rubrics)
    config.stash[LIBRARY_KEY] = rubrics
    # collect the library: instead of testpaths or the current folder, or beside named paths
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = [str(rubrics)]
    elif not any(_covers(Path(arg.split("::")[0]).resolve(), rubrics) for arg in config.args):
        config.args.append(str(rubrics))


def _covers(arg: Path, rubrics: Path) -> bool:
    return arg == rubrics or arg in rubrics.parents or rubrics in arg.parents


def pytest_unconfigure(config: pytest.Config) -> None:
    if LIBRARY_KEY in config.stash:
        from autograde.backends.warm import close_pools

        close_pools()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    rubrics = parent.config.stash.get(LIBRARY_KEY, None)
    if rubrics is not None and file_path.name == RUBRIC_FILE and file_path.parent.parent == rubrics:
        return RubricFile.from_parent(parent, path=file_path)
    return None


class RubricFile(pytest.File):
    """One assignment: an item per notebook its rubric names. An invalid rubric is a
    collection error that names the file and the field."""

    def collect(self) -> Iterator[NotebookItem]:
        from autograde.rubric import load_rubric_file
        from autograde.rubric.selftest import cases

        assignment = load_rubric_file(self.path)
        for case in cases(assignment):
            yield NotebookItem.from_parent(self, name=case.notebook, assignment=assignment, case=case)


class NotebookFailed(Exception):
    """A notebook that did not score as its rubric says."""


class NotebookItem(pytest.Item):
    """One notebook of an assignment, graded and held against the points its rubric expects."""

    def __init__(self, *, assignment: Assignment, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.assignment = assignment
        self.case = case

    def runtest(self) -> None:
        from autograde.rubric.selftest import run_case

        config = self.config
        fresh = dataclasses.replace(self.case, problems=[], report=None)  # a rerun starts clean
        case = run_case(self.assignment, fresh, config.getoption("autograde_seed"),
                        config.getoption("autograde_backend"), warm=not config.getoption("autograde_cold"))
        report = case.report
        if report is not None:
            self.user_properties.append(("score", f"{report.score:g}/{report.max_score:g}"))
            self.user_properties.append(("seconds", f"{case.seconds:.1f}"))
        if case.problems:
            raise NotebookFailed("\n".join(case.problems))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, NotebookFailed):
            where = f"{self.assignment.id}/{self.case.notebook}"
            return f"{where} did not score as its rubric says:\n{excinfo.value}"
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.assignment.path(self.case.notebook), None, f"{self.assignment.id}::{self.case.notebook}"
