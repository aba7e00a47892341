"""The planners' reading of shared forecasts: demand across accounts for a month,
the waterfall of one product's forecast from version to version, and accuracy
(fed from real versions and orders into `accuracy.accuracy`, never recomputed here).

Every function takes the viewer and reads only the accounts the viewer may see:
planners and admins every account, account managers the accounts they manage,
a customer user its own account (accuracy only). Each page is a fixed handful of
statements, whatever the number of rows it shows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext
from sqlalchemy import Select, and_, case, func, literal, or_, select

from portal import days, formatting
from portal.accounts.models import CustomerAccount, User
from portal.catalog.models import Product, Stock, sku_key
from portal.errors import Forbidden, NotFound
from portal.extensions import db

from . import accuracy as measures
from .models import DRAFT_NUMBER, ForecastCell, ForecastVersion
from .months import add_months, first_of_month
from .service import EDITORS, PLANNERS, VENDOR_READERS

PAGE_SIZE = 50
HORIZON = 12  # months shown from this one on: the sparkline and the month chooser
WATERFALL_PAST = 6  # months before this one in the waterfall (with what was ordered)
WATERFALL_AHEAD = 12
ACCURACY_MONTHS = 12


# --- who sees which accounts --------------------------------------------------------------------


def _require_vendor_reader(viewer: User) -> None:
    if not viewer.is_vendor_staff or not viewer.has_role(*VENDOR_READERS):
        raise Forbidden("Demand across accounts is for the vendor's planners and managers.")


def readable_accounts(viewer: User) -> Select:
    """Ids of the accounts whose forecasts a vendor viewer reads, as a subquery."""
    _require_vendor_reader(viewer)
    query = select(CustomerAccount.id)
    if not viewer.has_role(*PLANNERS):
        query = query.where(CustomerAccount.account_manager_id == viewer.id)
    return query


def accounts_for(viewer: User) -> list[CustomerAccount]:
    """The accounts a vendor viewer may choose from, by name."""
    return list(
        db.session.scalars(
            select(CustomerAccount)
            .where(CustomerAccount.id.in_(readable_accounts(viewer)))
            .order_by(CustomerAccount.name)
        )
    )


def account_of(viewer: User, account_id: int | None) -> CustomerAccount:
    """The account a viewer asks about: a customer its own (another id is 404), vendor
    staff one they may read (else 404)."""
    if not viewer.is_vendor_staff:
        if not viewer.has_role(*EDITORS):
            raise Forbidden("Buyers and customer admins see the account's forecast accuracy.")
        if account_id is not None and account_id != viewer.account_id:
            raise NotFound("No such account.")
        account_id = viewer.account_id
    elif account_id is None:
        raise NotFound("No such account.")
    query = select(CustomerAccount).where(CustomerAccount.id == account_id)
    if viewer.is_vendor_staff:
        query = query.where(CustomerAccount.id.in_(readable_accounts(viewer)))
    account = db.session.scalar(query)
    if account is None:
        raise NotFound("No such account.")
    return account


def latest_versions(accounts: Select) -> Select:
    """The id of each account's latest published version, as a subquery (version_id).

    The highest number per account is read from the unique (account_id, number)
    index, one short range per account, then joined back to its id."""
    newest = (
        select(ForecastVersion.account_id, func.max(ForecastVersion.number).label("number"))
        .where(ForecastVersion.number > DRAFT_NUMBER, ForecastVersion.account_id.in_(accounts))
        .group_by(ForecastVersion.account_id)
        .subquery()
    )
    return select(ForecastVersion.id.label("version_id")).join(
        newest,
        and_(
            ForecastVersion.account_id == newest.c.account_id,
            ForecastVersion.number == newest.c.number,
        ),
    )


# --- what was actually ordered ------------------------------------------------------------------


def ordered_lines(account_ids: Select | list[int] | None, since: date, until: date, *,
                  product_id: int | None = None) -> list[measures.Ordered]:  # fmt: skip
    """What accounts actually ordered per product and month, for months in [since, until).

    The rule: every line of an order *placed* in the month counts with the quantity
    ordered, except
    - orders the customer's approver rejected (never meant as demand),
    - lines the customer cancelled before the vendor confirmed them (status
      'cancelled' with nothing counted as cancelled by the desk: the buyer took
      them back, and an order cancelled whole before confirmation is all such lines).
    Lines the vendor declined or cancelled later still count: the customer wanted
    them when it ordered, which is what its forecast was about. The month is the
    account's month of `placed_at` (portal.days: its forecast months are its own, as is
    the day its versions came out): at 31 October 18:00 UTC it is November in Jakarta.
    """
    from portal.ordering.models import Order, OrderLine

    # One statement whatever the zones: the orders placed within [since, until) anywhere,
    # each then held to its account's days below.
    start, end = days.anywhere(since, until)
    query = (
        select(
            Order.account_id,
            CustomerAccount.timezone,
            OrderLine.product_id,
            Order.placed_at,
            OrderLine.quantity,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .join(CustomerAccount, CustomerAccount.id == Order.account_id)
        .where(
            Order.placed_at >= start,
            Order.placed_at < end,
            Order.status != "rejected",
            or_(OrderLine.status != "cancelled", OrderLine.cancelled_quantity > 0),
        )
    )
    if account_ids is not None:
        query = query.where(Order.account_id.in_(account_ids))
    if product_id is not None:
        query = query.where(OrderLine.product_id == product_id)
    totals: dict[tuple[int, int, date], int] = defaultdict(int)
    for account_id, timezone, pid, placed_at, quantity in db.session.execute(query):
        placed_on = days.local_day(placed_at, days.zone_of_account(timezone))
        if since <= placed_on < until:
            totals[(account_id, pid, first_of_month(placed_on))] += quantity
    return [measures.Ordered(a, p, m, q) for (a, p, m), q in totals.items()]


# --- demand across accounts ---------------------------------------------------------------------

SORTS = {
    "sku": "SKU",
    "demand": "Demand",
    "accounts": "Accounts",
    "stock": "Available",
    "lead": "Lead time",
    "cover": "Cover",
}


@dataclass
class DemandRow:
    product: Product
    demand: int
    accounts: int
    available: int
    cover: str  # "stock", "lead time" or "short"
    trend: list[int] = field(default_factory=list)

    @property
    def shortfall(self) -> int:
        return max(0, self.demand - self.available)


@dataclass
class DemandPage:
    month: date
    months: list[date]
    rows: list[DemandRow]
    total_rows: int
    page: int
    pages: int
    total_demand: int


def horizon(today: date) -> list[date]:
    start = first_of_month(today)
    return [add_months(start, n) for n in range(HORIZON)]


def demand(viewer: User, month: date, today: date, *, search: str = "", sort: str = "demand",
           descending: bool = True, only_short: bool = False, page: int = 1,
           page_size: int = PAGE_SIZE) -> DemandPage:  # fmt: skip
    """Per product, for one month: the total forecast of the accounts' latest published
    versions, how many accounts forecast it, available stock, lead time, and whether
    stock or the lead time covers it. Sorted, filtered and paged in the database.

    Cover: "stock" when available stock is at least the demand; otherwise "lead time"
    when an order placed today would arrive (lead time) by the month's first day;
    otherwise "short"."""
    accounts = readable_accounts(viewer)
    latest = latest_versions(accounts).subquery()
    per_product = (
        select(
            ForecastCell.product_id,
            func.sum(ForecastCell.quantity).label("demand"),
            func.count().label("accounts"),
        )
        .where(
            ForecastCell.version_id.in_(select(latest.c.version_id)), ForecastCell.month == month
        )
        .group_by(ForecastCell.product_id)
        .having(func.sum(ForecastCell.quantity) > 0)
        .subquery()
    )
    available = func.coalesce(Stock.on_hand - Stock.reserved, 0)
    days_until = (month - today).days
    cover = case(
        (available >= per_product.c.demand, literal(0)),
        (Product.lead_time_days <= days_until, literal(1)),
        else_=literal(2),
    )
    query = (
        select(Product, per_product.c.demand, per_product.c.accounts, available, cover)
        .join(per_product, per_product.c.product_id == Product.id)
        .outerjoin(Stock, Stock.product_id == Product.id)
    )
    search = search.strip()[:64]
    if search:
        key = sku_key(search)
        pattern = "%" + search.replace("\\", "").replace("%", "").replace("_", "") + "%"
        query = query.where(or_(Product.sku_key.startswith(key), Product.name.ilike(pattern)))
    if only_short:
        query = query.where(cover == 2)
    order = {
        "sku": Product.sku_key,
        "demand": per_product.c.demand,
        "accounts": per_product.c.accounts,
        "stock": available,
        "lead": Product.lead_time_days,
        "cover": cover,
    }.get(sort, per_product.c.demand)
    query = query.order_by(order.desc() if descending else order.asc(), Product.sku_key)
    # The count and the total ride along as window functions: the month's cells are
    # aggregated once per page, not once for the count and again for the rows.
    query = query.add_columns(
        func.count().over().label("total_rows"),
        func.sum(per_product.c.demand).over().label("total_demand"),
    )
    page = max(1, page)
    found = db.session.execute(query.limit(page_size).offset((page - 1) * page_size)).all()
    if not found and page > 1:  # past the last page (a stale link): show the first
        page = 1
        found = db.session.execute(query.limit(page_size)).all()
    total_rows = found[0].total_rows if found else 0
    total_demand = int(found[0].total_demand) if found else 0
    pages = max(1, -(-total_rows // page_size))
    rows = [
        DemandRow(product, int(total), count, int(free), ("stock", "lead time", "short")[flag])
        for product, total, count, free, flag, _, _ in found
    ]
    months = horizon(today)
    if rows:
        trend: dict[tuple[int, date], int] = defaultdict(int)
        for pid, for_month, quantity in db.session.execute(
            select(ForecastCell.product_id, ForecastCell.month, func.sum(ForecastCell.quantity))
            .where(
                ForecastCell.version_id.in_(select(latest.c.version_id)),
                ForecastCell.product_id.in_([row.product.id for row in rows]),
                ForecastCell.month >= months[0],
                ForecastCell.month <= months[-1],
            )
            .group_by(ForecastCell.product_id, ForecastCell.month)
        ):
            trend[(pid, for_month)] = int(quantity)
        for row in rows:
            row.trend = [trend[(row.product.id, m)] for m in months]
    return DemandPage(month, months, rows, total_rows, page, pages, int(total_demand))


# --- the waterfall ------------------------------------------------------------------------------


@dataclass
class WaterfallCell:
    quantity: int | None  # None: the version did not cover this month
    previous: int | None

    @property
    def change(self) -> str | None:
        if self.quantity is None or self.previous is None or self.quantity == self.previous:
            return None
        return "up" if self.quantity > self.previous else "down"


@dataclass
class WaterfallRow:
    label: str
    published_at: datetime
    cells: list[WaterfallCell]
    version_id: int | None = None


@dataclass
class Waterfall:
    product: Product
    account: CustomerAccount | None
    months: list[date]
    rows: list[WaterfallRow]
    ordered: list[int | None]  # per month; None for months not over yet


def waterfall(viewer: User, product_id: int, account_id: int | None, today: date) -> Waterfall:
    """How the forecast of one product for each month changed from version to version.

    One account: a row per published version. All accounts: a row per month in which
    any account published, holding the sum over accounts of each one's latest version
    at the end of that month (an account that had not published yet adds nothing).
    The last row is what was ordered, for months that have passed."""
    readable = readable_accounts(viewer)
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound("No such product.")
    account = account_of(viewer, account_id) if account_id is not None else None
    this_month = first_of_month(today)
    months = [add_months(this_month, n) for n in range(-WATERFALL_PAST, WATERFALL_AHEAD)]
    accounts = select(literal(account.id)) if account else readable
    # Driven from the versions (about 6 per account), each one seek into the cells' key.
    query = (
        select(
            ForecastVersion.id,
            ForecastVersion.account_id,
            ForecastVersion.number,
            ForecastVersion.published_at,
            ForecastCell.month,
            ForecastCell.quantity,
        )
        .join(ForecastCell, ForecastCell.version_id == ForecastVersion.id)
        .where(
            ForecastVersion.number > DRAFT_NUMBER,
            ForecastVersion.account_id.in_(accounts),
            ForecastCell.product_id == product.id,
            ForecastCell.month >= months[0],
            ForecastCell.month <= months[-1],
        )
    )
    versions: dict[int, tuple[int, int, datetime]] = {}
    cells: dict[int, dict[date, int]] = defaultdict(dict)
    for version_id, acc, number, published_at, month, quantity in db.session.execute(query):
        versions[version_id] = (acc, number, published_at)
        cells[version_id][month] = quantity
    rows: list[WaterfallRow] = []
    if account is not None:
        previous: dict[date, int] | None = None
        for version_id in sorted(versions, key=lambda v: versions[v][2]):
            _, number, published_at = versions[version_id]
            now = cells[version_id]
            rows.append(
                WaterfallRow(
                    gettext("Version %(number)s", number=number),
                    published_at,
                    [
                        WaterfallCell(now.get(m), previous.get(m) if previous else None)
                        for m in months
                    ],  # fmt: skip
                    version_id,
                )
            )
            previous = now
    else:
        rows = _summed_rows(versions, cells, months)
    ordered_by_month: dict[date, int] = defaultdict(int)
    for line in ordered_lines(accounts, months[0], this_month, product_id=product.id):
        ordered_by_month[line.month] += line.quantity
    ordered = [ordered_by_month.get(m, 0) if m < this_month else None for m in months]
    return Waterfall(product, account, months, rows, ordered)


def _summed_rows(versions, cells, months) -> list[WaterfallRow]:
    """All accounts: the total as it stood at the end of each month someone published."""
    by_account: dict[int, list[int]] = defaultdict(list)
    for version_id, (acc, _, _) in sorted(versions.items(), key=lambda v: v[1][2]):
        by_account[acc].append(version_id)
    stamps = sorted({first_of_month(v[2].date()) for v in versions.values()})
    rows: list[WaterfallRow] = []
    previous: dict[date, int] | None = None
    for stamp in stamps:
        end = datetime.combine(add_months(stamp, 1), time(), UTC)
        totals: dict[date, int] = {}
        for history in by_account.values():
            current = None
            for version_id in history:
                if versions[version_id][2] < end:
                    current = version_id
            if current is None:
                continue
            for month, quantity in cells[current].items():
                totals[month] = totals.get(month, 0) + quantity
        rows.append(
            WaterfallRow(
                # Written when the page is built, in its reader's language.
                gettext("End of %(month)s", month=formatting.day(stamp, "%b %Y")),
                end - timedelta(seconds=1),
                [
                    WaterfallCell(totals.get(m), previous.get(m) if previous else None)
                    for m in months
                ],  # fmt: skip
            )
        )
        previous = totals
    return rows


# --- accuracy -----------------------------------------------------------------------------------


@dataclass
class AccuracyReport:
    account: CustomerAccount
    months: list[date]
    figures: measures.Accuracy
    products: dict[int, Product]

    def product_ids(self, lag: int = 1) -> list[int]:
        """Products by the absolute error they caused, largest first."""
        return sorted(
            {pid for pid, _ in self.figures.by_product},
            key=lambda pid: (
                -self.figures.by_product.get((pid, lag), measures.Figures()).absolute_error,
                self.products[pid].sku_key if pid in self.products else "",
            ),
        )


def past_months(today: date, count: int = ACCURACY_MONTHS) -> list[date]:
    """The last `count` months that have ended, oldest first."""
    this_month = first_of_month(today)
    return [add_months(this_month, -n) for n in range(count, 0, -1)]


def account_accuracy(viewer: User, account_id: int | None, today: date | None) -> AccuracyReport:
    """WAPE and bias 1 and 3 months ahead for one account over the last 12 months,
    overall, per product and per month, from `accuracy.accuracy`. `today` None: the
    account's own day, as its forecast months are its own (portal.days).

    Only the versions that some month and lag reads (the latest before each cutoff)
    are loaded, and of them only the cells of the months measured."""
    account = account_of(viewer, account_id)
    where = days.account_zone(account)  # its months, and the days its versions came out
    months = past_months(today or days.day_in(where))
    stamps = list(
        db.session.execute(
            select(ForecastVersion.id, ForecastVersion.published_at)
            .where(
                ForecastVersion.account_id == account.id,
                ForecastVersion.number > DRAFT_NUMBER,
            )
            .order_by(ForecastVersion.published_at)
        )
    )
    wanted: set[int] = measures.versions_read(stamps, months, where=where)
    quantities: dict[int, dict[tuple[int, date], int]] = {vid: {} for vid in wanted}
    if wanted:
        for version_id, pid, month, quantity in db.session.execute(
            select(
                ForecastCell.version_id,
                ForecastCell.product_id,
                ForecastCell.month,
                ForecastCell.quantity,
            ).where(
                ForecastCell.version_id.in_(sorted(wanted)),
                ForecastCell.month >= months[0],
                ForecastCell.month <= months[-1],
            )
        ):
            quantities[version_id][(pid, month)] = quantity
    versions = [
        measures.Version(account.id, at, quantities[vid], where)
        for vid, at in stamps
        if vid in wanted
    ]
    ordered = ordered_lines([account.id], months[0], add_months(months[-1], 1))
    figures = measures.accuracy(versions, ordered, months=months)
    ids = sorted({pid for pid, _ in figures.by_product})
    products = {}
    if ids:
        products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids)))}
    return AccuracyReport(account, months, figures, products)
