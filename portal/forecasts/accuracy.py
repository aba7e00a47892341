"""How well an account's forecasts matched what it then ordered.

One function, `accuracy`, over plain records, so the figures can be checked on
hand-worked examples; the relationship-health work reads the same figures.

Definitions, for each month M that has passed:

- the forecast *k months ahead* for M is the quantity for M in the latest
  version published before the first day of month M − (k − 1): one month ahead
  is the last version before M began, three months ahead the last version
  published in M − 3 or earlier. No such version: there was no forecast k
  months ahead, and M is left out of that lag (not counted as a forecast of 0).
  The day a version was published is the account's day (portal.days: its months
  are its own): at 30 November 18:30 UTC it is December in Asia/Jakarta, so a
  version published then is one month ahead of January there, not of December.
- the actual is the quantity the account ordered for M (the caller decides
  which lines count: `orders_by_month` below takes what is given).
- a product ordered in M but missing from the version counts as forecast 0;
  a product forecast but not ordered counts as ordered 0. Both are errors the
  vendor's planners feel.
- WAPE (weighted absolute percentage error) = Σ|forecast − actual| / Σ actual;
  bias = Σ(forecast − actual) / Σ actual, positive when the account forecast
  more than it ordered. With nothing ordered both are undefined (None).

Figures are kept per lag as sums (forecast, actual, absolute error), so any
grouping — per account, per product, per month for a trend — adds up exactly.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from portal.days import local_day

from .months import add_months, first_of_month

LAGS = (1, 3)


@dataclass(frozen=True)
class Version:
    """One published forecast version: when, and quantity per (product, month)."""

    account_id: int
    published_at: datetime
    quantities: Mapping[tuple[int, date], int]
    # The account's zone: the day it was published is the day there (UTC for examples
    # that name no zone).
    where: tzinfo = UTC

    @property
    def published_on(self) -> date:
        return local_day(self.published_at, self.where)


@dataclass(frozen=True)
class Ordered:
    """What an account ordered of a product for a month (first of the month)."""

    account_id: int
    product_id: int
    month: date
    quantity: int


@dataclass
class Figures:
    forecast: int = 0
    actual: int = 0
    absolute_error: int = 0
    points: int = 0  # product-months compared

    def add(self, forecast: int, actual: int) -> None:
        self.forecast += forecast
        self.actual += actual
        self.absolute_error += abs(forecast - actual)
        self.points += 1

    @property
    def wape(self) -> float | None:
        return self.absolute_error / self.actual if self.actual else None

    @property
    def bias(self) -> float | None:
        return (self.forecast - self.actual) / self.actual if self.actual else None


@dataclass
class Accuracy:
    """Sums per lag, overall and grouped: `total[lag]`, `by_account[(account, lag)]`,
    `by_product[(product, lag)]`, `by_month[(month, lag)]`."""

    total: dict[int, Figures] = field(default_factory=lambda: defaultdict(Figures))
    by_account: dict[tuple[int, int], Figures] = field(default_factory=lambda: defaultdict(Figures))
    by_product: dict[tuple[int, int], Figures] = field(default_factory=lambda: defaultdict(Figures))
    by_month: dict[tuple[date, int], Figures] = field(default_factory=lambda: defaultdict(Figures))


def cutoff(month: date, lag: int) -> date:
    """A version published before this day is a forecast `lag` months ahead of `month`."""
    return add_months(month, -(lag - 1))


def versions_read(
    published: Iterable[tuple[Any, datetime]], months, lags=LAGS, *, where: tzinfo = UTC
) -> set:
    """Which of one account's versions, given as (key, published_at), `accuracy`
    reads for these months: the latest before each cutoff, the days being `where`'s
    (the account's zone, as for `Version`). Callers load only those."""
    history = sorted(published, key=lambda item: item[1])
    stamps = [local_day(at, where) for _, at in history]
    read = set()
    for month in {first_of_month(m) for m in months}:
        for lag in lags:
            position = bisect_left(stamps, cutoff(month, lag))
            if position:
                read.add(history[position - 1][0])
    return read


def accuracy(
    versions: Iterable[Version],
    ordered: Iterable[Ordered],
    *,
    months: Iterable[date],
    lags: Iterable[int] = LAGS,
) -> Accuracy:
    """Compare forecasts with orders for the given past months (firsts of months)."""
    lags = tuple(lags)
    if any(lag < 1 for lag in lags):
        raise ValueError("a forecast is made at least one month ahead")
    per_account: dict[int, list[Version]] = defaultdict(list)
    for version in versions:
        per_account[version.account_id].append(version)
    for history in per_account.values():
        history.sort(key=lambda v: v.published_at)
    actuals: dict[tuple[int, date], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for line in ordered:
        actuals[(line.account_id, first_of_month(line.month))][line.product_id] += line.quantity
        per_account.setdefault(line.account_id, [])

    result = Accuracy()
    by_month_cache: dict[int, dict[date, dict[int, int]]] = {}
    for month in sorted({first_of_month(m) for m in months}):
        for account_id, history in per_account.items():
            stamps = [v.published_on for v in history]  # the account's day
            actual = actuals.get((account_id, month), {})
            for lag in lags:
                # versions strictly before the cutoff
                position = bisect_left(stamps, cutoff(month, lag))
                if position == 0:
                    continue  # nothing was forecast that far ahead
                forecast = _for_month(history[position - 1], month, by_month_cache)
                for product in forecast.keys() | actual.keys():
                    f, a = forecast.get(product, 0), actual.get(product, 0)
                    if f == 0 and a == 0:
                        continue
                    for figures in (
                        result.total[lag],
                        result.by_account[(account_id, lag)],
                        result.by_product[(product, lag)],
                        result.by_month[(month, lag)],
                    ):
                        figures.add(f, a)
    return result


def _for_month(version: Version, month: date, cache: dict) -> dict[int, int]:
    """A version's quantities for one month, indexed by month once per version."""
    by_month = cache.get(id(version))
    if by_month is None:
        by_month = cache[id(version)] = defaultdict(dict)
        for (product, for_month), quantity in version.quantities.items():
            by_month[for_month][product] = quantity
    return by_month.get(month, {})
