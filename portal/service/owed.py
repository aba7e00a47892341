"""Open service requests with their clocks, for pages that gather an account's promises
in one place. A fixed number of statements whatever the number of requests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.extensions import db

from . import promises
from .models import OPEN_STATUSES, ServiceRequest
from .reading import WORKERS

# Who may read what a request is about.
READERS = WORKERS


@dataclass(frozen=True)
class OpenRequest:
    account_id: int
    request_id: int
    reference: str
    title: str
    priority: str
    status_label: str
    owner: str | None
    opened_at: datetime
    # The promise a person should look at next ("first answer" or "resolution"), its state
    # ("due", "breached", "paused") and when it falls due (None while paused).
    clock: str | None
    clock_state: str | None
    due_at: datetime | None


def open_requests(account_ids: Iterable[int] | None, now: datetime) -> list[OpenRequest]:
    """The accounts' open requests with their clocks, oldest opened first; `account_ids`
    None: every account's (the service desk's home page)."""
    query = (
        select(ServiceRequest)
        .options(joinedload(ServiceRequest.owner))
        .where(ServiceRequest.status.in_(OPEN_STATUSES))
        .order_by(ServiceRequest.opened_at)
    )
    if account_ids is not None:
        query = query.where(ServiceRequest.account_id.in_(list(account_ids)))
    requests = list(db.session.scalars(query))
    clocks = promises.promises_for(requests, now) if requests else {}
    found = []
    for request in requests:
        following = clocks[request.id].next
        name, clock = following if following else (None, None)
        found.append(
            OpenRequest(
                account_id=request.account_id,
                request_id=request.id,
                reference=request.reference,
                title=request.title,
                priority=request.priority,
                status_label=request.status_label,
                owner=request.owner.name if request.owner else None,
                opened_at=request.opened_at,
                clock=name,
                clock_state=clock.state if clock else None,
                due_at=clock.due_at if clock else None,
            )
        )
    return found
