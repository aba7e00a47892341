"""The order desk: confirm lines with promises, change a promise with a reason,
ship, deliver, cancel, and answer a buyer's cancellation request.

Plain functions with explicit arguments (the acting user, `today`). Every
change writes order events in the same transaction and keeps the promise
ledger in step (`ledger.tracking`). Changes that two people could make at
once are conditional UPDATEs: of two staff confirming one order, or two
answers to one request, exactly one applies and the other is told why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import Select, func, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.catalog import service as catalog
from portal.catalog.models import Stock
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.ordering.models import Order, OrderEvent, OrderLine
from portal.ordering.service import desk_people, lock_order, record_event, release_reservation

from . import ledger
from .models import CHANGE_REASONS, CancellationRequest, Shipment, ShipmentLine

DESK_ROLES = (Role.FULFILMENT, Role.ADMIN)


# --- who sees and acts --------------------------------------------------------------------


def desk_accounts(viewer: User) -> Select:
    """The ids of the accounts whose orders the viewer's desk shows.

    Fulfilment and admins see every account; an account manager sees the
    accounts they manage; a customer sees only their own (for the ledger).
    """
    query = select(CustomerAccount.id)
    if not viewer.is_vendor_staff:
        return query.where(CustomerAccount.id == viewer.account_id)
    if viewer.has_role(*DESK_ROLES):
        return query
    if viewer.has_role(Role.ACCOUNT_MANAGER):
        return query.where(CustomerAccount.account_manager_id == viewer.id)
    raise Forbidden("The order desk is for fulfilment staff and account managers.")


def _only_desk_accounts(query: Select, account_column, viewer: User) -> Select:
    """Restrict a query to the viewer's desk accounts; no condition at all for
    those who see every account (it would only slow the query down)."""
    if viewer.is_vendor_staff and viewer.has_role(*DESK_ROLES):
        return query
    return query.where(account_column.in_(desk_accounts(viewer)))


def _require_desk(user: User) -> None:
    if not user.has_role(*DESK_ROLES):
        raise Forbidden("Only fulfilment staff can change orders at the desk.")


def _lock_check(changed: int, message: str) -> None:
    """A conditional UPDATE that applied to no row: someone else was first."""
    if not changed:
        db.session.rollback()
        raise DomainError(message)


# --- the inbox ----------------------------------------------------------------------------

INBOX_VIEWS = {
    "waiting": "Waiting for confirmation",
    "in_progress": "Confirmed, not all shipped",
    "in_transit": "Shipped, not delivered",
    "requests": "Cancellation requests",
    "done": "Delivered",
    "all": "All orders",
}
_VIEW_STATUSES = {
    "waiting": ("placed",),
    "in_progress": ("confirmed", "partly_shipped"),
    "in_transit": ("shipped",),
    "done": ("delivered",),
}


@dataclass(frozen=True)
class DeskFilter:
    view: str = "waiting"
    account_id: int | None = None
    manager_id: int | None = None
    q: str = ""


@dataclass(frozen=True)
class InboxRow:
    order: Order
    line_count: int
    open_requests: int


def inbox(
    viewer: User, filters: DeskFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[InboxRow], int]:
    """Orders for the desk, oldest first where something waits for the vendor."""
    query = _only_desk_accounts(select(Order), Order.account_id, viewer)
    pending = (
        select(func.count(CancellationRequest.id))
        .where(CancellationRequest.order_id == Order.id, CancellationRequest.status == "pending")
        .scalar_subquery()
    )
    if filters.view in _VIEW_STATUSES:
        query = query.where(Order.status.in_(_VIEW_STATUSES[filters.view]))
    elif filters.view == "requests":
        query = query.where(pending > 0)
    if filters.account_id:
        query = query.where(Order.account_id == filters.account_id)
    if filters.manager_id:
        query = query.where(
            Order.account_id.in_(
                select(CustomerAccount.id).where(
                    CustomerAccount.account_manager_id == filters.manager_id
                )
            )
        )
    if filters.q.strip():
        term = filters.q.strip()
        # The beginning of an order number, a PO number (any case) or a SKU:
        # ranges on indexed keys, so a search stays fast over every order.
        # A UNION of the three, not an OR: each part is planned on its own index.
        po_key = func.lower(Order.po_number)
        matching = union(
            select(Order.id).where(
                Order.number >= term.upper(), Order.number < term.upper() + "\uffff"
            ),
            select(Order.id).where(po_key >= term.lower(), po_key < term.lower() + "\uffff"),
            select(OrderLine.order_id).where(
                OrderLine.product_id.in_(catalog.ids_by_sku_prefix(term))
            ),
        )
        query = query.where(Order.id.in_(matching))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    oldest_first = filters.view in ("waiting", "in_progress", "in_transit", "requests")
    line_count = (
        select(func.count(OrderLine.id)).where(OrderLine.order_id == Order.id).scalar_subquery()
    )
    rows = db.session.execute(
        query.add_columns(line_count, pending)
        .options(
            joinedload(Order.account).joinedload(CustomerAccount.account_manager),
            joinedload(Order.placed_by),
        )
        .order_by(
            Order.placed_at.asc() if oldest_first else Order.placed_at.desc(),
            Order.id.asc() if oldest_first else Order.id.desc(),
        )
        .limit(limit)
        .offset(offset)
    ).all()
    return [InboxRow(order, lines, requests) for order, lines, requests in rows], total


def desk_order(viewer: User, number: str) -> Order:
    order = db.session.scalar(
        _only_desk_accounts(select(Order), Order.account_id, viewer)
        .where(Order.number == number)
        .options(
            selectinload(Order.lines),
            joinedload(Order.placed_by),
            joinedload(Order.account).joinedload(CustomerAccount.account_manager),
        )
    )
    if order is None:
        raise NotFound("No such order.")
    return order


def shipments(order: Order) -> list[Shipment]:
    return list(
        db.session.scalars(
            select(Shipment)
            .where(Shipment.order_id == order.id)
            .options(selectinload(Shipment.lines), joinedload(Shipment.created_by))
            .order_by(Shipment.shipped_on, Shipment.id)
        )
    )


def cancellation_requests(order: Order) -> list[CancellationRequest]:
    return list(
        db.session.scalars(
            select(CancellationRequest)
            .where(CancellationRequest.order_id == order.id)
            .options(
                joinedload(CancellationRequest.line),
                joinedload(CancellationRequest.requested_by),
                joinedload(CancellationRequest.answered_by),
            )
            .order_by(CancellationRequest.requested_at)
        )
    )


def pending_request_for(order: Order, line_id: int) -> CancellationRequest | None:
    return db.session.scalar(
        select(CancellationRequest).where(
            CancellationRequest.order_id == order.id,
            CancellationRequest.line_id == line_id,
            CancellationRequest.status == "pending",
        )
    )


def promise_history(order: Order) -> dict[int, list[OrderEvent]]:
    """Each line's promise events (first promise, then every change), oldest first."""
    events = db.session.scalars(
        select(OrderEvent)
        .where(
            OrderEvent.order_id == order.id,
            OrderEvent.kind.in_(("confirmed", "promise_changed")),
        )
        .options(joinedload(OrderEvent.actor))
        .order_by(OrderEvent.id)
    )
    history: dict[int, list[OrderEvent]] = {}
    for event in events:
        history.setdefault(event.line_id, []).append(event)
    return history


