"""Geometry of the server-rendered SVG pictures (no script, no CDN): sparklines and
a line chart of forecast against actual per month. Templates draw; this computes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


def sparkline(
    values: list[float | None], width: int = 96, height: int = 22, *, bridge: bool = False
) -> str:
    """An SVG path through the values, scaled to the box. A None is a gap, or with
    `bridge` is passed over (a month with nothing to measure is not a fall to zero)."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(0.0, min(known)), max(known)
    span = (high - low) or 1.0
    step = (width - 4) / max(len(values) - 1, 1)
    parts, pen_down = [], False
    for n, value in enumerate(values):
        if value is None:
            pen_down = pen_down and bridge
            continue
        x = 2 + n * step
        y = height - 2 - (value - low) / span * (height - 4)
        parts.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
        pen_down = True
    return " ".join(parts)


@dataclass
class Series:
    name: str
    css: str
    path: str
    points: list[dict]


@dataclass
class LineChart:
    width: int
    height: int
    pad: int
    series: list[Series]
    labels: list[dict]
    levels: list[dict]


def line_chart(months: list[date], named: dict[str, tuple[str, list[int | None]]],
               width: int = 640, height: int = 200, pad: int = 36) -> LineChart:  # fmt: skip
    """Lines over months on one scale from 0; `named` is {name: (css class, values)}."""
    most = max((v for _, values in named.values() for v in values if v is not None), default=0)
    most = most or 1
    step = (width - 2 * pad) / max(len(months) - 1, 1)

    def y(value: float) -> float:
        return height - pad - value / most * (height - 2 * pad)

    series = []
    for name, (css, values) in named.items():
        points = [
            {"x": pad + n * step, "y": y(v), "value": v, "month": months[n]}
            for n, v in enumerate(values)
            if v is not None
        ]
        path = " ".join(
            f"{'M' if n == 0 else 'L'}{p['x']:.1f},{p['y']:.1f}" for n, p in enumerate(points)
        )
        series.append(Series(name, css, path, points))
    # Months and figures in the reader's locale (a chart is drawn for one request).
    from portal.formatting import day, number

    labels = [{"x": pad + n * step, "text": day(m, "%b")} for n, m in enumerate(months)]
    levels = [{"y": y(most * f), "text": number(round(most * f))} for f in (0, 0.5, 1)]
    return LineChart(width, height, pad, series, labels, levels)
