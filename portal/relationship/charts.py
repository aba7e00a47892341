"""Geometry of the account page's server-rendered SVG charts (no script): a line over
the days of the last twelve months, the status colours as bands. Templates draw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass
class DayChart:
    width: int
    height: int
    pad: int
    path: str
    levels: list[dict]
    labels: list[dict]
    empty: bool
    last: dict | None = None  # the newest point, drawn as a dot (a lone day has no line)


def day_chart(start: date, end: date, points: list[tuple[date, float | None]], *,
              width: int = 640, height: int = 160, pad: int = 34,
              top: float | None = None) -> DayChart:  # fmt: skip
    """A line through (day, value) from `start` to `end`, on one scale from 0 to `top`
    (the largest value when not given); a None is a gap in the line."""
    known = [v for _, v in points if v is not None]
    most = top if top is not None else max(known, default=0)
    most = most or 1
    span_days = max((end - start).days, 1)

    def x(day: date) -> float:
        return pad + (day - start).days / span_days * (width - 2 * pad)

    def y(value: float) -> float:
        return height - pad + 10 - min(value, most) / most * (height - pad - 10 - 8)

    parts, pen_down, last = [], False, None
    for day, value in points:
        if value is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{x(day):.1f},{y(value):.1f}")
        pen_down = True
        last = {"x": x(day), "y": y(value), "day": day, "value": value}
    labels = []
    month = date(start.year, start.month, 1)
    while month <= end:
        if month >= start:
            labels.append({"x": x(month), "text": month.strftime("%b")})
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    levels = [{"y": y(most * f), "text": f"{most * f:,.0f}"} for f in (0, 0.5, 1)]
    return DayChart(width, height, pad, " ".join(parts), levels, labels, not known, last)


def sparkline(values: list[float | None], width: int = 96, height: int = 22) -> str:
    """An SVG path through the scores (0–100) of the sparkline's days; None is a gap."""
    step = (width - 4) / max(len(values) - 1, 1)
    parts, pen_down = [], False
    for n, value in enumerate(values):
        if value is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{2 + n * step:.1f},"
                     f"{height - 2 - value / 100 * (height - 4):.1f}")  # fmt: skip
        pen_down = True
    return " ".join(parts)


@dataclass
class BarChart:
    """Pairs of bars per label (e.g. forecast and ordered per month), on one scale."""

    width: int
    height: int
    pad: int
    bars: list[dict]  # x, y, w, h, series (0 or 1), value, label
    labels: list[dict]  # x, text: under each group
    levels: list[dict]
    empty: bool


def paired_bars(groups: list[tuple[str, float | None, float | None]], *, width: int = 640,
                height: int = 160, pad: int = 34) -> BarChart:  # fmt: skip
    """Two bars per group (`(label, first, second)`, e.g. forecast and ordered in a
    month) from 0 to the largest value; a None draws no bar."""
    known = [v for _, a, b in groups for v in (a, b) if v is not None]
    most = max(known, default=0) or 1
    slot = (width - 2 * pad) / max(len(groups), 1)
    bar = min(slot * 0.35, 48)
    base = height - pad + 10
    usable = height - pad - 10 - 8
    bars, labels = [], []
    for n, (label, *values) in enumerate(groups):
        centre = pad + slot * (n + 0.5)
        labels.append({"x": centre, "text": label})
        for series, value in enumerate(values):
            if value is None:
                continue
            h = value / most * usable
            x = centre - bar - 2 if series == 0 else centre + 2
            bars.append({"x": x, "y": base - h, "w": bar, "h": h, "series": series,
                         "value": value, "label": label})  # fmt: skip
    levels = [{"y": base - usable * f, "text": f"{most * f:,.0f}"} for f in (0, 0.5, 1)]
    return BarChart(width, height, pad, bars, labels, levels, not known)
