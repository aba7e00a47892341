"""The customer's home page's own panels: its newest orders, promises kept, its manager.
(What vendor staff owe is in `duties`; what passed between the companies in `timeline`.)"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

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


# Built once: an option is immutable, and building it cost a quarter of the load.
_WITHOUT_ROLES = [lazyload(User.role_rows)]


def load_account_manager(account: CustomerAccount) -> None:
    """Load `account.account_manager` in one statement, without the roles the home page
    does not show (the relationship's own load would read them too)."""
    if account.account_manager_id is None or "account_manager" in account.__dict__:
        return
    manager = db.session.get(User, account.account_manager_id, options=_WITHOUT_ROLES)
    set_committed_value(account, "account_manager", manager)


def recent_orders(viewer: User, limit: int = 6):
    """The account's newest orders, for the customer's home page."""
    from portal.ordering.service import newest_of_account

    return newest_of_account(viewer.account_id, limit)
