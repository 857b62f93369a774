"""Small SVG charts drawn on the server: stacked bars, horizontal bars and a line with a target.

Colours and fonts come from classes styled in static/console.css, so the charts follow the page and need neither
inline styles (the Content-Security-Policy forbids them) nor JavaScript. Every text is escaped here; the result is
safe to insert into a template as Markup. Each chart carries a <title> and role="img" for screen readers; the
numbers are also shown as a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    css: str  # class of its bars or line: "s1", "s2", "good", "bad"


def _nice_max(value: float, ticks: int = 4) -> float:
    """An axis top that splits into `ticks` round steps (1, 2, 2.5 or 5 × 10^n, whole numbers) and reaches `value`."""
    raw = max(value, 1.0) / ticks
    step = 1.0
    while step * 10 <= raw:
        step *= 10
    for factor in (1, 2, 2.5, 5, 10) if step >= 10 else (1, 2, 5, 10):
        if factor * step >= raw:
            return factor * step * ticks
    return 10 * step * ticks


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".") if value == int(value) else f"{value:.1f}".replace(".", ",")


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    out: list[str] = []
    for s in series:
        out.append(f'<rect class="{s.css}" x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10"/>')
        out.append(f'<text class="legend" x="{x + 14:.1f}" y="{y:.1f}">{escape(s.name)}</text>')
        x += 24 + 7 * len(s.name)
    return out


def stacked_bars(title: str, labels: Sequence[str], series: Sequence[Series], width: int = 900,
                 height: int = 250) -> Markup:  # fmt: skip
    """One bar per label, the series stacked bottom-up; the total is written above each bar."""
    left, right, top, bottom = 36, 8, 28, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    ymax = _nice_max(max(totals, default=0))
    slot = plot_w / max(1, len(labels))
    bar = max(4.0, slot * 0.64)
    body = _axis(left, top, plot_w, plot_h, ymax) + _legend(series, left, 14)
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar) / 2
        base = float(top + plot_h)
        for s in series:
            h = plot_h * s.values[i] / ymax
            if h > 0:
                body.append(f'<rect class="{s.css}" x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}">'
                            f"<title>{escape(label)}: {escape(s.name)} {_number(s.values[i])}</title></rect>")
            base -= h
        if totals[i]:
            body.append(f'<text class="value" x="{x + bar / 2:.1f}" y="{base - 3:.1f}">{_number(totals[i])}</text>')
        body.append(f'<text class="label" x="{x + bar / 2:.1f}" y="{top + plot_h + 14:.1f}">{escape(label)}</text>')
    return _svg(width, height, title, body)


def _axis(left: float, top: float, plot_w: float, plot_h: float, ymax: float, percent: bool = False) -> list[str]:
    out = []
    for k in range(5):  # _nice_max makes each quarter a round number
        value = ymax * k / 4
        y = top + plot_h - plot_h * k / 4
        text = f"{value * 100:.0f} %" if percent else _number(value)
        out.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(f'<text class="tick" x="{left - 4}" y="{y + 4:.1f}">{text}</text>')
    return out


CHAR_WIDTH = 7.0  # px per character of a 12 px row label, a little wider than the average letter of the fonts used
LINE_HEIGHT = 14


def wrap_label(label: str, chars: int, lines: int = 2) -> list[str]:
    """The label on at most `lines` lines of `chars` characters, cut between words; an ellipsis when it goes on."""
    out: list[str] = []
    rest = label.split()
    while rest and len(out) < lines:
        line = rest.pop(0)[:chars]
        while rest and len(line) + 1 + len(rest[0]) <= chars:
            line += " " + rest.pop(0)
        out.append(line)
    if rest:
        out[-1] = out[-1][: chars - 1].rstrip() + "…"
    return out


def horizontal_bars(title: str, rows: Sequence[tuple[str, float]], css: str = "s1", width: int = 520) -> Markup:
    """One bar per row (label, value), longest first as given. A label takes up to two lines inside the space left of
    the bars (never cut by the chart's edge); what does not fit ends with an ellipsis, the whole label is its title."""
    left, right = 250, 36
    chars = int((left - 10) // CHAR_WIDTH)
    labels = [wrap_label(label, chars) for label, _ in rows]
    row_h = 22 if all(len(lines) == 1 for lines in labels) else 22 + LINE_HEIGHT
    height = max(1, len(rows)) * row_h + 8
    vmax = max((v for _, v in rows), default=0) or 1
    body: list[str] = []
    for i, ((label, value), lines) in enumerate(zip(rows, labels, strict=True)):
        y = 4 + i * row_h
        bar_y = y + (row_h - 14) / 2
        first = bar_y + 11 - (len(lines) - 1) * LINE_HEIGHT / 2
        w = (width - left - right) * value / vmax
        spans = "".join(f'<tspan x="{left - 6}" y="{first + n * LINE_HEIGHT:.1f}">{escape(line)}</tspan>'
                        for n, line in enumerate(lines))  # fmt: skip
        body.append(f'<text class="rowlabel"><title>{escape(label)}</title>{spans}</text>')
        body.append(f'<rect class="{css}" x="{left}" y="{bar_y:.1f}" width="{max(w, 1):.1f}" height="14"/>')
        body.append(f'<text class="rowvalue" x="{left + w + 4:.1f}" y="{bar_y + 11:.1f}">{_number(value)}</text>')
    return _svg(width, height, title, body)


def share_line(title: str, labels: Sequence[str], shares: Sequence[float | None], target: float,
               target_name: str, width: int = 900, height: int = 230) -> Markup:  # fmt: skip
    """A share per label (0..1, None where nothing was measured) as a line, with a dashed target line."""
    left, right, top, bottom = 44, 8, 28, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(1, len(labels))
    body = _axis(left, top, plot_w, plot_h, 1.0, percent=True)
    ty = top + plot_h * (1 - target)
    body.append(f'<line class="target" x1="{left}" x2="{left + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}"/>')
    body.append(f'<text class="legend" x="{left + 4}" y="{ty - 4:.1f}">{escape(target_name)}</text>')
    points: list[str] = []
    dots: list[str] = []
    for i, (label, share) in enumerate(zip(labels, shares, strict=True)):
        x = left + i * slot + slot / 2
        body.append(f'<text class="label" x="{x:.1f}" y="{top + plot_h + 14:.1f}">{escape(label)}</text>')
        if share is None:
            continue
        y = top + plot_h * (1 - share)
        points.append(f"{x:.1f},{y:.1f}")
        css = "good" if share >= target else "bad"
        dots.append(f'<circle class="{css}" cx="{x:.1f}" cy="{y:.1f}" r="4">'
                    f"<title>{escape(label)}: {share * 100:.0f} %</title></circle>")
    if len(points) > 1:
        body.append(f'<polyline class="line" points="{" ".join(points)}"/>')
    return _svg(width, height, title, body + dots)
