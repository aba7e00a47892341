"""The order desk's inbox: which orders wait for the vendor, filtered by view,
account, manager or a search; and one order as the desk sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, Select, bindparam, func, select, union
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import CustomerAccount, User
from portal.catalog import service as catalog
from portal.errors import NotFound
from portal.extensions import db
from portal.ordering.models import Order, OrderLine

from .models import CancellationRequest
from .service import desk_scope, only_desk_accounts, only_desk_accounts_of

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
    shape = (desk_scope(viewer), filters.view, bool(filters.account_id), bool(filters.manager_id))
    values = {
        "desk_user_id": viewer.id,
        "desk_account_id": viewer.account_id,
        "account_id": filters.account_id,
        "manager_id": filters.manager_id,
        "limit": limit,
        "offset": offset,
    }
    term = filters.q.strip()
    if term:
        query, pending = _filtered(*shape)
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
        count, page = _counted(query), _page(query, pending, filters.view)
    else:
        count, page = _statements(*shape)
    rows = db.session.execute(page, values).all()
    if rows and len(rows) < limit or not rows and not offset:
        # The last page: its rows and those before it are all there are, no count needed.
        total = offset + len(rows)
    else:
        total = db.session.scalar(count, values)
    return [InboxRow(order, lines, requests) for order, lines, requests in rows], total


def _filtered(scope: str, view: str, by_account: bool, by_manager: bool):
    """The desk's orders for a shape of filters (the viewer's scope, the view, an
    account, a manager), with the count of pending cancellation requests per order;
    the viewer, account and manager are parameters bound per call."""
    query = only_desk_accounts_of(
        select(Order),
        Order.account_id,
        scope,
        bindparam("desk_user_id", type_=Integer),
        bindparam("desk_account_id", type_=Integer),
    )
    pending = (
        select(func.count(CancellationRequest.id))
        .where(CancellationRequest.order_id == Order.id, CancellationRequest.status == "pending")
        .scalar_subquery()
    )
    if view in _VIEW_STATUSES:
        query = query.where(Order.status.in_(_VIEW_STATUSES[view]))
    elif view == "requests":
        query = query.where(pending > 0)
    if by_account:
        query = query.where(Order.account_id == bindparam("account_id", type_=Integer))
    if by_manager:
        query = query.where(
            Order.account_id.in_(
                select(CustomerAccount.id).where(
                    CustomerAccount.account_manager_id == bindparam("manager_id", type_=Integer)
                )
            )
        )
    return query, pending


def _counted(query: Select) -> Select:
    return select(func.count()).select_from(query.subquery())


def _page(query: Select, pending, view: str) -> Select:
    oldest_first = view in ("waiting", "in_progress", "in_transit", "requests")
    return (
        query.add_columns(Order.line_count, pending)
        .options(
            # Names are shown, never roles: no statement to load those. Who placed
            # the order is not shown: not read.
            joinedload(Order.account)
            .joinedload(CustomerAccount.account_manager)
            .lazyload(User.role_rows),
        )
        .order_by(
            Order.placed_at.asc() if oldest_first else Order.placed_at.desc(),
            Order.id.asc() if oldest_first else Order.id.desc(),
        )
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


@cache
def _statements(scope: str, view: str, by_account: bool, by_manager: bool) -> tuple[Select, Select]:
    """The count and the page of the desk without a search, built once per process
    for each shape of filters (every view of the desk built them anew)."""
    query, pending = _filtered(scope, view, by_account, by_manager)
    return _counted(query), _page(query, pending, view)


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
