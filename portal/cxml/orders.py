"""OrderRequest: new orders through the ordering service, and the customer's update
and delete where the order page would allow the same (cancelling lines or the whole
order until the vendor confirmed it)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from portal import days
from portal.audit import service as audit
from portal.catalog import service as catalog
from portal.catalog.models import Product, sku_key
from portal.extensions import db
from portal.ordering import service as ordering
from portal.ordering.models import Order

from . import documents
from .documents import CxmlError, Envelope, ItemOut
from .models import CxmlCredential, CxmlOrder


def process(credential: CxmlCredential, envelope: Envelope) -> tuple[int, str, None]:
    """Carry out an OrderRequest as the account's acting user; (code, message, None)."""
    request = documents.order_request(envelope)
    user = credential.acting_user
    if request.type == "new":
        return _new(credential, envelope, request)
    if request.type in ("update", "delete"):
        found = _cxml_order(credential.account_id, request.order_id)
        order = ordering.order_for(user, _order_number(found))
        if request.type == "delete":
            return _delete(credential, order)
        return _update(credential, found, order, request)
    raise CxmlError(450, f"OrderRequest type “{request.type[:20]}” is not supported.")


def _cxml_order(account_id: int, order_ref: str) -> CxmlOrder:
    found = db.session.scalar(
        select(CxmlOrder).where(
            CxmlOrder.account_id == account_id, CxmlOrder.order_ref == order_ref
        )
    )
    if found is None:
        raise CxmlError(406, f"There is no order with orderID “{order_ref[:100]}” from you.")
    return found


def _order_number(found: CxmlOrder) -> str:
    return db.session.scalar(select(Order.number).where(Order.id == found.order_id))


def order_link(order_id: int) -> CxmlOrder | None:
    """The cXML side of an order (None for orders placed on the pages or the REST API)."""
    return db.session.scalar(select(CxmlOrder).where(CxmlOrder.order_id == order_id))


def _products(items: list[ItemOut]) -> list[tuple[Product, int]]:
    """Each line's product and quantity; every bad line named in one 400."""
    if not items:
        raise CxmlError(400, "The order has no ItemOut lines.")
    by_key = catalog.products_by_sku_key([sku_key(i.supplier_part_id) for i in items])
    problems, lines, seen = [], [], set()
    for item in items:
        if not item.supplier_part_id:
            problems.append(f"line {item.line_number}: no SupplierPartID")
            continue
        product = by_key.get(sku_key(item.supplier_part_id))
        if product is None:
            problems.append(f"line {item.line_number}: there is no product {item.supplier_part_id}")
            continue
        if product.id in seen:
            problems.append(f"line {item.line_number}: {product.sku} is on an earlier line")
            continue
        seen.add(product.id)
        try:
            quantity = documents.quantity_of(item)
        except CxmlError as error:
            problems.append((error.message[0].lower() + error.message[1:]).rstrip("."))
            continue
        lines.append((product, quantity))
    if problems:
        raise CxmlError(400, "Nothing was ordered: " + "; ".join(problems)[:900] + ".")
    for product, quantity in lines:
        ordering.check_quantity(product, quantity)  # DomainError: 406
    return lines


def _ship_to(user, request: documents.OrderRequest):
    """The account's address whose label (or number) is the ShipTo addressID, else the
    default one; an unmatched ShipTo is kept in the order's notes for the desk."""
    addresses = ordering.delivery_addresses(user)
    if not addresses:
        raise CxmlError(406, "Your account has no delivery address yet; ask the vendor.")
    wanted = request.ship_to_id.strip().lower()
    for address in addresses:
        if wanted and wanted in (address.label.strip().lower(), str(address.id)):
            return address, ""
    note = f"Ship to (as sent): {request.ship_to_text}" if request.ship_to_text else ""
    return addresses[0], note


