"""The customer's home page's own panels: its newest orders, promises kept, its manager.
(What vendor staff owe is in `duties`; what passed between the companies in `timeline`.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from flask import url_for
from sqlalchemy import Integer, bindparam, select

from portal import days
from portal.accounts.models import CustomerAccount, User
from portal.extensions import db
from portal.formatting import localtimes, money_in, reader_currency, reader_locale
from portal.fulfilment import ledger


def promises_kept(viewer: User) -> ledger.Figures:
    """The customer's own account: promises kept over the last year."""
    today = days.user_today(viewer)  # lines due by the account's own day
    return ledger.total_of(
        viewer.account_id, start=today - timedelta(days=365), end=today, today=today
    )


def account_manager(account: CustomerAccount):
    """The account manager's name and address for the contact card (a row), or None: one
    statement built once, where loading the manager as a `User` cost a third of the
    home page's own statements' time."""
    if account.account_manager_id is None:
        return None
    # The session's connection, not the session: a statement of columns needs none of
    # the ORM's handling of what it returns, which cost as much as the rest of it.
    return (
        db.session.connection().execute(_manager(), {"user_id": account.account_manager_id}).first()
    )


@cache
def _manager():
    return select(User.name, User.email).where(User.id == bindparam("user_id", type_=Integer))


@dataclass(frozen=True, slots=True)
class RecentOrder:
    """A row of the customer's newest orders, written for the reader."""

    number: str
    status: str
    link: str
    placed: str  # the day and month it was placed, in the reader's zone
    total: str


def recent_orders(viewer: User, limit: int = 6) -> list[RecentOrder]:
    """The account's newest orders, for the customer's home page, their day, total and
    link written here with the reader's zone and locale looked up once (the template's
    filters looked them up for every row: a third of the page's own template time)."""
    from portal.ordering.service import newest_of_account

    placed = localtimes("%d %b")
    locale = reader_locale()
    return [
        RecentOrder(
            order.number,
            order.status,
            url_for("ordering.order", number=order.number),
            placed(order.placed_at),
            "—"
            if order.total is None
            else money_in(order.total, order.currency or reader_currency(), locale),
        )
        for order in newest_of_account(viewer.account_id, limit)
    ]