def line_figures(order: Order) -> dict[int, ledger.LineFigures]:
    """How each line of the order stands against its first promise."""
    return ledger._figures_of_order(order.id, order.account.promise_basis)


# --- confirming ---------------------------------------------------------------------------


def proposed_promise(line: OrderLine, today: date) -> date:
    """The date to pre-fill: the ship date estimated at ordering (or what stock
    and lead time allow from today, once that has passed), plus the transit
    time when the account's terms measure promises on delivery."""
    dispatch = current_app.config["DISPATCH_DAYS_FROM_STOCK"]
    if line.estimated_ship_date >= today:
        ships = line.estimated_ship_date
    elif line.reserved_quantity >= line.quantity:
        ships = today + timedelta(days=dispatch)
    else:
        ships = today + timedelta(days=max(line.product.lead_time_days, dispatch))
    if line.order.account.promise_basis == "delivery":
        return ships + timedelta(days=current_app.config["TRANSIT_DAYS"])
    return ships


@dataclass(frozen=True)
class LineDecision:
    line_id: int
    promised_on: date | None = None
    # Part later: this many of the line get a second promise.
    later_quantity: int | None = None
    later_promised_on: date | None = None
    decline_reason: str = ""


def _check_promise(label: str, promised_on: date | None, order: Order, today: date) -> date:
    if promised_on is None:
        raise DomainError(f"{label}: enter the promised ship date.")
    if promised_on < today:
        raise DomainError(f"{label}: a promise cannot be in the past ({promised_on:%d %b %Y}).")
    if promised_on < order.placed_at.date():
        raise DomainError(f"{label}: the date is before the order was placed.")
    if promised_on > today + timedelta(days=730):
        raise DomainError(f"{label}: that date is more than two years ahead.")
    return promised_on


