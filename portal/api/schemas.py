"""Marshmallow schemas of the API: what the OpenAPI document describes and requests are
checked against. Money is a decimal string, never a float."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from portal.service import models as service_models

ORDER_STATUSES = (
    "awaiting_approval",
    "placed",
    "rejected",
    "confirmed",
    "partly_shipped",
    "shipped",
    "delivered",
    "cancelled",
)


class Text(fields.String):
    """A string of input: NUL characters are refused (PostgreSQL cannot store them, and
    no SKU, PO number or note has one)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("Must not contain NUL characters.")
        return text


class Strict(Schema):
    """Unknown fields are refused (marshmallow's default RAISE), named in `errors`."""


class Problem(Schema):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages per bad field, by dotted path (lines.0.quantity)"},
    )


class Money(fields.Decimal):
    """A decimal amount as a string, so no client reads it as a float."""

    def __init__(self, **kwargs):
        super().__init__(as_string=True, places=None, **kwargs)


class PriceBreakOut(Schema):
    min_quantity = fields.Integer(required=True)
    unit_price = Money(required=True)


class AvailabilityOut(Schema):
    quantity = fields.Integer(required=True)
    from_stock = fields.Integer(required=True)
    in_stock = fields.Boolean(required=True)
    ships_from_stock_on = fields.Date(required=True, allow_none=True)
    rest_ships_about = fields.Date(required=True, allow_none=True)
    summary = fields.String(required=True)


class ProductOut(Schema):
    sku = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    category = fields.String(required=True, allow_none=True)
    unit = fields.String(required=True)
    status = fields.String(required=True)
    min_order_qty = fields.Integer(required=True)
    order_multiple = fields.Integer(required=True)
    lead_time_days = fields.Integer(required=True)
    currency = fields.String(required=True)
    list_price = Money(
        required=True,
        allow_none=True,
        metadata={"description": "In `currency`, the account's; null when there is none in it"},
    )
    unit_price = Money(
        required=True,
        allow_none=True,
        metadata={"description": "For `quantity`, contract or list; null: cannot be ordered"},
    )
    is_contract_price = fields.Boolean(required=True)
    price_breaks = fields.List(fields.Nested(PriceBreakOut), required=True)
    availability = fields.Nested(AvailabilityOut, required=True)


class ProductQuery(Strict):
    q = Text(load_default="", validate=validate.Length(max=200))
    quantity = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=1_000_000),
        metadata={"description": "Prices and availability are for this quantity"},
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ProductPage(Schema):
    items = fields.List(fields.Nested(ProductOut), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    next_page = fields.Integer(required=True, allow_none=True)


class ProductOneQuery(Strict):
    quantity = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))


class OrderLineIn(Strict):
    sku = Text(required=True, validate=validate.Length(min=1, max=64))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class OrderIn(Strict):
    lines = fields.List(
        fields.Nested(OrderLineIn), required=True, validate=validate.Length(min=1, max=500)
    )
    po_number = Text(required=True, validate=validate.Length(min=1, max=50))
    ship_to_address_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1)
    )
    requested_date = fields.Date(load_default=None, allow_none=True)
    notes = Text(load_default="", validate=validate.Length(max=2000))


class PromiseChangeOut(Schema):
    changed_at = fields.DateTime(required=True)
    before = fields.Date(required=True, allow_none=True)
    after = fields.Date(required=True)
    reason = fields.String(required=True)
    reason_label = fields.String(required=True)
    text = fields.String(required=True)


class CancellationRequestOut(Schema):
    status = fields.String(
        required=True, validate=validate.OneOf(("pending", "accepted", "declined"))
    )
    requested_at = fields.DateTime(required=True)
    reason = fields.String(required=True)
    answered_at = fields.DateTime(required=True, allow_none=True)
    answer = fields.String(required=True)


class CancellationRequestIn(Strict):
    reason = Text(required=True, validate=validate.Length(min=1, max=1000))


