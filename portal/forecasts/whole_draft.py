"""The draft as a whole: read it, or replace it with a complete set of rows (what a
purchasing system sends through the API: products × months).

Every cell is checked before anything is written, with the same rules as the grid
and the uploads (the horizon's months, whole numbers from 0, known products that
are not discontinued); a refusal names each bad cell and leaves the draft as it was.
Writing goes through the drafts' own functions (`ensure_draft`, `replace_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select

from portal.accounts.models import User
from portal.catalog.models import Product, sku_key
from portal.errors import DomainError
from portal.extensions import db

from .drafts import ensure_draft, replace_rows
from .models import ForecastCell
from .months import month_label, parse_month
from .service import (
    CHUNK,
    MAX_QUANTITY,
    all_cells,
    draft_of,
    editor,
    products_by_id,
    record_event,
    window,
)

MAX_ROWS = 2_500  # as many products as an upload takes


class CellsRefused(DomainError):
    """Nothing was written; `errors` names each bad input by its path (rows.3.sku)."""

    def __init__(self, errors: dict[str, list[str]]):
        count = len(errors)
        super().__init__(
            f"The draft was not changed: {count} problem{'s' * (count != 1)}; see errors."
        )
        self.errors = errors


@dataclass(frozen=True)
class DraftRow:
    product: Product
    quantities: dict[date, int]


@dataclass(frozen=True)
class Draft:
    months: list[date]
    rows: list[DraftRow]
    started: bool  # False: no draft yet; the next change starts one from the latest version


def read(user: User, today: date) -> Draft:
    """The account's draft in the horizon's months, rows by SKU."""
    account_id = editor(user)
    months = window(account_id, today)
    draft = draft_of(account_id)
    if draft is None:
        return Draft(months, [], False)
    by_product: dict[int, dict[date, int]] = {}
    for (product_id, month), quantity in all_cells(draft.id).items():
        if months[0] <= month <= months[-1]:
            by_product.setdefault(product_id, {})[month] = quantity
    products = products_by_id(by_product)
    rows = [
        DraftRow(products[pid], {m: by_product[pid].get(m, 0) for m in months})
        for pid in by_product
    ]
    rows.sort(key=lambda row: row.product.sku_key)
    return Draft(months, rows, True)


def replace(user: User, rows: list[tuple[str, dict[str, int]]], today: date) -> Draft:
    """Make the draft exactly these rows: (SKU, {month: quantity}). A month left out
    of a row is 0; a product left out is no longer in the draft. All or nothing."""
    account_id = editor(user)
    months = window(account_id, today)
    allowed = set(months)
    horizon = f"{month_label(months[0])} to {month_label(months[-1])}"
    errors: dict[str, list[str]] = {}
    if len(rows) > MAX_ROWS:
        raise CellsRefused({"rows": [f"At most {MAX_ROWS:,} products at once."]})
    first_row: dict[str, int] = {}
    wanted: dict[str, dict[date, int]] = {}
    for n, (sku, quantities) in enumerate(rows):
        key = sku_key(sku)
        if key in first_row:
            errors[f"rows.{n}.sku"] = [f"{sku[:64]} is already on row {first_row[key]}."]
            continue
        first_row[key] = n
        by_month: dict[date, int] = {}
        for raw, quantity in quantities.items():
            path = f"rows.{n}.quantities.{raw[:20]}"
            month = parse_month(raw)
            if month is None:
                errors[path] = [f"“{raw[:20]}” is not a month (2026-12)."]
            elif month not in allowed:
                errors[path] = [f"{month_label(month)} is outside the horizon ({horizon})."]
            elif month in by_month:
                errors[path] = [f"{month_label(month)} is in this row twice."]
            elif not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
                errors[path] = ["A forecast is a whole number of 0 or more."]
            elif quantity > MAX_QUANTITY:
                errors[path] = [f"At most {MAX_QUANTITY:,}."]
            else:
                by_month[month] = quantity
        wanted[key] = by_month
    found: dict[str, Product] = {}
    keys = sorted(wanted)
    for start in range(0, len(keys), CHUNK):
        for product in db.session.scalars(
            select(Product).where(Product.sku_key.in_(keys[start : start + CHUNK]))
        ):
            found[product.sku_key] = product
    for key in keys:
        product = found.get(key)
        if product is None:
            errors[f"rows.{first_row[key]}.sku"] = [f"There is no product with SKU “{key}”."]
        elif product.is_discontinued:
            errors[f"rows.{first_row[key]}.sku"] = [f"{product.sku} is discontinued."]
    if errors:
        raise CellsRefused(dict(sorted(errors.items(), key=lambda item: _row_of(item[0]))))
    draft = ensure_draft(user, account_id, today)
    db.session.execute(delete(ForecastCell).where(ForecastCell.version_id == draft.id))
    replace_rows(
        draft.id,
        account_id,
        {
            found[key].id: {m: by_month.get(m, 0) for m in months}
            for key, by_month in wanted.items()
        },
        fresh=True,
    )
    record_event(
        account_id,
        draft.id,
        user,
        "replaced",
        after="api",
        products=len(wanted),
        cells=sum(len(by_month) for by_month in wanted.values()),
    )
    db.session.commit()
    return read(user, today)


def _row_of(path: str) -> tuple[int, str]:
    parts = path.split(".")
    return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1, path)
