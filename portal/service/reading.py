"""Who sees which service requests, the queue and the lists, one request with its
thread, history and files.

What a person may see is decided in one place, `visible_requests`; internal
notes are filtered in the query that reads the thread, never in a template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts import service as accounts
from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import CUSTOMER_ROLES, Role
from portal.attachments import service as attachments
from portal.errors import Forbidden, NotFound
from portal.extensions import db
from portal.fulfilment.models import Shipment
from portal.params import database_int
from portal.security import scoped

from . import promises
from .models import (
    CLOSED_RANK,
    OPEN_STATUSES,
    PRIORITIES,
    PRIORITY_ORDER,
    STATUSES,
    ServiceEvent,
    ServiceMessage,
    ServiceRequest,
)

# Vendor staff who work requests: take them, answer, hand them over.
WORKERS = (Role.SERVICE, Role.ENGINEER, Role.ACCOUNT_MANAGER, Role.ADMIN)
# Those among them who see every account's requests (account managers see their accounts').
ALL_ACCOUNTS = (Role.SERVICE, Role.ENGINEER, Role.ADMIN)
CUSTOMERS = tuple(CUSTOMER_ROLES)
READERS = (*CUSTOMERS, *WORKERS)
# The queue is read a page at a time; within it, nearest promise first.
QUEUE_PAGE = 100


def visible_requests(viewer: User) -> Select:
    """The requests the viewer may see, as a query to refine: a customer its
    account's; service staff, engineers and admins all; an account manager
    (without one of those roles) those of the accounts they manage."""
    query = scoped(select(ServiceRequest), ServiceRequest, viewer)
    if not viewer.is_vendor_staff:
        return query
    if not viewer.has_role(*WORKERS):
        raise Forbidden(
            _("Service requests are for service staff, engineers and account managers.")
        )
    if not viewer.has_role(*ALL_ACCOUNTS):
        query = query.where(
            ServiceRequest.account_id.in_(
                select(CustomerAccount.id).where(CustomerAccount.account_manager_id == viewer.id)
            )
        )
    return query


def may_see(viewer: User, request_id: int) -> bool:
    """May the viewer see this request (the rule for its files)?"""
    try:
        query = visible_requests(viewer)
    except Forbidden:
        return False
    found = query.with_only_columns(ServiceRequest.id).where(ServiceRequest.id == request_id)
    return db.session.scalar(found) is not None


def _may_see_message(viewer: User, message_id: int) -> bool:
    message = db.session.get(ServiceMessage, message_id)
    if message is None or (message.internal and not viewer.is_vendor_staff):
        return False
    return may_see(viewer, message.request_id)


attachments.register_owner_check("service_request", may_see)
attachments.register_owner_check("service_message", _may_see_message)


def request_for(viewer: User, request_id: int) -> ServiceRequest:
    """One request the viewer may see, with what its page shows; NotFound otherwise
    (another account's request looks exactly like a missing one)."""
    found = db.session.scalar(
        visible_requests(viewer)
        .where(ServiceRequest.id == request_id)
        .options(
            joinedload(ServiceRequest.account).joinedload(CustomerAccount.account_manager),
            joinedload(ServiceRequest.opened_by),
            joinedload(ServiceRequest.owner),
            joinedload(ServiceRequest.product),
            joinedload(ServiceRequest.order_line),
            joinedload(ServiceRequest.shipment).joinedload(Shipment.order),
        )
    )
    if found is None:
        raise NotFound(_("No such service request."))
    return found


def thread(viewer: User, request: ServiceRequest) -> list[ServiceMessage]:
    """The thread, oldest first; internal notes only for vendor staff."""
    query = select(ServiceMessage).where(ServiceMessage.request_id == request.id)
    if not viewer.is_vendor_staff:
        query = query.where(ServiceMessage.internal.is_(False))
    return list(
        db.session.scalars(
            query.options(joinedload(ServiceMessage.author)).order_by(ServiceMessage.id)
        )
    )


def history(request: ServiceRequest) -> list[ServiceEvent]:
    """Every event of the request, oldest first, with who acted (vendor staff read it)."""
    return list(
        db.session.scalars(
            select(ServiceEvent)
            .where(ServiceEvent.request_id == request.id)
            .options(joinedload(ServiceEvent.actor))
            .order_by(ServiceEvent.id)
        )
    )


def requests_for_equipment(unit_account_id: int, unit_id: int) -> list[ServiceRequest]:
    """A unit's service history, newest first, with owners: for whoever may see the
    unit (the equipment area checks that), so the rule is the unit's account."""
    return list(
        db.session.scalars(
            select(ServiceRequest)
            .where(
                ServiceRequest.equipment_id == unit_id,
                ServiceRequest.account_id == unit_account_id,
            )
            .options(joinedload(ServiceRequest.owner))
            .order_by(ServiceRequest.opened_at.desc(), ServiceRequest.id.desc())
        )
    )


def last_maintenance(unit_ids) -> dict[int, date]:
    """The day each unit's last maintenance request was resolved (one statement,
    on ix_service_request_equipment). Units never maintained are absent."""
    ids = set(unit_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ServiceRequest.equipment_id, func.max(ServiceRequest.resolved_at))
        .where(
            ServiceRequest.equipment_id.in_(ids),
            ServiceRequest.kind == "maintenance",
            ServiceRequest.resolved_at.is_not(None),
        )
        .group_by(ServiceRequest.equipment_id)
    ).all()
    return {unit_id: resolved.date() for unit_id, resolved in rows if resolved is not None}


