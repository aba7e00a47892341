"""Month arithmetic for forecasts: a month is the date of its first day."""

from __future__ import annotations

from datetime import date


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)
