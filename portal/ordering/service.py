"""The cart, placing orders (idempotent, with stock reserved atomically),
approval, cancellation and order history.

Plain functions with explicit arguments; every state change of an order or a
line writes an OrderEvent in the same transaction.

Fulfilment (the vendor's order desk) builds on this module, never the other
way round: what the desk needs of an order that ordering owns is public here
(`lock_order`, `record_event`, `release_reservation`, `desk_people`), and this
module imports nothing from fulfilment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Integer, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import Address, CustomerAccount, User
from portal.accounts.roles import Role
from portal.catalog import service as catalog
from portal.catalog.models import Product, Stock
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.formatting import day
from portal.formatting import number as format_number
from portal.security import scoped, scoped_once, tenant_values

from .models import (
    CartLine,
    Order,
    OrderEvent,
    OrderLine,
    OrderNumberSequence,
    SavedList,
    SavedListLine,
)

# --- the cart ------------------------------------------------------------------------

# A user's own cart; another name is a cart kept apart from it (a PunchOut session's,
# named by portal.cxml.punchout). Checkout, saved lists and reorder work on the own cart.
OWN_CART = ""


@dataclass(frozen=True)
class CartRow:
    line: CartLine
    # None: no contract break covers the quantity and the product has no list price
    # in the account's currency; such a line cannot be ordered (place_order says so).
    unit_price: Decimal | None
    line_total: Decimal | None
    availability: catalog.Availability
    is_contract: bool
    currency: str = ""

    @property
    def missing_price_message(self) -> str:
        return _("No list price in %(currency)s: ask your account manager.", currency=self.currency)


@dataclass(frozen=True)
class Cart:
    rows: list[CartRow]
    currency: str = ""

    @property
    def total(self) -> Decimal:
        return sum(
            (row.line_total for row in self.rows if row.line_total is not None), Decimal("0")
        )

    @property
    def unpriced(self) -> list[CartRow]:
        return [row for row in self.rows if row.unit_price is None]

    @property
    def is_empty(self) -> bool:
        return not self.rows


def _require_buyer(user: User) -> None:
    if user.is_vendor_staff or not user.has_role(Role.BUYER):
        raise Forbidden("Only a customer's buyer can order.")


def cart(user: User, today: date, cart_name: str = OWN_CART) -> Cart:
    """The user's cart at today's prices (one query for lines, one for prices)."""
    lines = db.session.scalars(
        select(CartLine)
        .options(joinedload(CartLine.product).joinedload(Product.stock))
        .where(CartLine.user_id == user.id, CartLine.cart_name == cart_name)
        .order_by(CartLine.added_at, CartLine.id)
    ).all()
    prices = catalog.price_lists(user.account_id, [line.product for line in lines], today)
    rows = []
    for line in lines:
        price_list = prices[line.product_id]
        unit_price = price_list.unit_price(line.quantity)
        rows.append(
            CartRow(
                line,
                unit_price,
                None if unit_price is None else unit_price * line.quantity,
                catalog.availability(line.product, line.quantity, today),
                price_list.is_contract,
                price_list.currency,
            )
        )
    return Cart(rows, catalog.account_currency(user.account_id))


def check_quantity(product: Product, quantity: int, *, replacement: bool = False) -> None:
    """Refuse a quantity the product is not sold in. A replacement (free of charge)
    replaces exactly what was defective, so minimum and multiples do not apply."""
    if product.is_discontinued and not replacement:
        raise DomainError(_("%(sku)s is no longer sold.", sku=product.sku))
    if replacement:
        if quantity < 1:
            raise DomainError(_("%(sku)s: replace at least one.", sku=product.sku))
    elif quantity < product.min_order_qty:
        raise DomainError(
            _(
                "%(sku)s: the minimum order is %(quantity)s.",
                sku=product.sku,
                quantity=format_number(product.min_order_qty),
            )
        )
    if quantity % product.order_multiple and not replacement:
        raise DomainError(
            _(
                "%(sku)s: order in multiples of %(quantity)s.",
                sku=product.sku,
                quantity=format_number(product.order_multiple),
            )
        )
    if quantity > 1_000_000:
        raise DomainError(_("%(sku)s: that quantity is too large.", sku=product.sku))


def add_to_cart(user: User, items: list[tuple[int, int]], cart_name: str = OWN_CART) -> int:
    """Add (product id, quantity) pairs; a product already in the cart adds up."""
    _require_buyer(user)
    products = {
        p.id: p
        for p in db.session.scalars(
            select(Product).where(Product.id.in_([pid for pid, _ in items]))
        )
    }
    existing = {
        line.product_id: line
        for line in db.session.scalars(
            select(CartLine).where(CartLine.user_id == user.id, CartLine.cart_name == cart_name)
        )
    }
    for product_id, quantity in items:
        product = products.get(product_id)
        if product is None:
            raise NotFound("That product does not exist.")
        line = existing.get(product_id)
        total = quantity + (line.quantity if line else 0)
        check_quantity(product, total)
        if line:
            line.quantity = total
        else:
            existing[product_id] = CartLine(
                account_id=user.account_id,
                user_id=user.id,
                cart_name=cart_name,
                product_id=product_id,
                quantity=quantity,
            )
            db.session.add(existing[product_id])
    db.session.commit()
    return len(items)


def _cart_line(user: User, line_id: int, cart_name: str) -> CartLine:
    line = db.session.scalar(
        select(CartLine)
        .options(joinedload(CartLine.product))
        .where(
            CartLine.id == line_id,
            CartLine.user_id == user.id,
            CartLine.cart_name == cart_name,
        )
    )
    if line is None:
        raise NotFound("That line is not in your cart.")
    return line


def set_cart_quantity(
    user: User, line_id: int, quantity: int | None, cart_name: str = OWN_CART
) -> CartLine:
    line = _cart_line(user, line_id, cart_name)
    if quantity is None:
        raise DomainError(_("%(sku)s: enter the quantity as a whole number.", sku=line.product.sku))
    check_quantity(line.product, quantity)
    line.quantity = quantity
    db.session.commit()
    return line


def remove_from_cart(user: User, line_id: int, cart_name: str = OWN_CART) -> None:
    db.session.delete(_cart_line(user, line_id, cart_name))
    db.session.commit()


# --- placing an order ------------------------------------------------------------------


def earliest_delivery(cart_: Cart, today: date) -> date:
    """No requested date can be earlier than the latest line could ship."""
    dates = [
        row.availability.rest_ships_about or row.availability.ships_from_stock_on
        for row in cart_.rows
    ]
    return max([d for d in dates if d] or [today])


def delivery_addresses(user: User) -> list[Address]:
    """The ship-to addresses of the user's account, the default first."""
    return list(
        db.session.scalars(
            scoped(select(Address), Address, user)
            .where(Address.kind == "shipping")
            .order_by(Address.is_default.desc(), Address.label)
        )
    )