def _new(credential: CxmlCredential, envelope: Envelope, request) -> tuple[int, str, None]:
    user = credential.acting_user
    # The account's currency: its contract prices and orders are in it.
    currency = catalog.account_currency(credential.account_id)
    for currency_given in [request.currency, *(i.currency for i in request.items)]:
        if currency_given and currency_given != currency:
            raise CxmlError(406, f"Prices are in {currency}, not {currency_given[:3]}.")
    existing = db.session.scalar(
        select(CxmlOrder).where(
            CxmlOrder.account_id == credential.account_id, CxmlOrder.order_ref == request.order_id
        )
    )
    if existing is not None and existing.payload_id != envelope.payload_id:
        raise CxmlError(
            409,
            f"orderID {request.order_id} was placed before as order {_order_number(existing)}; "
            'send type="update" to change it.',
        )
    lines = _products(request.items)
    address, ship_to_note = _ship_to(user, request)
    notes = "\n".join(part for part in (request.comments, ship_to_note) if part)
    key = (
        "cxml-"
        + hashlib.sha256(f"{credential.account_id}\n{envelope.payload_id}".encode()).hexdigest()[
            :40
        ]
    )
    order, created = ordering.place_order(
        user,
        po_number=request.order_id,
        ship_to_id=address.id,
        requested_date=None,
        notes=notes,
        idempotency_key=key,
        today=days.account_today(user.account),
        lines=lines,
    )
    if existing is None:
        # After the order's own commit: should this one fail, the repeat finds the
        # order by its key (created False) and links it then.
        db.session.add(
            CxmlOrder(
                account_id=credential.account_id,
                order_id=order.id,
                order_ref=request.order_id,
                payload_id=envelope.payload_id,
                order_date=request.order_date,
                line_numbers={
                    str(n): item.line_number for n, item in enumerate(request.items, start=1)
                },
            )
        )
        audit.record(
            "cxml_order_placed" if created else "cxml_order_linked",
            actor=user,
            account_id=credential.account_id,
            target=f"order:{order.number}",
            detail={"payload_id": envelope.payload_id[:200], "lines": len(lines)},
        )
        db.session.commit()
    return 200, f"Order {order.number} placed ({_lines(len(lines))}).", None


def _delete(credential: CxmlCredential, order: Order) -> tuple[int, str, None]:
    if not order.is_open:
        raise CxmlError(
            409,
            f"Order {order.number} is {order.status_label.lower()}: it can no longer be "
            "cancelled here; ask your account manager.",
        )
    ordering.cancel(credential.acting_user, order)
    return 200, f"Order {order.number} cancelled.", None


def _update(
    credential: CxmlCredential, found: CxmlOrder, order: Order, request
) -> tuple[int, str, None]:
    """An update may drop lines of an unconfirmed order (the page's line cancel); any
    other change (quantity, product, a new line) is refused, as the page allows none."""
    if not order.is_open:
        raise CxmlError(
            409,
            f"Order {order.number} is {order.status_label.lower()}: it can no longer be "
            "changed here; ask your account manager.",
        )
    ours = {found.line_numbers.get(str(line.line_no)): line for line in order.lines}
    wanted = {}
    for item in request.items:
        line = ours.get(item.line_number)
        quantity = documents.quantity_of(item)
        if line is None or line.status != "open":
            raise CxmlError(
                406,
                f"Line {item.line_number} is not an open line of order {order.number}: "
                "lines cannot be added; send a new order.",
            )
        if sku_key(item.supplier_part_id) != sku_key(line.sku) or quantity != line.quantity:
            raise CxmlError(
                406,
                f"Line {item.line_number}: only removing lines can be changed; "
                "quantities and products stay as ordered.",
            )
        wanted[line.id] = line
    dropped = [line for line in order.lines if line.status == "open" and line.id not in wanted]
    if not wanted:
        raise CxmlError(406, 'An update needs at least one line; send type="delete" to cancel.')
    for line in dropped:
        ordering.cancel(credential.acting_user, order, line.id)
    return 200, f"Order {order.number}: {_lines(len(dropped))} cancelled.", None


def _lines(n: int) -> str:
    return f"{n} line" + ("" if n == 1 else "s")
