"""Forecast accuracy on a hand-worked example (see portal/forecasts/accuracy.py
for the definitions)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.forecasts.accuracy import Ordered, Version, accuracy, versions_read
from portal.forecasts.months import add_months

JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 9, 0, tzinfo=UTC)


VERSIONS = [
    Version(1, at(2025, 10, 15), {(10, JAN): 100, (10, FEB): 100, (20, JAN): 50}),
    Version(1, at(2025, 12, 20), {(10, JAN): 120, (10, FEB): 90, (20, JAN): 40, (20, FEB): 30}),
    Version(1, at(2026, 1, 10), {(10, FEB): 80, (20, FEB): 0}),
    # Account 2 forecast January and ordered nothing; account 3 ordered and never forecast.
    Version(2, at(2025, 12, 1), {(10, JAN): 10}),
]
ORDERED = [
    Ordered(1, 10, JAN, 60),
    Ordered(1, 10, date(2026, 1, 20), 50),  # two orders in January: 110
    Ordered(1, 20, JAN, 60),
    Ordered(1, 10, FEB, 70),
    Ordered(1, 20, FEB, 20),
    Ordered(1, 30, FEB, 5),  # never forecast: forecast 0
    Ordered(3, 10, JAN, 999),
]


def test_one_and_three_months_ahead_by_hand():
    result = accuracy(VERSIONS, ORDERED, months=[JAN, FEB])
    # One month ahead. January: the version of 20 Dec (120 and 40 against 110 and 60);
    # February: the version of 10 Jan (80 and 0 against 70 and 20, plus 5 never forecast).
    one = result.by_account[(1, 1)]
    assert (one.forecast, one.actual, one.absolute_error) == (160 + 80, 170 + 95, 30 + 35)
    assert one.wape == pytest.approx(65 / 265)
    assert one.bias == pytest.approx(-25 / 265)
    # Three months ahead: the version of 15 Oct for both (published before 1 Nov and 1 Dec).
    # January: 100 and 50 against 110 and 60; February: 100 against 70, 20 and 5 unforecast.
    three = result.by_account[(1, 3)]
    assert (three.forecast, three.actual, three.absolute_error) == (250, 265, 20 + 55)
    assert three.wape == pytest.approx(75 / 265)
    assert three.bias == pytest.approx(-15 / 265)
    # Per product and per month add up to the same sums.
    product_20 = result.by_product[(20, 1)]
    assert (product_20.forecast, product_20.actual) == (40, 80)
    assert product_20.wape == pytest.approx(0.5) and product_20.bias == pytest.approx(-0.5)
    january = result.by_month[(JAN, 1)]
    assert (january.forecast, january.actual, january.absolute_error) == (170, 170, 30 + 10)


def test_nothing_ordered_or_nothing_forecast():
    result = accuracy(VERSIONS, ORDERED, months=[JAN])
    # Account 2 forecast 10 and ordered nothing: an error, but no percentage of nothing.
    nothing_ordered = result.by_account[(2, 1)]
    assert nothing_ordered.absolute_error == 10 and nothing_ordered.wape is None
    assert nothing_ordered.bias is None
    # Account 3 never forecast: not measured at all rather than scored as forecast 0.
    assert (3, 1) not in result.by_account
    # Account 2's version (1 Dec) is not three months ahead of January (cut-off 1 Nov).
    assert (2, 3) not in result.by_account
    assert result.total[1].actual == 170


def test_months_are_counted_from_their_first_day():
    assert add_months(JAN, -1) == date(2025, 12, 1)
    assert add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)
    mid_month = accuracy(VERSIONS, ORDERED, months=[date(2026, 1, 17)])
    assert mid_month.by_account[(1, 1)].actual == 170
    with pytest.raises(ValueError, match="at least one month ahead"):
        accuracy(VERSIONS, ORDERED, months=[JAN], lags=[0])


def test_only_the_versions_a_lag_reads_are_needed():
    published = [(n, v.published_at) for n, v in enumerate(VERSIONS[:3])]
    # January: 20 Dec (one ahead) and 15 Oct (three ahead); February: 10 Jan and 15 Oct.
    assert versions_read(published, [JAN, FEB]) == {0, 1, 2}
    assert versions_read(published, [JAN], lags=[3]) == {0}
    assert versions_read(published[:1], [date(2025, 10, 1)]) == set()  # nothing before


def test_a_versions_day_is_its_accounts():
    """Published at 31 December 18:00 UTC: 1 January 01:00 in Jakarta, so not one month
    ahead of January there (the version of 20 December is); at 1 January 03:00 UTC:
    31 December 21:00 in Chicago, one month ahead of January there. By UTC days each
    the other way round."""
    from zoneinfo import ZoneInfo

    jakarta, chicago = ZoneInfo("Asia/Jakarta"), ZoneInfo("America/Chicago")
    evening = datetime(2025, 12, 31, 18, 0, tzinfo=UTC)
    night = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    ordered = [Ordered(1, 10, JAN, 100), Ordered(2, 10, JAN, 100)]
    versions = [
        Version(1, at(2025, 12, 20), {(10, JAN): 100}, jakarta),
        Version(1, evening, {(10, JAN): 150}, jakarta),
        Version(2, at(2025, 12, 20), {(10, JAN): 100}, chicago),
        Version(2, night, {(10, JAN): 150}, chicago),
    ]
    result = accuracy(versions, ordered, months=[JAN], lags=[1])
    assert result.by_account[(1, 1)].forecast == 100
    assert result.by_account[(2, 1)].forecast == 150
    assert versions_read([("20 Dec", at(2025, 12, 20)), ("31 Dec", evening)], [JAN],
                         lags=[1], where=jakarta) == {"20 Dec"}  # fmt: skip
    assert versions_read([("20 Dec", at(2025, 12, 20)), ("1 Jan", night)], [JAN],
                         lags=[1], where=chicago) == {"1 Jan"}  # fmt: skip