def account_addresses(account_id: int) -> list[Address]:
    """The ship-to addresses of an account, the default first (vendor staff ordering for it)."""
    return list(
        db.session.scalars(
            select(Address)
            .where(Address.account_id == account_id, Address.kind == "shipping")
            .order_by(Address.is_default.desc(), Address.label)
        )
    )


def po_number_used(user: User, po_number: str) -> Order | None:
    """The account's latest order that already carries this PO number (any case)."""
    return db.session.scalar(
        scoped(select(Order), Order, user)
        .where(func.lower(Order.po_number) == po_number.strip().lower())
        .order_by(Order.placed_at.desc())
        .limit(1)
    )


def _next_order_number(year: int) -> str:
    """Per year, sequential. The UPDATE takes the row lock (PostgreSQL) or runs
    inside the request's write transaction (SQLite), so two orders never share one."""
    updated = db.session.execute(
        update(OrderNumberSequence)
        .where(OrderNumberSequence.year == year)
        .values(last_number=OrderNumberSequence.last_number + 1)
    ).rowcount
    if not updated:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(OrderNumberSequence).values(year=year, last_number=1))
        except IntegrityError:  # someone else started the year a moment ago
            db.session.execute(
                update(OrderNumberSequence)
                .where(OrderNumberSequence.year == year)
                .values(last_number=OrderNumberSequence.last_number + 1)
            )
    number = db.session.scalar(
        select(OrderNumberSequence.last_number).where(OrderNumberSequence.year == year)
    )
    return f"{year}-{number:06d}"


