"""Shared demand forecasts: the customer's draft grid, publishing immutable
versions, spreadsheet templates and uploads, and what the vendor reads.

Plain functions with explicit arguments (the acting user, today). A draft is
started on the first change, pre-filled from the latest published version in
one INSERT … SELECT. Cells are written in bulk (executemany), never as one ORM
object per cell. Every read of customer data goes through `scoped()`.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts import service as accounts
from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.catalog.models import Product, sku_key
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.params import optional_database_int
from portal.security import scoped
from portal.spreadsheets import SpreadsheetError, read_rows, xlsx_bytes

from .models import (
    DEFAULT_HORIZON_MONTHS,
    DRAFT_NUMBER,
    MAX_HORIZON_MONTHS,
    ForecastCell,
    ForecastEvent,
    ForecastSettings,
    ForecastVersion,
)
from .months import add_months, first_of_month  # noqa: F401 (callers import them from here)

EDITORS = (Role.BUYER, Role.CUSTOMER_ADMIN)
# Vendor staff who read every account's forecasts; account managers read their own accounts'.
PLANNERS = (Role.PLANNER, Role.ADMIN)
VENDOR_READERS = (*PLANNERS, Role.ACCOUNT_MANAGER)
MAX_QUANTITY = 999_999_999
MAX_COMMENT = 2_000
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_ROWS = 60_000  # 2,500 products × 24 months in long layout
MAX_ERRORS_SHOWN = 50
CHUNK = 500  # ids per IN (…): well inside every database's parameter limit


# --- months -------------------------------------------------------------------------------------


def month_label(month: date) -> str:
    """How a month is written in files and headers: 2026-12."""
    return f"{month:%Y-%m}"


MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{1,2})(?:-01)?(?:[T ]00:00(?::00)?)?$")
MONTH_SLASH = re.compile(r"^(\d{1,2})/(\d{4})$")


def parse_month(raw: str) -> date | None:
    """A month as people write it: 2026-12, 2026-12-01 (or a date cell), 12/2026."""
    text = (raw or "").strip()
    match = MONTH_PATTERN.match(text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
    elif match := MONTH_SLASH.match(text):
        year, month = int(match.group(2)), int(match.group(1))
    else:
        return None
    if not 1 <= month <= 12 or not 2000 <= year <= 2999:
        return None
    return date(year, month, 1)


def parse_quantity(raw: str | None) -> int:
    """A forecast quantity: a whole number from 0; blank is 0."""
    text = (raw or "").strip().replace("\u202f", "").replace(" ", "")
    if not text:
        return 0
    if text.startswith("-") and text[1:].isdigit():
        raise DomainError("A forecast cannot be negative.", field="quantity")
    if not text.isascii() or not text.isdigit():
        raise DomainError("Give a whole number, e.g. 120.", field="quantity")
    value = int(text)
    if value > MAX_QUANTITY:
        raise DomainError(f"At most {MAX_QUANTITY:,}.", field="quantity")
    return value


# --- settings and who may do what ---------------------------------------------------------------


def horizon_of(account_id: int) -> int:
    months = db.session.scalar(
        select(ForecastSettings.horizon_months).where(ForecastSettings.account_id == account_id)
    )
    return months or DEFAULT_HORIZON_MONTHS


def window(account_id: int, today: date) -> list[date]:
    """The months an account forecasts now: this month and the horizon's months after it."""
    start = first_of_month(today)
    return [add_months(start, n) for n in range(horizon_of(account_id))]


def _editor(user: User) -> int:
    """The account a customer user edits the forecast of; vendor staff never edit it."""
    if user.is_vendor_staff or user.account_id is None or not user.has_role(*EDITORS):
        raise Forbidden("Buyers and customer admins edit their account's forecast.")
    return user.account_id


def account_for(viewer: User, account_id: int) -> CustomerAccount:
    """An account whose forecasts the viewer may read, or NotFound (another customer's
    account looks exactly like a missing one)."""
    if not viewer.is_vendor_staff and viewer.account_id != account_id:
        raise NotFound("No such account.")
    query = select(CustomerAccount).where(CustomerAccount.id == account_id)
    if viewer.is_vendor_staff:
        if not viewer.has_role(*VENDOR_READERS):
            raise Forbidden("Forecasts are for planners and account managers.")
        if not viewer.has_role(*PLANNERS):
            query = query.where(CustomerAccount.account_manager_id == viewer.id)
    account = db.session.scalar(query)
    if account is None:
        raise NotFound("No such account.")
    return account


