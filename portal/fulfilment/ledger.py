"""The promise ledger: how well the vendor keeps the ship dates it promised.

Everything is computed from the order events alone (`line_figures` folds one
line's events). The definitions, per order line:

- A line is *measured* once it has a first promise and some quantity is still
  due: the promised quantity less what the customer cancelled before the first
  promised date had passed. (A line the vendor cancels after promising stays
  due: a broken promise. So does what the customer cancels after the promised
  date passed with it not arrived: the promise was already broken, and a late
  cancellation must not erase it.)
- Goods count as *done* when delivered, or when shipped if the account's terms
  measure shipments (`CustomerAccount.promise_basis`).
- *On time*: something was done, and nothing was done after the first promise.
- *In full*: the whole due quantity was done.
- *On time, in full*: the whole due quantity was done no later than the first promise.
- *Arrived late*: something arrived after the first promise; its *days late* are
  the last arrival's date less the first promise. What the page calls lateness
  is the average of these over the lines that arrived late.
- *Changes*: how often the promise moved; `slip_days`: the last promise less the
  first, in days — how far promises were *moved*, not how late goods came.

Ledger periods select lines by their first promise date, and only dates that
have passed (the period ends yesterday at the latest): a line is not judged
before its promise is due.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import NamedTuple, Protocol

from sqlalchemy import (
    Date,
    Integer,
    Select,
    bindparam,
    delete,
    extract,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.util import identity_key

from portal.accounts.models import CustomerAccount
from portal.extensions import db
from portal.ordering.models import Order, OrderEvent

from .models import PromiseLedgerDay

DONE_KINDS = {
    "delivery": frozenset({"delivered"}),
    "shipment": frozenset({"shipped", "shipment_corrected"}),
}
# The event kinds that move a line's figures; all others are for the timeline only.
LEDGER_KINDS = (
    "confirmed",
    "promise_changed",
    "line_cancelled",
    "shipped",
    "shipment_corrected",
    "delivered",
)
FIGURES = (
    "lines",
    "on_time",
    "in_full",
    "on_time_in_full",
    "changes",
    "slip_days",
    "late_lines",
    "late_days",
)


class EventLike(Protocol):
    kind: str
    quantity: int | None
    on_date: date | None
    # Optional: when the event was written. A customer's cancellation recorded
    # before its day was kept in `on_date` is dated by it.
    # at: datetime | None


class OrderEventLike(EventLike, Protocol):
    line_id: int | None


@dataclass(frozen=True)
class LineFigures:
    first_promise: date | None = None
    last_promise: date | None = None
    due: int = 0
    done: int = 0
    done_by_promise: int = 0
    changes: int = 0
    last_done: date | None = None

    @property
    def measured(self) -> bool:
        return self.first_promise is not None and self.due > 0

    @property
    def on_time(self) -> bool:
        return self.done_by_promise > 0 and self.done <= self.done_by_promise

    @property
    def in_full(self) -> bool:
        return self.done >= self.due

    @property
    def on_time_in_full(self) -> bool:
        return self.done_by_promise >= self.due

    @property
    def slip_days(self) -> int:
        if self.first_promise is None or self.last_promise is None:
            return 0
        return (self.last_promise - self.first_promise).days

    @property
    def arrived_late(self) -> bool:
        """Something arrived after the first promised date."""
        return self.done > self.done_by_promise

    @property
    def days_late(self) -> int:
        """The last arrival's date less the first promise, for a line that arrived late."""
        if not self.arrived_late or self.first_promise is None or self.last_done is None:
            return 0
        return max((self.last_done - self.first_promise).days, 0)

    def contribution(self) -> dict[str, int] | None:
        """What this line adds to its first-promise day in the ledger, if measured."""
        if not self.measured:
            return None
        return {
            "lines": 1,
            "on_time": int(self.on_time),
            "in_full": int(self.in_full),
            "on_time_in_full": int(self.on_time_in_full),
            "changes": self.changes,
            "slip_days": self.slip_days,
            "late_lines": int(self.arrived_late),
            "late_days": self.days_late,
        }


