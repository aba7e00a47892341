"""REST API v1: products and orders of the token's account.

Each view translates JSON to calls of the services the pages use (catalog search,
contract prices and availability; placing, listing and cancelling orders) with the
token's user as the actor, so tenant scoping, prices and rules are the pages' own.
Later slices (forecasts, service requests) add views here with their scopes.
"""

from __future__ import annotations

import base64
import binascii
import http
from datetime import date, datetime
from typing import Any

from flask import Blueprint as FlaskBlueprint
from flask import abort, current_app, jsonify, make_response, render_template, request, url_for
from marshmallow import RAISE

from portal import days
from portal.audit import service as audit
from portal.catalog import service as catalog
from portal.catalog.models import Product, sku_key
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db
from portal.fulfilment import cancellations, confirmations
from portal.fulfilment import shipments as shipment_service
from portal.fulfilment.models import CHANGE_REASONS
from portal.ordering import service as ordering
from portal.ordering.models import Order
from portal.security import client_address, public

from . import problems
from . import schemas as s
from .door import api_user, bp, idempotency_key_parameter, idempotent, needs_scope, spec_of


def documents_problems(*codes: int):
    """Document the problem+json answers a view can give (400, 401 and 429 always: a NUL
    character anywhere is a 400, portal.params)."""

    def decorator(view):
        for code in sorted({400, 401, 429, *codes}):
            view = bp.alt_response(code, response=http.HTTPStatus(code).name)(view)
        return view

    return decorator


def today():
    """The token's account's day: the prices and availability valid for it today."""
    return days.user_today(api_user())


# --- products -------------------------------------------------------------------------------


def _product_json(
    product: Product, price_list: catalog.PriceList, quantity: int, day: date
) -> dict:
    """A product as the account reads it on `day` (its prices and availability then)."""
    availability = catalog.availability(product, quantity, day)
    return {
        "sku": product.sku,
        "name": product.name,
        "description": product.description or "",
        "category": product.category.name if product.category else None,
        "unit": product.unit,
        "status": product.status,
        "min_order_qty": product.min_order_qty,
        "order_multiple": product.order_multiple,
        "lead_time_days": product.lead_time_days,
        # The account's currency; list_price null: no list price in it.
        "currency": price_list.currency,
        "list_price": price_list.list_price,
        "unit_price": price_list.unit_price(quantity),
        "is_contract_price": price_list.is_contract,
        "price_breaks": [
            {"min_quantity": b.min_quantity, "unit_price": b.unit_price} for b in price_list.breaks
        ],
        "availability": {
            "quantity": availability.quantity,
            "from_stock": availability.from_stock,
            "in_stock": availability.in_stock,
            "ships_from_stock_on": availability.ships_from_stock_on,
            "rest_ships_about": availability.rest_ships_about,
            "summary": availability.summary,
        },
    }


@bp.get("/products")
@bp.arguments(s.ProductQuery, location="query", as_kwargs=True, unknown=RAISE)
@bp.response(200, s.ProductPage)
@documents_problems(403, 422)
@needs_scope("catalog:read")
def products(q: str, quantity: int, page: int, per_page: int):
    """Search products by SKU prefix or words, with the account's prices and availability.

    SKU matches first. No total count: counting every match costs more than the page
    itself on a large catalogue; `next_page` says whether there is more.
    """
    found, _ = catalog.search(q, limit=per_page + 1, offset=(page - 1) * per_page, with_total=False)
    more = len(found) > per_page
    found = found[:per_page]
    day = today()
    prices = catalog.price_lists(api_user().account_id, found, day)
    return {
        "items": [_product_json(p, prices[p.id], quantity, day) for p in found],
        "page": page,
        "per_page": per_page,
        "next_page": page + 1 if more else None,
    }