def set_horizon(user: User, account_id: int, raw: str | None) -> int:
    """Change how many months ahead the account forecasts (1 to 24)."""
    if user.is_vendor_staff:
        if not user.has_role(Role.ADMIN):
            raise Forbidden("Vendor admins change the forecast horizon.")
    elif not user.has_role(Role.CUSTOMER_ADMIN):
        raise Forbidden("Customer admins change the forecast horizon.")
    if db.session.get(CustomerAccount, account_id) is None or (
        not user.is_vendor_staff and user.account_id != account_id
    ):
        raise NotFound("No such account.")
    text = (raw or "").strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_HORIZON_MONTHS:
        raise DomainError(
            f"Choose a horizon of 1 to {MAX_HORIZON_MONTHS} months.", field="horizon_months"
        )
    months = int(text)
    settings = db.session.get(ForecastSettings, account_id)
    before = settings.horizon_months if settings else DEFAULT_HORIZON_MONTHS
    if settings is None:
        settings = ForecastSettings(account_id=account_id)
        db.session.add(settings)
    settings.horizon_months = months
    settings.updated_by_id = user.id
    settings.updated_at = utcnow()
    _event(account_id, None, user, "horizon", before=str(before), after=str(months))
    db.session.commit()
    return months


def _event(account_id, version_id, actor, kind, before=None, after=None, **detail) -> None:
    db.session.add(
        ForecastEvent(
            account_id=account_id,
            version_id=version_id,
            actor_id=actor.id if actor else None,
            kind=kind,
            before=before,
            after=after,
            detail=detail or None,
        )
    )


# --- versions -----------------------------------------------------------------------------------


def published(viewer: User) -> Select:
    """The published versions the viewer may read, as a query to refine."""
    query = scoped(select(ForecastVersion), ForecastVersion, viewer).where(
        ForecastVersion.number > DRAFT_NUMBER
    )
    if not viewer.is_vendor_staff:
        if not viewer.has_role(*EDITORS):
            raise Forbidden("Buyers and customer admins see the account's forecasts.")
        return query
    if not viewer.has_role(*VENDOR_READERS):
        raise Forbidden("Forecasts are for planners and account managers.")
    if not viewer.has_role(*PLANNERS):
        query = query.where(
            ForecastVersion.account_id.in_(
                select(CustomerAccount.id).where(CustomerAccount.account_manager_id == viewer.id)
            )
        )
    return query


def versions_of(viewer: User, account_id: int) -> list[ForecastVersion]:
    """An account's published versions, newest first."""
    from sqlalchemy.orm import joinedload

    return list(
        db.session.scalars(
            published(viewer)
            .where(ForecastVersion.account_id == account_id)
            .options(joinedload(ForecastVersion.published_by))
            .order_by(ForecastVersion.number.desc())
        )
    )


def version_for(viewer: User, version_id: int) -> ForecastVersion:
    from sqlalchemy.orm import joinedload

    version = db.session.scalar(
        published(viewer)
        .where(ForecastVersion.id == version_id)
        .options(joinedload(ForecastVersion.account), joinedload(ForecastVersion.published_by))
    )
    if version is None:
        raise NotFound("No such forecast version.")
    return version


def previous_of(version: ForecastVersion) -> ForecastVersion | None:
    if version.number <= 1:
        return None
    return db.session.scalar(
        select(ForecastVersion).where(
            ForecastVersion.account_id == version.account_id,
            ForecastVersion.number == version.number - 1,
        )
    )


def inbox(viewer: User, limit: int = 100) -> list[ForecastVersion]:
    """Published versions, newest first, for the vendor's planners and managers."""
    from sqlalchemy.orm import joinedload

    if not viewer.is_vendor_staff:
        raise Forbidden("The forecast inbox is the vendor's.")
    return list(
        db.session.scalars(
            published(viewer)
            .options(joinedload(ForecastVersion.account), joinedload(ForecastVersion.published_by))
            .order_by(ForecastVersion.published_at.desc(), ForecastVersion.id.desc())
            .limit(limit)
        )
    )


def _draft(account_id: int) -> ForecastVersion | None:
    return db.session.scalar(
        select(ForecastVersion).where(
            ForecastVersion.account_id == account_id, ForecastVersion.number == DRAFT_NUMBER
        )
    )


def latest_published(account_id: int) -> ForecastVersion | None:
    return db.session.scalar(
        select(ForecastVersion)
        .where(ForecastVersion.account_id == account_id, ForecastVersion.number > DRAFT_NUMBER)
        .order_by(ForecastVersion.number.desc())
        .limit(1)
    )