def files_of(viewer: User, request: ServiceRequest, messages: list[ServiceMessage]):
    """The request's own files and each post's, in two queries."""
    own = attachments.for_owner("service_request", [request.id], viewer)[request.id]
    per_message = attachments.for_owner("service_message", [m.id for m in messages], viewer)
    return own, per_message


def workers() -> list[User]:
    """Vendor staff a request can be handed to."""
    people: dict[int, User] = {}
    for role in WORKERS:
        for person in accounts.people_with_role(role):
            people[person.id] = person
    return sorted(people.values(), key=lambda p: p.name.lower())


@dataclass(frozen=True)
class RequestFilter:
    status: str = "open"  # "open", "all" or one status
    priority: str = ""
    owner: str = ""  # "", "me", "nobody" or a user id
    account_id: int | None = None


def _filtered(viewer: User, filters: RequestFilter, *, ranked: bool = False) -> Select:
    """The requests the viewer may see that the filters let through. `ranked`: the
    status and priority said through the queue's rank where it says the same (see
    `_status_and_priority`), for the queue's index."""
    query = visible_requests(viewer).where(*_status_and_priority(filters, ranked=ranked))
    if filters.owner == "me":
        query = query.where(ServiceRequest.owner_id == viewer.id)
    elif filters.owner == "nobody":
        query = query.where(ServiceRequest.owner_id.is_(None))
    elif filters.owner:
        try:
            query = query.where(ServiceRequest.owner_id == database_int(filters.owner))
        except ValueError:
            pass  # not a person's id: no filter, as for a person who left
    if filters.account_id is not None and viewer.is_vendor_staff:
        query = query.where(ServiceRequest.account_id == filters.account_id)
    return query


def _status_and_priority(filters: RequestFilter, *, ranked: bool) -> list:
    """The status and priority filters as conditions. With `ranked`, what the queue's
    rank says exactly is said with it: the open requests are those ranked below
    CLOSED_RANK, the open ones of a priority those of its rank, the resolved and closed
    ones rank CLOSED_RANK. The queue's index then finds a page at its start, where a
    status IN list would leave it to read the table's status of each request."""
    status = filters.status
    priority = filters.priority if filters.priority in PRIORITIES else ""
    conditions = []
    if status == "open" or status in OPEN_STATUSES:
        if ranked:
            rank = ServiceRequest.queue_rank
            conditions.append(rank == PRIORITY_ORDER[priority] if priority else rank < CLOSED_RANK)
            priority = ""  # said by the rank
        if status != "open":
            conditions.append(ServiceRequest.status == status)
        elif not ranked:
            conditions.append(ServiceRequest.status.in_(OPEN_STATUSES))
    elif status in STATUSES:
        conditions.append(ServiceRequest.status == status)
        if ranked:
            conditions.append(ServiceRequest.queue_rank == CLOSED_RANK)
    if priority:
        conditions.append(ServiceRequest.priority == priority)
    return conditions


# The queue's order, which ix_service_request_queue_order gives: open requests first,
# by priority, then the oldest first; then the resolved and closed ones by latest
# activity. Ties by latest activity, then the newest id.
QUEUE_ORDER = (
    ServiceRequest.queue_rank,
    ServiceRequest.queue_opened_at,
    ServiceRequest.last_activity_at.desc(),
    ServiceRequest.id.desc(),
)


