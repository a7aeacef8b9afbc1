"""Plan: before the run, on the host. Each check of the rubric draws its inputs (from the
secret grading seed) and names the probes the sandbox must run; hidden sets put their
inputs in the store and keep their labels here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autograde.checks.base import HiddenSet, PlanContext, kind_for
from autograde.pipeline.inputs import InputStore, check_rng
from autograde.rubric import Assignment
from autograde.rubric.datasets import hidden_set
from autograde.rubric.schema import CheckBase, Task


@dataclass
class PlannedCheck:
    task_index: int
    check: CheckBase  # the kind's own rubric model
    state: Any  # what the kind's `plan` returned, handed back to its `judge`


@dataclass
class Plan:
    probes: list[dict[str, Any]]
    store: InputStore
    checks: list[PlannedCheck]


def is_hidden(check: CheckBase, task: Task) -> bool:
    return (check.visible or task.visible) == "hidden"


def build_plan(assignment: Assignment, seed: int, public_only: bool, probe_timeout: float) -> Plan:
    rubric = assignment.rubric
    store = InputStore()
    probes: list[dict[str, Any]] = []
    cache: dict[str, HiddenSet] = {}

    def hidden(name: str) -> HiddenSet:
        if name not in cache:
            inputs, labels = hidden_set(name, rubric.hidden_data[name], seed)
            cache[name] = HiddenSet(store.add(inputs), labels)
        return cache[name]

    planned = []
    for t_index, task in enumerate(rubric.tasks):
        for c_index, check in enumerate(task.checks):
            if public_only and is_hidden(check, task):
                continue
            ctx = PlanContext(
                prefix=f"t{t_index}c{c_index}",
                rng=check_rng(seed, t_index, c_index),
                store=store,
                probes=probes,
                hidden=hidden,
                probe_timeout=probe_timeout,
            )
            planned.append(PlannedCheck(t_index, check, kind_for(check.kind).plan(check, ctx)))
    return Plan(probes, store, planned)