def _reserve_all(wanted: dict[int, int]) -> dict[int, int]:
    """Reserve up to the wanted quantity of each product; returns what was reserved.

    The stock rows are read once, locked (FOR UPDATE on PostgreSQL; SQLite
    serialises writing requests with BEGIN IMMEDIATE) in product order, so two
    orders never deadlock. Each UPDATE is still conditional, so no interleaving
    can oversell; a row whose condition failed is retried from fresh figures.
    """
    rows = db.session.execute(
        select(Stock.product_id, Stock.on_hand - Stock.reserved)
        .where(Stock.product_id.in_(list(wanted)))
        .order_by(Stock.product_id)
        .with_for_update()
    ).all()
    available = dict.fromkeys(wanted, 0) | {pid: max(0, free) for pid, free in rows}
    takes = {pid: min(wanted[pid], available[pid]) for pid in sorted(wanted)}
    batch = [{"product": pid, "take": take} for pid, take in takes.items() if take]
    if batch and _take_all(batch):
        return takes
    # Someone moved stock between our read and our write (possible only outside
    # a locking request): go product by product from fresh figures.
    return {pid: _reserve_fresh(pid, wanted[pid]) if take else 0 for pid, take in takes.items()}


def _take_all(batch: list[dict]) -> bool:
    """All conditional UPDATEs in one executemany (one round trip on PostgreSQL);
    undone through a savepoint unless every one of them applied."""
    statement = (
        update(Stock.__table__)
        .where(
            Stock.product_id == bindparam("product"),
            Stock.on_hand - Stock.reserved >= bindparam("take"),
        )
        .values(reserved=Stock.reserved + bindparam("take"))
    )
    savepoint = db.session.begin_nested()
    applied = db.session.connection().execute(statement, batch).rowcount
    if applied == len(batch):
        savepoint.commit()
        return True
    savepoint.rollback()
    return False