def confirm(user: User, order: Order, decisions: list[LineDecision], today: date) -> Order:
    """Confirm every open line of a placed order: a promised ship date, or two
    (part now, part later: the line is split), or a decline with a reason."""
    _require_desk(user)
    lock_order(order)
    if order.status != "placed":
        raise DomainError(
            f"Order {order.number} is {order.status_label.lower()}: nothing to confirm."
        )
    open_lines = [line for line in order.lines if line.status == "open"]
    wanted = {decision.line_id: decision for decision in decisions}
    plan = []
    for line in open_lines:
        decision = wanted.get(line.id)
        label = f"Line {line.line_no} ({line.sku})"
        if decision is None:
            raise DomainError(f"{label}: give it a promise or decline it.")
        reason = decision.decline_reason.strip()
        if reason:
            plan.append((line, None, None, None, reason[:500]))
            continue
        promised = _check_promise(label, decision.promised_on, order, today)
        later = decision.later_quantity or 0
        later_date = None
        if later:
            if not 0 < later < line.quantity:
                raise DomainError(
                    f"{label}: the later part must be between 1 and {line.quantity - 1}."
                )
            later_date = _check_promise(
                f"{label}, later part", decision.later_promised_on, order, today
            )
            if later_date < promised:
                raise DomainError(
                    f"{label}: the later part cannot be promised before the first "
                    f"({later_date:%d %b %Y} is before {promised:%d %b %Y})."
                )
        plan.append((line, promised, later, later_date, ""))
    # Of two people confirming at once, one claims the order; the other is told.
    _lock_check(
        db.session.execute(
            update(Order)
            .where(Order.id == order.id, Order.status == "placed")
            .values(status="confirmed")
            .execution_options(synchronize_session=False)
        ).rowcount,
        f"Order {order.number} was confirmed a moment ago by someone else.",
    )
    with ledger.tracking(order):
        next_no = max(line.line_no for line in order.lines) + 1
        for line, promised, later, later_date, reason in plan:
            if reason:
                line.status = "declined"
                release_reservation(line)
                record_event(
                    order, user, "line_declined", line, quantity=line.quantity, reason=reason
                )
                continue
            if later:
                part = _split(order, line, later, next_no)
                next_no += 1
                record_event(order, user, "line_split", line, new_line_no=part.line_no, moved=later)
                _promise(order, user, part, later_date)
            _promise(order, user, line, promised)
        _refresh_status(order)
        kept = sum(1 for item in plan if not item[4])
        record_event(order, user, "order_confirmed", confirmed=kept, declined=len(plan) - kept)
    _notify_buyer(
        order,
        user,
        "order_confirmed",
        f"Order {order.number} was confirmed"
        + (
            f"; the first lines are promised for {_earliest_promise(order):%d %b %Y}."
            if kept
            else ": every line declined."
        ),
    )
    db.session.commit()
    return order


def _split(order: Order, line: OrderLine, later: int, line_no: int) -> OrderLine:
    """Move `later` units of the line into a new line; reserved stock stays with
    the part that ships first."""
    line.quantity -= later
    line.line_total = line.unit_price * line.quantity
    part = OrderLine(
        line_no=line_no,
        product_id=line.product_id,
        sku=line.sku,
        name=line.name,
        unit=line.unit,
        quantity=later,
        unit_price=line.unit_price,
        line_total=line.unit_price * later,
        reserved_quantity=max(0, line.reserved_quantity - line.quantity),
        estimated_ship_date=line.estimated_ship_date,
        split_from_id=line.id,
    )
    line.reserved_quantity = min(line.reserved_quantity, line.quantity)
    order.lines.append(part)
    db.session.flush()
    return part


