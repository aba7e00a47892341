"""Months in forecasts: a month is the date of its first day; arithmetic on them,
and how they are written in files and headers and read back."""

from __future__ import annotations

import re
from datetime import date


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_label(month: date) -> str:
    """How a month is written in files and headers: 2026-12."""
    return f"{month:%Y-%m}"


MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{1,2})(?:-01)?(?:[T ]00:00(?::00)?)?$")
MONTH_SLASH = re.compile(r"^(\d{1,2})/(\d{4})$")


def parse_month(raw: str) -> date | None:
    """A month as people write it: 2026-12, 2026-12-01 (or a date cell), 12/2026."""
    text = (raw or "").strip()
    match = MONTH_PATTERN.match(text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
    elif match := MONTH_SLASH.match(text):
        year, month = int(match.group(2)), int(match.group(1))
    else:
        return None
    if not 1 <= month <= 12 or not 2000 <= year <= 2999:
        return None
    return date(year, month, 1)
