"""The customer's home page's own panels: its newest orders, promises kept, its manager.
(What vendor staff owe is in `duties`; what passed between the companies in `timeline`.)"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from sqlalchemy import Integer, bindparam, select

from portal import days
from portal.accounts.models import CustomerAccount, User
from portal.extensions import db
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


def recent_orders(viewer: User, limit: int = 6):
    """The account's newest orders, for the customer's home page."""
    from portal.ordering.service import newest_of_account

    return newest_of_account(viewer.account_id, limit)