def _promise(order: Order, user: User, line: OrderLine, promised_on: date) -> None:
    line.status = "confirmed"
    line.first_promised_on = line.promised_on = promised_on
    record_event(order, user, "confirmed", line, quantity=line.quantity, on_date=promised_on)


def _earliest_promise(order: Order) -> date:
    return min(line.promised_on for line in order.lines if line.promised_on)


# --- changing a promise -------------------------------------------------------------------


def change_promise(
    user: User,
    order: Order,
    line_id: int,
    *,
    new_date: date | None,
    reason: str,
    text: str,
    today: date,
) -> OrderLine:
    """Move a line's promise. The reason is required, kept with the old and new date."""
    _require_desk(user)
    lock_order(order)
    line = _line(order, line_id)
    label = f"Line {line.line_no} ({line.sku})"
    if line.status != "confirmed" or line.outstanding <= 0:
        raise DomainError(f"{label} has nothing left to ship: its promise cannot change.")
    if reason not in CHANGE_REASONS:
        raise DomainError("Choose the reason for the change.", field="reason")
    text = text.strip()[:500]
    if reason == "other" and not text:
        raise DomainError("Say what the other reason is.", field="text")
    new_date = _check_promise(label, new_date, order, today)
    if new_date == line.promised_on:
        raise DomainError(f"{label} is already promised for {new_date:%d %b %Y}.", field="new_date")
    before = line.promised_on
    with ledger.tracking(order):
        line.promised_on = new_date
        record_event(
            order,
            user,
            "promise_changed",
            line,
            on_date=new_date,
            before=before.isoformat(),
            after=new_date.isoformat(),
            reason=reason,
            text=text,
        )
    _notify_buyer(
        order,
        user,
        "promise_changed",
        f"Order {order.number}, line {line.line_no} ({line.sku}): now promised for "
        f"{new_date:%d %b %Y} instead of {before:%d %b %Y} ({CHANGE_REASONS[reason].lower()}).",
    )
    db.session.commit()
    return line


def _line(order: Order, line_id: int) -> OrderLine:
    line = next((line for line in order.lines if line.id == line_id), None)
    if line is None:
        raise NotFound("No such line in this order.")
    return line


# --- shipping and delivering --------------------------------------------------------------


def _check_ship_date(shipped_on: date | None, order: Order, today: date) -> date:
    if shipped_on is None:
        raise DomainError("Enter the ship date.", field="shipped_on")
    if shipped_on < order.placed_at.date():
        raise DomainError("The ship date is before the order was placed.", field="shipped_on")
    if shipped_on > today:
        raise DomainError(
            "The ship date is in the future: record shipments once they leave.", field="shipped_on"
        )
    return shipped_on


def ship(
    user: User,
    order: Order,
    quantities: dict[int, int],
    *,
    carrier: str,
    tracking: str,
    shipped_on: date | None,
    today: date,
) -> Shipment:
    """Record goods leaving: a quantity per line, partial allowed."""
    _require_desk(user)
    lock_order(order)
    if order.status not in ("confirmed", "partly_shipped"):
        raise DomainError(f"Order {order.number} is {order.status_label.lower()}: nothing to ship.")
    shipped_on = _check_ship_date(shipped_on, order, today)
    wanted = {line_id: quantity for line_id, quantity in quantities.items() if quantity}
    if not wanted:
        raise DomainError("Enter the quantity shipped for at least one line.")
    lines = {line_id: _line(order, line_id) for line_id in wanted}
    for line_id, quantity in wanted.items():
        line = lines[line_id]
        label = f"Line {line.line_no} ({line.sku})"
        if line.status != "confirmed":
            raise DomainError(f"{label} is {line.status}: it cannot ship.")
        if quantity < 0:
            raise DomainError(f"{label}: the quantity cannot be negative.")
        if quantity > line.outstanding:
            raise DomainError(
                f"{label}: only {line.outstanding} {line.unit} left to ship, not {quantity}."
            )
    shipment = Shipment(
        order_id=order.id,
        account_id=order.account_id,
        shipped_on=shipped_on,
        carrier=carrier.strip()[:80],
        tracking=tracking.strip()[:100],
        created_by_id=user.id,
    )
    with ledger.tracking(order):
        for line_id, quantity in wanted.items():
            line = lines[line_id]
            _lock_check(
                _add_shipped(line, quantity),
                f"Line {line.line_no} ({line.sku}) changed a moment ago: reload and try again.",
            )
            shipment.lines.append(
                ShipmentLine(
                    line_id=line.id,
                    quantity=quantity,
                    from_stock=_take_from_stock(line, quantity),
                )
            )
        db.session.add(shipment)
        db.session.flush()
        for line_id, quantity in wanted.items():
            record_event(
                order,
                user,
                "shipped",
                lines[line_id],
                quantity=quantity,
                on_date=shipped_on,
                shipment=shipment.id,
                carrier=shipment.carrier,
                tracking=shipment.tracking,
            )
        _refresh_status(order)
    _notify_buyer(
        order,
        user,
        "order_shipped",
        f"Order {order.number}: {sum(wanted.values())} units shipped {shipped_on:%d %b %Y}"
        + (f" with {shipment.carrier}" if shipment.carrier else "")
        + (f", tracking {shipment.tracking}." if shipment.tracking else "."),
    )
    db.session.commit()
    return shipment


