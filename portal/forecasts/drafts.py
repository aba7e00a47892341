"""The customer's draft forecast: the grid of products × the horizon's months,
one cell at a time, a product added, a row filled.

A draft is started on the first change, pre-filled from the latest published
version in one INSERT … SELECT. Cells are written in bulk (executemany, COPY on
PostgreSQL), never as one ORM object per cell.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from operator import itemgetter
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import (
    CompoundSelect,
    Date,
    Integer,
    Row,
    Select,
    String,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.catalog.models import Product, sku_key
from portal.errors import DomainError
from portal.extensions import db
from portal.params import optional_database_int

from .models import DRAFT_NUMBER, ForecastCell, ForecastVersion
from .months import month_label, parse_month
from .service import (
    CHUNK,
    draft_of,
    editor,
    holds_product,
    latest_published,
    parse_quantity,
    record_event,
    window,
    window_draft_and_published,
)


def ensure_draft(
    user: User, account_id: int, today: date, *, replacing: set[int] | frozenset = frozenset()
) -> ForecastVersion:
    """The account's draft; a new one starts as a copy of the latest published version
    (but for the products in `replacing`, whose rows the caller writes anew)."""
    months = window(account_id, today)
    draft = draft_of(account_id)
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
            draft = draft_of(account_id)
            if draft is None:
                raise
            return draft
        latest = latest_published(account_id)
        if latest is not None:
            _copy_cells(latest.id, draft.id, months, replacing)
        record_event(
            account_id,
            draft.id,
            user,
            "draft_started",
            after="draft",
            based_on=latest.number if latest else None,
        )
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


# --- the grid ------------------------------------------------------------------------------------


# Rows sent at once: the first screen, and each batch loaded as the person scrolls
# or moves down by keyboard. 2,000 products × 24 months in one page was 1 s and
# several MB of HTML; 25 rows fill an 800-pixel window below the page's head and
# its form (the next batch is asked for as soon as its row comes into view), about
# 165 KB at 24 months.
BATCH = 25


class GridProduct(NamedTuple):
    """A product as the grid shows it (not an ORM object: loading 25 Products cost
    more than their SQL)."""

    id: int
    sku: str
    name: str
    is_discontinued: bool
    sku_key: str


@dataclass
class GridRow:
    product: GridProduct
    quantities: dict[date, int]

    def total(self) -> int:
        return sum(self.quantities.values())


@dataclass
class Grid:
    """What the customer's page shows: the draft, or the latest version until a draft
    starts. `rows` is one batch (the products after `after`, by SKU); the totals and
    `products` count the whole grid, whatever the batch."""

    months: list[date]
    rows: list[GridRow]
    # The draft and the latest published version (id, number, …), or None.
    draft: Row | None
    latest: Row | None
    month_totals: dict[date, int] = field(default_factory=dict)
    products: int = 0
    after: str | None = None
    next_after: str | None = None  # the key to load the next batch from; None at the end
    # The newest published versions, newest first, as many as asked for (the page
    # lists them; read with the draft and latest).
    published: list[Row] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.month_totals.values())

    @property
    def labels(self) -> list[str]:
        return [month_label(m) for m in self.months]

    @property
    def month_names(self) -> list[str]:
        """The months as the cells' labels name them ("Dec 2026"), once per grid."""
        from portal.formatting import day  # in the reader's locale

        return [day(m, "%b %Y") for m in self.months]


