"""A public check that a bundle judges is graded at fresh inputs and at the published ones:
it passes only at both, the fresh inputs' failure is what the student sees, and a pass at the
published inputs alone says so."""

from __future__ import annotations

import pytest

from autograde.checks.base import ProbeResult
from autograde.checks.basic import ExistsCheck
from autograde.pipeline.judge import judge_planned
from autograde.pipeline.plan import PlannedCheck, build_plan, published_seed
from autograde.rubric import load_assignment

OK = ProbeResult("ok", "", {"category": "callable", "type": "function"}, {})
MISSING = ProbeResult("missing", "`loss` is not defined", {}, {})
CRASHED = ProbeResult("crashed", "the kernel died while this was being checked", {}, {})
NOT_RUN = ProbeResult("not-run", "not run: no kernel was left to run it", {}, {})


def verdicts(fresh: ProbeResult, published: ProbeResult) -> tuple[str, str, str]:
    check = ExistsCheck(kind="exists", target="loss", type="callable")
    item = PlannedCheck(0, check, "fresh", 0, published="pub")
    shown, at_published = judge_planned(item, {"fresh": fresh, "pub": published}.__getitem__)
    assert at_published is not None
    return shown.status, at_published.status, shown.message


@pytest.mark.parametrize(
    ("fresh", "published", "shown", "at_published", "says"),
    [
        (OK, OK, "pass", "pass", "is defined"),
        (MISSING, OK, "fail", "pass", "passes at the self-check's published inputs, not at fresh ones"),
        (OK, MISSING, "fail", "fail", "`loss` is not defined"),
        (CRASHED, NOT_RUN, "crashed", "not-run", "kernel died"),
    ],
)
def test_the_shown_verdict_and_the_published_one(fresh, published, shown, at_published, says):
    got = verdicts(fresh, published)
    assert got[:2] == (shown, at_published)
    assert says in got[2]


def test_only_checks_a_bundle_judges_get_a_twin_and_it_is_the_same_at_any_seed():
    ex02 = load_assignment("ex02_gradient_descent")
    plans = [build_plan(ex02, seed, public_only=False, probe_timeout=1.0) for seed in (1, 2)]
    twins = [[item.published is not None for item in plan.checks] for plan in plans]
    hidden = [(c.visible or t.visible) == "hidden" for t in ex02.rubric.tasks for c in t.checks]
    assert twins[0] == twins[1] == [not h for h in hidden]
    first, second = (next(i for i in plan.checks if i.check.kind == "value") for plan in plans)
    assert [a[0].tolist() for a in first.published.args] == [a[0].tolist() for a in second.published.args]
    assert [a[0].tolist() for a in first.state.args] != [a[0].tolist() for a in second.state.args]
    assert published_seed("ex02_gradient_descent") != published_seed("ex05_classification")
