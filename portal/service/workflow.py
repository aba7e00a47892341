"""Opening a service request and working it: the thread, ownership and handovers,
the status workflow, the customer's confirmation, rating and reopening, and the
scheduled closing of resolved requests.

Plain functions with explicit arguments (the acting person, `now`). Every change
writes a ServiceEvent in the same transaction; the promise clock reads them.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.attachments import service as attachments
from portal.catalog.models import Product
from portal.equipment import service as equipment
from portal.equipment.models import EquipmentUnit
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db
from portal.formatting import number as format_number
from portal.fulfilment.models import Shipment, ShipmentLine
from portal.markdown import render as render_markdown
from portal.notifications import messages
from portal.ordering.models import Order, OrderLine
from portal.security import scoped

from . import complaints, promises
from .clock import add_working_days
from .models import KINDS, PRIORITIES, STATUSES, ServiceEvent, ServiceMessage, ServiceRequest
from .reading import ALL_ACCOUNTS, WORKERS, workers

MAX_TEXT = 20_000
MAX_FILES = 10

# Where vendor staff may move a request, from each status. Closing is the
# customer's (or the scheduled job's); reopening is the customer's.
TRANSITIONS = {
    "new": ("acknowledged", "in_progress", "waiting", "resolved"),
    "acknowledged": ("in_progress", "waiting", "resolved"),
    "in_progress": ("waiting", "resolved"),
    "waiting": ("in_progress", "resolved"),
}


def _event(
    request: ServiceRequest,
    actor: User | None,
    kind: str,
    now: datetime,
    before=None,
    after=None,
    **detail,
) -> None:
    db.session.add(
        ServiceEvent(
            request_id=request.id,
            at=now,
            actor_id=actor.id if actor else None,
            kind=kind,
            before=before,
            after=after,
            detail=detail or None,
        )
    )
    request.last_activity_at = now


# What a "rated" event keeps (its `after`) and the words each reader reads for it.
RATED = {"satisfied": _l("satisfied"), "not satisfied": _l("not satisfied")}


def said(template: LazyString) -> dict:
    """A sentence of the portal's own (not one a person typed) as an event keeps it: its
    message id, written in each reader's language when shown (`messages.render_value`;
    older events keep the English text, shown as it is)."""
    return messages.message(template, {})


def record_event(
    request: ServiceRequest,
    actor: User | None,
    kind: str,
    now: datetime,
    before=None,
    after=None,
    **detail,
) -> None:
    """Write an event of the request in the current transaction (the area's other
    modules: quality steps, replacement orders)."""
    _event(request, actor, kind, now, before, after, **detail)


def _set_status(request: ServiceRequest, actor: User | None, status: str, now: datetime, **detail):
    before, request.status = request.status, status
    _event(request, actor, "status", now, before=before, after=status, **detail)


def _first_response(request: ServiceRequest, actor: User, now: datetime) -> None:
    """The vendor's first word the customer sees stops the first-response clock."""
    if request.first_response_at is None:
        request.first_response_at = now
        _event(request, actor, "first_response", now)


def _clean_text(raw: str, field: str, what: str, *, required: bool = True) -> str:
    text = (raw or "").strip()
    if required and not text:
        raise DomainError(_("Write %(what)s first.", what=what), field=field)
    if len(text) > MAX_TEXT:
        raise DomainError(
            _(
                "Keep %(what)s under %(max_text)s characters.",
                what=what,
                max_text=format_number(MAX_TEXT),
            ),
            field=field,
        )
    return text


def _store_files(
    user: User, request: ServiceRequest, files, owner_kind: str, owner_id: int, internal=False
):
    uploads = [upload for upload in files or () if upload and upload.filename]
    if len(uploads) > MAX_FILES:
        raise DomainError(
            _("Attach at most %(max_files)s files at a time.", max_files=MAX_FILES), field="files"
        )
    stored = [attachments.store(user, request.account_id, u, internal=internal) for u in uploads]
    if stored:
        attachments.attach(stored, owner_kind, owner_id)


