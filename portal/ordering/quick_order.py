"""Turning what a buyer types, pastes or uploads into checked order lines.

Nothing here touches the cart: the buyer sees every line's status (ok,
unknown SKU with close matches, discontinued with its replacement, a quantity
to round) and accepts the lines; only then do they go to the cart.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.catalog import service as catalog
from portal.catalog.models import Product, sku_key
from portal.extensions import db
from portal.formatting import number as format_number
from portal.spreadsheets import Column, Columns, header_key

MAX_LINES = 500
MAX_QUANTITY = 1_000_000
HEADER_WORDS = {
    "sku",
    "article",
    "item",
    "part",
    "product",
    "qty",
    "quantity",
    "menge",
    "artikel",
    "code",
    "amount",
}
# A paste or a file is read by position (SKU first, quantity second); a header row is
# recognised by its words, among them these columns' headers in every language.
PASTE_COLUMNS = Columns(Column("sku", _l("SKU")), Column("quantity", _l("Quantity")))


@dataclass
class RequestedLine:
    """One line as the buyer gave it, before the catalog is consulted."""

    line_no: int
    raw: str
    sku: str
    quantity: int | None
    problem: str | None = None


@dataclass
class CheckedLine:
    line_nos: list[int]
    sku: str
    quantity: int | None
    status: str  # ok | adjust | discontinued | unknown | invalid | no_price
    message: str = ""
    product: Product | None = None
    suggested_quantity: int | None = None
    replacement: Product | None = None
    close_matches: list[Product] = field(default_factory=list)
    unit_price: Decimal | None = None
    availability: catalog.Availability | None = None

    @property
    def line_total(self) -> Decimal | None:
        quantity = self.suggested_quantity or self.quantity
        if self.unit_price is None or quantity is None:
            return None
        return self.unit_price * quantity

    @property
    def can_add(self) -> bool:
        return self.status in ("ok", "adjust") or (
            self.status == "discontinued" and self.replacement is not None
        )

    @property
    def product_to_add(self) -> Product | None:
        return self.replacement if self.status == "discontinued" else self.product

    @property
    def quantity_to_add(self) -> int | None:
        return self.suggested_quantity or self.quantity


class TooManyLines(ValueError):
    pass


def _parse_quantity(text: str) -> tuple[int | None, str | None]:
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return None, _("no quantity given")
    if text.startswith("="):
        return None, _("the quantity is a formula: put the number itself in the cell")
    if re.fullmatch(r"[+-]?\d+", text):
        quantity = int(text)
        if quantity < 1:
            return None, _("quantity must be at least 1")
        if quantity > MAX_QUANTITY:
            return None, _(
                "quantity is too large (at most %(max)s)", max=format_number(MAX_QUANTITY)
            )
        return quantity, None
    if re.fullmatch(r"[+-]?\d+([.,]\d+)?", text):
        return None, _("quantity must be a whole number")
    return None, _("“%(text)s” is not a quantity", text=text[:20])


def _split(line: str) -> tuple[str, str]:
    """SKU and quantity from one line: tab, semicolon or comma separated, else the
    last run of spaces (SKUs may contain spaces, quantities do not)."""
    for delimiter in ("\t", ";", ","):
        if delimiter in line:
            cells = next(csv.reader([line], delimiter=delimiter))
            cells = [c.strip() for c in cells]
            while len(cells) > 2 and not cells[-1]:
                cells.pop()
            if len(cells) >= 2:
                return cells[0], cells[1]
            return cells[0] if cells else "", ""
    parts = line.rsplit(None, 1)
    if len(parts) == 2 and re.fullmatch(r"[+-]?[\d.,]+", parts[1]):
        return parts[0], parts[1]
    return line.strip(), ""


def _header_words() -> set[str]:
    return HEADER_WORDS | {
        word
        for column in PASTE_COLUMNS
        for spelling in PASTE_COLUMNS.spellings(column.key)
        for word in header_key(spelling).split()
    }


def _looks_like_header(sku: str, quantity: str) -> bool:
    words = set(re.findall(r"[a-zäöü]+", f"{sku} {quantity}".lower()))
    return bool(words & _header_words()) and _parse_quantity(quantity)[0] is None


def _header_problem(quantity: str) -> str | None:
    """A first line whose quantity is a word is a header this portal does not know (a
    misspelt one): say how to name the columns instead of only 'not a quantity'."""
    if not re.fullmatch(r"[^\W\d_][\w .()-]*", quantity.strip()):
        return None
    return _(
        "“%(text)s” is not a quantity. If this line is a header, name its columns "
        "%(sku)s and %(quantity)s.",
        text=quantity.strip()[:40],
        sku=PASTE_COLUMNS.accepted("sku"),
        quantity=PASTE_COLUMNS.accepted("quantity"),
    )


def parse_paste(text: str) -> list[RequestedLine]:
    """Lines of `SKU qty`, `SKU,qty`, `SKU;qty` or tab-separated, header row or not."""
    rows = [
        (number, list(_split(raw)))
        for number, raw in enumerate(text.splitlines(), start=1)
        if raw.strip()
    ]
    return parse_cells(rows)


def parse_cells(rows: list[tuple[int, list[str]]]) -> list[RequestedLine]:
    """Rows of cells (SKU first, quantity second) from a paste or a spreadsheet."""
    if len(rows) > MAX_LINES + 1:
        raise TooManyLines(_("Send at most %(max)d lines at a time.", max=MAX_LINES))
    lines = []
    for index, (number, cells) in enumerate(rows):
        sku = cells[0].strip() if cells else ""
        quantity_text = cells[1].strip() if len(cells) > 1 else ""
        if index == 0 and _looks_like_header(sku, quantity_text):
            continue
        quantity, problem = _parse_quantity(quantity_text)
        if index == 0 and quantity is None:
            problem = _header_problem(quantity_text) or problem
        if not sku:
            problem = _("no SKU given")
        elif sku.startswith("="):
            problem = _("the SKU is a formula: put the SKU itself in the cell")
        raw = " ".join(c for c in cells[:2] if c)
        lines.append(RequestedLine(number, raw[:200], sku[:64], quantity, problem))
    if len(lines) > MAX_LINES:
        raise TooManyLines(_("Send at most %(max)d lines at a time.", max=MAX_LINES))
    return lines


def rows_to_lines(rows: list[tuple[str, str]]) -> list[RequestedLine]:
    """The quick order pad's rows (SKU, quantity); empty rows are skipped."""
    lines = []
    for number, (sku, quantity_text) in enumerate(rows, start=1):
        if not sku.strip() and not quantity_text.strip():
            continue
        quantity, problem = _parse_quantity(quantity_text)
        if not sku.strip():
            problem = _("no SKU given")
        lines.append(
            RequestedLine(
                number, f"{sku} {quantity_text}".strip(), sku.strip()[:64], quantity, problem
            )
        )
    return lines


