"""REST API v1: service requests of the token's account — open one, list them by
cursor, read one with its thread and the state of its promises.

Through the service area's own functions (`workflow.open_request`,
`reading.request_for`, `reading.thread`, `promises.promises_for`): the same checks,
notifications and promise clock as the pages. The vendor's internal notes are never
part of an answer.
"""

from __future__ import annotations

from flask import make_response, url_for
from marshmallow import RAISE

from portal.audit import service as audit
from portal.catalog import service as catalog
from portal.catalog.models import sku_key
from portal.errors import DomainError, NotFound
from portal.extensions import utcnow
from portal.ordering import service as ordering
from portal.security import client_address
from portal.service import promises, reading, workflow
from portal.service.models import ServiceRequest

from . import schemas as s
from .door import api_user, bp, idempotency_key_parameter, idempotent, needs_scope
from .v1 import decode_cursor, documents_problems, encode_cursor, token_id


def _clock_json(clock: promises.Clock) -> dict:
    return {
        "state": clock.state,
        "target_hours": round(clock.target_seconds / 3600, 2),
        "spent_hours": round(clock.spent_seconds / 3600, 2),
        "due_at": clock.due_at,
        "done_at": clock.done_at,
    }


def _promise_json(promise: promises.Promise) -> dict:
    return {
        "first_response": _clock_json(promise.response),
        "resolution": _clock_json(promise.resolution),
        "breached": promise.breached,
    }


def _summary_json(request: ServiceRequest, promise: promises.Promise) -> dict:
    return {
        "id": request.id,
        "reference": request.reference,
        "kind": request.kind,
        "priority": request.priority,
        "status": request.status,
        "title": request.title,
        "opened_at": request.opened_at,
        "last_activity_at": request.last_activity_at,
        "promise": _promise_json(promise),
    }


def _request_json(request: ServiceRequest) -> dict:
    user = api_user()
    promise = promises.promises_for([request], utcnow())[request.id]
    line = request.order_line
    messages = [m for m in reading.thread(user, request) if not m.internal]
    return {
        **_summary_json(request, promise),
        "description": request.description or "",
        "order_line": {"order_number": line.order.number, "line_no": line.line_no}
        if line is not None
        else None,
        "product_sku": request.product.sku if request.product else None,
        "shipment_id": request.shipment_id,
        "resolved_at": request.resolved_at,
        "closed_at": request.closed_at,
        "resolution": request.resolution or "",
        "messages": [
            {
                "author": message.author.name if message.author else "(former user)",
                "from_vendor": bool(message.author and message.author.is_vendor_staff),
                "created_at": message.created_at,
                "body": message.body,
            }
            for message in messages
        ],
    }


def _context(data: dict) -> tuple[int | None, int | None]:
    """The order line and product the request concerns, by order number + line number
    and SKU; another account's order is as missing as an unknown one."""
    line_id = product_id = None
    ref = data.get("order_line")
    if ref is not None:
        try:
            order = ordering.order_for(api_user(), ref["order_number"])
        except NotFound:
            raise DomainError(
                f"There is no order {ref['order_number']}.", field="order_line.order_number"
            ) from None
        line = next((li for li in order.lines if li.line_no == ref["line_no"]), None)
        if line is None:
            raise DomainError(
                f"Order {order.number} has no line {ref['line_no']}.", field="order_line.line_no"
            )
        line_id = line.id
    if data.get("product_sku"):
        product = catalog.products_by_sku_key([sku_key(data["product_sku"])]).get(
            sku_key(data["product_sku"])
        )
        if product is None:
            raise DomainError(f"There is no product {data['product_sku']}.", field="product_sku")
        product_id = product.id
    return line_id, product_id


@bp.post("/service-requests")
@idempotent
@bp.arguments(s.ServiceRequestIn)
@bp.response(201, s.ServiceRequestOut)
@bp.doc(parameters=[idempotency_key_parameter("service request")])
@documents_problems(400, 403, 409, 422)
@needs_scope("service:write")
def open_service_request(data: dict):
    """Open a service request (help, repair, a complaint …), optionally about an order
    line, a shipment or a product. The vendor's service staff are told at once. Takes an
    `Idempotency-Key` as creating an order does: a retry opens no second request."""
    user = api_user()
    line_id, product_id = _context(data)
    opened = workflow.open_request(
        user,
        kind=data["kind"],
        priority=data["priority"],
        title=data["title"],
        description=data["description"],
        now=utcnow(),
        order_line_id=line_id,
        product_id=product_id,
        shipment_id=data.get("shipment_id"),
    )
    audit.record_alone(
        "api_service_request_opened",
        actor=user,
        client_address=client_address(),
        target=f"service_request:{opened.reference}",
        detail={"api_token": token_id()},
    )
    found = reading.request_for(user, opened.id)
    response = make_response(s.ServiceRequestOut().dump(_request_json(found)), 201)
    response.headers["Location"] = url_for("api.service_request", request_id=found.id)
    return response


@bp.get("/service-requests")
@bp.arguments(s.ServiceQuery, location="query", as_kwargs=True, unknown=RAISE)
@bp.response(200, s.ServiceRequestPage)
@documents_problems(403, 422)
@needs_scope("service:read")
def service_requests(status: str, priority: str, limit: int, cursor: str):
    """The account's service requests, newest first, each with its promise; filter by
    status (`open`, `all` or one status) and priority; page by `cursor`."""
    user = api_user()
    after = decode_cursor(cursor) if cursor else None
    found = reading.newest_first(
        user,
        reading.RequestFilter(status=status, priority=priority),
        after=after,
        limit=limit + 1,
    )
    more = len(found) > limit
    found = found[:limit]
    states = promises.promises_for(found, utcnow())
    return {
        "items": [_summary_json(r, states[r.id]) for r in found],
        "next_cursor": encode_cursor(found[-1].opened_at, found[-1].id) if more else None,
    }


@bp.get("/service-requests/<int:request_id>")
@bp.response(200, s.ServiceRequestOut)
@documents_problems(403, 404)
@needs_scope("service:read")
def service_request(request_id: int):
    """One service request with its thread (without the vendor's internal notes) and the
    state of its promises (first response and resolution, in working hours)."""
    return _request_json(reading.request_for(api_user(), request_id))
