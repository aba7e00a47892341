"""What every step at the order desk shares: who sees which accounts' orders and
who may act, the check that a conditional UPDATE applied, an order's line, the
order's status derived from its lines and shipments, and who is told.

The steps themselves live by what they do: `inbox` (what waits for the vendor),
`confirmations` (promises and their changes), `shipments` (ship, correct,
deliver) and `cancellations` (the vendor cancels; the customer asks, the desk
answers). The desk builds on ordering: the order's row lock, its event writer
and the stock release are ordering's (`portal.ordering.service`).

Plain functions with explicit arguments (the acting user, `today`). Changes that
two people could make at once are conditional UPDATEs: of two staff confirming
one order, or two answers to one request, exactly one applies and the other is
told why.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Select, func, select

from portal import days
from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db
from portal.ordering.models import Order, OrderLine
from portal.ordering.service import desk_people

from .models import Shipment, ShipmentLine

# --- who sees and acts --------------------------------------------------------------------


DESK_ROLES = (Role.FULFILMENT, Role.ADMIN)


def desk_accounts(viewer: User) -> Select:
    """The ids of the accounts whose orders the viewer's desk shows.

    Fulfilment and admins see every account; an account manager sees the
    accounts they manage; a customer sees only their own (for the ledger).
    """
    return desk_accounts_of(desk_scope(viewer), viewer.id, viewer.account_id)


def desk_scope(viewer: User) -> str:
    """Which accounts the viewer's desk shows: "every", "managed" or "own" (see
    `desk_accounts`); Forbidden for vendor staff of other roles."""
    if not viewer.is_vendor_staff:
        return "own"
    if viewer.has_role(*DESK_ROLES):
        return "every"
    if viewer.has_role(Role.ACCOUNT_MANAGER):
        return "managed"
    raise Forbidden("The order desk is for fulfilment staff and account managers.")


def desk_accounts_of(scope: str, user_id, account_id) -> Select:
    """`desk_accounts` for a scope and the viewer's id and account (values, or
    parameters bound per call in a statement built once)."""
    query = select(CustomerAccount.id)
    if scope == "own":
        return query.where(CustomerAccount.id == account_id)
    if scope == "managed":
        return query.where(CustomerAccount.account_manager_id == user_id)
    return query


def only_desk_accounts(query: Select, account_column, viewer: User) -> Select:
    """Restrict a query to the viewer's desk accounts; no condition at all for
    those who see every account (it would only slow the query down)."""
    scope = desk_scope(viewer)
    return only_desk_accounts_of(query, account_column, scope, viewer.id, viewer.account_id)


def only_desk_accounts_of(query: Select, account_column, scope: str, user_id, account_id):
    if scope == "every":
        return query
    return query.where(account_column.in_(desk_accounts_of(scope, user_id, account_id)))


def placed_on(order: Order) -> date:
    """The day the order was placed, where its account is: a promise or a shipment
    before it is refused on the calendar the customer keeps."""
    return days.local_day(order.placed_at, days.account_zone(order.account))


def require_desk(user: User) -> None:
    if not user.has_role(*DESK_ROLES):
        raise Forbidden("Only fulfilment staff can change orders at the desk.")


def lock_check(changed: int, message: str) -> None:
    """A conditional UPDATE that applied to no row: someone else was first."""
    if not changed:
        db.session.rollback()
        raise DomainError(message)


def order_line(order: Order, line_id: int) -> OrderLine:
    line = next((line for line in order.lines if line.id == line_id), None)
    if line is None:
        raise NotFound("No such line in this order.")
    return line


# --- the order's status -------------------------------------------------------------------


def refresh_status(order: Order) -> None:
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


def notify_buyer(order: Order, actor: User, kind: str, params: dict) -> None:
    from portal.notifications import service as notifications

    notifications.notify(
        [order.placed_by],
        kind,
        {"number": order.number, **params},
        f"/orders/{order.number}",
        exclude=actor,
    )


def notify_desk(order: Order, actor: User, kind: str, params: dict, *, link: str) -> None:
    from portal.notifications import service as notifications

    notifications.notify(
        desk_people(order), kind, {"number": order.number, **params}, link, exclude=actor
    )