def _valid_quantity(product: Product, quantity: int) -> int:
    """The nearest quantity at or above `quantity` that the product can be ordered in."""
    quantity = max(quantity, product.min_order_qty)
    multiple = product.order_multiple
    return -(-quantity // multiple) * multiple


def close_matches(raw_sku: str, limit: int = 3) -> list[Product]:
    """Products whose SKU looks like `raw_sku` (typos, missing dashes)."""
    key = sku_key(raw_sku)
    compact = re.sub(r"[^A-Z0-9]", "", key)
    if len(compact) < 2:
        return []
    prefix = key[:3]
    candidates = db.session.scalars(
        select(Product)
        .where(Product.sku_key >= prefix, Product.sku_key < prefix + "\uffff")
        .limit(300)
    ).all()
    if len(candidates) < 50:
        candidates += catalog.search(raw_sku, limit=50)[0]
    by_key = {re.sub(r"[^A-Z0-9]", "", p.sku_key): p for p in candidates}
    found = difflib.get_close_matches(compact, list(by_key), n=limit, cutoff=0.6)
    return [by_key[k] for k in found]


def check(lines: list[RequestedLine], account_id: int | None, today: date) -> list[CheckedLine]:
    """Look every line up in the catalog, merge duplicate SKUs, price and judge them."""
    checked: list[CheckedLine] = []
    merged: dict[str, CheckedLine] = {}
    for line in lines:
        if line.problem:
            checked.append(
                CheckedLine([line.line_no], line.sku, line.quantity, "invalid", line.problem)
            )
            continue
        key = sku_key(line.sku)
        if key in merged:
            earlier = merged[key]
            earlier.line_nos.append(line.line_no)
            earlier.quantity += line.quantity
            continue
        merged[key] = CheckedLine([line.line_no], line.sku, line.quantity, "ok")
        checked.append(merged[key])

    products = catalog.products_by_sku_key(merged)
    replacements = catalog.products_by_sku_key(
        sku_key(p.replacement_sku)
        for p in products.values()
        if p.is_discontinued and p.replacement_sku
    )

    for key, line in merged.items():
        product = products.get(key)
        notes = (
            [_("merged lines %(lines)s", lines=", ".join(map(str, line.line_nos)))]
            if len(line.line_nos) > 1
            else []
        )
        if product is None:
            line.status = "unknown"
            line.close_matches = close_matches(line.sku)
            line.message = (
                _("did you mean %(skus)s?", skus=", ".join(p.sku for p in line.close_matches))
                if line.close_matches
                else _("no product has this SKU")
            )
            continue
        line.product = product
        line.sku = product.sku
        if product.is_discontinued:
            line.status = "discontinued"
            line.replacement = replacements.get(sku_key(product.replacement_sku or ""))
            line.message = (
                _("no longer sold; replaced by %(sku)s", sku=line.replacement.sku)
                if line.replacement
                else _("no longer sold")
            )
            if line.replacement:
                valid = _valid_quantity(line.replacement, line.quantity)
                if valid != line.quantity:
                    line.suggested_quantity = valid
            continue
        valid = _valid_quantity(product, line.quantity)
        if valid != line.quantity:
            line.status = "adjust"
            line.suggested_quantity = valid
            reason = (
                _("minimum order is %(quantity)s", quantity=format_number(product.min_order_qty))
                if line.quantity < product.min_order_qty
                else _(
                    "sold in multiples of %(quantity)s",
                    quantity=format_number(product.order_multiple),
                )
            )
            notes.append(
                _(
                    "%(reason)s: %(valid)s %(unit)s instead of %(quantity)s",
                    reason=reason,
                    valid=format_number(valid),
                    unit=product.unit,
                    quantity=format_number(line.quantity),
                )
            )
        line.message = "; ".join(notes)

    to_price = [line.product_to_add for line in merged.values() if line.product_to_add]
    prices = catalog.price_lists(account_id, to_price, today)
    for line in merged.values():
        product = line.product_to_add
        if product is not None and line.quantity_to_add:
            line.unit_price = prices[product.id].unit_price(line.quantity_to_add)
            line.availability = catalog.availability(product, line.quantity_to_add, today)
            if line.unit_price is None:
                # Not addable: checkout would refuse it, so the buyer learns it here.
                line.status = "no_price"
                line.message = prices[product.id].missing_price_message
    return checked


def read_upload(data: bytes) -> list[RequestedLine]:
    """Lines from an uploaded CSV (UTF-8 or Windows-1252) or XLSX file. A file that
    cannot be read raises SpreadsheetError (a ValueError) with its message."""
    from portal.spreadsheets import csv_problem, is_xlsx, read_text, read_xlsx

    if not data.strip():
        raise ValueError(_("The file is empty."))
    if is_xlsx(data):
        return parse_cells(read_xlsx(data))
    try:
        return parse_paste(read_text(data))
    except csv.Error as error:  # a line the csv module refuses, e.g. a cell over its limit
        raise csv_problem(error) from None