class OrderLineOut(Schema):
    line_no = fields.Integer(required=True)
    sku = fields.String(required=True)
    name = fields.String(required=True)
    unit = fields.String(required=True)
    quantity = fields.Integer(required=True)
    unit_price = Money(required=True)
    line_total = Money(required=True)
    status = fields.String(required=True)
    estimated_ship_date = fields.Date(required=True)
    promised_ship_date = fields.Date(required=True, allow_none=True)
    first_promised_ship_date = fields.Date(required=True, allow_none=True)
    shipped_quantity = fields.Integer(required=True)
    delivered_quantity = fields.Integer(required=True)
    cancelled_quantity = fields.Integer(required=True)
    promise_changes = fields.List(
        fields.Nested(PromiseChangeOut),
        required=True,
        metadata={"description": "Every move of the promised date since the first, oldest first"},
    )
    cancellation_requests = fields.List(fields.Nested(CancellationRequestOut), required=True)
    may_cancel = fields.Boolean(
        required=True,
        metadata={"description": "`POST …/lines/{line_no}/cancel` is allowed now"},
    )
    may_request_cancellation = fields.Boolean(
        required=True,
        metadata={"description": "`POST …/lines/{line_no}/cancellation-request` is allowed now"},
    )


class ShipmentLineOut(Schema):
    line_no = fields.Integer(required=True)
    sku = fields.String(required=True)
    quantity = fields.Integer(required=True)


class ShipmentOut(Schema):
    id = fields.Integer(
        required=True, metadata={"description": "`shipment_id` of a service request about it"}
    )
    shipped_on = fields.Date(required=True)
    carrier = fields.String(required=True)
    tracking = fields.String(required=True)
    delivered_on = fields.Date(required=True, allow_none=True)
    lines = fields.List(fields.Nested(ShipmentLineOut), required=True)


class OrderSummaryOut(Schema):
    number = fields.String(required=True)
    status = fields.String(required=True)
    po_number = fields.String(required=True)
    placed_at = fields.DateTime(required=True)
    requested_date = fields.Date(required=True, allow_none=True)
    total = Money(required=True)
    currency = fields.String(required=True)


class OrderOut(OrderSummaryOut):
    ship_to = fields.String(required=True)
    ship_to_address_id = fields.Integer(required=True, allow_none=True)
    notes = fields.String(required=True)
    lines = fields.List(fields.Nested(OrderLineOut), required=True)
    shipments = fields.List(fields.Nested(ShipmentOut), required=True)