def grid(
    user: User,
    today: date,
    *,
    after: str | None = None,
    limit: int = BATCH,
    only: int | None = None,
    totals: bool = True,
    published: int = 1,
) -> Grid:
    """The customer's forecast grid: products (by SKU) × the horizon's months, `limit`
    rows from the product after the SKU key `after` (keyset: a row is never sent
    twice nor skipped when rows are added meanwhile, and no OFFSET to count through),
    or the row of the product `only`. With `totals`, the month totals and the count of
    products of the whole grid (a batch loaded below the first screen needs neither:
    summing 48,000 cells was most of its cost). A fixed number of statements, whatever
    the size of the grid or the batch. `published`: how many of the newest published
    versions to read with the latest (`Grid.published`)."""
    account_id = editor(user)
    months, draft, newest = window_draft_and_published(account_id, today, published)
    latest = newest[0] if newest else None
    source = draft or latest
    if source is None:
        return Grid(months, [], draft, latest, {m: 0 for m in months}, after=after)
    values = {"version_id": source.id, "first": months[0], "last": months[-1]}
    # One statement (each cost ~60 µs of the page's CPU beside its SQL), on the
    # session's connection: rows of plain values, not ORM objects (loading the
    # products cost more than their SQL). Every change to a draft is committed before
    # a grid is read. Its rows, in no order (sorting them all cost more than the rest
    # of the SQL): each product of the batch (one more, to know whether a batch
    # follows) with its place in the batch, their cells in the window and (with
    # `totals`) the sums of the months and the count of products of the whole grid.
    statement = _grid_statement(after is not None, only is not None, totals)
    params = {**values, "after": after, "only": only, "limit": limit + 1}
    # A month as the database gives it (SQLite: its text, which the Date type parsed
    # with a regular expression once per cell): the window's months by either form.
    month_of: dict[date | str, date] = {m: m for m in months}
    month_of.update({m.isoformat(): m for m in months})
    placed: list[tuple[int, GridProduct]] = []
    by_product: dict[int, dict[date, int]] = defaultdict(dict)
    month_totals, count = {m: 0 for m in months}, 0
    # Fetched at once (iterating the result fetched row by row: three calls a row).
    result = db.session.connection().execute(statement, params).all()
    for kind, pid, sku, name, discontinued, key, month, quantity in result:
        if kind == _CELL:
            by_product[pid][month_of[month]] = quantity
        elif kind == _PRODUCT:
            # `quantity` holds the product's place in the batch (by SKU key).
            placed.append((quantity, GridProduct(pid, sku, name, bool(discontinued), key)))
        elif kind == _MONTH_SUM:
            month_totals[month_of[month]] = int(quantity or 0)
        else:
            count = quantity
    placed.sort(key=itemgetter(0))
    products = [product for _place, product in placed]
    more = len(products) > limit
    products = products[:limit]
    rows = [GridRow(p, {m: by_product[p.id].get(m, 0) for m in months}) for p in products]
    next_after = products[-1].sku_key if more else None
    if not totals:
        return Grid(months, rows, draft, latest, {}, 0, after, next_after, newest)
    return Grid(months, rows, draft, latest, month_totals, count, after, next_after, newest)


# The grid's statements, built once per process (each view of the draft ran five of
# them built anew); the version, the window's months and the batch are bound per call.


def _in_window():
    return (
        ForecastCell.month >= bindparam("first", type_=Date),
        ForecastCell.month <= bindparam("last", type_=Date),
    )


def _month_as_stored():
    """The cell's month as the driver gives it: a date (psycopg), its ISO text (SQLite)."""
    return type_coerce(ForecastCell.month, String)


@cache
def _products_statement(after: bool, only: bool) -> Select:
    query = (
        select(
            Product.id,
            Product.sku,
            Product.name,
            (Product.status == "discontinued").label("is_discontinued"),
            Product.sku_key,
            # Its place in the batch: the grid's rows come back in no order.
            func.row_number().over(order_by=Product.sku_key).label("place"),
        )
        .where(holds_product(bindparam("version_id", type_=Integer)))
        .order_by(Product.sku_key)
    )
    if after:
        query = query.where(Product.sku_key > bindparam("after", type_=String))
    if only:
        query = query.where(Product.id == bindparam("only", type_=Integer))
    return query.limit(bindparam("limit", type_=Integer))


_PRODUCT, _CELL, _MONTH_SUM, _COUNT = 0, 1, 2, 3


@cache
def _grid_statement(after: bool, only: bool, totals: bool) -> CompoundSelect:
    """The grid's batch of products with their places in it, their cells in the window
    (a product without any still has its row) and with `totals` the months' sums and
    the count of products of the whole grid, as rows of (kind, id, sku, name,
    discontinued, SKU key, month, quantity or place or count)."""
    batch = _products_statement(after, only).cte("batch")
    version_id = bindparam("version_id", type_=Integer)
    nothing = [null()] * 4
    products = select(
        literal_column(str(_PRODUCT)).label("kind"),
        batch.c.id,
        batch.c.sku,
        batch.c.name,
        batch.c.is_discontinued,
        batch.c.sku_key,
        null().label("month"),
        batch.c.place,
    )
    cells = (
        select(
            literal_column(str(_CELL)),
            ForecastCell.product_id,
            *nothing,
            _month_as_stored(),
            ForecastCell.quantity,
        )
        .join_from(batch, ForecastCell, ForecastCell.product_id == batch.c.id)
        .where(ForecastCell.version_id == version_id, *_in_window())
    )
    if not totals:
        return union_all(products, cells)
    # The totals of the whole grid, not of the rows sent: summed by the database.
    sums = (
        select(
            literal_column(str(_MONTH_SUM)),
            null(),
            *nothing,
            _month_as_stored(),
            func.sum(ForecastCell.quantity),
        )
        .where(ForecastCell.version_id == version_id, *_in_window())
        .group_by(ForecastCell.month)
    )
    # Counted as the products walk in the grid (a probe of the cells' key per product):
    # on PostgreSQL half the time of hashing the version's 48,000 cells' product ids.
    counted = (
        select(func.count()).select_from(Product).where(holds_product(version_id))
    ).scalar_subquery()
    if not after and not only:
        # A first batch that holds every product (no more after it) has counted them:
        # the walk through all the products again (~80 µs of SQLite's time for the
        # demo's 300) is for a grid longer than a batch. CASE evaluates only the
        # branch it takes, on SQLite and PostgreSQL alike.
        in_batch = select(func.count()).select_from(batch).scalar_subquery()
        counted = case((in_batch < bindparam("limit", type_=Integer), in_batch), else_=counted)
    count = select(literal_column(str(_COUNT)), null(), *nothing, null(), counted)
    return union_all(products, cells, sums, count)