# --- opening -------------------------------------------------------------------------------------


def equipment_context(user: User, equipment_id: int | None) -> EquipmentUnit | None:
    """The unit a request is opened from; another account's is not there (None)."""
    if equipment_id is None:
        return None
    try:
        return equipment.unit_for(user, equipment_id)
    except (NotFound, Forbidden):
        return None


def shipment_context(user: User, shipment_id: int | None) -> Shipment | None:
    """The shipment a request is opened from, with its lines; another account's is
    not there for a customer (None, as if missing)."""
    if shipment_id is None:
        return None
    return db.session.scalar(
        scoped(select(Shipment), Shipment, user)
        .where(Shipment.id == shipment_id)
        .options(
            selectinload(Shipment.lines).joinedload(ShipmentLine.line),
            joinedload(Shipment.order),
        )
    )


def context_for(
    user: User, *, order_line_id: int | None = None, product_id: int | None = None
) -> tuple[OrderLine | None, Product | None]:
    """What a request opened from an order line or a product concerns. An order
    line of another account is not there for a customer (None, as if missing)."""
    line = None
    if order_line_id is not None:
        query = (
            select(OrderLine)
            .join(Order, Order.id == OrderLine.order_id)
            .where(OrderLine.id == order_line_id)
        )
        if not user.is_vendor_staff:
            query = query.where(Order.account_id == user.account_id)
        line = db.session.scalar(query)
    product = db.session.get(Product, product_id) if product_id is not None else None
    if line is not None and product is None:
        product = db.session.get(Product, line.product_id)
    return line, product


def open_request(
    user: User,
    *,
    kind: str,
    priority: str,
    title: str,
    description: str,
    now: datetime,
    account_id: int | None = None,
    order_line_id: int | None = None,
    product_id: int | None = None,
    equipment_id: int | None = None,
    shipment_id: int | None = None,
    files=(),
) -> ServiceRequest:
    """Open a request: a customer for their own account, or vendor staff on a
    customer's behalf (a phone call), which the request shows."""
    if kind not in KINDS:
        raise DomainError(_("Choose what kind of help you need."), field="kind")
    if priority not in PRIORITIES:
        raise DomainError(_("Choose a priority."), field="priority")
    title = " ".join((title or "").split())
    if len(title) < 3:
        raise DomainError(_("Give the request a title of a few words."), field="title")
    if len(title) > 200:
        raise DomainError(_("Keep the title under 200 characters."), field="title")
    description = _clean_text(description, "description", _l("the description"), required=False)
    if user.is_vendor_staff:
        if not user.has_role(*WORKERS):
            raise Forbidden(_("Only service staff, engineers and account managers open requests."))
        account = db.session.get(CustomerAccount, account_id) if account_id else None
        if account is not None and not user.has_role(*ALL_ACCOUNTS):
            account = account if account.account_manager_id == user.id else None
        if account is None or account.status != "active":
            raise DomainError(_("Choose the customer who called."), field="account_id")
    else:
        account = db.session.get(CustomerAccount, user.account_id)
    unit = equipment_context(user, equipment_id)
    if equipment_id is not None and (unit is None or unit.account_id != account.id):
        raise DomainError(_("That unit is not one of the customer's."), field="equipment_id")
    if unit is not None:
        # A unit stands for its product and the order line it came from.
        product_id = product_id if product_id is not None else unit.product_id
        if order_line_id is None and unit.order_line_id is not None:
            order_line_id = unit.order_line_id
    shipment = shipment_context(user, shipment_id)
    if shipment_id is not None and (shipment is None or shipment.account_id != account.id):
        raise DomainError(_("That shipment is not one of the customer's."), field="shipment_id")
    if shipment is not None and order_line_id is None and len(shipment.lines) == 1:
        # A shipment of one line is about that line (and its product).
        order_line_id = shipment.lines[0].line_id
    line, product = context_for(user, order_line_id=order_line_id, product_id=product_id)
    if order_line_id is not None and (
        line is None or db.session.get(Order, line.order_id).account_id != account.id
    ):
        raise DomainError(_("That order line is not one of the customer's."), field="order_line_id")
    if product_id is not None and product is None:
        raise DomainError(_("There is no such product."), field="product_id")
    request = ServiceRequest(
        account_id=account.id,
        kind=kind,
        priority=priority,
        title=title,
        description=description,
        status="new",
        opened_by_id=user.id,
        on_behalf=user.is_vendor_staff,
        contact_id=None if user.is_vendor_staff else user.id,
        order_line_id=line.id if line else None,
        product_id=product.id if product else None,
        equipment_id=unit.id if unit else None,
        shipment_id=shipment.id if shipment else None,
        opened_at=now,
        last_activity_at=now,
    )
    db.session.add(request)
    db.session.flush()
    _store_files(user, request, files, "service_request", request.id)
    _event(request, user, "opened", now, after="new", on_behalf=request.on_behalf)
    if user.is_vendor_staff:
        # Who took the call owns it; the customer's people are told it exists.
        request.owner_id = user.id
        _event(request, user, "owner", now, after=user.name, reason=said(_l("Opened on the phone")))
        _notify(
            _customer_people(request),
            user,
            "service_opened",
            {"variant": "by_vendor", "actor": user.name},
            request,
        )
    else:
        _notify(
            _vendor_people(request),
            user,
            "service_opened",
            {"priority": PRIORITIES[request.priority], "account": account.name},
            request,
        )
    db.session.commit()
    return request