def _ensure_draft(
    user: User, account_id: int, today: date, *, replacing: set[int] | frozenset = frozenset()
) -> ForecastVersion:
    """The account's draft; a new one starts as a copy of the latest published version
    (but for the products in `replacing`, whose rows the caller writes anew)."""
    months = window(account_id, today)
    draft = _draft(account_id)
    if draft is None:
        draft = ForecastVersion(
            account_id=account_id,
            number=DRAFT_NUMBER,
            first_month=months[0],
            horizon_months=len(months),
            created_by_id=user.id,
        )
        try:
            # Two first edits at once: the second finds the first one's draft.
            with db.session.begin_nested():
                db.session.add(draft)
        except IntegrityError:
            draft = _draft(account_id)
            if draft is None:
                raise
            return draft
        latest = latest_published(account_id)
        if latest is not None:
            _copy_cells(latest.id, draft.id, months, replacing)
        _event(account_id, draft.id, user, "draft_started", after="draft",
               based_on=latest.number if latest else None)  # fmt: skip
    elif draft.first_month != months[0] or draft.horizon_months != len(months):
        draft.first_month, draft.horizon_months = months[0], len(months)
    return draft


def _copy_cells(source_id: int, target_id: int, months: list[date], leave_out) -> None:
    """Copy a version's cells within `months` into another version, in the database
    (INSERT … SELECT), except those of the products in `leave_out`."""

    def copy(*only) -> None:
        db.session.execute(
            insert(ForecastCell).from_select(
                list(CELL_COLUMNS),
                select(
                    literal(target_id),
                    ForecastCell.product_id,
                    ForecastCell.month,
                    ForecastCell.account_id,
                    ForecastCell.quantity,
                ).where(
                    ForecastCell.version_id == source_id,
                    ForecastCell.month >= months[0],
                    ForecastCell.month <= months[-1],
                    *only,
                ),
            )
        )

    if not leave_out:
        copy()
        return
    # The products to keep, named: IN (…) is a range of the primary key for each,
    # where NOT IN (2,000 ids) would compare every cell with every id.
    keep = sorted(
        set(
            db.session.scalars(
                select(ForecastCell.product_id)
                .where(ForecastCell.version_id == source_id)
                .distinct()
            )
        )
        - set(leave_out)
    )
    for start in range(0, len(keep), CHUNK):
        copy(ForecastCell.product_id.in_(keep[start : start + CHUNK]))


# --- the grid -----------------------------------------------------------------------------------


@dataclass
class GridRow:
    product: Product
    quantities: dict[date, int]

    def total(self) -> int:
        return sum(self.quantities.values())


@dataclass
class Grid:
    """What the customer's page shows: the draft, or the latest version until a draft starts."""

    months: list[date]
    rows: list[GridRow]
    draft: ForecastVersion | None
    latest: ForecastVersion | None
    month_totals: dict[date, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.month_totals.values())

    @property
    def labels(self) -> list[str]:
        return [month_label(m) for m in self.months]


def _cells(version_id: int, months: list[date]) -> dict[int, dict[date, int]]:
    by_product: dict[int, dict[date, int]] = defaultdict(dict)
    rows = db.session.execute(
        select(ForecastCell.product_id, ForecastCell.month, ForecastCell.quantity).where(
            ForecastCell.version_id == version_id,
            ForecastCell.month >= months[0],
            ForecastCell.month <= months[-1],
        )
    )
    for product_id, month, quantity in rows:
        by_product[product_id][month] = quantity
    # Products whose cells all lie outside the window still have a row.
    for product_id in db.session.scalars(
        select(ForecastCell.product_id).where(ForecastCell.version_id == version_id).distinct()
    ):
        by_product.setdefault(product_id, {})
    return by_product


def _products(ids) -> dict[int, Product]:
    ids = list(ids)
    found: dict[int, Product] = {}
    for start in range(0, len(ids), CHUNK):
        for product in db.session.scalars(
            select(Product).where(Product.id.in_(ids[start : start + CHUNK]))
        ):
            found[product.id] = product
    return found


