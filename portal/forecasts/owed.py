"""What the planners owe on forecasts, for pages that gather promises in one place:
versions not answered yet, exceptions not yet answered, and products short of their
forecast demand. One statement each, for any number of accounts.

The statements are built once per process with the accounts, the threshold and the
months bound per call (the planner's home runs all three on every view): building
them and their cache keys cost SQLAlchemy several times what SQLite spends running
them on the demo's data. Nothing read from the database is kept between calls."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from flask import current_app
from sqlalchemy import (
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    exists,
    extract,
    func,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from portal.accounts.models import CustomerAccount
from portal.catalog.models import Product, Stock
from portal.extensions import db

from .models import (
    ForecastCell,
    ForecastCommit,
    ForecastCommitInForce,
    ForecastSettings,
    ForecastVersion,
)
from .planning import horizon, latest_versions
from .service import VENDOR_READERS

# Who may read an account's forecast versions.
READERS = VENDOR_READERS


@dataclass(frozen=True)
class UnansweredVersion:
    account_id: int
    version_id: int
    number: int
    published_at: datetime | None


def _accounts(scoped: bool) -> Select:
    """Every account's id, or (`scoped`) those bound as `account_ids` per call."""
    accounts = select(CustomerAccount.id)
    if scoped:
        accounts = accounts.where(CustomerAccount.id.in_(bindparam("account_ids", expanding=True)))
    return accounts


def _bound(account_ids: Iterable[int] | None) -> tuple[bool, dict]:
    """Which statement to use (scoped or not) and its account values."""
    if account_ids is None:
        return False, {}
    return True, {"account_ids": list(account_ids)}


def unanswered_versions(account_ids: Iterable[int] | None) -> list[UnansweredVersion]:
    """Each account's latest published version when the planners have committed nothing
    against it yet (an older version is answered by answering the latest); `account_ids`
    None: every account's (the planners' home page)."""
    scoped, values = _bound(account_ids)
    # Core, not the ORM session: rows of plain values (the ORM path cost ~60 µs a
    # statement of the planners' home, which runs five of these).
    rows = db.session.connection().execute(_unanswered_statement(scoped), values)
    return [UnansweredVersion(*row) for row in rows]


@cache
def _unanswered_statement(scoped: bool) -> Select:
    accounts = _accounts(scoped)
    return (
        select(
            ForecastVersion.account_id,
            ForecastVersion.id,
            ForecastVersion.number,
            ForecastVersion.published_at,
        )
        .where(
            ForecastVersion.id.in_(latest_versions(accounts)),
            ~exists().where(ForecastCommit.version_id == ForecastVersion.id),
        )
        .order_by(ForecastVersion.published_at)
    )


@dataclass(frozen=True)
class OpenExceptions:
    """An account's latest version with exception flags (commits.py's rule: a change
    from the version before above the account's threshold, or a product new in it)
    whose cells the planners have not answered: no commitment in force answers the
    cell's figure of this version."""

    account_id: int
    version_id: int
    number: int
    published_at: datetime | None
    cells: int  # flagged cells not answered
    new_products: int  # new products with a cell not answered
    first_month: date | None  # the nearest month with one of them (None: all zero)


def _month_index(column):
    """Months counted from year 0: a month's place without dialect date arithmetic."""
    return extract("year", column) * 12 + extract("month", column)


def open_exceptions(account_ids: Iterable[int] | None) -> list[OpenExceptions]:
    """Each account's latest published version with exceptions not yet answered (see
    OpenExceptions), oldest published first; `account_ids` None: every account's.
    One statement: the latest versions' cells, each looked up by key in the version
    before and in the commitments in force."""
    scoped, values = _bound(account_ids)
    values["default_threshold"] = int(current_app.config["FORECAST_EXCEPTION_THRESHOLD_PERCENT"])
    rows = db.session.connection().execute(_open_exceptions_statement(scoped), values)
    return [OpenExceptions(*row) for row in rows]