# --- the thread ----------------------------------------------------------------------------------


def post(
    user: User, request: ServiceRequest, *, body: str, internal: bool, now: datetime, files=()
) -> ServiceMessage:
    """Add to the thread. Vendor staff may write internal notes the customer never
    sees; their first message the customer sees is the first response. A
    customer's message while the vendor waits for them restarts the clock."""
    body = _clean_text(body, "body", _l("your message"))
    vendor = user.is_vendor_staff
    if vendor and not user.has_role(*WORKERS):
        raise Forbidden(_("Only service staff, engineers and account managers write here."))
    if not vendor and internal:
        raise Forbidden(_("Customers write messages."))
    if request.status == "closed":
        raise DomainError(_("This request is closed. Open a new one if something is still wrong."))
    message = ServiceMessage(
        request_id=request.id,
        author_id=user.id,
        internal=internal,
        body=body,
        body_html=str(render_markdown(body)),
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    _store_files(user, request, files, "service_message", message.id, internal=internal)
    if internal:
        request.last_activity_at = now
    elif vendor:
        _first_response(request, user, now)
        _take_if_unowned(request, user, now)
        request.last_activity_at = now
        _notify(
            _customer_people(request),
            user,
            "service_answered",
            {},
            request,
        )
    else:
        if request.status == "waiting":
            _set_status(request, user, "in_progress", now)
        else:
            request.last_activity_at = now
        _notify(
            _vendor_people(request),
            user,
            "service_message",
            {"account": request.account.name},
            request,
        )
    db.session.commit()
    return message


# --- ownership -----------------------------------------------------------------------------------


def _take_if_unowned(request: ServiceRequest, user: User, now: datetime) -> None:
    if request.owner_id is None:
        # The relationship too: a page loaded `owner` as None, and the status
        # notification reads its name.
        request.owner = user
        _event(request, user, "owner", now, after=user.name, reason=said(_l("Took it")))


def take(user: User, request: ServiceRequest, now: datetime) -> ServiceRequest:
    """Become the request's owner, the one person accountable for it."""
    if not user.is_vendor_staff or not user.has_role(*WORKERS):
        raise Forbidden(_("Only service staff, engineers and account managers take requests."))
    if request.status == "closed":
        raise DomainError(_("A closed request needs no owner any more."))
    if request.owner_id == user.id:
        raise DomainError(_("You own this request already."))
    if request.owner_id is not None:
        return hand_over(user, request, user.id, reason=_l("Took it over"), now=now)
    _take_if_unowned(request, user, now)
    db.session.commit()
    return request


def hand_over(
    user: User,
    request: ServiceRequest,
    to_id: int | None,
    *,
    reason: str | LazyString,
    now: datetime,
) -> ServiceRequest:
    """Give the request to another person; who, to whom and why stay in its history.
    The reason is what the person typed, or the portal's own words (a lazy string)."""
    if not user.is_vendor_staff or not user.has_role(*WORKERS):
        raise Forbidden(_("Only service staff, engineers and account managers hand requests over."))
    if request.status == "closed":
        raise DomainError(_("A closed request is not handed over."))
    if isinstance(reason, LazyString):
        kept: str | dict = said(reason)
    else:
        reason = _clean_text(reason, "reason", _l("why you hand it over"))
        if len(reason) > 500:
            raise DomainError(_("Keep the reason under 500 characters."), field="reason")
        kept = reason
    to = next((p for p in workers() if p.id == to_id), None)
    if to is None:
        raise DomainError(_("Choose someone of the service team."), field="to_id")
    if to.id == request.owner_id:
        raise DomainError(_("%(to)s owns this request already.", to=to.name), field="to_id")
    before = request.owner.name if request.owner else None
    request.owner_id = to.id
    _event(request, user, "owner", now, before=before, after=to.name, reason=kept)
    _notify(
        [to],
        user,
        "service_assigned",
        {"account": request.account.name},
        request,
    )
    db.session.commit()
    return request


# --- the status workflow -------------------------------------------------------------------------


def change_status(
    user: User, request: ServiceRequest, status: str, *, now: datetime, resolution: str = ""
) -> ServiceRequest:
    """Move a request on. Resolving needs the resolution, which the customer reads;
    whoever moves an unowned request owns it."""
    if not user.is_vendor_staff or not user.has_role(*WORKERS):
        raise Forbidden(_("Only service staff, engineers and account managers change a request."))
    if status not in TRANSITIONS.get(request.status, ()):
        raise DomainError(
            _(
                "A request that is %(status)s cannot become %(new_status)s.",
                status=request.status_label.lower(),
                new_status=STATUSES.get(status, status).lower(),
            ),
            field="status",
        )
    resolution = _clean_text(
        resolution, "resolution", _l("the resolution"), required=status == "resolved"
    )
    if status == "resolved":
        missing = complaints.missing_steps(request)
        if missing:
            raise DomainError(
                _(
                    "A quality complaint is resolved once its steps are recorded. "
                    "Still missing: %(steps)s.",
                    steps=", ".join(str(label).lower() for label in missing),
                ),
                field="status",
            )
    _take_if_unowned(request, user, now)
    _first_response(request, user, now)
    if status == "resolved":
        request.resolution = resolution
        request.resolved_at = now
    _set_status(request, user, status, now)
    if status == "resolved":
        # Its clock stands still now: keep its answer for the measures (from the events).
        db.session.flush()
        promises.record_outcomes([request.id], now=now)
    _notify(
        _customer_people(request),
        user,
        "service_status",
        {"variant": status, "owner": request.owner.name if status == "acknowledged" else None},
        request,
    )
    db.session.commit()
    return request


def _customer(user: User, request: ServiceRequest) -> None:
    if user.is_vendor_staff or user.account_id != request.account_id:
        raise Forbidden(_("The customer answers this."))


def confirm(
    user: User, request: ServiceRequest, *, satisfied: bool | None, comment: str, now: datetime
) -> ServiceRequest:
    """The customer confirms the resolution (the request closes) and says whether
    they are satisfied; a request closed by itself can still be rated, once."""
    _customer(user, request)
    if satisfied is None:
        raise DomainError(_("Tell us whether you are satisfied."), field="satisfied")
    comment = _clean_text(comment, "comment", _l("the comment"), required=False)
    if request.status == "resolved":
        request.closed_at = now
        _set_status(request, user, "closed", now)
    elif request.status != "closed" or request.satisfied is not None:
        raise DomainError(_("This request is not waiting for your confirmation."))
    request.satisfied = satisfied
    request.satisfaction_comment = comment
    _event(request, user, "rated", now, after="satisfied" if satisfied else "not satisfied")
    _notify(
        _vendor_people(request),
        user,
        "service_rated",
        {
            "variant": "satisfied" if satisfied else "not_satisfied",
            "account": request.account.name,
        },
        request,
    )
    db.session.commit()
    return request


def reopen(user: User, request: ServiceRequest, *, reason: str, now: datetime) -> ServiceRequest:
    """The customer reopens a resolved request (until it closes); the reason goes
    into the thread and the owner is told."""
    _customer(user, request)
    if request.status != "resolved":
        raise DomainError(_("Only a resolved request can be reopened, until it is closed."))
    reason = _clean_text(reason, "reason", _l("what is still wrong"))
    db.session.add(
        ServiceMessage(
            request_id=request.id,
            author_id=user.id,
            body=reason,
            body_html=str(render_markdown(reason)),
            created_at=now,
        )
    )
    request.resolved_at = None
    _set_status(request, user, "in_progress", now, reopened=True)
    _event(request, user, "reopened", now)
    # Its clock runs on: the kept answer is no longer final, but holds as of now.
    db.session.flush()
    promises.record_outcomes([request.id], now=now)
    _notify(
        _vendor_people(request),
        user,
        "service_reopened",
        {"account": request.account.name},
        request,
    )
    db.session.commit()
    return request


def auto_close_at(request: ServiceRequest, calendar) -> datetime | None:
    """When a resolved request closes by itself, if the customer does nothing."""
    if request.status != "resolved" or request.resolved_at is None:
        return None
    days = current_app.config["SERVICE_AUTO_CLOSE_WORKING_DAYS"]
    return add_working_days(calendar, request.resolved_at, days)


def close_resolved_requests(now: datetime) -> int:
    """Close every resolved request whose customer neither confirmed nor reopened
    it within the configured working days. For the scheduled jobs; returns how many."""
    calendar = promises.calendar()
    resolved = db.session.scalars(
        select(ServiceRequest)
        .where(ServiceRequest.status == "resolved")
        .order_by(ServiceRequest.id)
    ).all()
    closed = 0
    for request in resolved:
        due = auto_close_at(request, calendar)
        if due is not None and due <= now:
            request.closed_at = now
            _set_status(request, None, "closed", now, automatic=True)
            _notify(
                _customer_people(request),
                None,
                "service_status",
                {"variant": "closed"},
                request,
            )
            closed += 1
    db.session.commit()
    return closed


# --- who is told ---------------------------------------------------------------------------------


def _customer_people(request: ServiceRequest) -> list[User]:
    """The contact on the customer's side; for a request opened on the phone, the
    account's buyers and customer admins."""
    if request.contact is not None and request.contact.account_id == request.account_id:
        return [request.contact]
    return [u for u in request.account.users if u.has_role(Role.BUYER, Role.CUSTOMER_ADMIN)]


def _vendor_people(request: ServiceRequest) -> list[User]:
    """The owner, or (while nobody owns it) the service team; and the account manager."""
    from portal.accounts import service as accounts

    people = [request.owner] if request.owner else accounts.people_with_role(Role.SERVICE)
    if request.account.account_manager is not None:
        people.append(request.account.account_manager)
    return people


def notify(side: str, request: ServiceRequest, actor: User | None, kind: str, params: dict) -> None:
    """Tell the customer's people (`side` "customer") or the vendor's (the owner or
    the service team, and the account manager) about the request."""
    people = _customer_people(request) if side == "customer" else _vendor_people(request)
    _notify(people, actor, kind, params, request)


def _notify(users, actor: User | None, kind: str, params: dict, request: ServiceRequest) -> None:
    from portal.notifications import service as notifications

    params = {"reference": request.reference, "title": request.title, **params}
    notifications.notify(users, kind, params, f"/service/{request.id}", exclude=actor)
