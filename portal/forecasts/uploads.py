"""Forecasts as spreadsheets: a template to fill in (wide or long, CSV or XLSX)
and the upload of a filled-in file into the draft, every row or none, each bad
row reported with its number and reason.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.accounts.models import User
from portal.catalog.models import Product, sku_key
from portal.errors import DomainError
from portal.extensions import db
from portal.spreadsheets import (
    Column,
    Columns,
    SpreadsheetError,
    header_key,
    read_rows,
    xlsx_bytes,
)

from .drafts import ensure_draft, grid, replace_rows
from .models import ForecastCell
from .months import month_label, parse_month
from .service import (
    CHUNK,
    draft_of,
    editor,
    latest_published,
    parse_quantity,
    products_by_id,
    record_event,
    window,
)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_ROWS = 60_000  # 2,500 products × 24 months in long layout
MAX_ERRORS_SHOWN = 50
LAYOUTS = ("wide", "long")

# The template's header in the reader's language, and every header an upload accepts:
# the same messages in each language, the keys, and the words other systems' exports use.
# The wide layout is SKU, Product, then one column per month (2026-12: a month is
# written the ISO way in every language, so that it reads back whatever the locale).
COLUMNS = Columns(
    Column("sku", _l("SKU"), aliases=("article", "part number", "item")),
    Column("product", _l("Product"), aliases=("name", "product name", "description")),
    Column("month", _l("Month")),
    Column("quantity", _l("Quantity"), aliases=("qty", "forecast")),
    required=("sku", "month", "quantity"),
)


# --- templates -----------------------------------------------------------------------------------


def _ordered_recently(account_id: int, today: date) -> set[int]:
    from portal.ordering.models import Order, OrderLine

    since = datetime.combine(today - timedelta(days=365), time(), UTC)
    return set(
        db.session.scalars(
            select(OrderLine.product_id)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.account_id == account_id, Order.placed_at >= since)
            .distinct()
        )
    )


def template(user: User, layout: str, fmt: str, today: date) -> tuple[bytes, str]:
    """A file to fill in: the products ordered in the last 12 months and those in the
    forecast, with the draft's (or latest version's) quantities. Returns (bytes, name)."""
    if layout not in LAYOUTS or fmt not in ("csv", "xlsx"):
        raise DomainError("Choose the wide or long layout, as CSV or XLSX.")
    current = grid(user, today)
    months = current.months
    quantities = {row.product.id: row.quantities for row in current.rows}
    products = products_by_id(_ordered_recently(user.account_id, today) | quantities.keys())
    ordered = sorted(products.values(), key=lambda p: p.sku_key)
    ordered = [p for p in ordered if not p.is_discontinued or p.id in quantities]
    if layout == "wide":
        header = [COLUMNS.label("sku"), COLUMNS.label("product"), *map(month_label, months)]
        rows = [
            [p.sku, p.name, *(quantities.get(p.id, {}).get(m, 0) for m in months)] for p in ordered
        ]
    else:
        header = COLUMNS.header()
        rows = [
            [p.sku, p.name, month_label(m), quantities.get(p.id, {}).get(m, 0)]
            for p in ordered
            for m in months
        ]
    name = f"forecast-{layout}-{month_label(months[0])}.{fmt}"
    if fmt == "xlsx":
        return xlsx_bytes(header, rows), name
    from portal.spreadsheets import neutral

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutral(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig"), name


# --- uploads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int | None
    reason: str


class UploadRefused(DomainError):
    """The file was not applied; `errors` says why, row by row (the first so many)."""

    def __init__(self, errors: list[RowError], total: int):
        super().__init__(f"The file was not applied: {total} problem{'s' * (total != 1)}.")
        self.errors = errors
        self.total = total


@dataclass
class UploadResult:
    layout: str
    products: int
    cells: int


def _parse_upload(rows: list[tuple[int, list[str]]], months: list[date]):
    """{(sku, month): quantity} with the row each came from, and the errors."""
    errors: list[RowError] = []
    if not rows:
        return "", {}, [RowError(None, "The file is empty.")]
    header_row, header = rows[0]
    accepted = COLUMNS.names()
    keys = [accepted.get(header_key(h)) for h in header]
    allowed = set(months)
    horizon = f"{month_label(months[0])} to {month_label(months[-1])}"
    values: dict[tuple[str, date], int] = {}
    seen: dict[tuple[str, date] | str, int] = {}

    def quantity(number: int, raw: str, sku: str, month: date) -> int | None:
        if raw.isdigit() and raw.isascii() and len(raw) < 10:
            return int(raw)  # the usual case, 48,000 times in a large file
        try:
            return parse_quantity(raw)
        except DomainError:
            what = f"{sku[:64]} {month_label(month)}"
            errors.append(
                RowError(number, f"{what}: “{raw[:20]}” is not a whole number of 0 or more.")
            )
            return None

    # A month or quantity column means the long layout (SKU, Month, Quantity): one of
    # its columns missing or misspelt is named, with how to name it.
    if "month" in keys or "quantity" in keys:
        layout = "long"
        found = COLUMNS.locate(header)
        if found.missing or found.repeated:
            return layout, {}, [RowError(header_row, COLUMNS.problem(found))]
        sku_at, month_at, qty_at = (found.positions[k] for k in ("sku", "month", "quantity"))
        for number, cells in rows[1:]:
            cells = cells + [""] * (max(sku_at, month_at, qty_at) + 1 - len(cells))
            sku, raw_month, raw_qty = cells[sku_at].strip(), cells[month_at], cells[qty_at]
            if not sku:
                errors.append(RowError(number, "The SKU is missing."))
                continue
            month = parse_month(raw_month)
            if month is None:
                errors.append(RowError(number, f"“{raw_month[:20]}” is not a month (2026-12)."))
                continue
            if month not in allowed:
                errors.append(
                    RowError(number, f"{month_label(month)} is outside the horizon ({horizon}).")
                )
                continue
            if not raw_qty.strip():
                errors.append(RowError(number, "The quantity is missing."))
                continue
            value = quantity(number, raw_qty, sku, month)
            key = (sku_key(sku), month)
            if key in seen:
                errors.append(
                    RowError(
                        number,
                        f"{sku[:64]} for {month_label(month)} is already on row {seen[key]}.",
                    )
                )
                continue
            seen[key] = number
            if value is not None:
                values[key] = value
        return layout, values, errors

    if not keys or keys[0] != "sku":
        return (
            "",
            {},
            [
                RowError(
                    header_row,
                    _(
                        "The first row is not a header this portal knows. Use the template: "
                        "%(sku)s, %(product)s, then one column per month (2026-12 …), or "
                        "%(sku)s, %(month)s, %(quantity)s; separated by commas, semicolons "
                        "or tabs. The first column is named %(accepted)s.",
                        sku=COLUMNS.label("sku"),
                        product=COLUMNS.label("product"),
                        month=COLUMNS.label("month"),
                        quantity=COLUMNS.label("quantity"),
                        accepted=COLUMNS.accepted("sku"),
                    ),
                )
            ],
        )
    layout = "wide"
    first_month_column = 2 if len(keys) > 1 and keys[1] == "product" else 1
    columns: list[tuple[int, date]] = []
    for at in range(first_month_column, len(header)):
        raw = header[at]
        if not raw.strip():
            continue
        month = parse_month(raw)
        if month is None:
            errors.append(
                RowError(header_row, f"Column {at + 1}: “{raw[:20]}” is not a month (2026-12).")
            )
        elif month not in allowed:
            errors.append(
                RowError(
                    header_row,
                    f"Column {at + 1}: {month_label(month)} is outside the horizon ({horizon}).",
                )  # fmt: skip
            )
        elif any(m == month for _, m in columns):
            errors.append(
                RowError(header_row, f"Column {at + 1}: {month_label(month)} appears twice.")
            )
        else:
            columns.append((at, month))
    if errors:
        return layout, {}, errors
    if not columns:
        return layout, {}, [RowError(header_row, "The header names no month columns.")]
    for number, cells in rows[1:]:
        sku = cells[0].strip() if cells else ""
        if not sku:
            errors.append(RowError(number, "The SKU is missing."))
            continue
        if sku_key(sku) in seen:
            errors.append(RowError(number, f"{sku[:64]} is already on row {seen[sku_key(sku)]}."))
            continue
        seen[sku_key(sku)] = number
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            errors.append(RowError(number, "The row has more cells than the header."))
            continue
        for at, month in columns:
            raw = cells[at] if at < len(cells) else ""
            value = quantity(number, raw, sku, month)
            if value is not None:
                values[(sku_key(sku), month)] = value
    return layout, values, errors


def upload(user: User, data: bytes, today: date) -> UploadResult:
    """Apply a filled-in template (CSV or XLSX, wide or long) to the draft: every row or
    none. Raises UploadRefused with each bad row's number and reason."""
    account_id = editor(user)
    if not data:
        raise UploadRefused([RowError(None, "Choose a file to upload.")], 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(
            [RowError(None, f"The file is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB.")], 1
        )
    try:
        rows = read_rows(data, max_rows=MAX_UPLOAD_ROWS)
    except SpreadsheetError as error:
        raise UploadRefused([RowError(None, str(error))], 1) from None
    months = window(account_id, today)
    layout, values, errors = _parse_upload(rows, months)
    # Which SKUs are known, in a few queries for the whole file.
    keys = sorted({key for key, _ in values})
    found: dict[str, Product] = {}
    for start in range(0, len(keys), CHUNK):
        for product in db.session.scalars(
            select(Product).where(Product.sku_key.in_(keys[start : start + CHUNK]))
        ):
            found[product.sku_key] = product
    first_row: dict[str, int] = {}
    sku_at = COLUMNS.locate(rows[0][1]).positions["sku"] if layout == "long" else 0
    for number, cells in rows[1:]:
        if len(cells) > sku_at and cells[sku_at].strip():
            first_row.setdefault(sku_key(cells[sku_at]), number)
    for key in keys:
        product = found.get(key)
        if product is None:
            errors.append(RowError(first_row.get(key), f"There is no product with SKU “{key}”."))
        elif product.is_discontinued:
            errors.append(RowError(first_row.get(key), f"{product.sku} is discontinued."))
    if errors:
        errors.sort(key=lambda e: e.row or 0)
        raise UploadRefused(errors[:MAX_ERRORS_SHOWN], len(errors))
    if not values:
        raise UploadRefused([RowError(None, "The file holds no forecast rows.")], 1)
    by_product: dict[int, dict[date, int]] = {}
    touched = {found[key].id for key, _ in values}
    # Months the file does not mention keep their figures (long layout): the draft's,
    # or the latest version's when the draft starts now (without copying these rows).
    draft = draft_of(account_id)
    fresh = draft is None
    source = draft or latest_published(account_id)
    if fresh:
        draft = ensure_draft(user, account_id, today, replacing=touched)
    existing = defaultdict(dict)
    ids = sorted(touched) if source else []
    for start in range(0, len(ids), CHUNK):
        for pid, m, q in db.session.execute(
            select(ForecastCell.product_id, ForecastCell.month, ForecastCell.quantity).where(
                ForecastCell.version_id == source.id,
                ForecastCell.product_id.in_(ids[start : start + CHUNK]),
                ForecastCell.month >= months[0],
                ForecastCell.month <= months[-1],
            )
        ):
            existing[pid][m] = q
    for pid in touched:
        by_product[pid] = {m: existing[pid].get(m, 0) for m in months}
    for (key, month), quantity in values.items():
        by_product[found[key].id][month] = quantity
    if not fresh:
        ensure_draft(user, account_id, today)  # keeps its months in step with today
    replace_rows(draft.id, account_id, by_product, fresh=fresh)
    record_event(
        account_id,
        draft.id,
        user,
        "uploaded",
        after=layout,
        products=len(by_product),
        cells=len(values),
    )
    db.session.commit()
    return UploadResult(layout, len(by_product), len(values))
