"""A customer's plans that nobody of the vendor has acknowledged yet, for pages that
gather an account's promises in one place. One statement for any number of accounts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import Select, and_, bindparam, exists, select

from portal.accounts.models import User
from portal.extensions import db

from .models import Plan, PlanAcknowledgement, PlanRevision


@dataclass(frozen=True)
class UnseenPlan:
    account_id: int
    plan_id: int
    reference: str
    title: str
    published_at: datetime
    effective_from: date


def unacknowledged_customer_plans(account_ids: Iterable[int] | None) -> list[UnseenPlan]:
    """Active plans the accounts shared whose current revision no vendor staff has seen,
    soonest in effect first; `account_ids` None: every account's (the planners' home)."""
    if account_ids is None:
        # Core, not the ORM session: rows of plain values (~60 µs a statement less).
        rows = db.session.connection().execute(_statement(False))
    else:
        rows = db.session.connection().execute(_statement(True), {"account_ids": list(account_ids)})
    return [
        UnseenPlan(account_id, plan_id, f"PL-{plan_id:05d}", title, published, effective)
        for account_id, plan_id, title, published, effective in rows
    ]


@cache
def _statement(scoped: bool) -> Select:
    """Built once per process (the planners' home runs it on every view); the accounts
    are bound per call."""
    seen_by_vendor = exists().where(
        PlanAcknowledgement.revision_id == PlanRevision.id,
        PlanAcknowledgement.user_id.in_(select(User.id).where(User.account_id.is_(None))),
    )
    query = (
        select(
            Plan.account_id,
            Plan.id,
            PlanRevision.title,
            PlanRevision.created_at,
            PlanRevision.effective_from,
        )
        .join(
            PlanRevision,
            and_(PlanRevision.plan_id == Plan.id, PlanRevision.number == Plan.revision_number),
        )
        .where(
            Plan.side == "customer",
            Plan.status == "active",
            ~seen_by_vendor,
        )
        .order_by(PlanRevision.effective_from, Plan.id)
    )
    if scoped:
        query = query.where(Plan.account_id.in_(bindparam("account_ids", expanding=True)))
    return query
