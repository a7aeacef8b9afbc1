"""Solution and hidden-test markers: both versions of a cell, and errors naming cell and line."""

from __future__ import annotations

import pytest

from autograde.authoring.markers import (
    NBGRADER_STUB,
    MarkerError,
    Place,
    clear_solutions,
    has_markers,
    split_hidden_tests,
)

PLACE = Place("master.ipynb", 4)

NBGRADER_CELL = '''def squares(n):
    """The squares 1..n."""
    ### BEGIN SOLUTION
    if n < 1:
        raise ValueError("n must be positive")
    return [i ** 2 for i in range(1, n + 1)]
    ### END SOLUTION'''


def test_an_nbgrader_region_becomes_the_stub_at_the_indentation_of_its_begin_line() -> None:
    cleared = clear_solutions(NBGRADER_CELL, PLACE, NBGRADER_STUB)
    assert cleared.student == (
        'def squares(n):\n    """The squares 1..n."""\n    # YOUR CODE HERE\n    raise NotImplementedError()'
    )
    assert cleared.solution == (
        'def squares(n):\n    """The squares 1..n."""\n    if n < 1:\n'
        '        raise ValueError("n must be positive")\n    return [i ** 2 for i in range(1, n + 1)]'
    )
    assert cleared.regions == 1 and cleared.marked


def test_a_region_around_whole_functions_keeps_their_signatures_and_docstrings() -> None:
    source = (
        "# BEGIN SOLUTION\n@decorate\ndef f(x, y=2):\n    '''Add.\n\n    Twice.'''\n    return x + y\n\n"
        "def g():\n    return 1\n# END SOLUTION"
    )
    cleared = clear_solutions(source, PLACE, keep_signatures=True)
    assert (
        cleared.student
        == "@decorate\ndef f(x, y=2):\n    '''Add.\n\n    Twice.'''\n    ...\n\ndef g():\n    ..."
    )
    assert cleared.defined == ["f", "g"]
    # other statements in the region: the plain stub
    mixed = clear_solutions(
        "# BEGIN SOLUTION\ndef f():\n    return 1\nx = f()\n# END SOLUTION", PLACE, keep_signatures=True
    )
    assert mixed.student == "..."


def test_otter_line_markers_prompts_and_no_prompt() -> None:
    source = (
        "x = 2 # SOLUTION\nplt.plot(x); # SOLUTION NO PROMPT\n    return y # SOLUTION\n"
        "def circumference(r):\n    # BEGIN SOLUTION NO PROMPT\n    return 2 * pi * r\n    # END SOLUTION\n"
        '    """ # BEGIN PROMPT\n    # define it\n    pass\n    """ # END PROMPT'
    )
    cleared = clear_solutions(source, PLACE)
    assert cleared.student == "x = ...\n    ...\ndef circumference(r):\n    # define it\n    pass"
    assert cleared.solution == (
        "x = 2\nplt.plot(x);\n    return y\ndef circumference(r):\n    return 2 * pi * r"
    )
    assert (cleared.regions, cleared.solution_lines) == (1, 3)


def test_a_comparison_is_not_taken_for_an_assignment() -> None:
    assert clear_solutions("ok = a == b # SOLUTION", PLACE).student == "ok = ..."
    assert clear_solutions("a == b # SOLUTION", PLACE).student == "..."


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 1\n### BEGIN SOLUTION\ny = 2", "cell 4, line 2: BEGIN SOLUTION is never closed"),
        ("x = 1\n### END SOLUTION", "cell 4, line 2: END SOLUTION without a BEGIN SOLUTION"),
        (
            "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
            "line 2: BEGIN SOLUTION inside the region",
        ),
        ('""" # BEGIN PROMPT\nx\n""" # END PROMPT', "line 1: a PROMPT block outside a solution region"),
        (
            '# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n""" # BEGIN PROMPT\nx = ...',
            "line 4: BEGIN PROMPT is never closed",
        ),
    ],
)
def test_marker_errors_name_the_notebook_cell_and_line(source: str, message: str) -> None:
    with pytest.raises(MarkerError, match=r"^master\.ipynb: ") as caught:
        clear_solutions(source, PLACE)
    assert message in str(caught.value)


def test_hidden_tests_leave_the_public_version_and_stay_in_the_full_one() -> None:
    split = split_hidden_tests(
        "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS\nassert f(0) == 0",
        PLACE,
    )
    assert split.public == "assert f(1) == 1\nassert f(0) == 0"
    assert split.full == "assert f(1) == 1\nassert f(2) == 4\nassert f(0) == 0"
    assert split.hidden_regions == 1
    with pytest.raises(MarkerError, match="line 1: BEGIN HIDDEN TESTS is never closed"):
        split_hidden_tests("### BEGIN HIDDEN TESTS\nassert x", PLACE)
    with pytest.raises(MarkerError, match="line 2: END HIDDEN TESTS without"):
        split_hidden_tests("assert x\n### END HIDDEN TESTS", PLACE)


def test_has_markers() -> None:
    assert has_markers(NBGRADER_CELL)
    assert has_markers("y = f(x)  # SOLUTION")
    assert not has_markers("# a solution comes here\nprint('SOLUTION')")


def test_otter_a_prompt_block_may_follow_a_line_marker_and_end_with_a_semicolon() -> None:
    # otter's example.ipynb q2 and question5 (its student output: example-correct/student)
    source = (
        '## solution ##\nplt.plot(x); # SOLUTION NO PROMPT\n""" # BEGIN PROMPT\n'
        'plt.plot(...);\n""" # END PROMPT'
    )
    cleared = clear_solutions(source, PLACE)
    assert cleared.student == "## solution ##\nplt.plot(...);"
    assert cleared.solution == "## solution ##\nplt.plot(x);"
    source = (
        "def circumference(r):\n    # BEGIN SOLUTION NO PROMPT\n    return 2 * pi * r\n    # END SOLUTION\n"
        '    """ # BEGIN PROMPT\n    # Next, define a circumference function.\n'
        '    pass\n    """; # END PROMPT'
    )
    cleared = clear_solutions(source, PLACE)
    assert cleared.student == "def circumference(r):\n    # Next, define a circumference function.\n    pass"
    assert cleared.solution == "def circumference(r):\n    return 2 * pi * r"