def _take(product_id: int, quantity: int) -> bool:
    # synchronize_session=False: the ORM must not scan every loaded Stock object
    # for each UPDATE (that made a 100-line order take half a second).
    return bool(
        db.session.execute(
            update(Stock)
            .where(Stock.product_id == product_id, Stock.on_hand - Stock.reserved >= quantity)
            .values(reserved=Stock.reserved + quantity)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def _reserve_fresh(product_id: int, wanted: int) -> int:
    for _attempt in range(5):
        free = (
            db.session.scalar(
                select(Stock.on_hand - Stock.reserved).where(Stock.product_id == product_id)
            )
            or 0
        )
        take = min(wanted, max(0, free))
        if take == 0:
            return 0
        if _take(product_id, take):
            return take
    return 0


def record_event(
    order: Order,
    actor: User | None,
    kind: str,
    line: OrderLine | None = None,
    *,
    quantity: int | None = None,
    on_date: date | None = None,
    **detail,
) -> None:
    """Write an event row of the order (and line) in the current transaction.

    `quantity` and `on_date` are the figures the promise ledger reads; anything
    else goes into `detail` for the timeline. The desk's steps write theirs
    through here too, so the order's timeline has one writer."""
    db.session.add(
        OrderEvent(
            order=order,
            account_id=order.account_id,
            line=line,
            actor_id=actor.id if actor else None,
            kind=kind,
            quantity=quantity,
            on_date=on_date,
            detail=detail or None,
        )
    )


def _order_with_key(account_id: int, key: str) -> Order | None:
    """The order this submission key already made in the account, if any."""
    return db.session.scalar(
        select(Order).where(Order.account_id == account_id, Order.idempotency_key == key)
    )


def _free_lines(items: list[tuple[Product, int]], today: date) -> Cart:
    """Lines at zero price (a replacement of defective goods): never in a cart."""
    zero = Decimal("0.00")
    return Cart(
        [
            CartRow(
                CartLine(product=product, product_id=product.id, quantity=quantity),
                zero,
                zero,
                catalog.availability(product, quantity, today),
                False,
            )
            for product, quantity in items
        ]
    )


def priced_lines(
    user: User,
    items: list[tuple[Product, int]],
    today: date,
    account_id: int | None = None,
) -> Cart:
    """Lines a machine door (the API, cXML) orders directly, priced as the cart prices them
    (at `account_id`'s prices when vendor staff order for an account, else the user's).

    The rows carry CartLine objects that are never added to the session: the
    user's own cart in the browser is left alone.
    """
    account_id = account_id if account_id is not None else user.account_id
    prices = catalog.price_lists(account_id, [product for product, _ in items], today)
    rows = []
    for product, quantity in items:
        line = CartLine(product=product, product_id=product.id, quantity=quantity)
        unit_price = prices[product.id].unit_price(quantity)
        rows.append(
            CartRow(
                line,
                unit_price,
                None if unit_price is None else unit_price * quantity,
                catalog.availability(product, quantity, today),
                prices[product.id].is_contract,
                prices[product.id].currency,
            )
        )
    return Cart(rows, catalog.account_currency(account_id))


def place_order(
    user: User,
    *,
    po_number: str,
    ship_to_id: int,
    requested_date: date | None,
    notes: str,
    idempotency_key: str,
    today: date,
    lines: list[tuple[Product, int]] | None = None,
    for_account: CustomerAccount | None = None,
    free_of_charge: bool = False,
    also: Callable[[Order], None] | None = None,
) -> tuple[Order, bool]:
    """Turn the user's cart (or the given `lines`: product, quantity) into an order.
    Returns (order, created).

    The same idempotency key returns the order it already made, so a double
    click, a retry or a refresh never makes a second order. Prices are captured
    on the lines; stock is reserved line by line; the cart is emptied (unless
    the lines were given).

    Vendor staff may place an order `for_account` with given lines; with
    `free_of_charge` (a replacement of defective goods) every line is at zero
    price. Such an order goes to the desk like any other. `also` adds the
    caller's rows about the new order (a link to it) to the same transaction.
    """
    if for_account is None:
        if free_of_charge:
            raise Forbidden("Only vendor staff place an order free of charge.")
        _require_buyer(user)
        account_id = user.account_id
    else:
        if not user.is_vendor_staff:
            raise Forbidden("Only vendor staff place an order for a customer.")
        if lines is None:
            raise DomainError(_("Order at least one line."))
        account_id = for_account.id
    key = idempotency_key.strip()[:64]
    if not key:
        raise DomainError(_("The form is missing its submission key; reload the page."))
    existing = _order_with_key(account_id, key)
    if existing is not None:
        return existing, False
    if lines is None:
        current = cart(user, today)
    elif free_of_charge:
        current = _free_lines(lines, today)
    else:
        current = priced_lines(user, lines, today, account_id)
    if current.is_empty:
        # A duplicate of this submission may have emptied the cart a moment ago.
        existing = _order_with_key(account_id, key)
        if existing is not None:
            return existing, False
        raise DomainError(
            _("Your cart is empty.") if lines is None else _("Order at least one line.")
        )
    po_number = po_number.strip()
    if not po_number:
        raise DomainError(_("Enter your purchase order number."), field="po_number")
    addresses = delivery_addresses(user) if for_account is None else account_addresses(account_id)
    address = next((a for a in addresses if a.id == ship_to_id), None)
    if address is None:
        raise DomainError(_("Choose one of your account's delivery addresses."), field="ship_to_id")
    earliest = earliest_delivery(current, today)
    if requested_date is not None and requested_date < earliest:
        raise DomainError(
            _("The earliest possible date is %(date)s.", date=day(earliest)),
            field="requested_date",
        )
    for row in current.rows:
        check_quantity(row.line.product, row.line.quantity, replacement=free_of_charge)
    account = db.session.get(CustomerAccount, account_id)
    if current.unpriced:
        # Nothing is saved: the order would otherwise carry a price the vendor never set.
        raise catalog.no_price_error(current.unpriced[0].line.product, account.currency)

    needs_approval = account.approval_limit is not None and current.total > account.approval_limit
    order = Order(
        number=_next_order_number(today.year),
        account_id=account_id,
        placed_by_id=user.id,
        status="awaiting_approval" if needs_approval else "placed",
        po_number=po_number,
        ship_to_id=address.id,
        ship_to_text=f"{address.label}: {address.one_line}"[:500],
        requested_date=requested_date,
        notes=notes.strip()[:2000],
        total=current.total,
        currency=account.currency,
        idempotency_key=key,
    )
    dispatch = timedelta(days=current_app.config["DISPATCH_DAYS_FROM_STOCK"])
    reserved_by_product = _reserve_all(
        {row.line.product_id: row.line.quantity for row in current.rows}
    )
    for number, row in enumerate(current.rows, start=1):
        product = row.line.product
        reserved = reserved_by_product[product.id]
        ships = (
            today + dispatch
            if reserved == row.line.quantity
            else today + timedelta(days=max(product.lead_time_days, dispatch.days))
        )
        order.lines.append(
            OrderLine(
                line_no=number,
                product_id=product.id,
                sku=product.sku,
                name=product.name,
                unit=product.unit,
                quantity=row.line.quantity,
                unit_price=row.unit_price,
                line_total=row.line_total,
                reserved_quantity=reserved,
                estimated_ship_date=ships,
            )
        )
    try:
        with db.session.begin_nested():
            db.session.add(order)
            db.session.flush()
    except IntegrityError:
        # The same key won a race with us: that order stands, ours never existed.
        db.session.rollback()
        existing = _order_with_key(account_id, key)
        if existing is None:
            raise
        return existing, False
    record_event(
        order, user, "placed", total=str(order.total), lines=len(order.lines), po_number=po_number
    )
    if needs_approval:
        record_event(order, None, "approval_requested", limit=str(account.approval_limit))
        _notify_approvers(order, user)
    else:
        _notify_desk_of_new_order(order, user)
    if also is not None:
        also(order)
    if lines is None:
        db.session.execute(
            delete(CartLine).where(CartLine.user_id == user.id, CartLine.cart_name == OWN_CART)
        )
    db.session.commit()
    return order, True


# --- approval and cancellation -------------------------------------------------------


def release_reservation(line: OrderLine) -> None:
    """Give the stock reserved for a line back (it was rejected, declined or cancelled)."""
    if line.reserved_quantity:
        db.session.execute(
            update(Stock)
            .where(Stock.product_id == line.product_id)
            .values(reserved=Stock.reserved - line.reserved_quantity)
            .execution_options(synchronize_session=False)
        )
        line.reserved_quantity = 0


def decide(user: User, order: Order, *, approve: bool, comment: str) -> Order:
    """An approver of the order's account approves or rejects it (a comment is kept)."""
    if user.account_id != order.account_id or not user.has_role(Role.APPROVER):
        raise Forbidden("Only an approver of this account can decide.")
    if order.status != "awaiting_approval":
        raise DomainError(
            _("Order %(number)s is no longer waiting for approval.", number=order.number)
        )
    comment = comment.strip()
    if not approve and not comment:
        raise DomainError(_("Say why the order is rejected."), field="comment")
    before = order.status
    after = "placed" if approve else "rejected"
    # Conditional: of two approvers deciding at once, exactly one succeeds.
    changed = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == "awaiting_approval")
        .values(status=after, decided_by_id=user.id, decided_at=utcnow(), decision_comment=comment)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise DomainError(
            _("Order %(number)s was decided a moment ago by someone else.", number=order.number)
        )
    db.session.refresh(order)
    if not approve:
        for line in order.lines:
            release_reservation(line)
    record_event(
        order,
        user,
        "approved" if approve else "rejected",
        before=before,
        after=after,
        comment=comment,
    )
    from portal.notifications import service as notifications

    notifications.notify(
        [order.placed_by],
        "order_approved" if approve else "order_rejected",
        {"number": order.number, "actor": user.name, "comment": comment or None},
        f"/orders/{order.number}",
        exclude=user,
    )
    if approve:
        _notify_desk_of_new_order(order, user)
    db.session.commit()
    return order


def _notify_approvers(order: Order, buyer: User) -> None:
    from portal.accounts.service import people_with_role
    from portal.notifications import messages
    from portal.notifications import service as notifications

    notifications.notify(
        people_with_role(Role.APPROVER, order.account_id),
        "approval_needed",
        {
            "number": order.number,
            "buyer": buyer.name,
            "total": messages.money(order.total, order.currency),
        },
        f"/orders/{order.number}",
        exclude=buyer,
    )


def _notify_desk_of_new_order(order: Order, actor: User) -> None:
    """Fulfilment staff and the account manager learn of an order to confirm."""
    from portal.notifications import messages
    from portal.notifications import service as notifications

    notifications.notify(
        desk_people(order),
        "order_placed",
        {
            "number": order.number,
            "account": order.account.name,
            "lines": len(order.lines),
            "total": messages.money(order.total, order.currency),
        },
        f"/desk/orders/{order.number}",
        exclude=actor,
    )


def desk_people(order: Order) -> list[User]:
    """Who at the vendor handles the order: the account's manager and the active
    fulfilment staff. They learn of a new order here; the desk tells the same
    people of a buyer's cancellation request."""
    from portal.accounts.service import people_with_role

    people = people_with_role(Role.FULFILMENT)
    if order.account.account_manager is not None:
        people.append(order.account.account_manager)
    return people


def lock_order(order: Order) -> Order:
    """Take the order's row lock and reload it with its lines.

    Every change of an order after it was placed starts here (the buyer's own
    cancel, and each step at the desk), so two people acting on one order queue
    up and each sees what the other did: on PostgreSQL through SELECT ... FOR
    UPDATE; SQLite already serialises writing requests (BEGIN IMMEDIATE). The
    promise ledger's "before" snapshot is taken after this, so parallel steps on
    one line cannot double-count.
    """
    db.session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    db.session.refresh(order)
    db.session.scalars(
        select(OrderLine)
        .where(OrderLine.order_id == order.id)
        .execution_options(populate_existing=True)
    ).all()
    return order


def cancel(user: User, order: Order, line_id: int | None = None) -> Order:
    """Cancel the order, or one line of it, until the vendor has confirmed it."""
    if user.account_id != order.account_id or not user.has_role(
        Role.BUYER, Role.APPROVER, Role.CUSTOMER_ADMIN
    ):
        raise Forbidden("Only the account's own users can cancel its orders.")
    lock_order(order)  # the desk may be confirming it at this moment
    if not order.is_open:
        raise DomainError(
            _("Order %(number)s can no longer be cancelled here.", number=order.number)
        )
    lines = [line for line in order.lines if line.status == "open"]
    if line_id is not None:
        lines = [line for line in lines if line.id == line_id]
        if not lines:
            raise DomainError(_("That line is already cancelled or does not exist."))
    for line in lines:
        line.status = "cancelled"
        release_reservation(line)
        record_event(
            order,
            user,
            "line_cancelled",
            line=line,
            quantity=line.quantity,
            line_no=line.line_no,
            sku=line.sku,
        )
    open_lines = [line for line in order.lines if line.status == "open"]
    order.total = sum((line.line_total for line in open_lines), Decimal("0"))
    if not open_lines:
        before = order.status
        order.status = "cancelled"
        record_event(order, user, "cancelled", before=before, after="cancelled")
    db.session.commit()
    return order


# --- history -----------------------------------------------------------------------------


def order_for(viewer: User, number: str) -> Order:
    if viewer.is_vendor_staff:
        found = db.session.execute(_order_by_number(False), {"number": number})
    else:  # scoped: the viewer's own account's orders only
        found = db.session.execute(
            _order_by_number(True), {"number": number, "account_id": viewer.account_id}
        )
    # unique(): the lines are joined, a row each.
    order = found.unique().scalar_one_or_none()
    if order is None:
        raise NotFound("No such order.")
    return order


# The order page's statements are built once per process with their values bound per
# request: building a statement with its loader options and its cache key cost as much
# as running it, and the page runs eleven.
@cache
def _order_by_number(by_account: bool):
    query = (
        select(Order)
        .where(Order.number == bindparam("number"))
        .options(
            # Joined, not a second statement: one order's lines are few rows.
            joinedload(Order.lines),
            joinedload(Order.placed_by).lazyload(User.role_rows),
            joinedload(Order.account),
        )
    )
    return query.where(Order.account_id == bindparam("account_id")) if by_account else query


def timeline(order: Order) -> list[OrderEvent]:
    """The order's events, oldest first, with their actor; each event's line is the
    order's own (`order.lines`, loaded with the order on its pages), found in the
    session rather than joined to every event."""
    order.lines  # noqa: B018 -- loaded here if the caller did not
    return list(db.session.scalars(_events_of_order(), {"order_id": order.id}))


@cache
def _events_of_order():
    # What order.events.select() gives, in the relationship's order.
    return (
        select(OrderEvent)
        .where(OrderEvent.order_id == bindparam("order_id"))
        .options(joinedload(OrderEvent.actor).lazyload(User.role_rows))
        .order_by(OrderEvent.id)
    )


@dataclass(frozen=True)
class OrderFilter:
    status: str = ""
    po_number: str = ""
    sku: str = ""
    q: str = ""
    placed_from: date | None = None
    placed_to: date | None = None


def orders(
    viewer: User,
    filters: OrderFilter,
    *,
    limit: int = 50,
    offset: int = 0,
    after: tuple[datetime, int] | None = None,
    with_total: bool = True,
) -> tuple[list[Order], int | None]:
    """One page of the orders the viewer may see, newest first, and the total (None when
    `with_total` is false). `after` (placed_at, id) of the last order seen pages by
    cursor (the API), which stays right while new orders arrive; `offset` by page."""
    query = scoped(select(Order), Order, viewer).where(*_criteria(filters))
    total = (
        db.session.scalar(select(func.count()).select_from(query.subquery()))
        if with_total
        else None
    )
    if after is not None:
        placed_at, order_id = after
        query = query.where(
            or_(
                Order.placed_at < placed_at,
                and_(Order.placed_at == placed_at, Order.id < order_id),
            )
        )
    page = db.session.scalars(
        query.options(
            joinedload(Order.placed_by).lazyload(User.role_rows), joinedload(Order.account)
        )
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(page), total


def _criteria(filters: OrderFilter) -> list:
    """The filters' conditions on orders (the viewer's scope is added by `scoped`)."""
    found = []
    if filters.status:
        found.append(Order.status == filters.status)
    if filters.po_number:
        found.append(func.lower(Order.po_number).contains(filters.po_number.lower()))
    if filters.sku:
        found.append(
            Order.id.in_(
                select(OrderLine.order_id).where(
                    OrderLine.product_id.in_(catalog.ids_by_sku_prefix(filters.sku.strip()))
                )
            )
        )
    if filters.q:
        term = filters.q.strip().lower()
        found.append(
            or_(
                func.lower(Order.number).contains(term),
                func.lower(Order.po_number).contains(term),
                func.lower(Order.notes).contains(term),
            )
        )
    if filters.placed_from:
        found.append(Order.placed_at >= _start_of(filters.placed_from))
    if filters.placed_to:
        found.append(Order.placed_at < _start_of(filters.placed_to + timedelta(days=1)))
    return found


def order_list(
    viewer: User, filters: OrderFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list, int]:
    """The order list page: one page of what `orders` gives, newest first, as rows of
    what the page shows of an order (number, placed_at, po_number, status, total,
    currency, account_name, placed_by_name), and the total. Plain rows: loading fifty
    orders with their buyers and accounts as objects cost more than the rest of the
    page. Without filters (the page as first opened) both statements are built once per
    process, the viewer's account bound per request."""
    criteria = _criteria(filters)
    values = {"limit": limit, "offset": offset}
    if criteria:
        count, page = _counted_page(
            *(scoped(statement, Order, viewer).where(*criteria) for statement in _order_list())
        )
    else:
        count, page = _order_list_of(viewer.is_vendor_staff)
        values |= tenant_values(viewer)
    # Plain rows, through the session's connection: the ORM's handling of a statement's
    # results is for objects, and cost a fifth of each of these.
    connection = db.session.connection()
    total = connection.execute(count, values).scalar()
    return connection.execute(page, values).all(), total


def _counted_page(ids, columns):
    """The count of `ids` and one page of `columns`, newest first, limit and offset bound."""
    return select(func.count()).select_from(ids.subquery()), (
        columns.order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


def _order_list():
    """The order list's two statements, unscoped: its orders' ids (to count) and the
    page's columns."""
    return select(Order.id), (
        select(
            Order.number,
            Order.placed_at,
            Order.po_number,
            Order.status,
            Order.total,
            Order.currency,
            CustomerAccount.name.label("account_name"),
            User.name.label("placed_by_name"),
        )
        .select_from(Order)
        .join(CustomerAccount, CustomerAccount.id == Order.account_id)
        .join(User, User.id == Order.placed_by_id)
    )


@cache
def _order_list_of(vendor_staff: bool):
    """`_order_list` scoped once per process for vendor staff or for customers (their
    account bound per request)."""
    return _counted_page(
        *(scoped_once(statement, Order, vendor_staff) for statement in _order_list())
    )


def newest_of_account(account_id: int, limit: int) -> list:
    """An account's newest orders (what `orders` gives a customer with no filter and no
    total) as rows of what the customer's home shows of them (number, placed_at, status,
    total, currency), by a statement built once per process: the home shows them on
    every view, and loading them as orders with their buyer and account cost more than
    the rest of its statements. The account is the tenant filter, bound per request."""
    # On the session's connection: rows of columns need none of the ORM's handling of
    # results, which cost as much as the rest of the statement.
    return (
        db.session.connection()
        .execute(_newest_of_account(), {"account_id": account_id, "limit": limit})
        .all()
    )


@cache
def _newest_of_account():
    return (
        select(Order.number, Order.placed_at, Order.status, Order.total, Order.currency)
        .where(Order.account_id == bindparam("account_id"))
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


def _start_of(day: date):
    from datetime import UTC

    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --- reorder -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReorderResult:
    added: int
    price_changes: list[tuple[str, Decimal, Decimal]]  # sku, then, now
    not_sold: list[str]
    rounded: list[tuple[str, int, int]]  # sku, ordered then, now


def reorder(user: User, order: Order, today: date) -> ReorderResult:
    """Put an earlier order's lines into the cart at today's prices.

    Says which prices changed since, which items are no longer sold (they are
    left out), and which quantities had to be rounded to today's rules.
    """
    from portal.ordering.quick_order import _valid_quantity

    _require_buyer(user)
    if order.account_id != user.account_id:
        raise NotFound("No such order.")
    lines = [line for line in order.lines if line.is_active] or list(order.lines)
    products = {
        p.id: p
        for p in db.session.scalars(
            select(Product).where(Product.id.in_([line.product_id for line in lines]))
        )
    }
    items, not_sold, rounded = [], [], []
    for line in lines:
        product = products[line.product_id]
        if product.is_discontinued:
            not_sold.append(
                line.sku
                + (f" (replaced by {product.replacement_sku})" if product.replacement_sku else "")
            )
            continue
        quantity = _valid_quantity(product, line.quantity)
        if quantity != line.quantity:
            rounded.append((line.sku, line.quantity, quantity))
        items.append((product.id, quantity, line))
    prices = catalog.price_lists(user.account_id, [products[pid] for pid, _, _ in items], today)
    changes = []
    for product_id, quantity, line in items:
        now = prices[product_id].unit_price(quantity)
        if now is not None and now != line.unit_price:
            changes.append((line.sku, line.unit_price, now))
    if items:
        add_to_cart(user, [(product_id, quantity) for product_id, quantity, _ in items])
    return ReorderResult(len(items), changes, not_sold, rounded)


# --- saved lists ----------------------------------------------------------------------------


def saved_lists(viewer: User) -> list[SavedList]:
    return list(
        db.session.scalars(
            scoped(select(SavedList), SavedList, viewer)
            .options(selectinload(SavedList.lines), joinedload(SavedList.created_by))
            .order_by(func.lower(SavedList.name))
        )
    )


def save_cart_as_list(user: User, name: str) -> SavedList:
    """Save the cart's products and quantities under a name the account's buyers share."""
    _require_buyer(user)
    name = " ".join(name.split())[:100]
    if not name:
        raise DomainError(_("Give the list a name."), field="name")
    lines = db.session.scalars(
        select(CartLine)
        .where(CartLine.user_id == user.id, CartLine.cart_name == OWN_CART)
        .order_by(CartLine.added_at, CartLine.id)
    ).all()
    if not lines:
        raise DomainError(_("The cart is empty: there is nothing to save."))
    clash = db.session.scalar(
        scoped(select(SavedList.id), SavedList, user).where(
            func.lower(SavedList.name) == name.lower()
        )
    )
    if clash is not None:
        raise DomainError(
            _("Your account already has a list called “%(name)s”.", name=name), field="name"
        )
    saved = SavedList(
        account_id=user.account_id,
        name=name,
        created_by_id=user.id,
        lines=[
            SavedListLine(position=n, product_id=line.product_id, quantity=line.quantity)
            for n, line in enumerate(lines)
        ],
    )
    db.session.add(saved)
    db.session.commit()
    return saved


def saved_list_for(viewer: User, list_id: int) -> SavedList:
    found = db.session.scalar(
        scoped(select(SavedList), SavedList, viewer).where(SavedList.id == list_id)
    )
    if found is None:
        raise NotFound("No such list.")
    return found


def load_list(user: User, saved: SavedList) -> tuple[int, list[str]]:
    """Add a saved list to the cart; discontinued products are left out and named."""
    _require_buyer(user)
    items, left_out = [], []
    for line in saved.lines:
        if line.product.is_discontinued:
            left_out.append(line.product.sku)
        else:
            items.append((line.product_id, line.quantity))
    if items:
        add_to_cart(user, items)
    return len(items), left_out


def delete_list(user: User, saved: SavedList) -> None:
    _require_buyer(user)
    db.session.delete(saved)
    db.session.commit()
