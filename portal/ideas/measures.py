"""How the vendor answers suggestions, per account and per engineer.

One function, `measure`, over plain records, so the figures can be checked on
hand-worked examples; `measures_for` reads the records for a viewer. The
relationship-health work reads these figures too. Definitions, for customer
suggestions sent in the period:

- time to first answer: days from sending to the first answer, status change or
  question from the vendor (median over those answered);
- answered within the promise: answered no later than the promised date; a
  suggestion not yet answered counts against once its date has passed, and not
  at all before. The promised date is a day promised to the customer, so both
  are judged on the account's day (portal.days): an answer at 18:30 UTC on the
  promised day is already a day late for an account in Asia/Jakarta;
- acceptance rate: accepted, planned or implemented, of those decided (the same
  plus declined);
- implemented: how many, and the yearly savings realised by them.

A duplicate merged into another suggestion was answered when it was merged,
and is neither accepted nor declined.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal

from sqlalchemy import select

from portal.accounts.models import CustomerAccount, User
from portal.days import day_start, local_day, zone_of_account
from portal.extensions import db

from .models import Idea

ACCEPTED = frozenset({"accepted", "planned", "implemented"})


@dataclass(frozen=True)
class Record:
    """What the measures need of one suggestion."""

    submitted_at: datetime
    answer_due_on: date
    first_answered_at: datetime | None
    status: str
    realised_saving: Decimal | None = None
    # The account's zone: the promised date is its day, so the answer's day and
    # "today" are read there (UTC for examples that name no zone).
    where: tzinfo = UTC


@dataclass
class Measures:
    sent: int = 0
    answer_days: list[float] = field(default_factory=list)
    due: int = 0  # answered, or unanswered past the promised date
    within_promise: int = 0
    decided: int = 0
    accepted: int = 0
    implemented: int = 0
    realised_saving: Decimal = Decimal("0")

    @property
    def median_days_to_answer(self) -> float | None:
        return statistics.median(self.answer_days) if self.answer_days else None

    @property
    def share_within_promise(self) -> float | None:
        return self.within_promise / self.due if self.due else None

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.decided if self.decided else None


def measure(records: Iterable[Record], now: datetime) -> Measures:
    """The figures of `records` at the instant `now`: a promise not yet answered is
    judged on its account's day then."""
    result = Measures()
    today_in: dict[tzinfo, date] = {}  # a few zones among many records
    for r in records:
        result.sent += 1
        if r.first_answered_at is not None:
            days = (r.first_answered_at - r.submitted_at).total_seconds() / 86400
            result.answer_days.append(round(days, 2))
            result.due += 1
            result.within_promise += local_day(r.first_answered_at, r.where) <= r.answer_due_on
        else:
            if r.where not in today_in:
                today_in[r.where] = local_day(now, r.where)
            result.due += r.answer_due_on < today_in[r.where]
        if r.status in ACCEPTED or r.status == "declined":
            result.decided += 1
            result.accepted += r.status in ACCEPTED
        if r.status == "implemented":
            result.implemented += 1
            result.realised_saving += r.realised_saving or Decimal("0")
    return result


@dataclass
class Report:
    total: Measures
    by_account: list[tuple[CustomerAccount, Measures]]
    by_engineer: list[tuple[User | None, Measures]]


def measures_for(visible, start: date, end: date, now: datetime, *, where: tzinfo) -> Report:
    """The figures over the suggestions of `visible` (a query of Idea the viewer
    may see) sent from `start` to `end`, in total, per account and per engineer, at
    the instant `now`. The period's days are `where`'s, from its midnight that begins
    `start` to the one that ends `end`: whose days is the caller's to say (the
    relationship signals and the vendor's list count the vendor's, one account's figures
    its own, portal.days). Each promise is judged on its account's day."""
    from datetime import timedelta

    rows = db.session.execute(
        visible.with_only_columns(
            Idea.account_id,
            Idea.assignee_id,
            Idea.submitted_at,
            Idea.answer_due_on,
            Idea.first_answered_at,
            Idea.status,
            Idea.realised_saving,
        ).where(
            Idea.direction == "customer",
            Idea.submitted_at >= day_start(start, where),
            Idea.submitted_at < day_start(end + timedelta(days=1), where),
        )
    ).all()
    # The accounts first (one statement, as before): each record carries its zone.
    accounts = {
        a.id: a
        for a in db.session.scalars(
            select(CustomerAccount).where(
                CustomerAccount.id.in_(sorted({row.account_id for row in rows}))
            )
        )
    }
    per_account, per_engineer = defaultdict(list), defaultdict(list)
    everything = []
    for row in rows:
        record = Record(*row[2:], where=zone_of_account(accounts[row.account_id].timezone))
        everything.append(record)
        per_account[row.account_id].append(record)
        per_engineer[row.assignee_id].append(record)
    engineers = {
        u.id: u for u in db.session.scalars(select(User).where(User.id.in_(list(per_engineer))))
    }
    return Report(
        measure(everything, now),
        sorted(
            ((accounts[k], measure(v, now)) for k, v in per_account.items()),
            key=lambda item: item[0].name.lower(),
        ),
        sorted(
            ((engineers.get(k), measure(v, now)) for k, v in per_engineer.items()),
            key=lambda item: (item[0] is None, item[0].name.lower() if item[0] else ""),
        ),
    )