def _add_shipped(line: OrderLine, quantity: int) -> int:
    """Conditional: never more than is outstanding, whatever else runs at once."""
    return db.session.execute(
        update(OrderLine)
        .where(
            OrderLine.id == line.id,
            OrderLine.status == "confirmed",
            OrderLine.shipped_quantity + OrderLine.cancelled_quantity + quantity
            <= OrderLine.quantity,
            OrderLine.shipped_quantity + quantity >= 0,
        )
        .values(shipped_quantity=OrderLine.shipped_quantity + quantity)
        .execution_options(synchronize_session=False)
    ).rowcount


def _take_from_stock(line: OrderLine, quantity: int) -> int:
    """What was reserved for the line leaves the warehouse with it; the rest was
    made or bought for the order and never counted as stock. Returns how many
    units came from stock (the shipment line keeps it, for corrections)."""
    from_stock = min(line.reserved_quantity, quantity)
    _move_stock(line, -from_stock)
    return from_stock


def _move_stock(line: OrderLine, units: int) -> None:
    """Units leave (negative) or come back to (positive) the warehouse, and the
    line's reservation with them: what comes back stays reserved for the line."""
    if units:
        db.session.execute(
            update(Stock)
            .where(Stock.product_id == line.product_id)
            .values(reserved=Stock.reserved + units, on_hand=Stock.on_hand + units)
            .execution_options(synchronize_session=False)
        )
        line.reserved_quantity += units


def shipment_for(order: Order, shipment_id: int) -> Shipment:
    shipment = db.session.scalar(
        select(Shipment)
        .where(Shipment.id == shipment_id, Shipment.order_id == order.id)
        .options(selectinload(Shipment.lines).joinedload(ShipmentLine.line))
    )
    if shipment is None:
        raise NotFound("No such shipment for this order.")
    return shipment


def _lock_shipment(order: Order, shipment: Shipment) -> None:
    """The order's lock, then the shipment and its lines as they are now."""
    lock_order(order)
    db.session.refresh(shipment)
    for item in shipment.lines:
        db.session.refresh(item)