def line_figures(events: Iterable[EventLike], basis: str = "delivery") -> LineFigures:
    """Fold one line's events, oldest first, into its ledger figures."""
    done_kinds = DONE_KINDS[basis]
    first = last = None
    due = done = done_by_promise = changes = 0
    last_done = None
    for event in events:
        quantity = event.quantity or 0
        if event.kind == "confirmed":
            first = first or event.on_date
            last = event.on_date
            due += quantity
        elif event.kind == "promise_changed":
            last = event.on_date
            changes += 1
        elif event.kind == "line_cancelled":  # at the customer's request
            cancelled_on = _cancellation_day(event)
            if first is None or cancelled_on is None or cancelled_on <= first:
                due -= quantity
            # else: the promised date had passed and this had not arrived: the
            # promise was broken before the customer gave up on it; it stays due.
        elif event.kind in done_kinds and event.on_date is not None:
            done += quantity
            if first is not None and event.on_date <= first:
                done_by_promise += quantity
            elif quantity > 0 and (last_done is None or event.on_date > last_done):
                last_done = event.on_date
    return LineFigures(first, last, due, done, done_by_promise, changes, last_done)


def _cancellation_day(event: EventLike) -> date | None:
    """The day a customer's cancellation took effect: its `on_date`, or for
    events written before that was kept, the day the event was written."""
    if event.on_date is not None:
        return event.on_date
    at = getattr(event, "at", None)
    return at.date() if at is not None else None


@dataclass
class Figures:
    """Summed line figures: a period of an account, a month, everything."""

    lines: int = 0
    on_time: int = 0
    in_full: int = 0
    on_time_in_full: int = 0
    changes: int = 0
    slip_days: int = 0
    late_lines: int = 0
    late_days: int = 0

    def add(self, other: dict[str, int] | Figures) -> None:
        for name in FIGURES:
            value = other[name] if isinstance(other, dict) else getattr(other, name)
            setattr(self, name, getattr(self, name) + (value or 0))

    def share(self, name: str) -> float | None:
        """The share of measured lines that were `name` (0..1), or None without lines."""
        return getattr(self, name) / self.lines if self.lines else None

    @property
    def average_promise_move(self) -> float | None:
        """How far promises were moved, in days per measured line (not lateness)."""
        return self.slip_days / self.lines if self.lines else None

    # The old name of the same figure, for callers written before it was renamed.
    average_slip = average_promise_move

    @property
    def average_days_late(self) -> float | None:
        """How late what arrived late was, in days per line that arrived late."""
        return self.late_days / self.late_lines if self.late_lines else None


def summarise(lines: Iterable[LineFigures], today: date) -> Figures:
    """One order's (or any set of lines') figures, counting lines already due."""
    total = Figures()
    for figures in lines:
        share = figures.contribution()
        if share and figures.first_promise < today:
            total.add(share)
    return total


def order_figures(order: Order) -> dict[int, LineFigures]:
    """How each line of the order stands against its first promise, by line id."""
    return _figures_of_order(order.id, order.account.promise_basis)


# --- keeping the daily projection ---------------------------------------------------------


def _figures_of_order(order_id: int, basis: str) -> dict[int, LineFigures]:
    rows = db.session.execute(_events_of_order(), {"order_id": order_id}).all()
    return figures_of_events(rows, basis)


_LEDGER_KINDS = frozenset(LEDGER_KINDS)


def figures_of_events(events: Iterable[OrderEventLike], basis: str) -> dict[int, LineFigures]:
    """`order_figures` from one order's events already read (any kinds, oldest first;
    `basis`: its account's promise_basis): the order page reads them for its timeline."""
    by_line: dict[int, list] = defaultdict(list)
    for event in events:
        if event.line_id is not None and event.kind in _LEDGER_KINDS:
            by_line[event.line_id].append(event)
    return {line_id: line_figures(evs, basis) for line_id, evs in by_line.items()}


