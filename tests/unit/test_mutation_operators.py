"""The mutation operators of `autograde rubric mutate` on small sources: each operator makes
exactly the mutants written out here by hand, in the same order every run."""

from __future__ import annotations

from autograde.mutation.operators import Mutation, keep, mutations
from autograde.mutation.run import Mutant
from autograde.mutation.save import append_mutants


def only(source: str, operator: str) -> list[str]:
    return [m.source for m in mutations(source, lambda op: op == operator)]


def test_arithmetic_operators_are_swapped_one_at_a_time():
    assert only("y = a + b * c ** 2\n", "arith") == [
        "y = a - b * c ** 2\n",
        "y = a + b / c ** 2\n",
        "y = a + b * (c * 2)\n",  # the mutated tree exactly: b * (c * 2)
    ]
    assert only("w -= eta * g\n", "arith") == ["w += eta * g\n", "w -= eta / g\n"]


def test_comparisons_are_swapped():
    assert only("ok = a < b\nsame = a == b\n", "compare") == [
        "ok = a <= b\nsame = a == b\n",
        "ok = a < b\nsame = a != b\n",
    ]
    assert only("z = x >= 0\n", "compare") == ["z = x > 0\n"]


def test_constants_are_off_by_one_and_floats_slightly():
    assert only("n = 3\n", "const") == ["n = 4\n", "n = 2\n"]
    assert only("k = 0\n", "const") == ["k = 1\n", "k = -1\n"]
    assert only("eta = 0.5\n", "const") == ["eta = 0.505\n"]
    assert only("flag = True\nname = 'a'\n", "const") == []


def test_two_positional_arguments_are_swapped():
    assert only("z = f(a, b, key=c)\n", "swap-args") == ["z = f(b, a, key=c)\n"]
    assert only("z = f(a, a)\ng(*xs, y)\n", "swap-args") == []


def test_a_statement_is_dropped_but_not_the_last_return_nor_the_docstring():
    source = 'def f(x):\n    """Doc."""\n    y = x + 1  # keep me\n    return y\n'
    assert only(source, "drop") == ['def f(x):\n    """Doc."""\n    pass  # keep me\n    return y\n']


def test_a_function_returns_its_first_parameter():
    source = 'def f(x, y):\n    """Doc."""\n    z = x * y\n    return z\n'
    assert only(source, "return-input") == ['def f(x, y):\n    """Doc."""\n    return x\n']
    assert only("def g(x):\n    return x\n", "return-input") == []  # already does


def test_a_missing_mean_or_sum():
    assert only("m = x.mean(axis=0)\n", "no-reduce") == ["m = x\n"]
    assert only("m = np.mean((y - t) ** 2)\n", "no-reduce") == ["m = (y - t) ** 2\n"]
    assert only("s = sum(v)\nt = torch.sum(v, 1)\n", "no-reduce") == [
        "s = v\nt = torch.sum(v, 1)\n",
        "s = sum(v)\nt = v\n",
    ]


def test_a_transposed_matrix_or_a_dropped_transpose():
    assert only("h = W @ x\n", "transpose") == ["h = W.T @ x\n", "h = W @ x.T\n"]
    # the product first (the outer node), then the .T inside it
    assert only("g = X.T @ r\n", "transpose") == ["g = X.T @ r.T\n", "g = X @ r\n"]


def test_precedence_is_kept_when_an_expression_is_rewritten():
    # y / x ** 2 -> y / (x * 2), not y / x * 2
    assert only("z = y / x ** 2\n", "arith") == ["z = y * x ** 2\n", "z = y / (x * 2)\n"]


def test_output_only_code_is_not_mutated():
    assert mutations("print('loss', 1 + 2)\n") == []
    assert only("msg = f'{a + 1}'\n", "arith") == []


def test_ids_lines_and_order_are_the_same_every_run():
    source = "def f(a, b):\n    c = a + 1\n    return c * b\n"
    first = mutations(source)
    assert first == mutations(source)
    assert [(m.operator, m.line) for m in first] == [
        ("drop", 2),
        ("return-input", 2),
        ("arith", 2),
        ("const", 2),
        ("const", 2),
        ("arith", 3),
    ]
    assert first[0].changed_line(source) == "dropped: c = a + 1"
    assert first[2].changed_line(source) == "c = a - 1"


def test_mutants_that_do_not_compile_or_repeat_the_original_are_dropped():
    original = "x = 1\n"
    candidates = [
        Mutation("const", 1, "x = 1\n"),  # the original
        Mutation("const", 1, "x = (\n"),  # does not parse
        Mutation("drop", 1, "def f():\n    x = 1\n    global x\n"),  # parses, does not compile
        Mutation("const", 1, "x = 2\n"),
        Mutation("arith", 1, "x = 2\n"),  # a duplicate of the one before
    ]
    assert keep(original, candidates) == [Mutation("const", 1, "x = 2\n")]
    assert mutations("%matplotlib inline\nx = 1\n") == []  # a cell that is not Python


def _mutant(loses: dict[str, float]) -> Mutant:
    return Mutant("q1-arith-1", "q1", 3, "q1", "arith", 2, "return a - b", "", graded=True, loses=loses)


def test_saved_mutants_are_appended_to_the_rubric_text_keeping_its_comments():
    text = (
        "schema: 1   # a comment\n"
        "mutants:\n"
        "  - notebook: mutants/a.ipynb   # hand-made\n"
        "    loses: {q1: 1}\n"
        "\n"
        "tasks:  # the tasks\n"
        "  - id: q1\n"
    )
    new = append_mutants(text, [("mutants/mut_q1_arith_1.ipynb", _mutant({"q1": 1.5}))])
    assert new == (
        "schema: 1   # a comment\n"
        "mutants:\n"
        "  - notebook: mutants/a.ipynb   # hand-made\n"
        "    loses: {q1: 1}\n"
        "  - notebook: mutants/mut_q1_arith_1.ipynb\n"
        '    description: "generated (arithmetic operator swapped), cell q1 line 2: return a - b"\n'
        "    loses: {q1: 1.5}\n"
        "\n"
        "tasks:  # the tasks\n"
        "  - id: q1\n"
    )
    assert append_mutants("schema: 1\n", [("mutants/m.ipynb", _mutant({"q 2": 2}))]).endswith(
        'mutants:\n  - notebook: mutants/m.ipynb\n    description: "generated (arithmetic operator swapped), '
        'cell q1 line 2: return a - b"\n    loses: {"q 2": 2}\n'
    )


def test_a_saved_cell_reads_back_from_cells_py_as_the_same_source():
    from autograde.mutation.save import _literal

    for source in ['x = "a\\nb"  # a backslash', 'doc = """quoted"""', "ends with \\", "plain = 1"]:
        assert eval(_literal(source)).strip("\n") == source