def grid(user: User, today: date) -> Grid:
    """The customer's forecast grid: products (by SKU) × the horizon's months."""
    account_id = _editor(user)
    months = window(account_id, today)
    draft = _draft(account_id)
    latest = latest_published(account_id)
    source = draft or latest
    cells = _cells(source.id, months) if source else {}
    products = _products(cells)
    rows = sorted(
        (GridRow(products[pid], {m: q.get(m, 0) for m in months}) for pid, q in cells.items()),
        key=lambda row: row.product.sku_key,
    )
    totals = {m: sum(row.quantities[m] for row in rows) for m in months}
    return Grid(months, rows, draft, latest, totals)


@dataclass
class CellResult:
    product: Product
    month: date
    quantity: int
    row_total: int
    month_total: int
    grand_total: int


def _totals(version_id: int, product_id: int, month: date, months: list[date]):
    in_window = (ForecastCell.month >= months[0], ForecastCell.month <= months[-1])
    base = select(func.coalesce(func.sum(ForecastCell.quantity), 0)).where(
        ForecastCell.version_id == version_id, *in_window
    )
    return (
        db.session.scalar(base.where(ForecastCell.product_id == product_id)),
        db.session.scalar(base.where(ForecastCell.month == month)),
        db.session.scalar(base),
    )


def _draft_product(account_id: int, raw_product_id, raw_month, today: date):
    months = window(account_id, today)
    month = parse_month(str(raw_month or ""))
    if month is None or month not in months:
        raise DomainError("That month is not in the forecast horizon.", field="month")
    product_id = optional_database_int(str(raw_product_id or ""))
    product = db.session.get(Product, product_id) if product_id else None
    if product is None:
        raise DomainError("Add the product to the forecast first.", field="product_id")
    return product, month, months


def check_cell(user: User, raw_product_id, raw_month, today: date):
    """The product and month a cell form names (for showing an error beside it)."""
    return _draft_product(_editor(user), raw_product_id, raw_month, today)[:2]


def save_cell(user: User, raw_product_id, raw_month, raw_quantity, today: date) -> CellResult:
    """Set one cell of the draft (starting the draft if there is none)."""
    account_id = _editor(user)
    product, month, months = _draft_product(account_id, raw_product_id, raw_month, today)
    quantity = parse_quantity(raw_quantity)
    draft = _ensure_draft(user, account_id, today)
    in_draft = db.session.scalar(
        select(ForecastCell.quantity)
        .where(ForecastCell.version_id == draft.id, ForecastCell.product_id == product.id)
        .limit(1)
    )
    if in_draft is None:
        raise DomainError("Add the product to the forecast first.", field="product_id")
    key = (
        ForecastCell.version_id == draft.id,
        ForecastCell.product_id == product.id,
        ForecastCell.month == month,
    )
    before = db.session.scalar(select(ForecastCell.quantity).where(*key))
    if before is None:
        db.session.execute(
            insert(ForecastCell).values(
                version_id=draft.id,
                product_id=product.id,
                month=month,
                account_id=account_id,
                quantity=quantity,
            )
        )
    elif before != quantity:
        db.session.execute(update(ForecastCell).where(*key).values(quantity=quantity))
    if before != quantity:
        _event(account_id, draft.id, user, "cell", before=str(before or 0), after=str(quantity),
               product_id=product.id, month=month_label(month))  # fmt: skip
    row_total, month_total, grand_total = _totals(draft.id, product.id, month, months)
    db.session.commit()
    return CellResult(product, month, quantity, row_total, month_total, grand_total)


def add_product(user: User, raw_sku: str | None, today: date) -> Product:
    """Add a product (by SKU) to the draft, with a zero for every month."""
    account_id = _editor(user)
    sku = (raw_sku or "").strip()
    if not sku:
        raise DomainError("Give the product's SKU.", field="sku")
    product = db.session.scalar(select(Product).where(Product.sku_key == sku_key(sku[:64])))
    if product is None:
        raise DomainError(f"There is no product with the SKU “{sku[:64]}”.", field="sku")
    if product.is_discontinued:
        raise DomainError(f"{product.sku} is discontinued; forecast its successor.", field="sku")
    draft = _ensure_draft(user, account_id, today)
    exists = db.session.scalar(
        select(ForecastCell.product_id)
        .where(ForecastCell.version_id == draft.id, ForecastCell.product_id == product.id)
        .limit(1)
    )
    if exists is not None:
        raise DomainError(f"{product.sku} is already in the forecast.", field="sku")
    db.session.execute(
        insert(ForecastCell),
        [
            {
                "version_id": draft.id,
                "product_id": product.id,
                "month": m,
                "account_id": account_id,
                "quantity": 0,
            }  # fmt: skip
            for m in window(account_id, today)
        ],
    )
    _event(account_id, draft.id, user, "product_added", after=product.sku[:30])
    db.session.commit()
    return product


