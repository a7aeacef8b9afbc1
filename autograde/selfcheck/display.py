"""A self-check's result as the notebook shows it: an HTML table where the front end shows
HTML (Jupyter, JupyterLab, VS Code, Colab), plain text everywhere else. Everything that
comes from the notebook (messages quote its values) is escaped."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from autograde.results import GradeReport
from autograde.status import NEUTRAL_BADGE, CheckStatus


@dataclass
class SelfCheckResult:
    """What `student.check` shows; `passed` is True when every check with a verdict passed."""

    report: GradeReport
    later: list[str] = field(default_factory=list)  # what waits for the submission
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[str, str, str, str]]:
        """(task, check, status, message) per check."""
        return [(t.id, c.name, c.status, c.message) for t in self.report.tasks for c in t.checks]

    @property
    def passed(self) -> bool:
        from autograde.selfcheck.judge import counted

        good, judged = counted(self.report)
        return good == judged

    def summary(self) -> str:
        from autograde.selfcheck.judge import counted

        good, judged = counted(self.report)
        return f"{self.report.assignment}: checks passed {good}/{judged}"

    def __str__(self) -> str:
        lines = [self.summary(), *(f"note: {n}" for n in self.notes)]
        for task, name, status, message in self.rows:
            lines.append(f"  {CheckStatus.label_of(status):16} {task} / {name}: {message}")
        lines.extend(f"  {line}" for line in self.later)
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        esc = html.escape
        cells = []
        for task, name, status, message in self.rows:
            known = CheckStatus.known(status)
            colour = known.badge_colour if known is not None else NEUTRAL_BADGE
            badge = (
                f'<span style="background:{colour};color:#fff;border-radius:4px;padding:1px 6px;'
                f'font-size:.8em;font-weight:700">{esc(CheckStatus.label_of(status))}</span>'
            )
            cells.append(
                f"<tr><td>{badge}</td><td>{esc(task)}</td><td>{esc(name)}</td>"
                f'<td style="text-align:left;white-space:pre-wrap">{esc(message)}</td></tr>'
            )
        notes = "".join(f"<p><b>note:</b> {esc(n)}</p>" for n in self.notes)
        later = "".join(f"<li>{esc(line)}</li>" for line in self.later)
        return (
            f'<div class="autograde-self-check"><p><b>{esc(self.summary())}</b></p>{notes}'
            "<table><thead><tr><th>status</th><th>task</th><th>check</th><th>message</th></tr></thead>"
            f"<tbody>{''.join(cells)}</tbody></table>"
            + (f"<ul>{later}</ul>" if later else "")
            + "</div>"
        )
