"""The mutation operators: each finds the places in one cell's source where a student's
typical mistake could be made, and makes it, one place at a time.

Mutation points are found on the `ast` and enumerated in source order, so the same source
always gives the same mutants in the same order. A mutant's text is the original with only
the mutated expression or statement re-written (`ast.unparse` of that node, comments and
layout elsewhere kept); it is re-parsed and must give exactly the mutated tree, else the
whole cell is unparsed instead.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

# operator name -> what it does, for reports and saved mutants' descriptions
OPERATORS: dict[str, str] = {
    "arith": "arithmetic operator swapped",
    "compare": "comparison operator swapped",
    "const": "constant off by one",
    "swap-args": "arguments of a call swapped",
    "drop": "statement dropped",
    "return-input": "function returns its first parameter unchanged",
    "no-reduce": "missing .mean()/.sum()",
    "transpose": "matrix transposed (or a .T dropped)",
}

_ARITH: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.Pow: ast.Mult,
}
_COMPARE: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
}
_REDUCTIONS = {"mean", "sum"}
_MODULES = {"np", "numpy", "torch", "jnp", "tf", "math", "statistics"}  # np.mean(x): x is args[0]
_NOT_DROPPED = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Pass,
                ast.Global, ast.Nonlocal)  # fmt: skip


@dataclass(frozen=True)
class Mutation:
    """One mutant of a cell: the operator, where (1-based line in the cell), the mutated source."""

    operator: str
    line: int
    source: str

    def changed_line(self, original: str) -> str:
        """The mutated line as it reads in the mutant (the first line that differs); for a dropped
        statement, its original line."""
        if self.operator == "drop":
            lines = original.splitlines()
            return "dropped: " + (lines[self.line - 1].strip() if 0 < self.line <= len(lines) else "")
        old, new = original.splitlines(), self.source.splitlines()
        for index, text in enumerate(new):
            if index >= len(old) or old[index] != text:
                return text.strip()
        return new[self.line - 1].strip() if 0 < self.line <= len(new) else ""


# ---------------------------------------------------------------- candidate nodes


@dataclass(frozen=True)
class _Edit:
    """Replace the nodes `first`..`last` (same parent) by `new`: `new` is spliced as text."""

    operator: str
    first: ast.AST
    last: ast.AST
    new: list[ast.AST]


def _is_print(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"


def _negatable(value: int | float) -> ast.expr:
    if value < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)


def _const(node: ast.Constant) -> Iterator[ast.expr]:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if isinstance(value, int):
        yield _negatable(value + 1)
        yield _negatable(value - 1)
    else:
        yield _negatable(value * 1.01 if value else 0.01)


def _expr_edits(node: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """(operator, replacement) for one expression node."""
    if isinstance(node, ast.BinOp):
        swap = _ARITH.get(type(node.op))
        if swap is not None:
            yield "arith", ast.BinOp(node.left, swap(), node.right)
        if isinstance(node.op, ast.MatMult):
            for side in ("left", "right"):
                operand = getattr(node, side)
                if not (isinstance(operand, ast.Attribute) and operand.attr == "T"):
                    parts = {"left": node.left, "right": node.right}
                    parts[side] = ast.Attribute(operand, "T", ast.Load())
                    yield "transpose", ast.BinOp(parts["left"], ast.MatMult(), parts["right"])
    elif isinstance(node, ast.AugAssign):
        swap = _ARITH.get(type(node.op))
        if swap is not None:
            yield "arith", ast.AugAssign(node.target, swap(), node.value)
    elif isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            other = _COMPARE.get(type(op))
            if other is not None:
                ops = list(node.ops)
                ops[index] = other()
                yield "compare", ast.Compare(node.left, ops, node.comparators)
    elif isinstance(node, ast.Constant):
        for new in _const(node):
            yield "const", new
    elif isinstance(node, ast.Call):
        positional = node.args
        if not any(isinstance(a, ast.Starred) for a in positional):
            for index in range(len(positional) - 1):
                if ast.dump(positional[index]) != ast.dump(positional[index + 1]):
                    args = list(positional)
                    args[index], args[index + 1] = args[index + 1], args[index]
                    yield "swap-args", ast.Call(node.func, args, node.keywords)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _REDUCTIONS:
            if isinstance(func.value, ast.Name) and func.value.id in _MODULES:
                if positional and not isinstance(positional[0], ast.Starred):
                    yield "no-reduce", positional[0]
            else:
                yield "no-reduce", func.value
        elif isinstance(func, ast.Name) and func.id == "sum" and len(positional) == 1:
            yield "no-reduce", positional[0]
    elif isinstance(node, ast.Attribute) and node.attr == "T":
        yield "transpose", node.value


def _is_docstring(body: list[ast.stmt], index: int, owner: ast.AST) -> bool:
    statement = body[index]
    return (
        index == 0
        and isinstance(owner, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _statement_edits(owner: ast.AST) -> Iterator[_Edit]:
    """Dropped statements of the bodies of `owner`, and `return <first parameter>` for a function."""
    for field in ("body", "orelse", "finalbody"):
        body = getattr(owner, field, None)
        if not isinstance(body, list) or not body or not isinstance(body[0], ast.stmt):
            continue
        for index, statement in enumerate(body):
            last_return = (
                isinstance(owner, ast.FunctionDef | ast.AsyncFunctionDef)
                and field == "body"
                and index == len(body) - 1
                and isinstance(statement, ast.Return)
            )
            if (
                last_return
                or isinstance(statement, _NOT_DROPPED)
                or _is_docstring(body, index, owner)
                or (isinstance(statement, ast.Expr) and _is_print(statement.value))
            ):
                continue
            yield _Edit("drop", statement, statement, [ast.Pass()])
    if isinstance(owner, ast.FunctionDef | ast.AsyncFunctionDef):
        params = [a.arg for a in [*owner.args.posonlyargs, *owner.args.args] if a.arg not in ("self", "cls")]
        returns = any(isinstance(n, ast.Return) and n.value is not None for n in ast.walk(owner))
        body = owner.body
        start = 1 if _is_docstring(body, 0, owner) and len(body) > 1 else 0
        new = ast.Return(ast.Name(params[0], ast.Load())) if params else None
        if (
            new is not None
            and returns
            and ast.dump(ast.Module(body[start:], [])) != ast.dump(ast.Module([new], []))
        ):
            yield _Edit("return-input", body[start], body[-1], [new])


def _edits(tree: ast.Module) -> list[_Edit]:
    """Every edit of the tree, in source order (line, column, then the operators' order)."""
    found: list[tuple[int, int, int, _Edit]] = []

    def visit(node: ast.AST) -> None:
        if _is_print(node) or isinstance(node, ast.JoinedStr):
            return  # only output: a mutant there changes nothing the grader sees
        for edit in _statement_edits(node):
            found.append((edit.first.lineno, edit.first.col_offset, len(found), edit))  # type: ignore[attr-defined]
        if hasattr(node, "lineno"):
            for operator, new in _expr_edits(node):
                edit = _Edit(operator, node, node, [new])
                found.append((node.lineno, node.col_offset, len(found), edit))  # type: ignore[attr-defined]
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return [edit for *_, edit in sorted(found, key=lambda item: item[:3])]


# ---------------------------------------------------------------- applying an edit


def _apply(tree: ast.Module, edit: _Edit) -> ast.Module:
    """A copy of the tree with the edit made (nodes are matched by identity, then copied)."""

    class Replace(ast.NodeTransformer):
        def generic_visit(self, node: ast.AST) -> ast.AST:
            for field, old in ast.iter_fields(node):
                if isinstance(old, list):
                    if any(item is edit.first for item in old):
                        start = next(i for i, item in enumerate(old) if item is edit.first)
                        end = next(i for i, item in enumerate(old) if item is edit.last)
                        old = [*old[:start], *edit.new, *old[end + 1 :]]
                    setattr(
                        node, field, [self.visit(item) if isinstance(item, ast.AST) else item for item in old]
                    )
                elif old is edit.first:
                    setattr(node, field, edit.new[0])
                elif isinstance(old, ast.AST):
                    setattr(node, field, self.visit(old))
            return node

    if tree is edit.first:  # pragma: no cover - a module is never an edit target
        raise ValueError("cannot replace the module")
    # deepcopy keeps the identity map inside one call: copy the tree and the edit together
    copied_tree, copied_edit = copy.deepcopy((tree, edit))
    edit = copied_edit
    result = Replace().visit(copied_tree)
    assert isinstance(result, ast.Module)
    return result


def _offset(lines: list[str], line: int, col: int) -> int:
    """The character offset of (1-based line, utf-8 byte column) in the joined source."""
    before = sum(len(text) for text in lines[: line - 1])
    return before + len(lines[line - 1].encode("utf-8")[:col].decode("utf-8", errors="replace"))


def _splice(source: str, edit: _Edit) -> list[str]:
    """Candidate texts: the edited node range replaced by the unparsed new nodes."""
    lines = source.splitlines(keepends=True)
    first, last = edit.first, edit.last
    start = _offset(lines, first.lineno, first.col_offset)  # type: ignore[attr-defined]
    end = _offset(lines, last.end_lineno, last.end_col_offset)  # type: ignore[attr-defined]
    indent = " " * first.col_offset  # type: ignore[attr-defined]
    text = ("\n" + indent).join(ast.unparse(node) for node in edit.new)
    candidates = [source[:start] + text + source[end:]]
    if isinstance(edit.new[0], ast.expr):
        candidates.append(source[:start] + "(" + text + ")" + source[end:])
    return candidates


def _same(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a) == ast.dump(b)


def _compiles(source: str) -> bool:
    try:
        compile(source, "<mutant>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def keep(original: str, candidates: list[Mutation]) -> list[Mutation]:
    """The candidates that compile and differ from the original and from every earlier one."""
    seen = {original}
    kept = []
    for mutation in candidates:
        if mutation.source in seen or not _compiles(mutation.source):
            continue
        seen.add(mutation.source)
        kept.append(mutation)
    return kept


def mutations(source: str, operators: Callable[[str], bool] | None = None) -> list[Mutation]:
    """Every mutant of one cell's source, deterministically ordered; [] if it does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    candidates = []
    for edit in _edits(tree):
        if operators is not None and not operators(edit.operator):
            continue
        expected = _apply(tree, edit)
        text = next((t for t in _splice(source, edit) if _parses_to(t, expected)), None)
        if text is None:
            text = ast.unparse(expected)
        candidates.append(Mutation(edit.operator, edit.first.lineno, text))  # type: ignore[attr-defined]
    return keep(source, candidates)


def _parses_to(text: str, expected: ast.Module) -> bool:
    try:
        return _same(ast.parse(text), expected)
    except SyntaxError:
        return False
