"""Goods leaving and arriving: shipments (partial allowed), corrections of a
shipment (never silent: a reason, and the ledger sees what moved), and the
delivery with the quantity received.

Stock follows the goods: what was reserved for a line leaves the warehouse with
it, and what a correction takes off a shipment comes back, still reserved for
the line. Quantities change by conditional UPDATEs, so nothing ships twice
whatever else runs at once.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import User
from portal.catalog.models import Stock
from portal.equipment import service as equipment
from portal.errors import DomainError, NotFound
from portal.extensions import db
from portal.ordering.models import Order, OrderLine
from portal.ordering.service import lock_order, record_event

from . import ledger
from .models import Shipment, ShipmentLine
from .service import (
    lock_check,
    notify_buyer,
    order_line,
    placed_on,
    refresh_status,
    require_desk,
)


def shipments(order: Order) -> list[Shipment]:
    return list(db.session.scalars(_shipments_of_order(), {"order_id": order.id}))


@cache
def _shipments_of_order():
    """Built once per process (the order page shows them on every view)."""
    return (
        select(Shipment)
        .where(Shipment.order_id == bindparam("order_id"))
        .options(selectinload(Shipment.lines), joinedload(Shipment.created_by))
        .order_by(Shipment.shipped_on, Shipment.id)
    )


def shipment_for(order: Order, shipment_id: int) -> Shipment:
    shipment = db.session.scalar(
        select(Shipment)
        .where(Shipment.id == shipment_id, Shipment.order_id == order.id)
        .options(selectinload(Shipment.lines).joinedload(ShipmentLine.line))
    )
    if shipment is None:
        raise NotFound("No such shipment for this order.")
    return shipment


# --- shipping -----------------------------------------------------------------------------


def _check_ship_date(shipped_on: date | None, order: Order, today: date) -> date:
    if shipped_on is None:
        raise DomainError("Enter the ship date.", field="shipped_on")
    if shipped_on < placed_on(order):
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
    serials: dict[int, list[str]] | None = None,
) -> Shipment:
    """Record goods leaving: a quantity per line, partial allowed.

    A line of equipment needs one serial number per unit shipped (`serials`,
    keyed by line id); each becomes an installed unit at the order's ship-to
    address. A missing, repeated or already recorded serial refuses the whole
    shipment before anything changes."""
    require_desk(user)
    lock_order(order)
    if order.status not in ("confirmed", "partly_shipped"):
        raise DomainError(f"Order {order.number} is {order.status_label.lower()}: nothing to ship.")
    shipped_on = _check_ship_date(shipped_on, order, today)
    wanted = {line_id: quantity for line_id, quantity in quantities.items() if quantity}
    if not wanted:
        raise DomainError("Enter the quantity shipped for at least one line.")
    lines = {line_id: order_line(order, line_id) for line_id in wanted}
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
    specs = equipment.specs_for(line.product_id for line in lines.values())
    equipment_lines = {
        line_id: (f"Line {lines[line_id].line_no} ({lines[line_id].sku})", line.product_id, qty)
        for line_id, qty in wanted.items()
        if (line := lines[line_id]).product_id in specs
    }
    equipment.check_serials(equipment_lines, serials or {})
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
            lock_check(
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
        if equipment_lines:
            equipment.record_shipped(
                user,
                account_id=order.account_id,
                site_id=order.ship_to_id,
                shipment_id=shipment.id,
                shipped_on=shipped_on,
                lines={
                    line_id: product_id for line_id, (_, product_id, _) in equipment_lines.items()
                },
                serials=serials or {},
            )
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
        refresh_status(order)
    notify_buyer(
        order,
        user,
        "order_shipped",
        {
            "quantity": sum(wanted.values()),
            "date": shipped_on,
            "carrier": shipment.carrier or None,
            "tracking": shipment.tracking or None,
        },
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


# --- correcting and delivering ------------------------------------------------------------


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
    require_desk(user)
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
    specs = equipment.specs_for(item.line.product_id for item, _ in changes)
    for item, new in changes:
        if new != item.quantity and item.line.product_id in specs:
            raise DomainError(
                f"Line {item.line.line_no} ({item.line.sku}) is equipment: its units carry serial "
                "numbers, so its quantity on a shipment cannot be corrected."
            )
    header_changed = (carrier, tracking) != (shipment.carrier, shipment.tracking)
    if not changes and not header_changed:
        raise DomainError("Nothing was changed.")
    old_date = shipment.shipped_on
    with ledger.tracking(order):
        for item, new in changes:
            line = item.line
            if new != item.quantity:
                lock_check(
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
        refresh_status(order)
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
    require_desk(user)
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
    lock_check(
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
        refresh_status(order)
    equipment.record_delivered(shipment.id, delivered_on)
    total = sum(received.get(item.id, item.quantity) for item in shipment.lines)
    notify_buyer(
        order,
        user,
        "order_delivered",
        {"quantity": total, "date": delivered_on},
    )
    db.session.commit()
    return shipment