# --- changing cells ------------------------------------------------------------------------------


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
        raise DomainError(_("That month is not in the forecast horizon."), field="month")
    product_id = optional_database_int(str(raw_product_id or ""))
    product = db.session.get(Product, product_id) if product_id else None
    if product is None:
        raise DomainError(_("Add the product to the forecast first."), field="product_id")
    return product, month, months


def check_cell(user: User, raw_product_id, raw_month, today: date):
    """The product and month a cell form names (for showing an error beside it)."""
    return _draft_product(editor(user), raw_product_id, raw_month, today)[:2]


def save_cell(user: User, raw_product_id, raw_month, raw_quantity, today: date) -> CellResult:
    """Set one cell of the draft (starting the draft if there is none)."""
    account_id = editor(user)
    product, month, months = _draft_product(account_id, raw_product_id, raw_month, today)
    quantity = parse_quantity(raw_quantity)
    draft = ensure_draft(user, account_id, today)
    in_draft = db.session.scalar(
        select(ForecastCell.quantity)
        .where(ForecastCell.version_id == draft.id, ForecastCell.product_id == product.id)
        .limit(1)
    )
    if in_draft is None:
        raise DomainError(_("Add the product to the forecast first."), field="product_id")
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
        record_event(
            account_id,
            draft.id,
            user,
            "cell",
            before=str(before or 0),
            after=str(quantity),
            product_id=product.id,
            month=month_label(month),
        )
    row_total, month_total, grand_total = _totals(draft.id, product.id, month, months)
    db.session.commit()
    return CellResult(product, month, quantity, row_total, month_total, grand_total)


def add_product(user: User, raw_sku: str | None, today: date) -> Product:
    """Add a product (by SKU) to the draft, with a zero for every month."""
    account_id = editor(user)
    sku = (raw_sku or "").strip()
    if not sku:
        raise DomainError(_("Give the product's SKU."), field="sku")
    product = db.session.scalar(select(Product).where(Product.sku_key == sku_key(sku[:64])))
    if product is None:
        raise DomainError(
            _("There is no product with the SKU “%(sku)s”.", sku=sku[:64]), field="sku"
        )
    if product.is_discontinued:
        raise DomainError(
            _("%(sku)s is discontinued; forecast its successor.", sku=product.sku), field="sku"
        )
    draft = ensure_draft(user, account_id, today)
    exists = db.session.scalar(
        select(ForecastCell.product_id)
        .where(ForecastCell.version_id == draft.id, ForecastCell.product_id == product.id)
        .limit(1)
    )
    if exists is not None:
        raise DomainError(_("%(sku)s is already in the forecast.", sku=product.sku), field="sku")
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
    record_event(account_id, draft.id, user, "product_added", after=product.sku[:30])
    db.session.commit()
    return product


def fill_row(user: User, raw_product_id, today: date) -> Product:
    """Copy a row's first month into every month of the horizon."""
    account_id = editor(user)
    months = window(account_id, today)
    product, _cell, _month = _draft_product(
        account_id, raw_product_id, month_label(months[0]), today
    )
    draft = ensure_draft(user, account_id, today)
    first = db.session.scalar(
        select(ForecastCell.quantity).where(
            ForecastCell.version_id == draft.id,
            ForecastCell.product_id == product.id,
            ForecastCell.month == months[0],
        )
    )
    if first is None:
        raise DomainError(_("Add the product to the forecast first."), field="product_id")
    replace_rows(draft.id, account_id, {product.id: {m: first for m in months}})
    record_event(account_id, draft.id, user, "row_filled", after=str(first), product_id=product.id)
    db.session.commit()
    return product


def replace_rows(
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
