"""What each side's home page shows. Later areas add their own panels here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.audit import service as audit
from portal.audit.models import AuditEvent
from portal.extensions import db, utcnow
from portal.fulfilment import ledger
from portal.ordering.models import Order
from portal.security import scoped


@dataclass(frozen=True)
class AccountRow:
    account: CustomerAccount
    active_users: int
    last_sign_in: datetime | None
    waiting_orders: int = 0
    # Share of lines kept on time and in full over the last 90 days (None: none due).
    kept: float | None = None


PROMISE_WINDOW_DAYS = 90


def accounts_overview(viewer: User) -> tuple[str, list[AccountRow]]:
    """Accounts for a vendor home page: an account manager's own, everyone else's all."""
    query = (
        select(CustomerAccount)
        .options(joinedload(CustomerAccount.account_manager).lazyload(User.role_rows))
        .order_by(CustomerAccount.name)
    )
    title = "All customer accounts"
    if viewer.has_role(Role.ACCOUNT_MANAGER):
        query = query.where(CustomerAccount.account_manager_id == viewer.id)
        title = "Accounts you manage"
    accounts = db.session.scalars(scoped(query, CustomerAccount, viewer)).all()
    stats = {
        account_id: (count, last)
        for account_id, count, last in db.session.execute(
            scoped(
                select(User.account_id, func.count(), func.max(User.last_login_at))
                .where(User.active.is_(True), User.account_id.is_not(None))
                .group_by(User.account_id),
                User,
                viewer,
            )
        )
    }
    ids = [account.id for account in accounts]
    waiting = dict(
        db.session.execute(
            select(Order.account_id, func.count())
            .where(Order.status == "placed", Order.account_id.in_(ids))
            .group_by(Order.account_id)
        ).all()
    )
    today = utcnow().date()
    kept = {
        account_id: figures.share("on_time_in_full")
        for account_id, figures in ledger.by_account_id(
            select(CustomerAccount.id).where(CustomerAccount.id.in_(ids)),
            start=today - timedelta(days=PROMISE_WINDOW_DAYS),
            end=today,
            today=today,
        ).items()
    }
    rows = []
    for account in accounts:
        count, last = stats.get(account.id, (0, None))
        rows.append(
            AccountRow(account, count, last, waiting.get(account.id, 0), kept.get(account.id))
        )
    return title, rows


def promises_kept(viewer: User) -> ledger.Figures:
    """The customer's own account: promises kept over the last year."""
    today = utcnow().date()
    return ledger.total(
        select(CustomerAccount.id).where(CustomerAccount.id == viewer.account_id),
        start=today - timedelta(days=365),
        end=today,
        today=today,
    )


def load_account_manager(account: CustomerAccount) -> None:
    """Load `account.account_manager` in one statement, without the roles the home page
    does not show (the relationship's own load would read them too)."""
    if account.account_manager_id is None or "account_manager" in account.__dict__:
        return
    manager = db.session.get(User, account.account_manager_id, options=[lazyload(User.role_rows)])
    set_committed_value(account, "account_manager", manager)


# Security noise (failed sign-ins, denials) belongs in the audit log, not on a buyer's home page.
HOME_ACTIVITY_ACTIONS = (
    "sign_in",
    "password_changed",
    "account_updated",
    "address_created",
    "address_updated",
    "address_deleted",
    "user_created",
    "user_updated",
    "user_deactivated",
    "user_reactivated",
)


def customer_activity(viewer: User, limit: int = 12) -> list[AuditEvent]:
    """Recent things that happened on the viewer's own account."""
    return audit.recent_events(
        viewer, account_id=viewer.account_id, limit=limit, actions=HOME_ACTIVITY_ACTIONS
    )


def recent_orders(viewer: User, limit: int = 6):
    """The account's newest orders, for the customer's home page."""
    from portal.ordering.service import OrderFilter, orders

    found, _ = orders(viewer, OrderFilter(), limit=limit, with_total=False)
    return found