@cache
def _events_of_order():
    """Built once per process: the order page and every change to an order read it."""
    return (
        select(
            OrderEvent.line_id,
            OrderEvent.kind,
            OrderEvent.quantity,
            OrderEvent.on_date,
            OrderEvent.at,
        )
        .where(
            OrderEvent.order_id == bindparam("order_id"),
            OrderEvent.line_id.is_not(None),
            OrderEvent.kind.in_(LEDGER_KINDS),
        )
        .order_by(OrderEvent.id)
    )


@contextmanager
def tracking(order: Order) -> Iterator[None]:
    """Keep the ledger's daily figures in step with the events written inside.

    Folds the order's line events before and after, and moves the difference
    into `promise_ledger_day`, in the caller's transaction.
    """
    basis = order.account.promise_basis
    before = _figures_of_order(order.id, basis)
    yield
    db.session.flush()
    after = _figures_of_order(order.id, basis)
    deltas: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for line_id in before.keys() | after.keys():
        for figures, sign in ((before.get(line_id), -1), (after.get(line_id), 1)):
            share = figures.contribution() if figures else None
            if share:
                for name, value in share.items():
                    deltas[figures.first_promise][name] += sign * value
    for day, delta in deltas.items():
        if any(delta.values()):
            _add_to_day(order.account_id, day, delta)


def _add_to_day(account_id: int, day: date, delta: dict[str, int]) -> None:
    table = PromiseLedgerDay.__table__
    change = update(table).where(table.c.account_id == account_id, table.c.day == day)
    change = change.values({name: table.c[name] + value for name, value in delta.items()})
    if db.session.execute(change).rowcount:
        return
    try:
        with db.session.begin_nested():
            db.session.execute(insert(table).values(account_id=account_id, day=day, **delta))
    except IntegrityError:  # another transaction started the day a moment ago
        db.session.execute(change)


def rebuild(account_ids: Iterable[int] | None = None, *, commit: bool = True) -> int:
    """Recompute the daily figures from the events (all accounts, or some).

    Needed after an account's promise basis changes, and by anyone who doubts
    the projection: the result must equal what `tracking` kept. Returns the
    number of lines measured.
    """
    accounts = select(CustomerAccount.id, CustomerAccount.promise_basis)
    if account_ids is not None:
        accounts = accounts.where(CustomerAccount.id.in_(list(account_ids)))
    bases = dict(db.session.execute(accounts).all())
    db.session.execute(delete(PromiseLedgerDay).where(PromiseLedgerDay.account_id.in_(list(bases))))
    measured = 0
    for account_id, basis in bases.items():
        rows = db.session.execute(
            select(
                OrderEvent.line_id,
                OrderEvent.kind,
                OrderEvent.quantity,
                OrderEvent.on_date,
                OrderEvent.at,
            )
            .join(Order, Order.id == OrderEvent.order_id)
            .where(
                Order.account_id == account_id,
                OrderEvent.line_id.is_not(None),
                OrderEvent.kind.in_(LEDGER_KINDS),
            )
            .order_by(OrderEvent.line_id, OrderEvent.id)
        )
        days: dict[date, Figures] = defaultdict(Figures)
        current, events = None, []
        for row in [*rows, None]:
            if row is None or row.line_id != current:
                figures = line_figures(events, basis) if events else None
                share = figures.contribution() if figures else None
                if share:
                    days[figures.first_promise].add(share)
                    measured += 1
                if row is None:
                    break
                current, events = row.line_id, []
            events.append(row)
        if days:
            db.session.execute(
                insert(PromiseLedgerDay),
                [
                    {"account_id": account_id, "day": day, **vars(figures)}
                    for day, figures in days.items()
                ],
            )
    if commit:
        db.session.commit()
    return measured


# --- reading the ledger -------------------------------------------------------------------


@dataclass
class Ledger:
    start: date
    end: date
    total: Figures = field(default_factory=Figures)
    by_account: list[tuple[CustomerAccount, Figures]] = field(default_factory=list)
    by_month: list[tuple[date, Figures]] = field(default_factory=list)


