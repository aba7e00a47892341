"""Whose day it is: one place for the rule that turns the UTC clock into a calendar day.

Timestamps are UTC; a promise date, a forecast month, a price's validity and "overdue"
are calendar days, and a calendar day belongs to a place. At 2026-12-01 18:30 UTC it
is already 2 December in Asia/Jakarta and still 1 December in Europe/Berlin, so an
order line promised for 1 December is overdue for a Jakarta account then and not for
a Berlin one. The rule:

- a customer's promises, prices, forecast months and what is overdue for them: the
  day in the **account's** zone (`account_today`);
- the vendor's own desk and schedule (lists that gather every account, reminders):
  the day in the **vendor's** zone, the DEFAULT_TIMEZONE setting (`vendor_today`);
- what a page shows a person as "today" that is neither: the **reader's** zone
  (`reader_today`, the zone their times are shown in).

Pages that show a day-dependent figure say which zone counts (`zone_note`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask import current_app

from portal.extensions import utcnow

if TYPE_CHECKING:
    from portal.accounts.models import CustomerAccount, User


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def day_in(where: ZoneInfo, now: datetime | None = None) -> date:
    """The calendar day in `where` at `now` (a UTC timestamp; the clock by default)."""
    return (now or utcnow()).astimezone(where).date()


def vendor_zone() -> ZoneInfo:
    return zone(current_app.config["DEFAULT_TIMEZONE"])


def account_zone(account: CustomerAccount | None) -> ZoneInfo:
    """The account's zone; the vendor's for no account (vendor staff, an unknown one)."""
    return zone_of_account(account.timezone if account is not None else None)


def zone_of_account(timezone: str | None) -> ZoneInfo:
    """The zone an account's `timezone` setting names, the vendor's when it names none:
    for code that reads the setting as a column of many accounts, not the account."""
    return zone(timezone) if timezone else vendor_zone()


def account_today(account: CustomerAccount | None, now: datetime | None = None) -> date:
    """Today for the account's promises, prices, forecast months and what is overdue."""
    return day_in(account_zone(account), now)


def vendor_today(now: datetime | None = None) -> date:
    """Today for the vendor's desk and schedule."""
    return day_in(vendor_zone(), now)


def user_zone(user: User) -> ZoneInfo:
    """The zone of what `user` acts on: their account's, the vendor's for staff."""
    return account_zone(user.account if user.is_authenticated else None)


def user_today(user: User, now: datetime | None = None) -> date:
    """Today for what `user` acts on: their account's day, the vendor's for staff."""
    return day_in(user_zone(user), now)


def reader_today(now: datetime | None = None) -> date:
    """Today in the zone the reader's times are shown in."""
    from portal.formatting import viewer_timezone

    return day_in(viewer_timezone(), now)


def local_day(at: datetime | None, where: ZoneInfo) -> date | None:
    """The calendar day of a UTC timestamp in `where` (the day an order was placed
    for its account)."""
    return at.astimezone(where).date() if at is not None else None


def day_start(day: date, where: tzinfo) -> datetime:
    """The instant (UTC) `day` begins in `where`: a period of days counted in a zone runs
    from `day_start(first, where)` to `day_start(last + 1 day, where)`."""
    return datetime.combine(day, time(), where).astimezone(UTC)


# Every zone's midnight of a day falls between these two zones' (UTC+14 and UTC-12; the
# IANA's Etc names reverse the sign).
EARLIEST_ZONE, LATEST_ZONE = "Etc/GMT-14", "Etc/GMT+12"


def anywhere(first: date, after: date) -> tuple[datetime, datetime]:
    """The instants from the first midnight anywhere that begins `first` to the last that
    begins `after`: [first, after) in every zone lies within them. For one statement over
    accounts of many zones, each row then held to its own account's days."""
    return day_start(first, zone(EARLIEST_ZONE)), day_start(after, zone(LATEST_ZONE))


def is_overdue(promised_on: date | None, account: CustomerAccount, now: datetime | None = None):
    """A promise for `promised_on` not yet kept is overdue once that day has ended in the
    account's zone."""
    return promised_on is not None and promised_on < account_today(account, now)


@lru_cache(maxsize=16)
def utc_offsets(
    where: ZoneInfo, start: datetime, end: datetime
) -> tuple[tuple[datetime, int], ...]:
    """The UTC offsets (in minutes) `where` keeps from `start` to `end`, each with the
    instant it begins: ((start, 60), (2027-03-28 01:00 UTC, 120), ...). For SQL that
    must move timestamps into the zone where the database knows no zones (SQLite).
    Kept: a refresh asks for the same window once per source (~2 ms for two years)."""

    def minutes(at: datetime) -> int:
        return int(at.astimezone(where).utcoffset().total_seconds()) // 60

    spans = [(start, minutes(start))]
    day = timedelta(days=1)
    at = start
    while at < end:
        step = min(at + day, end)
        if minutes(step) != spans[-1][1]:
            # A change within the day: halve the span down to the second it happens
            # (zones change on whole seconds, and not twice in a day).
            before, after = at, step
            while after - before > timedelta(seconds=1):
                middle = before + (after - before) / 2
                if minutes(middle) == spans[-1][1]:
                    before = middle
                else:
                    after = middle
            spans.append((after.replace(microsecond=0), minutes(after)))
        at = step
    return tuple(spans)


def zone_note(where: ZoneInfo) -> str:
    """'Dates are days in Western Indonesia Time (Asia/Jakarta).': which zone a page's
    days count in, in the reader's words."""
    from babel.dates import format_datetime
    from flask_babel import gettext

    from portal.formatting import reader_locale

    now = utcnow()
    locale = reader_locale()
    # A zone's long name depends on the locale, on whether its summer time is in effect
    # and on the day (CLDR's metazones change with the years), nothing else: kept, as
    # Babel took as long to write it as the rest of the page's dates. Bounded, emptied
    # when full; the same on every host.
    key = (where, locale, now.date(), bool(now.astimezone(where).dst()))
    name = _ZONE_NAMES.get(key)
    if name is None:
        if len(_ZONE_NAMES) >= 256:
            _ZONE_NAMES.clear()
        name = _ZONE_NAMES[key] = format_datetime(now, "zzzz", tzinfo=where, locale=locale)
    return gettext("Dates are days in %(zone)s (%(iana)s).", zone=name, iana=where.key)


_ZONE_NAMES: dict[tuple, str] = {}