def listing(
    viewer: User, filters: RequestFilter, now: datetime, *, limit: int = QUEUE_PAGE
) -> tuple[list[tuple[ServiceRequest, promises.Promise]], int]:
    """A page of requests with their promises, and how many match.

    Open requests come due first: breached, then by the instant the next
    promise falls due, paused ones last. The database picks the page by
    priority and age (which is how the due instants mostly fall, since targets
    follow priority; QUEUE_ORDER, read from an index rather than sorted); the clock
    then orders the page. Closed and resolved ones follow by latest activity. A
    fixed number of queries whatever the page size.
    """
    # The count said by status and priority: ix_service_request_queue holds both, so it
    # counts from that index alone, where the rank's would read each resolved or closed
    # request's status from the table (at 108,000 requests, 127 ms on SQLite for
    # "closed"). An explicit FROM: without a condition on the table ("all statuses" for
    # vendor staff) the bare count had none, and counted 1.
    total = db.session.scalar(
        _filtered(viewer, filters)
        .with_only_columns(func.count(), maintain_column_froms=True)
        .order_by(None)
    )
    # The page in the queue's order, from its index.
    query = _filtered(viewer, filters, ranked=True)
    found = list(
        db.session.scalars(
            query.options(
                selectinload(ServiceRequest.account),
                selectinload(ServiceRequest.owner),
            )
            .order_by(*QUEUE_ORDER)
            .limit(limit)
        )
    )
    states = promises.promises_for(found, now)
    rows = [(r, states[r.id]) for r in found]
    rows.sort(key=lambda row: _due_key(row[0], row[1]))
    return rows, total


def newest_first(
    viewer: User,
    filters: RequestFilter,
    *,
    after: tuple[datetime, int] | None = None,
    limit: int = 50,
) -> list[ServiceRequest]:
    """A page of the requests the viewer may see, newest opened first. `after` is
    (opened_at, id) of the last one seen: a cursor (the API's) that stays right while
    new requests arrive."""
    query = _filtered(viewer, filters)
    if after is not None:
        opened_at, request_id = after
        query = query.where(
            or_(
                ServiceRequest.opened_at < opened_at,
                and_(ServiceRequest.opened_at == opened_at, ServiceRequest.id < request_id),
            )
        )
    return list(
        db.session.scalars(
            query.order_by(ServiceRequest.opened_at.desc(), ServiceRequest.id.desc()).limit(limit)
        )
    )


def _due_key(request: ServiceRequest, promise: promises.Promise):
    if not request.is_open:
        return (3, 0.0)  # keeps the database's order (latest activity) among these
    upcoming = promise.next
    if upcoming is None:
        return (2, 0.0)
    _, clock = upcoming
    if clock.state == "breached":
        return (0, -clock.spent_seconds + clock.target_seconds)
    if clock.state == "paused":
        return (2, clock.left_seconds)
    return (1, clock.due_at.timestamp() if clock.due_at else 0.0)


def accounts_to_filter(viewer: User) -> list[CustomerAccount]:
    """The accounts a vendor viewer can filter the queue by."""
    query = select(CustomerAccount).order_by(CustomerAccount.name)
    if not viewer.has_role(*ALL_ACCOUNTS):
        query = query.where(CustomerAccount.account_manager_id == viewer.id)
    return list(db.session.scalars(query))


def visible_account_ids(viewer: User) -> list[int] | None:
    """The accounts whose figures the viewer may read: a customer its own; an account
    manager (without a role that sees all) those they manage; None for all accounts."""
    if not viewer.is_vendor_staff:
        return [viewer.account_id]
    if not viewer.has_role(*WORKERS):
        raise Forbidden(_("Service figures are for service staff, engineers and account managers."))
    if viewer.has_role(*ALL_ACCOUNTS):
        return None
    return [a.id for a in accounts_to_filter(viewer)]


def products_named(keyed: dict) -> dict:
    """The products whose ids key `keyed`, by id (one query)."""
    from portal.catalog.models import Product

    ids = [k for k in keyed if k is not None]
    if not ids:
        return {}
    return {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids)))}


def accounts_named(keyed: dict) -> dict:
    """The accounts whose ids key `keyed`, by id (one query)."""
    ids = [k for k in keyed if k is not None]
    if not ids:
        return {}
    return {
        a.id: a
        for a in db.session.scalars(select(CustomerAccount).where(CustomerAccount.id.in_(ids)))
    }