def fill_row(user: User, raw_product_id, today: date) -> Product:
    """Copy a row's first month into every month of the horizon."""
    account_id = _editor(user)
    months = window(account_id, today)
    product, _, _ = _draft_product(account_id, raw_product_id, month_label(months[0]), today)
    draft = _ensure_draft(user, account_id, today)
    first = db.session.scalar(
        select(ForecastCell.quantity).where(
            ForecastCell.version_id == draft.id,
            ForecastCell.product_id == product.id,
            ForecastCell.month == months[0],
        )
    )
    if first is None:
        raise DomainError("Add the product to the forecast first.", field="product_id")
    _replace_rows(draft.id, account_id, {product.id: {m: first for m in months}})
    _event(account_id, draft.id, user, "row_filled", after=str(first), product_id=product.id)
    db.session.commit()
    return product


def _replace_rows(
    version_id: int, account_id: int, rows: dict[int, dict[date, int]], *, fresh: bool = False
) -> None:
    """Write whole rows of a version: delete the products' cells (unless the caller
    knows there are none), insert the new ones."""
    ids = [] if fresh else list(rows)
    for start in range(0, len(ids), CHUNK):
        db.session.execute(
            delete(ForecastCell).where(
                ForecastCell.version_id == version_id,
                ForecastCell.product_id.in_(ids[start : start + CHUNK]),
            )
        )
    values = [
        {
            "version_id": version_id,
            "product_id": pid,
            "month": m,
            "account_id": account_id,
            "quantity": q,
        }  # fmt: skip
        for pid, by_month in rows.items()
        for m, q in by_month.items()
    ]
    if values:
        _insert_cells(values)


CELL_COLUMNS = ("version_id", "product_id", "month", "account_id", "quantity")


def _insert_cells(values: list[dict]) -> None:
    """Insert many cells: COPY on PostgreSQL (48,000 cells in a fraction of what
    executemany takes there), executemany elsewhere; in the session's transaction."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(ForecastCell), values)
        return
    columns = ", ".join(CELL_COLUMNS)
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY forecast_cell ({columns}) FROM STDIN") as copy,
    ):
        for row in values:
            copy.write_row(tuple(row[c] for c in CELL_COLUMNS))


# --- publishing ---------------------------------------------------------------------------------


def _all_cells(version_id: int) -> dict[tuple[int, date], int]:
    return {
        (pid, m): q
        for pid, m, q in db.session.execute(
            select(ForecastCell.product_id, ForecastCell.month, ForecastCell.quantity).where(
                ForecastCell.version_id == version_id
            )
        )
    }


def count_changes(new: dict, old: dict) -> int:
    """Cells whose quantity differs (a cell missing on one side counts as 0)."""
    return sum(1 for key in new.keys() | old.keys() if new.get(key, 0) != old.get(key, 0))


def publish(user: User, comment: str | None, today: date) -> ForecastVersion:
    """Publish the draft as the account's next immutable version, and tell the vendor."""
    account_id = _editor(user)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise DomainError(f"Keep the comment under {MAX_COMMENT:,} characters.", field="comment")
    draft = _draft(account_id)
    if draft is None:
        raise DomainError("Change the forecast before publishing a new version.")
    months = window(account_id, today)
    db.session.execute(
        delete(ForecastCell).where(
            ForecastCell.version_id == draft.id,
            (ForecastCell.month < months[0]) | (ForecastCell.month > months[-1]),
        )
    )
    cells = _all_cells(draft.id)
    if not cells:
        raise DomainError("Add at least one product before publishing.")
    latest = latest_published(account_id)
    changed = count_changes(cells, _all_cells(latest.id) if latest else {})
    number = (latest.number if latest else 0) + 1
    draft.number = number
    draft.first_month, draft.horizon_months = months[0], len(months)
    draft.published_at = utcnow()
    draft.published_by_id = user.id
    draft.comment = comment
    draft.cells_changed = changed
    draft.total_quantity = sum(cells.values())
    _event(account_id, draft.id, user, "published", before="draft", after=f"v{number}",
           cells_changed=changed)  # fmt: skip
    account = db.session.get(CustomerAccount, account_id)
    _notify_vendor(user, account, draft)
    db.session.commit()
    return draft