@bp.get("/products/<sku>")
@bp.arguments(s.ProductOneQuery, location="query", as_kwargs=True, unknown=RAISE)
@bp.response(200, s.ProductOut)
@documents_problems(403, 404, 422)
@needs_scope("catalog:read")
def product(sku: str, quantity: int):
    """One product by SKU (any case), with the account's prices and availability."""
    found = catalog.products_by_sku_key([sku_key(sku)]).get(sku_key(sku))
    if found is None:
        raise NotFound(f"There is no product {sku}.")
    day = today()
    return _product_json(
        found, catalog.price_list(api_user().account_id, found, day), quantity, day
    )


# --- orders -----------------------------------------------------------------------------------


def _order_summary(order: Order) -> dict:
    return {
        "number": order.number,
        "status": order.status,
        "po_number": order.po_number,
        "placed_at": order.placed_at,
        "requested_date": order.requested_date,
        "total": order.total,
        "currency": order.currency,
    }


def _promise_changes(events) -> list[dict]:
    """A line's promise events after the first (the confirmation): each move of the date."""
    return [
        {
            "changed_at": event.at,
            "before": date.fromisoformat(event.detail["before"])
            if (event.detail or {}).get("before")
            else None,
            "after": event.on_date,
            "reason": (event.detail or {}).get("reason", ""),
            "reason_label": CHANGE_REASONS.get((event.detail or {}).get("reason", ""), ""),
            "text": (event.detail or {}).get("text", ""),
        }
        for event in events
        if event.kind == "promise_changed"
    ]


def _request_json(request) -> dict:
    return {
        "status": request.status,
        "requested_at": request.requested_at,
        "reason": request.reason or "",
        "answered_at": request.answered_at,
        "answer": request.answer or "",
    }


def _order_json(order: Order) -> dict:
    """The order as its page shows it: lines with promises and their changes,
    cancellation requests, what may be cancelled now, and the shipments."""
    lines_by_id = {line.id: line for line in order.lines}
    history = confirmations.promise_history(order)
    requests = cancellations.cancellation_requests(order)
    return {
        **_order_summary(order),
        "ship_to": order.ship_to_text,
        "ship_to_address_id": order.ship_to_id,
        "notes": order.notes or "",
        "lines": [
            {
                "line_no": line.line_no,
                "sku": line.sku,
                "name": line.name,
                "unit": line.unit,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.line_total,
                "status": line.status,
                "estimated_ship_date": line.estimated_ship_date,
                "promised_ship_date": line.promised_on,
                "first_promised_ship_date": line.first_promised_on,
                "shipped_quantity": line.shipped_quantity,
                "delivered_quantity": line.delivered_quantity,
                "cancelled_quantity": line.cancelled_quantity,
                "promise_changes": _promise_changes(history.get(line.id, [])),
                "cancellation_requests": [
                    _request_json(r) for r in requests if r.line_id == line.id
                ],
                "may_cancel": line.status == "open" and order.is_open,
                "may_request_cancellation": line.status == "confirmed"
                and line.outstanding > 0
                and not any(r.line_id == line.id and r.status == "pending" for r in requests),
            }
            for line in sorted(order.lines, key=lambda line: line.line_no)
        ],
        "shipments": [
            {
                "id": shipment.id,
                "shipped_on": shipment.shipped_on,
                "carrier": shipment.carrier or "",
                "tracking": shipment.tracking or "",
                "delivered_on": shipment.delivered_on,
                "lines": [
                    {
                        "line_no": lines_by_id[item.line_id].line_no
                        if item.line_id in lines_by_id
                        else 0,
                        "sku": lines_by_id[item.line_id].sku if item.line_id in lines_by_id else "",
                        "quantity": item.quantity,
                    }
                    for item in shipment.lines
                ],
            }
            for shipment in shipment_service.shipments(order)
        ],
    }


