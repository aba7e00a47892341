"""The order list as a file (CSV or XLSX) for the person who asked for it.

The header is in the reader's language; the values stay machine-readable whatever the
language (ISO dates, '.' before the decimals, the currency's code in its own column),
so that a spreadsheet or a script reads the same file from every reader. The day an
order was placed is the reader's day, in the zone their pages show.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from portal import spreadsheets
from portal.spreadsheets import Column, Columns

from .models import Order

COLUMNS = Columns(
    Column("order", _l("Order")),
    Column("placed", _l("Placed")),
    Column("account", _l("Account")),
    Column("po_number", _l("PO number")),
    Column("status", _l("Status")),
    Column("total", _l("Total")),
    Column("currency", _l("Currency")),
    Column("placed_by", _l("Placed by")),
)


def order_rows(orders: Iterable[Order], zone: ZoneInfo) -> list[list]:
    return [
        [
            order.number,
            order.placed_at.astimezone(zone).date(),
            order.account.number,
            order.po_number,
            order.status_label,
            order.total,
            order.currency,
            order.placed_by.name,
        ]
        for order in orders
    ]


def orders_file(orders: Iterable[Order], fmt: str, zone: ZoneInfo) -> tuple[bytes, str, str]:
    """(content, mimetype, file name) of the orders as CSV or XLSX."""
    content, mimetype = spreadsheets.table_file(COLUMNS.header(), order_rows(orders, zone), fmt)
    return content, mimetype, f"orders.{fmt}"
