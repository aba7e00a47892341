"""What each side's home page shows. Later areas add their own panels here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.audit import service as audit
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.security import scoped


@dataclass(frozen=True)
class AccountRow:
    account: CustomerAccount
    active_users: int
    last_sign_in: datetime | None


def accounts_overview(viewer: User) -> tuple[str, list[AccountRow]]:
    """Accounts for a vendor home page: an account manager's own, everyone else's all."""
    query = (
        select(CustomerAccount)
        .options(selectinload(CustomerAccount.account_manager))
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
    rows = []
    for account in accounts:
        count, last = stats.get(account.id, (0, None))
        rows.append(AccountRow(account, count, last))
    return title, rows


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

    found, _ = orders(viewer, OrderFilter(), limit=limit)
    return found