def _in_period(accounts: select, start: date, end: date, today: date) -> tuple:
    last_day = min(end, today - timedelta(days=1))
    table = PromiseLedgerDay
    return (table.account_id.in_(accounts), table.day >= start, table.day <= last_day)


def _sums() -> list:
    return [func.sum(getattr(PromiseLedgerDay, name)).label(name) for name in FIGURES]


def _per_account(accounts: select, start: date, end: date, today: date) -> list:
    table = PromiseLedgerDay
    return db.session.execute(
        select(table.account_id, *_sums())
        .where(*_in_period(accounts, start, end, today))
        .group_by(table.account_id)
        # Days whose lines were all cancelled at the customer's request sum to 0.
        .having(func.sum(table.lines) > 0)
    ).all()


def total(accounts: select, *, start: date, end: date, today: date) -> Figures:
    """The ledger's total alone (what `ledger(...).total` is), in one statement."""
    result = Figures()
    for row in _per_account(accounts, start, end, today):
        result.add(row._asdict())
    return result


def total_of(account_id: int, *, start: date, end: date, today: date) -> Figures:
    """One account's total (what `total` gives for a query of that one id), by a
    statement built once per process: the customer's home shows it on every view."""
    result = Figures()
    last_day = min(end, today - timedelta(days=1))
    # On the session's connection: sums need none of the ORM's handling of results.
    for row in db.session.connection().execute(
        _one_account(), {"account_id": account_id, "start": start, "last_day": last_day}
    ):
        result.add(row._asdict())
    return result


@cache
def _one_account():
    table = PromiseLedgerDay
    return (
        select(table.account_id, *_sums())
        .where(
            table.account_id == bindparam("account_id"),
            table.day >= bindparam("start"),
            table.day <= bindparam("last_day"),
        )
        .group_by(table.account_id)
        .having(func.sum(table.lines) > 0)
    )


def by_account_id(accounts: select, *, start: date, end: date, today: date) -> dict[int, Figures]:
    """Each account's figures by account id (what `ledger(...).by_account` holds), in
    one statement; accounts with nothing measured are left out."""
    return {
        row.account_id: Figures(**{name: getattr(row, name) or 0 for name in FIGURES})
        for row in _per_account(accounts, start, end, today)
    }


class LedgerStatements(NamedTuple):
    """`ledger`'s statements, over the period bound per call ("start" and "last_day",
    see `period_values`): each account's sums and each month's; or, for a ledger of
    one account or a few (`per_account` None), one statement of the sums per account
    and month, from which both are added up here."""

    per_account: Select | None
    per_month: Select


def ledger_statements(accounts: Select, *, few_accounts: bool = False) -> LedgerStatements:
    """The statements of `ledger` for the accounts `accounts` selects (ids of
    CustomerAccount; it may hold parameters of its own): for callers that build them
    once per process (the promises page: building them and their cache keys cost as
    much as running them). `few_accounts`: one statement, per account and month (a
    customer's own ledger: a statement fewer; for every account, rows by the
    thousand)."""
    table = PromiseLedgerDay
    in_period = (
        table.account_id.in_(accounts),
        table.day >= bindparam("start", type_=Date),
        table.day <= bindparam("last_day", type_=Date),
    )
    year, month_of = extract("year", table.day), extract("month", table.day)
    if few_accounts:
        return LedgerStatements(
            None,
            select(table.account_id, year, month_of, *_sums())
            .where(*in_period)
            .group_by(table.account_id, year, month_of),
        )
    return LedgerStatements(
        select(table.account_id, *_sums())
        .where(*in_period)
        .group_by(table.account_id)
        # Days whose lines were all cancelled at the customer's request sum to 0.
        .having(func.sum(table.lines) > 0),
        select(year, month_of, *_sums()).where(*in_period).group_by(year, month_of),
    )


def period_values(start: date, end: date, today: date) -> dict:
    """The period's values for `ledger_statements`: first promises from start to end,
    only those already past."""
    return {"start": start, "last_day": min(end, today - timedelta(days=1))}


