"""Self-checks in the notebook: `from autograde import student; student.check("gradient")`.

The public checks of a task (or all of them with `student.check_all()`) run against the
live kernel: what your notebook has defined so far, the bundle's published inputs, the
grader's own checks. The check bundle (`<assignment>.check`, from your instructor) lies
beside the notebook. Nothing runs in a subprocess, nothing goes over the network and
nothing is written. The grade comes from a fresh run at new inputs after you submit.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autograde.selfcheck.bundle import Bundle
    from autograde.selfcheck.display import SelfCheckResult

__all__ = ["check", "check_all", "run"]

_LOADED: dict[tuple[str, float], Bundle] = {}


def _namespace(depth: int) -> dict[str, Any]:
    """The notebook's namespace: IPython's user namespace, else the caller's globals."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if shell is not None and isinstance(getattr(shell, "user_ns", None), dict):
        names: dict[str, Any] = shell.user_ns
        return names
    return sys._getframe(depth).f_globals


def find_bundle(bundle: str | os.PathLike[str] | None = None) -> Path:
    """The bundle named, else $AUTOGRADE_BUNDLE, else the one *.check file in this folder."""
    from autograde.selfcheck.bundle import SUFFIX, BundleError

    if bundle is not None:
        return Path(bundle)
    if os.environ.get("AUTOGRADE_BUNDLE"):
        return Path(os.environ["AUTOGRADE_BUNDLE"])
    here = Path.cwd()
    found = sorted(here.glob(f"*{SUFFIX}"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise BundleError(
            f"no check bundle (*{SUFFIX}) in {here}: download your assignment's bundle from the course "
            "page and put it beside this notebook (Colab: upload it with the Files panel)"
        )
    names = ", ".join(p.name for p in found)
    raise BundleError(f"several check bundles in {here} ({names}): name one, e.g. bundle={found[0].name!r}")


def _bundle(path: Path) -> Bundle:
    from autograde.selfcheck.bundle import read_bundle

    key = (str(path.resolve()), path.stat().st_mtime if path.exists() else 0.0)
    if key not in _LOADED:
        _LOADED[key] = read_bundle(path)
    return _LOADED[key]


def _notebook_answers() -> Any:
    """The saved notebook's cells by tag, where the front end says which notebook this is
    (VS Code, Jupyter Server); None where it cannot be known (a free-text answer then says
    how to check it)."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    names = [getattr(shell, "user_ns", {}).get("__vsc_ipynb_file__"), os.environ.get("JPY_SESSION_NAME")]
    for name in names:
        if isinstance(name, str) and name.endswith(".ipynb") and Path(name).is_file():
            import nbformat

            from autograde.pipeline.ingest import tagged_source

            try:
                nb = nbformat.read(name, as_version=4)
            except Exception:  # an unreadable file: as if unknown
                return None
            return lambda tag: tagged_source(nb, tag)
    return None


def run(
    tasks: list[str] | None = None,
    bundle: str | os.PathLike[str] | None = None,
    namespace: dict[str, Any] | None = None,
) -> SelfCheckResult:
    """The public checks of `tasks` (all by default) against `namespace` (the notebook's)."""
    from autograde.selfcheck.display import SelfCheckResult
    from autograde.selfcheck.judge import after_submission, judge_bundle
    from autograde.selfcheck.live import LiveProbes

    loaded = _bundle(find_bundle(bundle))
    names = namespace if namespace is not None else _namespace(2)
    report = judge_bundle(loaded, LiveProbes(loaded, names), _notebook_answers(), tasks)
    return SelfCheckResult(report, after_submission(loaded, report))


def _show(result: Any) -> None:
    display = getattr(sys.modules.get("IPython.display"), "display", None)
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if display is not None and shell is not None:
        display(result)
    else:
        print(result)


def _under_grader() -> bool:
    return bool(os.environ.get("AUTOGRADE_JOB"))


def check(task: str, bundle: str | os.PathLike[str] | None = None) -> None:
    """Run the public checks of one task and show the result."""
    _checked([task], bundle)


def check_all(bundle: str | os.PathLike[str] | None = None) -> None:
    """Run every public check of the assignment and show the result."""
    _checked(None, bundle)


def _checked(tasks: list[str] | None, bundle: str | os.PathLike[str] | None) -> None:
    from autograde.errors import AutogradeError

    if _under_grader():
        print("autograde: self-check skipped while the notebook is graded")
        return
    try:
        result = run(tasks, bundle, _namespace(3))
    except AutogradeError as exc:
        print(f"autograde: {exc}", file=sys.stderr)
        return
    _show(result)
