"""The benchmark's figures: medians, ratios against a baseline of the same run, the issue's
targets beside them, the printed table and the JSON written by `bench/speed.py --json`."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, Literal

TargetKind = Literal["ratio_at_most", "speedup_at_least", "seconds_under"]


@dataclass(frozen=True)
class Target:
    """One of the issue's targets. ratio_at_most: seconds / baseline <= value; speedup_at_least:
    baseline / seconds >= value (2 workers against 1); seconds_under: seconds < value."""

    kind: TargetKind
    value: float

    def met(self, seconds: float, baseline: float | None) -> bool | None:
        """True or False; None when the baseline it needs was not measured."""
        if self.kind == "seconds_under":
            return seconds < self.value
        if baseline is None or baseline <= 0 or seconds <= 0:
            return None
        if self.kind == "ratio_at_most":
            return seconds / baseline <= self.value
        return baseline / seconds >= self.value

    def describe(self) -> str:
        if self.kind == "seconds_under":
            return f"< {self.value:g} s"
        if self.kind == "ratio_at_most":
            return f"<= {self.value:g}x"
        return f">= {self.value:g}x faster"


@dataclass
class Figure:
    """A measured time: the samples of its repeats; `baseline` names the figure it is compared with."""

    name: str
    samples: list[float]
    baseline: str | None = None
    target: Target | None = None
    note: str = ""
    speedup: bool = False  # shown as baseline / this (2 workers against 1), not this / baseline

    @property
    def seconds(self) -> float:
        return statistics.median(self.samples)


@dataclass
class Table:
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # memory and the like, for the JSON

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def get(self, name: str) -> Figure | None:
        return next((f for f in self.figures if f.name == name), None)

    def row(self, figure: Figure) -> dict[str, Any]:
        base = self.get(figure.baseline) if figure.baseline else None
        base_s = base.seconds if base is not None else None
        ratio = figure.seconds / base_s if base_s else None
        met = figure.target.met(figure.seconds, base_s) if figure.target else None
        return {
            "name": figure.name,
            "seconds": round(figure.seconds, 3),
            "samples": [round(s, 3) for s in figure.samples],
            "baseline": figure.baseline,
            "ratio": round(ratio, 2) if ratio is not None else None,
            "speedup": round(1 / ratio, 2) if ratio and figure.speedup else None,
            "target": figure.target.describe() if figure.target else None,
            "met": met,
            "note": figure.note,
        }

    def render(self) -> str:
        """The table as printed: seconds (median), ratio to the baseline, target, met."""
        head = f"{'figure':<44} {'median s':>9} {'ratio':>7}  {'vs':<22} {'target':<16} met"
        lines = [head, "-" * len(head)]
        for figure in self.figures:
            row = self.row(figure)
            shown = row["speedup"] or row["ratio"]  # a speed-up reads as baseline / this
            ratio = f"{shown:.2f}x" if shown is not None else "-"
            met = {True: "yes", False: "NO", None: "-"}[row["met"]]
            vs = figure.baseline or ""
            lines.append(
                f"{figure.name:<44} {row['seconds']:>9.2f} {ratio:>7}  {vs:<22} "
                f"{row['target'] or '':<16} {met}" + (f"  ({figure.note})" if figure.note else "")
            )
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {"figures": [self.row(f) for f in self.figures], "notes": self.notes, **self.extra}
