"""Charts as inline SVG: no plotting library on the host, nothing loaded by the page.

Each chart is an `<svg class="chart">` element; every bar is a `<rect class="bar">` that
carries its label and value as data attributes, so tests (and curious readers of the source)
can check the numbers behind a picture. All text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from autograde.reporters.html import esc

FONT = 'font-family="system-ui, DejaVu Sans, sans-serif"'
BAR = "#4c78a8"
AXIS = "#57606a"


def histogram(values: Sequence[float], upper: float, bins: int = 10) -> list[int]:
    """Counts in `bins` equal bins over [0, upper]; the last bin is closed, values outside clamp."""
    counts = [0] * bins
    if upper <= 0:
        upper = max([*values, 1.0])
    for value in values:
        if not math.isfinite(value):
            continue
        # value * bins / upper, not value / (upper / bins): 3.9 of 13 lands in [3.9, 5.2)
        index = int(value * bins / upper + 1e-9) if value > 0 else 0
        counts[min(index, bins - 1)] += 1
    return counts


def _f(value: float) -> str:
    return f"{value:.1f}"


def histogram_svg(values: Sequence[float], upper: float, title: str, bins: int = 10) -> str:
    """A histogram of `values` over [0, upper] (x: score, y: number of students)."""
    counts = histogram(values, upper, bins)
    if upper <= 0:
        upper = max([*values, 1.0])
    width, height = 640, 280
    left, right, top, bottom = 48, 16, 40, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    tallest = max([*counts, 1])
    bar_w = plot_w / bins
    out = [
        f'<svg class="chart" id="chart-histogram" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" {FONT} font-size="12">',
        f"<title>{esc(title)}</title>",
        f'<text x="{width / 2:.0f}" y="16" text-anchor="middle" font-weight="600" font-size="14">'
        f"{esc(title)}</text>",
    ]
    # y axis: 0, the middle and the top count
    for tick in sorted({0, tallest // 2, tallest}):
        y = top + plot_h - plot_h * tick / tallest
        out.append(f'<line x1="{left}" y1="{_f(y)}" x2="{width - right}" y2="{_f(y)}" stroke="#e1e4e8"/>')
        out.append(f'<text x="{left - 6}" y="{_f(y + 4)}" text-anchor="end" fill="{AXIS}">{tick}</text>')
    for index, count in enumerate(counts):
        low, high = upper * index / bins, upper * (index + 1) / bins
        bar_h = plot_h * count / tallest
        x = left + index * bar_w
        y = top + plot_h - bar_h
        closing = "]" if index == bins - 1 else ")"
        label = f"[{low:g}, {high:g}{closing}"
        out.append(
            f'<rect class="bar" data-label="{esc(label)}" data-value="{count}" x="{_f(x + 1)}" y="{_f(y)}" '
            f'width="{_f(bar_w - 2)}" height="{_f(bar_h)}" fill="{BAR}">'
            f"<title>{esc(label)}: {count}</title></rect>"
        )
        if count:
            out.append(f'<text x="{_f(x + bar_w / 2)}" y="{_f(y - 4)}" text-anchor="middle">{count}</text>')
    for index in range(bins + 1):
        x = left + index * bar_w
        out.append(
            f'<text x="{_f(x)}" y="{top + plot_h + 16}" text-anchor="middle" fill="{AXIS}">'
            f"{upper * index / bins:.3g}</text>"
        )
    out.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="{AXIS}"/>'
    )
    out.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 8}" text-anchor="middle" fill="{AXIS}">'
        "score (points)</text>"
    )
    out.append(
        f'<text transform="translate(14 {top + plot_h / 2:.0f}) rotate(-90)" text-anchor="middle" '
        f'fill="{AXIS}">students</text>'
    )
    out.append("</svg>")
    return "\n".join(out)


def bar_chart_svg(
    items: Sequence[tuple[str, float]],
    title: str,
    chart_id: str,
    scale: float | None = None,
    percent: bool = False,
) -> str:
    """Horizontal bars, one per (label, value), in the order given; `percent` shows 0..1 as %."""
    row, left, right, top = 26, 200, 80, 30
    width = 640
    height = top + row * max(len(items), 1) + 10
    plot_w = width - left - right
    scale = scale or max([value for _, value in items] + [1e-12])
    out = [
        f'<svg class="chart" id="{esc(chart_id)}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" {FONT} font-size="12">',
        f"<title>{esc(title)}</title>",
        f'<text x="{width / 2:.0f}" y="16" text-anchor="middle" font-weight="600" font-size="14">'
        f"{esc(title)}</text>",
    ]
    if not items:
        out.append(f'<text x="{width / 2:.0f}" y="{top + 16}" text-anchor="middle" fill="{AXIS}">none</text>')
    for index, (label, value) in enumerate(items):
        y = top + index * row
        bar_w = plot_w * max(value, 0.0) / scale
        shown_label = label if len(label) <= 28 else label[:27] + "\u2026"
        value_text = f"{100 * value:.0f}%" if percent else f"{value:g}"
        out.append(
            f'<text x="{left - 8}" y="{y + row / 2 + 4:.0f}" text-anchor="end">{esc(shown_label)}</text>'
        )
        out.append(
            f'<rect class="bar" data-label="{esc(label)}" data-value="{value:g}" x="{left}" y="{y + 4}" '
            f'width="{_f(bar_w)}" height="{row - 8}" fill="{BAR}">'
            f"<title>{esc(label)}: {esc(value_text)}</title></rect>"
        )
        out.append(f'<text x="{_f(left + bar_w + 6)}" y="{y + row / 2 + 4:.0f}">{esc(value_text)}</text>')
    out.append(
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + row * max(len(items), 1)}" stroke="{AXIS}"/>'
    )
    out.append("</svg>")
    return "\n".join(out)