def correct_shipment(
    user: User,
    order: Order,
    shipment: Shipment,
    quantities: dict[int, int],
    *,
    carrier: str,
    tracking: str,
    shipped_on: date | None,
    reason: str,
    today: date,
) -> Shipment:
    """Correct a shipment's quantities, date, carrier or tracking: never silently.

    Quantities are keyed by shipment line. A changed date moves the whole
    shipment: the ledger sees it taken back on the old date and shipped on the new.
    Units taken off a shipment go back to stock as far as they came from it (and
    stay reserved for the line); units added come from the line's reservation.
    """
    _require_desk(user)
    _lock_shipment(order, shipment)
    reason = reason.strip()[:500]
    if not reason:
        raise DomainError("Say why the shipment is corrected.", field="reason")
    if shipment.delivered_on is not None:
        raise DomainError("This shipment's delivery is recorded: it can no longer be corrected.")
    shipped_on = _check_ship_date(shipped_on, order, today)
    carrier, tracking = carrier.strip()[:80], tracking.strip()[:100]
    changes = []
    for item in shipment.lines:
        new = quantities.get(item.id, item.quantity)
        label = f"Line {item.line.line_no} ({item.line.sku})"
        if new < 0:
            raise DomainError(f"{label}: the quantity cannot be negative.")
        if new - item.quantity > item.line.outstanding:
            raise DomainError(
                f"{label}: at most {item.quantity + item.line.outstanding} can be on this shipment."
            )
        if new != item.quantity or shipped_on != shipment.shipped_on:
            changes.append((item, new))
    header_changed = (carrier, tracking) != (shipment.carrier, shipment.tracking)
    if not changes and not header_changed:
        raise DomainError("Nothing was changed.")
    old_date = shipment.shipped_on
    with ledger.tracking(order):
        for item, new in changes:
            line = item.line
            if new != item.quantity:
                _lock_check(
                    _add_shipped(line, new - item.quantity),
                    f"Line {line.line_no} ({line.sku}) changed a moment ago: reload and try again.",
                )
                if new > item.quantity:
                    item.from_stock += _take_from_stock(line, new - item.quantity)
                else:
                    back = min(item.quantity - new, item.from_stock)
                    _move_stock(line, back)
                    item.from_stock -= back
            detail = {
                "shipment": shipment.id,
                "before": item.quantity,
                "after": new,
                "shipped_on_before": old_date.isoformat(),
                "shipped_on_after": shipped_on.isoformat(),
                "reason": reason,
            }
            if shipped_on != old_date:
                record_event(
                    order,
                    user,
                    "shipment_corrected",
                    line,
                    quantity=-item.quantity,
                    on_date=old_date,
                    **detail,
                )
                record_event(
                    order,
                    user,
                    "shipment_corrected",
                    line,
                    quantity=new,
                    on_date=shipped_on,
                    **detail,
                )
            else:
                record_event(
                    order,
                    user,
                    "shipment_corrected",
                    line,
                    quantity=new - item.quantity,
                    on_date=shipped_on,
                    **detail,
                )
            item.quantity = new
        if header_changed and not changes:
            record_event(
                order,
                user,
                "shipment_corrected",
                shipment=shipment.id,
                carrier=carrier,
                tracking=tracking,
                reason=reason,
            )
        shipment.shipped_on, shipment.carrier, shipment.tracking = shipped_on, carrier, tracking
        _refresh_status(order)
    db.session.commit()
    return shipment


def deliver(
    user: User,
    order: Order,
    shipment: Shipment,
    *,
    delivered_on: date | None,
    received: dict[int, int],
    today: date,
) -> Shipment:
    """Record a shipment's arrival: the date and the quantity received per line
    (keyed by shipment line; what is not given arrived in full)."""
    _require_desk(user)
    _lock_shipment(order, shipment)
    if shipment.delivered_on is not None:
        raise DomainError(
            f"This shipment's delivery was recorded already ({shipment.delivered_on:%d %b %Y})."
        )
    if not any(item.quantity for item in shipment.lines):
        raise DomainError("This shipment was corrected to nothing: there is nothing to deliver.")
    if delivered_on is None:
        raise DomainError("Enter the delivery date.", field="delivered_on")
    if delivered_on < shipment.shipped_on:
        raise DomainError(
            "The delivery date is before the goods were shipped.", field="delivered_on"
        )
    if delivered_on > today:
        raise DomainError("The delivery date is in the future.", field="delivered_on")
    for item in shipment.lines:
        got = received.get(item.id, item.quantity)
        if not 0 <= got <= item.quantity:
            raise DomainError(
                f"Line {item.line.line_no} ({item.line.sku}): between 0 and {item.quantity} "
                f"can have arrived, not {got}."
            )
    _lock_check(
        db.session.execute(
            update(Shipment)
            .where(Shipment.id == shipment.id, Shipment.delivered_on.is_(None))
            .values(delivered_on=delivered_on)
            .execution_options(synchronize_session=False)
        ).rowcount,
        "This shipment's delivery was recorded a moment ago by someone else.",
    )
    with ledger.tracking(order):
        for item in shipment.lines:
            got = received.get(item.id, item.quantity)
            item.received_quantity = got
            item.line.delivered_quantity += got
            if got:
                record_event(
                    order,
                    user,
                    "delivered",
                    item.line,
                    quantity=got,
                    on_date=delivered_on,
                    shipment=shipment.id,
                )
        db.session.flush()
        db.session.refresh(shipment)
        _refresh_status(order)
    total = sum(received.get(item.id, item.quantity) for item in shipment.lines)
    _notify_buyer(
        order,
        user,
        "order_delivered",
        f"Order {order.number}: {total} units delivered {delivered_on:%d %b %Y}.",
    )
    db.session.commit()
    return shipment


