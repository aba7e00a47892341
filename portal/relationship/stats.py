"""The statistics behind the signals, as plain functions over plain values, so
each can be checked on a hand-worked example (tests/test_relationship_stats.py).

- Gaps are whole days between consecutive distinct days on which something
  happened (an order, a message, a published forecast).
- Percentiles are nearest rank: the smallest gap with at least that share of the
  gaps at or below it (the same rule as the service measures). Gaps 10, 12, 14,
  30 give a median of 13, a 75th percentile of 14 and a 90th of 30.
- An account with fewer than `MIN_EVENTS` events (fewer than six orders) has too
  few gaps of its own and is judged against the gaps of all accounts together
  ("pooled"), and says so.
- A status is green, amber or red; None means the signal has nothing to judge
  (an account that never forecast has no forecast signal) and leaves the score.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

GREEN, AMBER, RED = "green", "amber", "red"
STATUSES = (GREEN, AMBER, RED)
POINTS = {GREEN: 100, AMBER: 50, RED: 0}
MIN_EVENTS = 6


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def gaps_of(days: Iterable[date]) -> list[int]:
    """Days between consecutive distinct days, oldest first."""
    ordered = sorted(set(days))
    return [(b - a).days for a, b in zip(ordered, ordered[1:], strict=False)]


@dataclass(frozen=True)
class Rhythm:
    """An account's usual interval: its own gaps, or everyone's when it has too few."""

    median: float | None
    p_amber: float | None  # the percentile past which the signal is amber (75th by default)
    p_red: float | None  # ... and red (90th)
    gaps: int
    pooled: bool

    @property
    def known(self) -> bool:
        return self.median is not None


def rhythm(
    own_gaps: Sequence[int],
    pooled_gaps: Sequence[int],
    *,
    amber: float = 75,
    red: float = 90,
    min_events: int = MIN_EVENTS,
) -> Rhythm:
    """The median and the amber/red percentiles of the gaps; with fewer than
    `min_events` events (gaps + 1) those of all accounts together."""
    pooled = len(own_gaps) + 1 < min_events
    gaps = pooled_gaps if pooled else own_gaps
    if not gaps:
        return Rhythm(None, None, None, 0, pooled)
    return Rhythm(
        statistics.median(gaps),
        percentile(gaps, amber / 100),
        percentile(gaps, red / 100),
        len(gaps),
        pooled,
    )


def overdue_status(days: int | None, usual: Rhythm) -> str | None:
    """Amber past the amber percentile of the usual gaps, red past the red one."""
    if days is None or not usual.known:
        return None
    if days > usual.p_red:
        return RED
    if days > usual.p_amber:
        return AMBER
    return GREEN


def below_status(value: float | None, amber: float, red: float) -> str | None:
    """For figures where less is worse (on time in full %): red below `red`, amber below `amber`."""
    if value is None:
        return None
    if value < red:
        return RED
    if value < amber:
        return AMBER
    return GREEN


def above_status(value: float | None, amber: float, red: float) -> str | None:
    """For figures where more is worse (days without contact): red above `red`, amber
    above `amber`."""
    if value is None:
        return None
    if value > red:
        return RED
    if value > amber:
        return AMBER
    return GREEN


def worst(*statuses: str | None) -> str | None:
    known = [s for s in statuses if s is not None]
    return max(known, key=STATUSES.index) if known else None


def score(statuses: Mapping[str, str | None], weights: Mapping[str, int]) -> int:
    """0–100: the weighted average of the signals' points (green 100, amber 50,
    red 0) over the signals that have something to judge; 100 when none has."""
    total = sum(weights.get(key, 0) for key, status in statuses.items() if status)
    if not total:
        return 100
    points = sum(POINTS[s] * weights.get(key, 0) for key, s in statuses.items() if s)
    return round(points / total)


def account_status(score_value: int, statuses: Iterable[str | None], *, amber: float,
                   red: float) -> str:  # fmt: skip
    """Red below the red score or with two red signals; amber below the amber
    score or with one red signal; green otherwise."""
    reds = sum(1 for s in statuses if s == RED)
    if score_value < red or reds >= 2:
        return RED
    if score_value < amber or reds == 1:
        return AMBER
    return GREEN


TREND_POINTS = 10


def trend(now: int | None, then: int | None) -> str | None:
    """Improving or deteriorating when the score moved by TREND_POINTS or more."""
    if now is None or then is None:
        return None
    if now - then >= TREND_POINTS:
        return "improving"
    if then - now >= TREND_POINTS:
        return "deteriorating"
    return "stable"


def days_text(value: float | None) -> str:
    """12 → '12 days', 1 → '1 day', 12.5 → '12.5 days'."""
    if value is None:
        return "—"
    shown = f"{value:g}" if value != int(value) else str(int(value))
    return f"{shown} day{'' if shown == '1' else 's'}"
