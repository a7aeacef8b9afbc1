"""Plan: before the run, on the host. Each check of the rubric draws its inputs (from the
secret grading seed) and names the probes the sandbox must run; hidden sets put their
inputs in the store and keep their labels here.

A public check that a student's check bundle judges is planned twice: at the secret seed
and at the bundle's published inputs (`published_seed`), so the grade agrees with the
self-check at the published inputs and an answer that works only there earns nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autograde.checks.base import HiddenSet, PlanContext, SelfCheck, kind_for
from autograde.pipeline.inputs import InputStore, check_rng
from autograde.rubric import Assignment
from autograde.rubric.datasets import hidden_set
from autograde.rubric.schema import CheckBase, Task


@dataclass
class PlannedCheck:
    task_index: int
    check: CheckBase  # the kind's own rubric model
    state: Any  # what the kind's `plan` returned, handed back to its `judge`
    check_index: int = 0
    published: Any = None  # the kind's plan at the published inputs (a bundle's), when it has one


@dataclass
class Plan:
    probes: list[dict[str, Any]]
    store: InputStore
    checks: list[PlannedCheck]


def is_hidden(check: CheckBase, task: Task) -> bool:
    return (check.visible or task.visible) == "hidden"


def published_seed(assignment_id: str) -> int:
    """The seed of the inputs a check bundle publishes: fixed per assignment, and public."""
    digest = hashlib.sha256(f"autograde-published-inputs:{assignment_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def publishes(check: CheckBase, task: Task) -> bool:
    """A bundle judges this check with a verdict (at its published inputs where it has any)."""
    return not is_hidden(check, task) and kind_for(check.kind).self_check(check) in (
        SelfCheck.FULL,
        SelfCheck.PUBLISHED,
    )


def build_plan(
    assignment: Assignment,
    seed: int,
    public_only: bool,
    probe_timeout: float,
    *,
    with_published: bool = True,
    select: Callable[[CheckBase, Task], bool] | None = None,
) -> Plan:
    """Every check's probes at `seed` (only the public ones with `public_only`, only those
    `select` keeps); with `with_published`, each check a bundle publishes also at the
    published inputs."""
    rubric = assignment.rubric
    at_published = published_seed(assignment.id)
    store = InputStore()
    probes: list[dict[str, Any]] = []
    cache: dict[str, HiddenSet] = {}

    def hidden(name: str) -> HiddenSet:
        if name not in cache:
            inputs, labels = hidden_set(name, rubric.hidden_data[name], seed)
            cache[name] = HiddenSet(store.add(inputs), labels)
        return cache[name]

    def plan_at(check: CheckBase, prefix: str, rng_seed: int, t_index: int, c_index: int) -> Any:
        ctx = PlanContext(
            prefix=prefix,
            rng=check_rng(rng_seed, t_index, c_index),
            store=store,
            probes=probes,
            hidden=hidden,
            probe_timeout=probe_timeout,
            secret=is_hidden(check, rubric.tasks[t_index]),
        )
        return kind_for(check.kind).plan(check, ctx)

    planned = []
    for t_index, task in enumerate(rubric.tasks):
        for c_index, check in enumerate(task.checks):
            if (public_only and is_hidden(check, task)) or (select is not None and not select(check, task)):
                continue
            state = plan_at(check, f"t{t_index}c{c_index}", seed, t_index, c_index)
            item = PlannedCheck(t_index, check, state, c_index)
            if with_published and publishes(check, task):
                item.published = plan_at(check, f"t{t_index}c{c_index}pub", at_published, t_index, c_index)
            planned.append(item)
    probes.sort(key=lambda probe: probe["op"] == "script")  # test code may rebind names: it runs last
    return Plan(probes, store, planned)
