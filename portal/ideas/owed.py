"""Suggestions that wait for the vendor's first answer, for pages that gather an
account's promises in one place. Set-based: one statement for any number of accounts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import aliased

from portal.accounts.models import User
from portal.extensions import db

from .models import OPEN_STATUSES, Idea
from .service import VENDOR_VIEWERS

# Who may read what a suggestion is about (they are confidential to these roles).
READERS = VENDOR_VIEWERS


@dataclass(frozen=True)
class AwaitingAnswer:
    account_id: int
    idea_id: int
    reference: str
    title: str
    submitted_at: datetime | None
    answer_due_on: date | None
    assignee: str | None


def awaiting_answer(account_ids: Iterable[int] | None) -> list[AwaitingAnswer]:
    """The customers' suggestions without the vendor's first answer, nearest due first;
    `account_ids` None: every account's (the engineers' home page)."""
    if account_ids is None:
        rows = db.session.execute(_statement(False))
    else:
        rows = db.session.execute(_statement(True), {"account_ids": list(account_ids)})
    return [
        AwaitingAnswer(account_id, idea_id, f"S-{idea_id:05d}", title, submitted, due, name)
        for account_id, idea_id, title, submitted, due, name in rows
    ]


@cache
def _statement(scoped: bool) -> Select:
    """Built once per process (the engineers' home runs it on every view; building it
    and its cache key cost more than running it); the accounts are bound per call."""
    assignee = aliased(User)
    query = (
        select(
            Idea.account_id,
            Idea.id,
            Idea.title,
            Idea.submitted_at,
            Idea.answer_due_on,
            assignee.name,
        )
        .outerjoin(assignee, assignee.id == Idea.assignee_id)
        .where(
            Idea.direction == "customer",
            Idea.status.in_(OPEN_STATUSES),
            Idea.first_answered_at.is_(None),
        )
        .order_by(Idea.answer_due_on, Idea.id)
    )
    if scoped:
        query = query.where(Idea.account_id.in_(bindparam("account_ids", expanding=True)))
    return query