# --- cancelling ---------------------------------------------------------------------------


def cancel_line(user: User, order: Order, line_id: int, *, reason: str) -> OrderLine:
    """The vendor cancels what is left of a line. The ledger keeps it as a broken
    promise when it was promised."""
    _require_desk(user)
    lock_order(order)
    line = _line(order, line_id)
    reason = reason.strip()[:500]
    if not reason:
        raise DomainError("Say why the line is cancelled; the buyer sees it.", field="reason")
    if not line.is_active or line.outstanding <= 0:
        raise DomainError(f"Line {line.line_no} ({line.sku}) has nothing left to cancel.")
    if pending_request_for(order, line.id) is not None:
        # Accepting the buyer's request is the right way: it is then not a
        # broken promise, and the buyer gets an answer.
        raise DomainError(
            f"The buyer has asked to cancel line {line.line_no} ({line.sku}): "
            "answer that request instead."
        )
    with ledger.tracking(order):
        quantity = _cancel_rest(line)
        record_event(
            order, user, "line_cancelled_by_vendor", line, quantity=quantity, reason=reason
        )
        _refresh_status(order)
    _notify_buyer(
        order,
        user,
        "line_cancelled",
        f"Order {order.number}, line {line.line_no} ({line.sku}): {quantity} {line.unit} "
        f"cancelled by {current_app.config['VENDOR_NAME']}: {reason}",
    )
    db.session.commit()
    return line


def _cancel_rest(line: OrderLine) -> int:
    quantity = line.outstanding
    _lock_check(
        db.session.execute(
            update(OrderLine)
            .where(
                OrderLine.id == line.id,
                OrderLine.shipped_quantity + OrderLine.cancelled_quantity + quantity
                == OrderLine.quantity,
            )
            .values(cancelled_quantity=OrderLine.cancelled_quantity + quantity)
            .execution_options(synchronize_session=False)
        ).rowcount,
        f"Line {line.line_no} ({line.sku}) changed a moment ago: reload and try again.",
    )
    db.session.refresh(line)
    release_reservation(line)
    if line.shipped_quantity == 0:
        line.status = "cancelled"
    return quantity


def request_cancellation(
    user: User, order: Order, line_id: int, *, reason: str
) -> CancellationRequest:
    """A customer asks to cancel a line the vendor has already confirmed."""
    if user.account_id != order.account_id or not user.has_role(
        Role.BUYER, Role.APPROVER, Role.CUSTOMER_ADMIN
    ):
        raise Forbidden("Only the account's own users can ask to cancel its orders.")
    lock_order(order)
    line = _line(order, line_id)
    if line.status != "confirmed" or line.outstanding <= 0:
        raise DomainError(
            f"Line {line.line_no} ({line.sku}) has nothing left that could be cancelled."
        )
    if pending_request_for(order, line.id) is not None:
        raise DomainError(
            f"Line {line.line_no} ({line.sku}) already has a cancellation request waiting."
        )
    reason = reason.strip()[:1000]
    if not reason:
        raise DomainError("Tell the vendor why you want to cancel.", field="reason")
    request = CancellationRequest(
        order_id=order.id,
        line_id=line.id,
        account_id=order.account_id,
        requested_by_id=user.id,
        reason=reason,
    )
    try:
        # A partial unique index allows one pending request per line.
        with db.session.begin_nested():
            db.session.add(request)
    except IntegrityError:
        db.session.rollback()
        raise DomainError(
            f"Line {line.line_no} ({line.sku}) already has a cancellation request waiting."
        ) from None
    record_event(
        order, user, "cancellation_requested", line, quantity=line.outstanding, reason=reason
    )
    _notify_desk(
        order,
        user,
        "cancellation_requested",
        f"{order.account.name} asks to cancel order {order.number}, "
        f"line {line.line_no} ({line.sku}).",
        link=f"/desk/orders/{order.number}",
    )
    db.session.commit()
    return request