def _notify_vendor(user: User, account: CustomerAccount, version: ForecastVersion) -> None:
    from portal.notifications import service as notifications

    people = accounts.people_with_role(Role.PLANNER)
    if account.account_manager is not None:
        people.append(account.account_manager)
    notifications.notify(
        people,
        "forecast_published",
        f"{account.name} published forecast version {version.number} "
        f"({version.cells_changed:,} cells changed).",
        f"/forecasts/versions/{version.id}",
        exclude=user,
    )


# --- comparing versions -------------------------------------------------------------------------


@dataclass
class ComparedCell:
    quantity: int
    previous: int | None

    @property
    def change(self) -> str | None:
        if self.previous is None:
            return "up" if self.quantity else None
        if self.quantity > self.previous:
            return "up"
        if self.quantity < self.previous:
            return "down"
        return None


@dataclass
class ComparedRow:
    product: Product
    cells: list[ComparedCell]

    @property
    def total(self) -> int:
        return sum(c.quantity for c in self.cells)

    @property
    def previous_total(self) -> int:
        return sum(c.previous or 0 for c in self.cells)


def compare(version: ForecastVersion, previous: ForecastVersion | None):
    """The version's grid beside the previous one's, cell by cell."""
    months = [add_months(version.first_month, n) for n in range(version.horizon_months)]
    new = _all_cells(version.id)
    old = _all_cells(previous.id) if previous else {}
    product_ids = {pid for pid, _ in new} | {pid for pid, m in old if m in set(months)}
    products = _products(product_ids)
    rows = [
        ComparedRow(
            products[pid],
            [
                ComparedCell(new.get((pid, m), 0), old.get((pid, m)) if previous else None)
                for m in months
            ],
        )
        for pid in product_ids
    ]
    rows.sort(key=lambda row: row.product.sku_key)
    totals = [sum(row.cells[n].quantity for row in rows) for n in range(len(months))]
    return months, rows, totals


# --- templates and uploads ----------------------------------------------------------------------

LAYOUTS = ("wide", "long")


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
    products = _products(_ordered_recently(user.account_id, today) | quantities.keys())
    ordered = sorted(products.values(), key=lambda p: p.sku_key)
    ordered = [p for p in ordered if not p.is_discontinued or p.id in quantities]
    if layout == "wide":
        header = ["SKU", "Product", *(month_label(m) for m in months)]
        rows = [
            [p.sku, p.name, *(quantities.get(p.id, {}).get(m, 0) for m in months)] for p in ordered
        ]
    else:
        header = ["SKU", "Product", "Month", "Quantity"]
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


HEADER_SKU = {"sku", "article", "part number", "item"}
HEADER_NAME = {"product", "name", "product name", "description"}
HEADER_MONTH = {"month"}
HEADER_QUANTITY = {"quantity", "qty", "forecast"}


def _parse_upload(rows: list[tuple[int, list[str]]], months: list[date]):
    """{(sku, month): quantity} with the row each came from, and the errors."""
    errors: list[RowError] = []
    if not rows:
        return "", {}, [RowError(None, "The file is empty.")]
    header_row, header = rows[0]
    names = [h.strip().lower() for h in header]
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

    if "sku" in names and "month" in names and ({"quantity", "qty", "forecast"} & set(names)):
        layout = "long"
        sku_at = names.index("sku")
        month_at = names.index("month")
        qty_at = next(names.index(n) for n in ("quantity", "qty", "forecast") if n in names)
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

    if not names or names[0] not in HEADER_SKU:
        return (
            "",
            {},
            [
                RowError(
                    header_row,
                    "The first row is not a header this portal knows. Use the template: "
                    "SKU, Product, then one column per month (2026-12 …), or SKU, Month, "
                    "Quantity; separated by commas, semicolons or tabs.",
                )
            ],
        )
    layout = "wide"
    first_month_column = 2 if len(names) > 1 and names[1] in HEADER_NAME else 1
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
    account_id = _editor(user)
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
    sku_at = [h.strip().lower() for h in rows[0][1]].index("sku") if layout == "long" else 0
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
    draft = _draft(account_id)
    fresh = draft is None
    source = draft or latest_published(account_id)
    if fresh:
        draft = _ensure_draft(user, account_id, today, replacing=touched)
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
        _ensure_draft(user, account_id, today)  # keeps its months in step with today
    _replace_rows(draft.id, account_id, by_product, fresh=fresh)
    _event(account_id, draft.id, user, "uploaded", after=layout,
           products=len(by_product), cells=len(values))  # fmt: skip
    db.session.commit()
    return UploadResult(layout, len(by_product), len(values))