def encode_cursor(at: datetime, row_id: int) -> str:
    """An opaque cursor: the instant and id of the last row of a page."""
    raw = f"{at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        placed_at, order_id = raw.split("|")
        when = datetime.fromisoformat(placed_at)
        if when.tzinfo is None:
            raise ValueError
        return when, int(order_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise DomainError("This is not a cursor this API gave out.", field="cursor") from None


@bp.get("/orders")
@bp.arguments(s.OrderQuery, location="query", as_kwargs=True, unknown=RAISE)
@bp.response(200, s.OrderPage)
@documents_problems(403, 422)
@needs_scope("orders:read")
def orders(limit: int, cursor: str, **filters: Any):
    """The account's orders, newest first, with the order list's filters; page by
    `cursor` (the previous page's `next_cursor`)."""
    after = decode_cursor(cursor) if cursor else None
    found, _ = ordering.orders(
        api_user(),
        ordering.OrderFilter(**filters),
        limit=limit + 1,
        after=after,
        with_total=False,
    )
    more = len(found) > limit
    found = found[:limit]
    return {
        "items": [_order_summary(order) for order in found],
        "next_cursor": encode_cursor(found[-1].placed_at, found[-1].id) if more else None,
    }


@bp.get("/orders/<number>")
@bp.response(200, s.OrderOut)
@documents_problems(403, 404)
@needs_scope("orders:read")
def order(number: str):
    """One order with its lines, promised dates and shipments."""
    return _order_json(ordering.order_for(api_user(), number))


def _order_lines(lines: list[dict]) -> list[tuple[Product, int]]:
    """Products for the SKUs, each line checked; every bad line named in one 422."""
    by_key = catalog.products_by_sku_key([sku_key(line["sku"]) for line in lines])
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    items = []
    for n, line in enumerate(lines):
        product = by_key.get(sku_key(line["sku"]))
        if product is None:
            errors[f"lines.{n}.sku"] = [f"There is no product {line['sku']}."]
            continue
        if product.id in seen:
            errors[f"lines.{n}.sku"] = [f"{product.sku} is on an earlier line already."]
            continue
        seen.add(product.id)
        try:
            ordering.check_quantity(product, line["quantity"])
        except DomainError as error:
            errors[f"lines.{n}.quantity"] = [error.message]
            continue
        items.append((product, line["quantity"]))
    if errors:
        raise LinesRefused(errors)
    return items


class LinesRefused(DomainError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("Some lines cannot be ordered; see errors.")
        self.errors = errors


@bp.post("/orders")
@idempotent
@bp.arguments(s.OrderIn)
@bp.response(201, s.OrderOut)
@bp.doc(parameters=[idempotency_key_parameter("order")])
@documents_problems(400, 403, 409, 422)
@needs_scope("orders:write")
def create_order(data: dict):
    """Place an order: lines by SKU and quantity, PO number, ship-to address, requested date."""
    user = api_user()
    try:
        items = _order_lines(data["lines"])
    except LinesRefused as refused:
        db.session.rollback()
        return problems.problem(
            422, kind="invalid-input", detail=refused.message, errors=refused.errors
        )
    placed, created = ordering.place_order(
        user,
        po_number=data["po_number"],
        ship_to_id=data["ship_to_address_id"],
        requested_date=data["requested_date"],
        notes=data["notes"],
        idempotency_key="api-" + request.headers["Idempotency-Key"].strip(),
        today=today(),
        lines=items,
    )
    if created:
        audit.record_alone(
            "api_order_placed",
            actor=user,
            client_address=client_address(),
            target=f"order:{placed.number}",
            detail={"api_token": token_id(), "lines": len(placed.lines)},
        )
    placed = ordering.order_for(user, placed.number)
    response = make_response(jsonify(s.OrderOut().dump(_order_json(placed))), 201)
    response.headers["Location"] = url_for("api.order", number=placed.number)
    return response


@bp.post("/orders/<number>/cancel")
@bp.response(200, s.OrderOut)
@documents_problems(403, 404, 422)
@needs_scope("orders:write")
def cancel_order(number: str):
    """Cancel the whole order while the vendor has not confirmed it (as the order page)."""
    user = api_user()
    found = ordering.order_for(user, number)
    ordering.cancel(user, found)
    audit.record_alone(
        "api_order_cancelled",
        actor=user,
        client_address=client_address(),
        target=f"order:{found.number}",
        detail={"api_token": token_id()},
    )
    return _order_json(ordering.order_for(user, number))


def _line_of(order: Order, line_no: int):
    """The order's line by its number; another order's or a missing one is a 404."""
    for line in order.lines:
        if line.line_no == line_no:
            return line
    raise NotFound(f"Order {order.number} has no line {line_no}.")


@bp.post("/orders/<number>/lines/<int:line_no>/cancel")
@bp.response(200, s.OrderOut)
@documents_problems(403, 404, 422)
@needs_scope("orders:write")
def cancel_order_line(number: str, line_no: int):
    """Cancel one line while the vendor has not confirmed the order (as the order page's
    "Cancel line"). Once confirmed, ask for it: `…/cancellation-request`."""
    user = api_user()
    found = ordering.order_for(user, number)
    line = _line_of(found, line_no)
    status, sku = line.status, line.sku
    try:
        ordering.cancel(user, found, line.id)
    except Forbidden:
        raise
    except DomainError as refused:
        db.session.rollback()
        if status == "confirmed":
            ask = url_for("api.request_line_cancellation", number=number, line_no=line_no)
            raise DomainError(
                f"Line {line_no} ({sku}) is confirmed by the vendor, so it cannot be cancelled "
                f"directly; ask for it: POST {ask}."
            ) from None
        if status != "open":
            raise DomainError(
                f"Line {line_no} ({sku}) is {status.replace('_', ' ')}: nothing is left to cancel."
            ) from None
        raise refused
    audit.record_alone(
        "api_order_line_cancelled",
        actor=user,
        client_address=client_address(),
        target=f"order:{found.number}",
        detail={"api_token": token_id(), "line_no": line_no, "sku": sku},
    )
    return _order_json(ordering.order_for(user, number))


@bp.post("/orders/<number>/lines/<int:line_no>/cancellation-request")
@bp.arguments(s.CancellationRequestIn)
@bp.response(201, s.OrderOut)
@documents_problems(403, 404, 422)
@needs_scope("orders:write")
def request_line_cancellation(data: dict, number: str, line_no: int):
    """Ask the vendor to cancel a confirmed line (as the order page's "Ask to cancel");
    the desk accepts or declines, and the line's `cancellation_requests` show it."""
    user = api_user()
    found = ordering.order_for(user, number)
    line = _line_of(found, line_no)
    sku = line.sku
    if line.status == "open" and found.is_open:
        cancel = url_for("api.cancel_order_line", number=number, line_no=line_no)
        raise DomainError(
            f"Line {line_no} ({sku}) is not confirmed yet: cancel it directly with POST {cancel}."
        )
    cancellations.request_cancellation(user, found, line.id, reason=data["reason"])
    audit.record_alone(
        "api_cancellation_requested",
        actor=user,
        client_address=client_address(),
        target=f"order:{found.number}",
        detail={"api_token": token_id(), "line_no": line_no, "sku": sku},
    )
    return _order_json(ordering.order_for(user, number))


def token_id() -> int:
    from flask import g

    return g.api_token.id


# --- the document and its page (no token needed: they hold no data) ----------------------------

docs_bp = FlaskBlueprint("api_docs", __name__)


@docs_bp.get("/api/v1/openapi.json")
@public
def openapi_json():
    """The OpenAPI 3.1 document of the API."""
    return jsonify(spec_of(current_app))


@docs_bp.get("/api/v1/problems/<name>")
@public
def problem_type(name: str):
    """What a problem type of the API means and what to do about it (its `type` URI)."""
    if name not in problems.TYPES:
        abort(404)
    status, explanation = problems.EXPLANATIONS[name]
    return render_template(
        "api/problem.html",
        name=name,
        title=problems.TYPES[name],
        status=status,
        explanation=explanation,
        types=problems.TYPES,
    )


@docs_bp.get("/api/v1/docs")
@public
def docs():
    """The API's documentation, readable, rendered from the OpenAPI document."""
    return render_template("api/docs.html", spec=spec_of(current_app))