class OrderQuery(Strict):
    status = Text(load_default="", validate=validate.OneOf(("", *ORDER_STATUSES)))
    po_number = Text(load_default="", validate=validate.Length(max=50))
    sku = Text(load_default="", validate=validate.Length(max=64))
    q = Text(load_default="", validate=validate.Length(max=200))
    placed_from = fields.Date(load_default=None)
    placed_to = fields.Date(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = Text(
        load_default="",
        validate=validate.Length(max=100),
        metadata={"description": "`next_cursor` of the previous page"},
    )


class OrderPage(Schema):
    items = fields.List(fields.Nested(OrderSummaryOut), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class IdempotencyHeader(Schema):
    # Schemas of headers are not strict: every request carries headers of its own.
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        required=True,
        validate=validate.Length(min=1, max=60),
        metadata={"description": "A unique key per order (a UUID); a retry sends the same"},
    )


# --- forecasts ------------------------------------------------------------------------------

MONTH_KEY = {"description": "A month of the horizon, 2026-12", "pattern": r"^\d{4}-\d{2}$"}


class CellQuantity(fields.Integer):
    """A forecast cell's quantity, documented as an integer from 0, but checked by the
    forecast area with the horizon and SKU checks, so that one answer names every bad
    cell (a type error here would hide the rest)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return value


class ForecastRowIn(Strict):
    sku = Text(required=True, validate=validate.Length(min=1, max=64))
    quantities = fields.Dict(
        keys=Text(validate=validate.Length(min=1, max=20), metadata=MONTH_KEY),
        values=CellQuantity(metadata={"minimum": 0, "maximum": 999_999_999}),
        required=True,
        metadata={"description": "Quantity per month; a month left out is 0"},
    )


class ForecastDraftIn(Strict):
    rows = fields.List(
        fields.Nested(ForecastRowIn),
        required=True,
        validate=validate.Length(max=2_500),
        metadata={"description": "The whole draft: a product left out leaves the draft"},
    )


class ForecastRowOut(Schema):
    sku = fields.String(required=True)
    name = fields.String(required=True)
    quantities = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    total = fields.Integer(required=True)


class ForecastDraftOut(Schema):
    started = fields.Boolean(
        required=True,
        metadata={"description": "False: no draft yet (the next change starts one)"},
    )
    months = fields.List(fields.String(), required=True)
    rows = fields.List(fields.Nested(ForecastRowOut), required=True)


class PublishIn(Strict):
    comment = Text(load_default="", validate=validate.Length(max=2_000))


class ForecastVersionOut(Schema):
    number = fields.Integer(required=True)
    published_at = fields.DateTime(required=True)
    comment = fields.String(required=True)
    first_month = fields.String(required=True)
    horizon_months = fields.Integer(required=True)
    cells_changed = fields.Integer(required=True, allow_none=True)
    total_quantity = fields.Integer(required=True, allow_none=True)


class ForecastVersionList(Schema):
    items = fields.List(fields.Nested(ForecastVersionOut), required=True)


class ForecastVersionDetailOut(ForecastVersionOut):
    months = fields.List(fields.String(), required=True)
    rows = fields.List(fields.Nested(ForecastRowOut), required=True)


# --- service requests -------------------------------------------------------------------------

SERVICE_KINDS = tuple(service_models.KINDS)
SERVICE_PRIORITIES = tuple(service_models.PRIORITIES)
SERVICE_STATUSES = tuple(service_models.STATUSES)


class OrderLineRef(Strict):
    order_number = Text(required=True, validate=validate.Length(min=1, max=40))
    line_no = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1)
    )


class ServiceRequestIn(Strict):
    kind = Text(required=True, validate=validate.OneOf(SERVICE_KINDS))
    priority = Text(load_default="normal", validate=validate.OneOf(SERVICE_PRIORITIES))
    title = Text(required=True, validate=validate.Length(min=3, max=200))
    description = Text(
        load_default="", validate=validate.Length(max=20_000), metadata={"description": "Markdown"}
    )
    order_line = fields.Nested(
        OrderLineRef,
        load_default=None,
        allow_none=True,
        metadata={"description": "The order line it concerns"},
    )
    product_sku = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "The product it concerns (the order line's when left out)"},
    )
    shipment_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={
            "description": "The shipment it concerns (`shipments[].id` of the order); a "
            "shipment of one line stands for that line when `order_line` is left out"
        },
    )


class PromiseClockOut(Schema):
    state = fields.String(
        required=True, validate=validate.OneOf(("met", "breached", "due", "paused"))
    )
    target_hours = fields.Float(required=True, metadata={"description": "Working hours"})
    spent_hours = fields.Float(required=True, metadata={"description": "Working hours so far"})
    due_at = fields.DateTime(required=True, allow_none=True)
    done_at = fields.DateTime(required=True, allow_none=True)


class ServicePromiseOut(Schema):
    first_response = fields.Nested(PromiseClockOut, required=True)
    resolution = fields.Nested(PromiseClockOut, required=True)
    breached = fields.Boolean(required=True)


class ServiceRequestSummaryOut(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    kind = fields.String(required=True)
    priority = fields.String(required=True)
    status = fields.String(required=True)
    title = fields.String(required=True)
    opened_at = fields.DateTime(required=True)
    last_activity_at = fields.DateTime(required=True)
    promise = fields.Nested(ServicePromiseOut, required=True)


class ServiceMessageOut(Schema):
    author = fields.String(required=True)
    from_vendor = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    body = fields.String(required=True, metadata={"description": "Markdown"})


class ServiceRequestOut(ServiceRequestSummaryOut):
    description = fields.String(required=True)
    order_line = fields.Nested(OrderLineRef, required=True, allow_none=True)
    product_sku = fields.String(required=True, allow_none=True)
    shipment_id = fields.Integer(required=True, allow_none=True)
    resolved_at = fields.DateTime(required=True, allow_none=True)
    closed_at = fields.DateTime(required=True, allow_none=True)
    resolution = fields.String(required=True)
    messages = fields.List(
        fields.Nested(ServiceMessageOut),
        required=True,
        metadata={"description": "The thread, oldest first (the vendor's internal notes never)"},
    )


class ServiceQuery(Strict):
    status = Text(
        load_default="all",
        validate=validate.OneOf(("all", "open", *SERVICE_STATUSES)),
        metadata={"description": "`open` is new, acknowledged, in progress or waiting"},
    )
    priority = Text(load_default="", validate=validate.OneOf(("", *SERVICE_PRIORITIES)))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = Text(
        load_default="",
        validate=validate.Length(max=100),
        metadata={"description": "`next_cursor` of the previous page"},
    )


class ServiceRequestPage(Schema):
    items = fields.List(fields.Nested(ServiceRequestSummaryOut), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