def ledger(accounts: select, *, start: date, end: date, today: date) -> Ledger:
    """The ledger over the first-promise dates start..end (only those already past),
    for the accounts the `accounts` query selects (ids of CustomerAccount): the
    total, each account's figures, and each month's."""
    return ledger_of(
        ledger_statements(accounts), period_values(start, end, today), start=start, end=end
    )


def desk_ledger(viewer, account_id: int | None, *, start: date, end: date, today: date) -> Ledger:
    """The promises page's ledger: the accounts of the viewer's desk
    (`service.desk_scope`), or the one of them `account_id` names (vendor staff), from
    statements built once per process with the viewer and the account bound per call."""
    from .service import desk_scope

    return ledger_of(
        _desk_statements(desk_scope(viewer), account_id is not None),
        {
            "desk_user_id": viewer.id,
            "desk_account_id": viewer.account_id,
            "account_id": account_id,
            **period_values(start, end, today),
        },
        start=start,
        end=end,
    )


@cache
def _desk_statements(scope: str, one_account: bool) -> LedgerStatements:
    from .service import desk_accounts_of

    accounts = desk_accounts_of(
        scope,
        bindparam("desk_user_id", type_=Integer),
        bindparam("desk_account_id", type_=Integer),
    )
    if one_account:
        accounts = accounts.where(CustomerAccount.id == bindparam("account_id", type_=Integer))
    return ledger_statements(accounts, few_accounts=one_account or scope == "own")


def ledger_of(statements: LedgerStatements, values: dict, *, start: date, end: date) -> Ledger:
    """`ledger` by statements of `ledger_statements` and their values (the period's,
    `period_values`, and those of the accounts' query)."""
    result = Ledger(start, end)
    months: dict[date, Figures] = {}
    month = date(start.year, start.month, 1)
    while month <= end:
        months[month] = Figures()
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    # Sums, not objects: read through the session's connection (the ORM's handling of
    # a statement's results cost a fifth of each).
    connection = db.session.connection()
    # Summed per month by the database: a year has up to 365 days, and reading each
    # day's row (its date converted, its eight sums) to add them up here cost twice the
    # statement that gives the twelve months' sums.
    per_account: dict[int, Figures]
    if statements.per_account is None:  # per account and month
        per_account = defaultdict(Figures)
        for account_id, year_number, month_number, *sums in connection.execute(
            statements.per_month, values
        ):
            figures = dict(zip(FIGURES, sums, strict=True))
            per_account[account_id].add(figures)
            months[date(int(year_number), int(month_number), 1)].add(figures)
        # As the statement per account has it: days whose lines were all cancelled at
        # the customer's request sum to 0, and an account with no line is left out.
        per_account = {key: figures for key, figures in per_account.items() if figures.lines > 0}
    else:
        per_account = {
            row.account_id: Figures(**{name: getattr(row, name) or 0 for name in FIGURES})
            for row in connection.execute(statements.per_account, values)
        }
        for year_number, month_number, *sums in connection.execute(statements.per_month, values):
            months[date(int(year_number), int(month_number), 1)].add(
                {name: value or 0 for name, value in zip(FIGURES, sums, strict=True)}
            )
    names = _accounts(list(per_account))
    for account_id, figures in per_account.items():
        result.total.add(figures)
        result.by_account.append((names[account_id], figures))
    result.by_account.sort(key=lambda item: item[0].name.lower())
    result.by_month = sorted(months.items())
    return result


def _accounts(ids: list[int]) -> dict[int, CustomerAccount]:
    """The accounts of these ids; those already in the session (a customer's own, read
    with them when they signed in) without a statement."""
    found = {}
    for account_id in ids:
        account = db.session.identity_map.get(identity_key(CustomerAccount, account_id))
        if account is not None:
            found[account_id] = account
    missing = [account_id for account_id in ids if account_id not in found]
    if missing:
        found |= {
            a.id: a
            for a in db.session.scalars(
                select(CustomerAccount).where(CustomerAccount.id.in_(missing))
            )
        }
    return found
