"""Reference modules kept in the assignment's own folder: `reference: solution_code.py:loss`.

A spec whose module part ends in `.py` (for a check's `reference` or `judge`, a data set's
`generator`) names a file beside rubric.yaml, as `autograde assign` writes one. When the
rubric loads, each such spec is rewritten to a module of a package that stands for that
folder (`_autograde_local_<folder>_<digest>.solution_code:loss`), so every user of a spec
(`load_reference`, the data-set cache, the self-check bundle) imports it as it imports
`reference.exNN`: on the host only (the folder is one of the run's host secrets).

The package's name holds the folder's name and a digest of its Python files: two
assignments with the same file name share a module only where they share its code too, the
name is the same on every machine (a student bundle that quotes a spec does not depend on
where the library lies), and loading a rubric again after its module changed (a new
`assign`) imports the new code. An attribute the file lacks is an AttributeError naming the file.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from autograde.errors import RubricError

PREFIX = "_autograde_local_"
_LOCAL = re.compile(r"^(?P<module>[^:]+)\.py:(?P<attr>[A-Za-z_][A-Za-z0-9_.]*)$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CHECK_KEYS = ("reference", "judge")


class _LocalLoader(importlib.machinery.SourceFileLoader):
    """A module of an assignment folder: an attribute it lacks names the file in the error,
    and no `__pycache__` is written into the folder (what `assign` wrote stays all there is)."""

    def set_data(self, path: str, data: Any, *, _mode: int = 0o666) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        super().exec_module(module)
        if "__getattr__" not in module.__dict__:
            path = self.path

            def missing(name: str) -> Any:
                raise AttributeError(f"{path} defines no {name!r}")

            module.__dict__["__getattr__"] = missing


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the packages registered for assignment folders and the modules in them."""

    def __init__(self) -> None:
        self.folders: dict[str, Path] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        top, _, rest = fullname.partition(".")
        folder = self.folders.get(top)
        if folder is None:
            return None
        if not rest:
            spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
            spec.submodule_search_locations = [str(folder)]
            return spec
        location = folder.joinpath(*rest.split("."))
        if location.is_dir():
            spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
            spec.submodule_search_locations = [str(location)]
            return spec
        source = location.with_name(location.name + ".py")
        if not source.is_file():
            return None
        return importlib.util.spec_from_file_location(
            fullname, source, loader=_LocalLoader(fullname, str(source))
        )


_FINDER = _Finder()


def _finder() -> _Finder:
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    return _FINDER


def package_for(folder: Path) -> str:
    """The package that stands for `folder` as its Python files are now (registered)."""
    folder = folder.resolve()
    digest = hashlib.sha256(folder.name.encode() + b"\0")
    for path in sorted(folder.rglob("*.py")):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    label = re.sub(r"[^A-Za-z0-9_]", "_", folder.name)[:40]
    name = f"{PREFIX}{label}_{digest.hexdigest()[:12]}"
    _finder().folders[name] = folder
    return name


class _Resolver:
    """Rewrites the local specs of one rubric's data, naming the field of a bad one."""

    def __init__(self, rubric_path: Path) -> None:
        self.rubric_path = rubric_path
        self.folder = rubric_path.parent
        self.package: str | None = None
        self.files: list[Path] = []

    def spec(self, value: Any, where: str) -> Any:
        if not isinstance(value, str):
            return value
        match = _LOCAL.match(value)
        if not match:
            return value
        parts = match.group("module").split("/")
        if not all(_IDENT.match(part) for part in parts):
            raise RubricError(
                f"{self.rubric_path}: {where}: {value!r}: a module file of the assignment folder is "
                "named like a Python module (letters, digits, underscores; folders with /)"
            )
        file = self.folder.joinpath(*parts[:-1], parts[-1] + ".py")
        if not file.is_file():
            raise RubricError(f"{self.rubric_path}: {where}: {value!r}: there is no file {file}")
        if self.package is None:
            self.package = package_for(self.folder)
        self.files.append(file.resolve())
        return f"{self.package}.{'.'.join(parts)}:{match.group('attr')}"


def _rewrite_source(resolver: _Resolver, source: Any, where: str) -> Any:
    if isinstance(source, dict) and "generator" in source:
        return {**source, "generator": resolver.spec(source["generator"], f"{where}.generator")}
    return source


def resolve_local_specs(data: dict[str, Any], rubric_path: Path) -> dict[str, Any]:
    """The rubric data with every spec of an assignment-local module rewritten (a copy
    where anything changed). A spec naming a missing file, or a `files:` entry that would
    ship such a module to students, is a RubricError naming the rubric and the field."""
    resolver = _Resolver(rubric_path)
    out = dict(data)
    if "data_dir" in out:
        out["data_dir"] = _rewrite_source(resolver, out["data_dir"], "data_dir")
    if isinstance(out.get("hidden_data"), dict):
        out["hidden_data"] = {
            name: _rewrite_source(resolver, source, f"hidden_data.{name}")
            for name, source in out["hidden_data"].items()
        }
    if isinstance(out.get("tasks"), list):
        tasks = []
        for t_index, task in enumerate(out["tasks"]):
            if isinstance(task, dict) and isinstance(task.get("checks"), list):
                checks = []
                for c_index, check in enumerate(task["checks"]):
                    if isinstance(check, dict):
                        check = {
                            key: resolver.spec(value, f"tasks.{t_index}.checks.{c_index}.{key}")
                            if key in _CHECK_KEYS
                            else value
                            for key, value in check.items()
                        }
                    checks.append(check)
                task = {**task, "checks": checks}
            tasks.append(task)
        out["tasks"] = tasks
    _refuse_shipping(resolver, out.get("files"))
    return out


def _refuse_shipping(resolver: _Resolver, files: Any) -> None:
    """`files:` go to students: none may hold a module the rubric uses as its reference."""
    if not resolver.files or not isinstance(files, list):
        return
    for index, entry in enumerate(files):
        if not isinstance(entry, str):
            continue
        shipped = (resolver.folder / entry).resolve()
        for module in resolver.files:
            if module == shipped or shipped in module.parents:
                raise RubricError(
                    f"{resolver.rubric_path}: files.{index}: {entry!r} would give students "
                    f"{module.name}, the host-side reference code of this rubric"
                )