@cache
def _open_exceptions_statement(scoped: bool) -> Select:
    latest, before = aliased(ForecastVersion), aliased(ForecastVersion)
    cell, old = aliased(ForecastCell), aliased(ForecastCell)
    threshold = func.coalesce(
        ForecastSettings.exception_threshold_percent,
        bindparam("default_threshold", type_=Integer),
    )
    in_before = exists().where(
        ForecastCell.version_id == before.id, ForecastCell.product_id == cell.product_id
    )
    start = _month_index(before.first_month)
    compared = _month_index(cell.month).between(start, start + before.horizon_months - 1)
    unanswered = or_(
        ForecastCommitInForce.commit_id.is_(None),
        ForecastCommitInForce.forecast_quantity != cell.quantity,
    )
    # The latest versions' unanswered cells with what the rule needs of each, worked
    # out once per cell: written into the aggregates below, the product's probe in the
    # version before and the months' arithmetic ran five times a cell (SQLite does
    # not share them). MATERIALIZED keeps SQLite from folding it back in (3x faster
    # on the demo's 700 cells); PostgreSQL reads it the same way.
    cells = (
        select(
            latest.account_id,
            latest.id,
            latest.number,
            latest.published_at,
            cell.product_id,
            cell.month,
            cell.quantity,
            func.coalesce(old.quantity, 0).label("was"),
            in_before.label("in_before"),
            compared.label("compared"),
            threshold.label("threshold"),
        )
        .join(cell, cell.version_id == latest.id)
        # The commitment in force first: a cell it answers is left there, before the
        # lookups in the version before (SQLite keeps outer joins in the order written;
        # on the demo, where planners answered every cell, 0.51 -> 0.28 ms).
        .outerjoin(
            ForecastCommitInForce,
            and_(
                ForecastCommitInForce.account_id == latest.account_id,
                ForecastCommitInForce.product_id == cell.product_id,
                ForecastCommitInForce.month == cell.month,
            ),
        )
        .join(
            before,
            and_(before.account_id == latest.account_id, before.number == latest.number - 1),
        )
        .outerjoin(
            old,
            and_(
                old.version_id == before.id,
                old.product_id == cell.product_id,
                old.month == cell.month,
            ),
        )
        .outerjoin(ForecastSettings, ForecastSettings.account_id == latest.account_id)
        .where(latest.id.in_(latest_versions(_accounts(scoped))), unanswered)
        .cte("exception_cells")
        .prefix_with("MATERIALIZED")
    )
    c = cells.c
    changed = and_(
        c.in_before,
        c.compared,
        func.abs(c.quantity - c.was) * 100 > c.threshold * case((c.was > 1, c.was), else_=1),
    )
    new = ~c.in_before
    return (
        select(
            c.account_id,
            c.id,
            c.number,
            c.published_at,
            func.sum(case((changed, 1), else_=0)),
            func.count(case((new, c.product_id)).distinct()),
            # A new product's row is flagged whole: its nearest month with demand.
            func.min(case((or_(changed, c.quantity > 0), c.month))),
        )
        .where(or_(changed, new))
        .group_by(c.account_id, c.id, c.number, c.published_at)
        .order_by(c.published_at)
    )


@dataclass(frozen=True)
class Shortage:
    """A product whose forecast demand (the accounts' latest versions together) neither
    stock nor its lead time covers in some month ahead (planning.demand's "short")."""

    product_id: int
    sku: str
    name: str
    month: date  # the nearest month it is short
    demand: int  # in that month
    available: int
    months_short: int  # of the months ahead


def shortages(account_ids: Iterable[int] | None, today: date) -> list[Shortage]:
    """Products short in the months ahead (planning's horizon, this month included),
    nearest month first, each once with its nearest short month. One statement."""
    scoped, values = _bound(account_ids)
    months = horizon(today)
    for number, month in enumerate(months):
        values[f"month_{number}"] = month
        # Days from today to each month's first day, as planning.demand counts them.
        values[f"days_{number}"] = (month - today).days
    rows = db.session.connection().execute(_shortages_statement(scoped, len(months)), values)
    return [Shortage(pid, sku, name, month, int(demand), int(free), int(count))
            for pid, sku, name, month, demand, free, count in rows]  # fmt: skip


@cache
def _shortages_statement(scoped: bool, months: int) -> Select:
    month = [bindparam(f"month_{number}", type_=Date) for number in range(months)]

    def days_until(cell_month):
        return case(
            *(
                (cell_month == month[number], bindparam(f"days_{number}", type_=Integer))
                for number in range(months)
            ),
            else_=0,
        )

    # A month is short only if the product's lead time does not reach it: a condition
    # on the product and the month alone, so it holds for each cell as for their sum.
    # Asked of the cells before they are summed, it leaves the months within the
    # lead times (the demo's: 461 cells to 55 sums; the GROUP BY was most of the page's
    # SQL time on SQLite).
    per_month = (
        select(
            ForecastCell.product_id,
            ForecastCell.month,
            func.sum(ForecastCell.quantity).label("demand"),
        )
        .join(Product, Product.id == ForecastCell.product_id)
        .where(
            ForecastCell.version_id.in_(latest_versions(_accounts(scoped))),
            ForecastCell.month >= month[0],
            ForecastCell.month <= month[-1],
            Product.lead_time_days > days_until(ForecastCell.month),
        )
        .group_by(ForecastCell.product_id, ForecastCell.month)
        .subquery()
    )
    available = func.coalesce(Stock.on_hand - Stock.reserved, 0)
    short = (
        select(
            Product.id,
            Product.sku,
            Product.name,
            per_month.c.month,
            per_month.c.demand,
            available.label("available"),
            func.row_number()
            .over(partition_by=Product.id, order_by=per_month.c.month)
            .label("nearest"),
            func.count().over(partition_by=Product.id).label("months_short"),
        )
        .join(per_month, per_month.c.product_id == Product.id)
        .outerjoin(Stock, Stock.product_id == Product.id)
        .where(
            per_month.c.demand > 0,
            available < per_month.c.demand,
        )
        .subquery()
    )
    return (
        select(
            short.c.id,
            short.c.sku,
            short.c.name,
            short.c.month,
            short.c.demand,
            short.c.available,
            short.c.months_short,
        )
        .where(short.c.nearest == 1)
        .order_by(short.c.month, short.c.sku)
    )