def answer_cancellation(
    user: User, order: Order, request_id: int, *, accept: bool, comment: str
) -> CancellationRequest:
    """Accept (what is left of the line is cancelled) or decline, with a comment."""
    _require_desk(user)
    lock_order(order)
    request = db.session.scalar(
        select(CancellationRequest).where(
            CancellationRequest.id == request_id, CancellationRequest.order_id == order.id
        )
    )
    if request is None:
        raise NotFound("No such cancellation request for this order.")
    comment = comment.strip()[:1000]
    if not accept and not comment:
        raise DomainError("Say why the request is declined; the buyer sees it.", field="comment")
    if request.status != "pending":
        raise DomainError("This request has already been answered.")
    line = request.line
    if accept and line.outstanding <= 0:
        raise DomainError(
            f"Line {line.line_no} ({line.sku}) has shipped in full: nothing is left to cancel."
        )
    _lock_check(
        db.session.execute(
            update(CancellationRequest)
            .where(CancellationRequest.id == request.id, CancellationRequest.status == "pending")
            .values(
                status="accepted" if accept else "declined",
                answered_by_id=user.id,
                answered_at=utcnow(),
                answer=comment,
            )
            .execution_options(synchronize_session=False)
        ).rowcount,
        "This request was answered a moment ago by someone else.",
    )
    db.session.refresh(request)
    with ledger.tracking(order):
        if accept:
            quantity = _cancel_rest(line)
            record_event(
                order, user, "line_cancelled", line, quantity=quantity, on_request=request.id
            )
        record_event(
            order,
            user,
            "cancellation_answered",
            line,
            accepted=accept,
            comment=comment,
        )
        _refresh_status(order)
    if request.requested_by is not None:
        from portal.notifications import service as notifications

        notifications.notify(
            [request.requested_by],
            "cancellation_answered",
            f"Your request to cancel order {order.number}, line {line.line_no} ({line.sku}) "
            f"was {'accepted' if accept else 'declined'}" + (f": {comment}" if comment else "."),
            f"/orders/{order.number}",
            exclude=user,
        )
    db.session.commit()
    return request


# --- the order's status -------------------------------------------------------------------


def _refresh_status(order: Order) -> None:
    """Derive the order's status and total from its lines and shipments."""
    db.session.flush()
    # Conditional UPDATEs above bypassed the ORM: reload the lines in one query.
    db.session.scalars(
        select(OrderLine)
        .where(OrderLine.order_id == order.id)
        .execution_options(populate_existing=True)
    ).all()
    order.total = sum((line.billable_total for line in order.lines), Decimal("0"))
    active = [line for line in order.lines if line.is_active]
    if not active:
        order.status = "cancelled"
        return
    if any(line.status == "open" for line in active):
        return
    # On its way: not delivered yet, and not corrected down to nothing.
    in_transit = db.session.scalar(
        select(func.count(Shipment.id)).where(
            Shipment.order_id == order.id,
            Shipment.delivered_on.is_(None),
            Shipment.id.in_(select(ShipmentLine.shipment_id).where(ShipmentLine.quantity > 0)),
        )
    )
    if not any(line.shipped_quantity for line in active):
        order.status = "confirmed"
    elif any(line.outstanding for line in active):
        order.status = "partly_shipped"
    elif in_transit:
        order.status = "shipped"
    else:
        order.status = "delivered"


# --- who is told --------------------------------------------------------------------------


def _notify_buyer(order: Order, actor: User, kind: str, text: str) -> None:
    from portal.notifications import service as notifications

    notifications.notify([order.placed_by], kind, text, f"/orders/{order.number}", exclude=actor)


def _notify_desk(order: Order, actor: User, kind: str, text: str, *, link: str) -> None:
    from portal.notifications import service as notifications

    notifications.notify(desk_people(order), kind, text, link, exclude=actor)
