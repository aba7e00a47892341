"""The order desk's inbox: which orders wait for the vendor, filtered by view,
account, manager or a search; and one order as the desk sees it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, union
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import CustomerAccount, User
from portal.catalog import service as catalog
from portal.errors import NotFound
from portal.extensions import db
from portal.ordering.models import Order, OrderLine

from .models import CancellationRequest
from .service import only_desk_accounts

INBOX_VIEWS = {
    "waiting": _l("Waiting for confirmation"),
    "in_progress": _l("Confirmed, not all shipped"),
    "in_transit": _l("Shipped, not delivered"),
    "requests": _l("Cancellation requests"),
    "done": _l("Delivered"),
    "all": _l("All orders"),
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
    query = only_desk_accounts(select(Order), Order.account_id, viewer)
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
    oldest_first = filters.view in ("waiting", "in_progress", "in_transit", "requests")
    rows = db.session.execute(
        query.add_columns(Order.line_count, pending)
        .options(
            joinedload(Order.account)
            .joinedload(CustomerAccount.account_manager)
            .lazyload(User.role_rows),
            # Names are shown, never roles: no statement to load those.
            joinedload(Order.placed_by).lazyload(User.role_rows),
        )
        .order_by(
            Order.placed_at.asc() if oldest_first else Order.placed_at.desc(),
            Order.id.asc() if oldest_first else Order.id.desc(),
        )
        .limit(limit)
        .offset(offset)
    ).all()
    if rows and len(rows) < limit or not rows and not offset:
        # The last page: its rows and those before it are all there are, no count needed.
        total = offset + len(rows)
    else:
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    return [InboxRow(order, lines, requests) for order, lines, requests in rows], total


def desk_order(viewer: User, number: str) -> Order:
    order = db.session.scalar(
        only_desk_accounts(select(Order), Order.account_id, viewer)
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
