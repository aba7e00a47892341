"""Open service requests with their clocks, for pages that gather an account's promises
in one place. A fixed number of statements whatever the number of requests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, literal_column, select

from portal.accounts.models import User
from portal.extensions import db

from . import promises
from .models import OPEN_STATUSES, STATUSES, ServiceRequest
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
    values = {} if account_ids is None else {"account_ids": list(account_ids)}
    # Read through the session's connection: rows of columns need none of the ORM's
    # handling of results, which cost about as much as each of these small statements.
    # (Nothing here writes, so there is nothing for the session to flush first.)
    connection = db.session.connection()
    requests = connection.execute(_open_requests_statement(account_ids is not None), values).all()
    clocks = promises.promises_for(requests, now, bind=connection) if requests else {}
    found = []
    for request in requests:
        following = clocks[request.id].next
        name, clock = following if following else (None, None)
        found.append(
            OpenRequest(
                account_id=request.account_id,
                request_id=request.id,
                reference=f"SR-{request.id:05d}",  # as ServiceRequest.reference
                title=request.title,
                priority=request.priority,
                status_label=STATUSES[request.status],
                owner=request.owner,
                opened_at=request.opened_at,
                clock=name,
                clock_state=clock.state if clock else None,
                due_at=clock.due_at if clock else None,
            )
        )
    return found


@cache
def _open_requests_statement(scoped: bool) -> Select:
    """Built once per process, the accounts bound per call (as portal.forecasts.owed's):
    building the statement and its cache key cost more than SQLite's run of it. Plain
    rows of the shown columns: the page needs no ORM request or owner objects."""
    query = (
        select(
            ServiceRequest.id,
            ServiceRequest.account_id,
            ServiceRequest.title,
            ServiceRequest.priority,
            ServiceRequest.status,
            ServiceRequest.opened_at,
            User.name.label("owner"),
        )
        .outerjoin(User, User.id == ServiceRequest.owner_id)
        # The open statuses written into the statement: as a bound list, SQLAlchemy
        # expanded it into the statement's text on every call.
        .where(ServiceRequest.status.in_([literal_column(f"'{s}'") for s in OPEN_STATUSES]))
        .order_by(ServiceRequest.opened_at, ServiceRequest.id)
    )
    if scoped:
        query = query.where(ServiceRequest.account_id.in_(bindparam("account_ids", expanding=True)))
    return query
