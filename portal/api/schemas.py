"""Marshmallow schemas of the API: what the OpenAPI document describes and requests are
checked against. Money is a decimal string, never a float."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

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
    list_price = Money(required=True)
    unit_price = Money(required=True, metadata={"description": "For `quantity`, contract or list"})
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


class ShipmentLineOut(Schema):
    line_no = fields.Integer(required=True)
    sku = fields.String(required=True)
    quantity = fields.Integer(required=True)


class ShipmentOut(Schema):
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
