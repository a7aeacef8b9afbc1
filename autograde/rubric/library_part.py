"""One assignment's part of the course library: what grading it needs (the Gradescope archive
and a cluster's workers get this, never more).

What grading reads of the assignment folder (never the instructor's notebooks or their
source), and the modules of the `reference` package its rubric names (checks'
`reference` and `judge`, data generators) with every `reference` module they import, found
by reading their imports (nothing is imported). Nothing of another assignment goes in.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from autograde.errors import RubricError
from autograde.rubric import Assignment
from autograde.rubric.local_refs import package_for
from autograde.rubric.support import strings_in, support_files

REFERENCE = "reference"
_SPEC = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*):[A-Za-z_][A-Za-z0-9_.]*$")


def named_modules(assignment: Assignment, top: str) -> list[str]:
    """The modules of package `top` that the rubric's specs name (`reference.ex08:filter_dataset`)."""
    found = {m.group(1) for s in strings_in(assignment.rubric.model_dump()) if (m := _SPEC.match(s))}
    return sorted(name for name in found if name == top or name.startswith(top + "."))


def _module_file(top_dir: Path, module: str) -> Path | None:
    base = top_dir.joinpath(*module.split(".")[1:])
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base == top_dir:
        return None  # a namespace package (an assignment folder): no file of its own
    file = base.with_name(base.name + ".py")
    return file if file.is_file() else None


def _imports(path: Path, module: str, top: str) -> set[str]:
    """The modules of package `top` that `path` (module `module`) imports, by its source."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError) as exc:
        raise RubricError(f"{path}: cannot read this module of the library ({exc})") from exc
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{node.module}" if node.module else parent
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from reference import ex07_data`
    return {name for name in found if name == top or name.startswith(top + ".")}


def module_files(top: str, top_dir: Path, modules: list[str]) -> dict[str, Path]:
    """The files (relative to `top_dir`'s parent, posix) of `modules` of package `top` (the
    folder `top_dir`), of every module of `top` they import and of the packages holding them;
    a named module that is missing is a RubricError."""
    files: dict[str, Path] = {}
    todo = list(modules)
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # its packages
        path = _module_file(top_dir, module)
        if path is None:
            if module in modules and module != top:
                raise RubricError(f"{top_dir}: no module {module!r}, which the rubric names")
            continue  # an imported name that is an attribute, not a module
        files[path.relative_to(top_dir.parent).as_posix()] = path
        todo.extend(_imports(path, module, top))
    return dict(sorted(files.items()))


def assignment_files(assignment: Assignment) -> dict[str, Path]:
    """The assignment folder's files that grading reads (relative to the folder, posix): the
    rubric, the template (its locked cells), the support files (`files:`) and the folder's
    modules the rubric's specs name (`solution_code.py:loss`) with those they import. Not the
    solution, the mutants, a master notebook or the notebooks' source (cells.py)."""
    folder = assignment.folder
    found = {"rubric.yaml": folder / "rubric.yaml"}
    template = folder / assignment.rubric.template
    if template.is_file():
        found[assignment.rubric.template] = template
    found.update(support_files(assignment))
    local = package_for(folder)
    modules = named_modules(assignment, local)
    for name, path in module_files(local, folder, modules).items():
        found[name.partition("/")[2]] = path  # `<folder>/solution_code.py`
    for path in found.values():
        if path.is_symlink() or not path.is_file():
            raise RubricError(f"{path}: a link or special file; the archive carries regular files only")
    return dict(sorted(found.items()))


def library_part(assignment: Assignment) -> dict[str, Path]:
    """Name in the archive's library/ folder -> file: `rubrics/<folder>/...` and `reference/...`."""
    files = {f"rubrics/{assignment.folder.name}/{name}": path
             for name, path in assignment_files(assignment).items()}
    modules = named_modules(assignment, REFERENCE)
    if modules:
        root = assignment.folder.resolve().parent.parent
        if not (root / REFERENCE).is_dir():
            from autograde.library import default_library

            root = default_library().resolve().parent  # a rubric folder alone: the default library's
        files.update(module_files(REFERENCE, root / REFERENCE, modules))
    return dict(sorted(files.items()))
