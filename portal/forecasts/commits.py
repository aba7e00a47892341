"""The vendor's answer to a published forecast: commitments per product and month,
mismatches against the latest version, and exception flags between the latest
version and the one before.

Commitments are immutable rows (ForecastCommit): the newest per (account, product,
month) is in force, the older ones are the history. A commit action writes a row
only where something changed (quantity, reason or the forecast it answers), so
committing the same grid twice adds nothing, and records one ForecastEvent for the
action as a whole.

Definitions:

- a *mismatch* is a cell whose commitment in force is below the latest version's
  forecast ("below"), or whose forecast changed since it was committed
  ("forecast changed": the commitment answered another figure). A cell of the
  latest version without a commitment is "not committed", not a mismatch.
- an *exception* is a cell of the latest version whose change from the version
  before is above the account's threshold: |new − old| / max(old, 1) > threshold.
  Products new in the latest version are flagged as a whole. Months the version
  before did not cover are not compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import and_, case, delete, func, insert, literal, not_, null, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import Join

from portal.accounts import service as accounts
from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.catalog.models import Product
from portal.errors import DomainError, Forbidden
from portal.extensions import begin_writing, db, utcnow
from portal.formatting import number as format_number
from portal.security import scoped

from . import service, versions
from .models import (
    MAX_THRESHOLD_PERCENT,
    ForecastCell,
    ForecastCommit,
    ForecastCommitInForce,
    ForecastCommitSummary,
    ForecastSettings,
    ForecastVersion,
)
from .months import add_months, parse_month

COMMITTERS = (Role.PLANNER, Role.ADMIN)
THRESHOLD_EDITORS = (Role.PLANNER, Role.ADMIN)
CUSTOMER_READERS = service.EDITORS
# Why a commitment is below the forecast; the order is the order of the select.
REASONS = {
    "capacity": _l("Capacity"),
    "material": _l("Material"),
    "lead_time": _l("Lead time"),
    "other": _l("Other"),
}
MAX_REASON_TEXT = 300

Cell = tuple[int, date]


# --- who may do what ----------------------------------------------------------------------------


def readable_account(viewer: User, account_id: int) -> CustomerAccount:
    """The account whose commitments the viewer may read: planners and admins every
    account, account managers theirs, the account's buyers and customer admins their own.
    Another customer's account is NotFound, as if it did not exist."""
    if not viewer.is_vendor_staff and not viewer.has_role(*CUSTOMER_READERS):
        raise Forbidden("Buyers and customer admins see the vendor's commitments.")
    return service.account_for(viewer, account_id)


def _committer(user: User, account_id: int) -> CustomerAccount:
    if not user.is_vendor_staff or not user.has_role(*COMMITTERS):
        raise Forbidden("Planners and admins commit quantities.")
    return service.account_for(user, account_id)


# --- the threshold ------------------------------------------------------------------------------


def default_threshold() -> int:
    return int(current_app.config["FORECAST_EXCEPTION_THRESHOLD_PERCENT"])


def agreed_threshold(account_id: int) -> int | None:
    """The threshold agreed with the account, or None where the default applies."""
    return db.session.scalar(
        select(ForecastSettings.exception_threshold_percent).where(
            ForecastSettings.account_id == account_id
        )
    )


def threshold_of(account_id: int) -> int:
    """The account's agreed exception threshold in percent, or the portal's default."""
    own = agreed_threshold(account_id)
    return own if own is not None else default_threshold()


def set_threshold(user: User, account_id: int, raw: str | None) -> int:
    """Agree on an account's exception threshold (a whole percentage, 1 to 1,000);
    blank returns the account to the portal's default."""
    if not user.is_vendor_staff or not user.has_role(*THRESHOLD_EDITORS):
        raise Forbidden("Planners and admins set the exception threshold.")
    service.account_for(user, account_id)
    text = (raw or "").strip().removesuffix("%").strip()
    if text == "":
        value = None
    elif text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_THRESHOLD_PERCENT:
        value = int(text)
    else:
        raise DomainError(
            _(
                "Give the threshold as a whole percentage from 1 to %(max)s, "
                "or leave it blank for the default.",
                max=format_number(MAX_THRESHOLD_PERCENT),
            ),
            field="threshold",
        )
    settings = db.session.get(ForecastSettings, account_id)
    if settings is None:
        settings = ForecastSettings(
            account_id=account_id, horizon_months=service.horizon_of(account_id)
        )
        db.session.add(settings)
    before = settings.exception_threshold_percent
    settings.exception_threshold_percent = value
    settings.updated_by_id = user.id
    settings.updated_at = utcnow()
    service.record_event(account_id, None, user, "threshold",
                         before=None if before is None else str(before),
                         after=None if value is None else str(value))  # fmt: skip
    db.session.commit()
    return value if value is not None else default_threshold()


# --- exceptions (pure) --------------------------------------------------------------------------


def exception_flags(
    new: Mapping[Cell, int],
    old: Mapping[Cell, int],
    threshold_percent: int,
    *,
    old_months: Iterable[date],
) -> tuple[set[Cell], set[int]]:
    """The cells of `new` that changed from `old` by more than the threshold, and the
    products `new` holds that `old` did not. A cell missing from `old` (in a month it
    covered, of a product it held) counts as 0; months outside `old_months` are not
    compared. Integer arithmetic: |new − old| × 100 > threshold × max(old, 1)."""
    old_products = {pid for pid, _ in old}
    new_products = {pid for pid, _ in new} - old_products
    compared = set(old_months)
    flagged: set[Cell] = set()
    for (pid, month), quantity in new.items():
        if pid in new_products or month not in compared:
            continue
        before = old.get((pid, month), 0)
        if abs(quantity - before) * 100 > threshold_percent * max(before, 1):
            flagged.add((pid, month))
    return flagged, new_products


# --- reading ------------------------------------------------------------------------------------


def _months(version: ForecastVersion) -> list[date]:
    return [add_months(version.first_month, n) for n in range(version.horizon_months)]


def _in_force_rows(viewer: User, account_id: int, months: list[date], product_ids=None, *columns):
    """A select of the commitments in force (one row per cell) for the account's months
    (of `product_ids` only, when given)."""
    query = scoped(
        select(*columns).select_from(ForecastCommitInForce), ForecastCommitInForce, viewer
    ).where(
        ForecastCommitInForce.account_id == account_id,
        ForecastCommitInForce.month >= months[0],
        ForecastCommitInForce.month <= months[-1],
    )
    if product_ids is not None:
        query = query.where(ForecastCommitInForce.product_id.in_(product_ids))
    return query


class InForce(NamedTuple):
    """A commitment in force, as the grid reads it: plain values, not an ORM row (a
    batch of the grid has 720 of them and shows no more than these)."""

    quantity: int
    forecast_quantity: int
    reason: str | None
    reason_text: str


def current_commits(
    viewer: User, account_id: int, months: list[date], product_ids: list[int] | None = None
) -> dict[Cell, InForce]:
    """The commitments in force for the account's months (of `product_ids` only, when
    given): the newest row per cell."""
    if not months:
        return {}
    rows = db.session.execute(
        _in_force_rows(
            viewer,
            account_id,
            months,
            product_ids,
            ForecastCommitInForce.product_id,
            ForecastCommitInForce.month,
            ForecastCommitInForce.quantity,
            ForecastCommitInForce.forecast_quantity,
            ForecastCommit.reason,
            ForecastCommit.reason_text,
        ).join(ForecastCommit, ForecastCommit.id == ForecastCommitInForce.commit_id)
    )
    return {(pid, month): InForce(*rest) for pid, month, *rest in rows}


@dataclass
class BoardCell:
    month: date
    forecast: int
    previous: int | None  # the version before's figure, None when not compared
    exception: bool
    commit: InForce | ForecastCommit | None  # the mismatch list's cells carry the whole row

    @cached_property
    def status(self) -> str:
        """not_committed, below, forecast_changed or ok."""
        if self.commit is None:
            return "not_committed"
        if self.commit.quantity < self.forecast:
            return "below"
        if self.commit.forecast_quantity != self.forecast:
            return "forecast_changed"
        return "ok"

    @property
    def is_mismatch(self) -> bool:
        return self.status in ("below", "forecast_changed")

    @property
    def prefill(self) -> int:
        """What the planner's grid shows: the commitment in force, else the forecast."""
        return self.commit.quantity if self.commit is not None else self.forecast


@dataclass
class BoardRow:
    product: Product
    cells: list[BoardCell]
    is_new: bool  # not in the version before

    @property
    def reason(self) -> str | None:
        """The reason of the row's first commitment below forecast (pre-fills the select)."""
        return next((c.commit.reason for c in self.cells if c.status == "below"), None)

    @property
    def reason_text(self) -> str:
        return next((c.commit.reason_text for c in self.cells if c.status == "below"), "")

    @property
    def exceptions(self) -> int:
        return sum(c.exception for c in self.cells)

    @property
    def mismatches(self) -> int:
        return sum(c.is_mismatch for c in self.cells)


# Rows sent at once: the first screen, then each batch as the planner scrolls or moves
# down (2,000 products × 24 months in one page was 3 s and several MB; 25 rows, two
# lines each, are more than a screenful and about 205 KB at 24 months).
BATCH = 25
# Mismatches listed under the grid unless all are asked for.
MISMATCH_LIMIT = 50


@dataclass
class Summary:
    """Counts over the whole grid, whatever batch of rows is shown."""

    products: int = 0
    below: int = 0
    forecast_changed: int = 0
    not_committed: int = 0
    exceptions: int = 0
    new_products: int = 0


SUMMARY_COUNTS = [
    "products", "below", "forecast_changed", "not_committed", "exceptions", "new_products",
]  # fmt: skip


@dataclass
class Board:
    """The latest version with exception flags and commitments, for one account:
    `rows` is one batch (the products after `after`, by SKU), `summary` and
    `mismatches` (the first MISMATCH_LIMIT unless all were asked for) are of the
    whole grid."""

    account: CustomerAccount
    latest: ForecastVersion | None
    previous: ForecastVersion | None
    threshold: int
    months: list[date] = field(default_factory=list)
    rows: list[BoardRow] = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)
    mismatches: list[Mismatch] = field(default_factory=list)
    after: str | None = None
    next_after: str | None = None  # the key to load the next batch from; None at the end

    def count(self, status: str) -> int:
        return getattr(self.summary, status)

    @property
    def exceptions(self) -> int:
        return self.summary.exceptions

    @property
    def new_products(self) -> int:
        return self.summary.new_products

    @property
    def mismatch_count(self) -> int:
        return self.summary.below + self.summary.forecast_changed


def _in_force(viewer: User, account_id: int, months: list[date]):
    """The commitments in force as a subquery: product_id, month, id, quantity,
    forecast_quantity."""
    return _in_force_rows(
        viewer,
        account_id,
        months,
        None,
        ForecastCommitInForce.product_id,
        ForecastCommitInForce.month,
        ForecastCommitInForce.commit_id.label("id"),
        ForecastCommitInForce.quantity,
        ForecastCommitInForce.forecast_quantity,
    ).subquery()


def _kept_summary(viewer, account_id, latest_id, previous_id, threshold) -> Summary:
    """The page's counts over every cell: the kept row when it was counted for these two
    versions and this threshold (see ForecastCommitSummary for why that is enough),
    otherwise counted afresh and kept.

    The recount runs in a transaction of its own that writes (the page is a GET),
    holding the account's row as `_write` does, so no commit can land between the
    count and the row kept: the kept counts are never of older commitments. Loaded
    objects are expired by that; callers read what they need afterwards."""
    key = (latest_id, previous_id, threshold)
    kept = db.session.get(ForecastCommitSummary, account_id)
    if kept is not None and (kept.version_id, kept.previous_id, kept.threshold) == key:
        return Summary(**{name: getattr(kept, name) for name in SUMMARY_COUNTS})
    begin_writing()
    _hold_account(account_id)
    latest = db.session.get(ForecastVersion, latest_id)
    previous = db.session.get(ForecastVersion, previous_id) if previous_id else None
    summary = _count(viewer, account_id, latest, previous, _months(latest), threshold)
    values = dict(account_id=account_id, version_id=key[0], previous_id=key[1], threshold=key[2])
    values.update((name, getattr(summary, name)) for name in SUMMARY_COUNTS)
    statement = _upsert()(ForecastCommitSummary.__table__).values(values)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["account_id"],
            set_={name: statement.excluded[name] for name in list(values)[1:]},
        )
    )
    db.session.commit()
    return summary


def _hold_account(account_id: int, *also):
    """Lock the account's row until the transaction ends (PostgreSQL; SQLite's writers
    are one at a time anyway): commits and recounts of one account take turns. `also`:
    columns read in the same statement."""
    return db.session.execute(
        select(CustomerAccount.id, *also)
        .where(CustomerAccount.id == account_id)
        .with_for_update(of=CustomerAccount)
    ).one()


def _count(viewer, account_id, latest, previous, months, threshold) -> Summary:
    """The page's counts over every cell, in the database: one statement (two when the
    version lacks cells of some months), none of them returning a row per cell.

    The counts are one pass over the latest version's cells, each looked up in the
    commitments in force and in the version before (both by primary key): a pass per
    count read the 48,000 cells of a 2,000 × 24 grid four times."""
    cell, old = aliased(ForecastCell), aliased(ForecastCell)
    current = _in_force(viewer, account_id, months)

    def counted(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    in_months = and_(cell.month >= months[0], cell.month <= months[-1])
    committed = and_(in_months, current.c.id.is_not(None))
    below = and_(committed, current.c.quantity < cell.quantity)
    changed = and_(
        committed, current.c.quantity >= cell.quantity, current.c.forecast_quantity != cell.quantity
    )
    columns = [
        func.count(cell.product_id.distinct()),
        counted(in_months),
        counted(committed),
        counted(below),
        counted(changed),
    ]
    query = (
        select()
        .select_from(cell)
        .outerjoin(
            current, and_(current.c.product_id == cell.product_id, current.c.month == cell.month)
        )
        .where(cell.version_id == latest.id)
    )
    if previous is not None:
        old_products = select(ForecastCell.product_id).where(ForecastCell.version_id == previous.id)
        old_months = _months(previous)
        before = func.coalesce(old.quantity, 0)
        # exception_flags in SQL: |new − old| × 100 > threshold × max(old, 1).
        columns += [
            counted(
                and_(
                    cell.month >= old_months[0],
                    cell.month <= old_months[-1],
                    cell.product_id.in_(old_products),
                    func.abs(cell.quantity - before) * 100
                    > threshold * case((before > 1, before), else_=1),
                )
            ),
            func.count(case((cell.product_id.not_in(old_products), cell.product_id)).distinct()),
        ]
        query = query.outerjoin(
            old,
            and_(
                old.version_id == previous.id,
                old.product_id == cell.product_id,
                old.month == cell.month,
            ),
        )
    products, present, committed_cells, below_count, changed_count, *compared = db.session.execute(
        query.add_columns(*columns)
    ).one()
    summary = Summary(
        products=products,
        below=int(below_count),
        forecast_changed=int(changed_count),
        not_committed=products * len(months) - int(committed_cells),
    )
    if compared:
        summary.exceptions, summary.new_products = int(compared[0]), int(compared[1])
    # A product's row shows every month; a month the version holds no cell for (the
    # horizon grew since the row was written) is a forecast of 0: a commitment there
    # counts as committed, and answered another figure unless it answered 0. Rare:
    # asked only when such cells exist.
    if products * len(months) > int(present):
        products_in = select(ForecastCell.product_id).where(ForecastCell.version_id == latest.id)
        missing = aliased(ForecastCell)
        in_force_there, changed_there = db.session.execute(
            select(func.count(), counted(current.c.forecast_quantity != 0))
            .select_from(current)
            .outerjoin(
                missing,
                and_(
                    missing.version_id == latest.id,
                    missing.product_id == current.c.product_id,
                    missing.month == current.c.month,
                ),
            )
            .where(missing.product_id.is_(None), current.c.product_id.in_(products_in))
        ).one()
        summary.not_committed -= int(in_force_there)
        summary.forecast_changed += int(changed_there)
    return summary


class _LoopedInOrder(Join):
    """An inner join that SQLite must loop over left to right (its CROSS JOIN): the
    mismatches are wanted by SKU, so walking the products in SKU order stops after the
    first 50 found (0.2 ms at 2,000 × 24) where starting from the cells compared all
    48,000 before sorting (66 ms). Other databases plan it as any join."""

    inherit_cache = True


@compiles(_LoopedInOrder, "sqlite")
def _looped_in_order(join, compiler, **kw):
    kw["asfrom"] = True
    return (
        f"{compiler.process(join.left, **kw)} CROSS JOIN "
        f"{compiler.process(join.right, **kw)} ON "
        f"{compiler.process(join.onclause, **kw)}"
    )


def _mismatches(viewer, account_id, latest, months, limit):
    """The cells whose commitment is below the forecast or answered another figure, by
    SKU and month: the first `limit` (None: all)."""
    cell = ForecastCell.__table__.alias("cell")
    current = _in_force(viewer, account_id, months)
    product = Product.__table__
    ordered = _LoopedInOrder(
        _LoopedInOrder(
            product,
            cell,
            and_(
                cell.c.product_id == product.c.id,
                cell.c.version_id == latest.id,
                cell.c.month >= months[0],
                cell.c.month <= months[-1],
            ),
        ),
        current,
        and_(current.c.product_id == cell.c.product_id, current.c.month == cell.c.month),
    )
    commit, committer = ForecastCommit.__table__, User.__table__
    # One statement with what the list shows: the commitment's reason, time and who
    # (plain rows; ORM rows with their committers and products were three more).
    query = (
        select(
            product.c.sku,
            product.c.name,
            cell.c.month,
            cell.c.quantity,
            current.c.quantity,
            current.c.forecast_quantity,
            commit.c.reason,
            commit.c.reason_text,
            commit.c.committed_at,
            committer.c.name,
        )
        .select_from(
            ordered.join(commit, commit.c.id == current.c.id).outerjoin(
                committer, committer.c.id == commit.c.committed_by_id
            )
        )
        .where(
            or_(
                current.c.quantity < cell.c.quantity,
                current.c.forecast_quantity != cell.c.quantity,
            )
        )
        .order_by(product.c.sku_key, cell.c.month)
    )
    if limit is not None:
        query = query.limit(limit)
    return [Mismatch(*row) for row in db.session.execute(query)]


class Mismatch(NamedTuple):
    """A cell of the mismatch list: below its forecast, or its forecast changed since."""

    sku: str
    name: str
    month: date
    forecast: int
    quantity: int
    forecast_quantity: int  # what the commitment answered
    reason: str | None
    reason_text: str
    committed_at: datetime
    committed_by: str | None  # the committer's name

    @property
    def status(self) -> str:
        return "below" if self.quantity < self.forecast else "forecast_changed"


def board(
    viewer: User,
    account_id: int,
    *,
    after: str | None = None,
    limit: int = BATCH,
    summary: bool = True,
    mismatches: int | None = MISMATCH_LIMIT,
) -> Board:
    """What the commit page shows: the latest version beside the one before, flagged,
    and each cell's commitment in force, for `limit` products after the SKU key
    `after` (keyset batches); with `summary`, the counts and the first `mismatches`
    mismatches (None: all) of the whole grid. A fixed number of queries whatever the
    size; none returns a row per cell of the whole grid."""
    account = readable_account(viewer, account_id)
    threshold = threshold_of(account.id)
    latest = service.latest_published(account.id)
    if latest is None:
        return Board(account, None, None, threshold)
    previous = versions.previous_of(latest)
    account_id, latest_id, previous_id = account.id, latest.id, previous.id if previous else None
    if summary:
        # First: a recount ends the transaction, and the rows below are loaded after it.
        counts = _kept_summary(viewer, account_id, latest_id, previous_id, threshold)
        account = db.session.get(CustomerAccount, account_id)
        latest = db.session.get(ForecastVersion, latest_id)
        previous = db.session.get(ForecastVersion, previous_id) if previous_id else None
    months = _months(latest)
    query = select(Product).where(service.holds_product(latest.id)).order_by(Product.sku_key)
    if after is not None:
        query = query.where(Product.sku_key > after)
    products = list(db.session.scalars(query.limit(limit + 1)))
    more = len(products) > limit
    products = products[:limit]
    ids = [p.id for p in products]
    new: dict[Cell, int] = {}
    old: dict[Cell, int] = {}
    if ids:
        new = _cells_of(latest.id, ids)
        old = _cells_of(previous.id, ids) if previous else {}
    old_months = set(_months(previous)) if previous else set()
    if previous is not None:
        # Per product, so the batch's products alone give each its flags.
        flagged, new_products = exception_flags(new, old, threshold, old_months=old_months)
    else:
        flagged, new_products = set(), set()
    commits = current_commits(viewer, account.id, months, ids) if ids else {}
    rows = []
    for product in products:
        pid = product.id
        cells = []
        for month in months:
            compared = previous is not None and month in old_months and pid not in new_products
            cells.append(
                BoardCell(
                    month,
                    new.get((pid, month), 0),
                    old.get((pid, month), 0) if compared else None,
                    (pid, month) in flagged,
                    commits.get((pid, month)),
                )
            )
        rows.append(BoardRow(product, cells, pid in new_products))
    result = Board(account, latest, previous, threshold, months, rows, after=after)
    result.next_after = products[-1].sku_key if more else None
    if summary:
        result.summary = counts
        if result.mismatch_count:
            result.mismatches = _mismatches(viewer, account.id, latest, months, mismatches)
    return result


def _cells_of(version_id: int, product_ids: list[int]) -> dict[Cell, int]:
    """A version's cells of some products."""
    return {
        (pid, m): q
        for pid, m, q in db.session.execute(
            select(ForecastCell.product_id, ForecastCell.month, ForecastCell.quantity).where(
                ForecastCell.version_id == version_id, ForecastCell.product_id.in_(product_ids)
            )
        )
    }


# --- committing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitEntry:
    """One cell as the planner typed it (raw text; `commit` checks it)."""

    product_id: object
    month: object
    quantity: str | None
    reason: str | None = None
    reason_text: str | None = None


class CommitRefused(DomainError):
    """Nothing was committed; `errors` says why per bad cell: keyed (product_id, month)
    for a cell of the version, (product_id, the month as typed) for a month outside it,
    and the product id as typed for a product the version does not hold."""

    def __init__(self, errors: dict[object, str]):
        count = len(errors)
        super().__init__(
            ngettext(
                "Nothing was committed: %(num)d problem. Correct the marked cells and commit "
                "again.",
                "Nothing was committed: %(num)d problems. Correct the marked cells and commit "
                "again.",
                count,
            )
        )
        self.errors = errors


@dataclass
class CommitResult:
    version: ForecastVersion
    written: int
    below: int


def _latest(account_id: int, answering) -> ForecastVersion:
    """The version to commit against; `answering` (the version id the planner's page
    showed) must still be the latest, or the planner would answer figures never seen."""
    latest = service.latest_published(account_id)
    if latest is None:
        raise DomainError(_("The account has published no forecast to commit against."))
    if answering is not None and str(answering).strip() != str(latest.id):
        raise StaleVersion(
            _(
                "Version %(number)s was published since this page was opened: nothing was "
                "committed. Check its figures and commit again.",
                number=latest.number,
            )
        )
    return latest


class StaleVersion(DomainError):
    """A newer version was published after the planner's page was shown."""


def commit(
    user: User, account_id: int, entries: Iterable[CommitEntry], *, answering=None
) -> CommitResult:
    """Commit quantities against the account's latest version (`answering`: the version
    id the planner saw): all cells or none. A quantity below the forecast needs a
    reason (and a text for "other"). A commit that leaves cells below forecast tells
    the account's buyers, once."""
    account = _committer(user, account_id)
    latest = _latest(account.id, answering)
    months = set(_months(latest))
    forecast = service.all_cells(latest.id)
    products = {pid for pid, _ in forecast}
    errors: dict[object, str] = {}
    wanted: dict[Cell, tuple[int, str | None, str]] = {}
    for entry in entries:
        raw_pid = str(entry.product_id or "").strip()
        pid = int(raw_pid) if raw_pid.isascii() and raw_pid.isdigit() else None
        if pid is None or pid not in products:
            errors[raw_pid] = _(
                "Product “%(product)s” is not in version %(number)s.",
                product=raw_pid[:20],
                number=latest.number,
            )
            continue
        month = parse_month(str(entry.month or ""))
        if month is None or month not in months:
            errors[(pid, str(entry.month)[:10])] = _(
                "%(month)s is outside version %(number)s's months.",
                month=str(entry.month)[:10],
                number=latest.number,
            )
            continue
        key = (pid, month)
        if key in wanted:
            errors[key] = _("This cell is given twice.")
            continue
        raw = (entry.quantity or "").strip()
        if not raw:
            errors[key] = _("Give the committed quantity (0 for none).")
            continue
        if raw.startswith("-"):
            errors[key] = _("A commitment cannot be negative.")
            continue
        try:
            quantity = service.parse_quantity(raw)
        except DomainError as error:
            errors[key] = error.message
            continue
        reason, text = None, ""
        if quantity < forecast.get(key, 0):
            reason = (entry.reason or "").strip()
            text = (entry.reason_text or "").strip()
            if reason not in REASONS:
                errors[key] = _(
                    "Below the forecast of %(forecast)s: choose a reason "
                    "(capacity, material, lead time or other).",
                    forecast=format_number(forecast.get(key, 0)),
                )
                continue
            if reason == "other" and not text:
                errors[key] = _("Say what the other reason is.")
                continue
            if len(text) > MAX_REASON_TEXT:
                errors[key] = _("Keep the reason under %(max)s characters.", max=MAX_REASON_TEXT)
                continue
        wanted[key] = (quantity, reason, text)
    if errors:
        raise CommitRefused(errors)
    if not wanted:
        raise DomainError(_("There is nothing to commit."))
    return _write(user, account, latest, forecast, wanted)


def commit_all_as_forecast(user: User, account_id: int, *, answering=None) -> CommitResult:
    """Commit every cell of the latest version at its forecast, in one action."""
    account = _committer(user, account_id)
    latest = _latest(account.id, answering)
    now = utcnow()
    cell, in_force, commit = ForecastCell, ForecastCommitInForce, ForecastCommit
    # The cells whose commitment in force is not already the forecast without a reason,
    # as new commitment rows: one INSERT ... SELECT in the database. Done in Python
    # (every cell read, compared and written back through executemany) it took
    # 1.3-2.3 s at 2,000 products x 24 months on SQLite.
    unchanged = and_(
        in_force.commit_id.is_not(None),
        in_force.quantity == cell.quantity,
        in_force.forecast_quantity == cell.quantity,
        commit.reason.is_(None),
        func.coalesce(commit.reason_text, "") == "",
    )
    changed = (
        scoped(
            select(
                literal(account.id),
                cell.product_id,
                cell.month,
                cell.quantity,
                literal(latest.id),
                cell.quantity,
                null(),
                literal(""),
                literal(user.id),
                literal(now, commit.committed_at.type),
            ),
            ForecastCell,
            user,
        )
        .select_from(cell)
        .outerjoin(
            in_force,
            and_(
                in_force.account_id == account.id,
                in_force.product_id == cell.product_id,
                in_force.month == cell.month,
            ),
        )
        .outerjoin(commit, commit.id == in_force.commit_id)
        .where(cell.version_id == latest.id, not_(unchanged))
    )
    _, mark = _hold_account(
        account.id, select(func.coalesce(func.max(ForecastCommit.id), 0)).scalar_subquery()
    )
    columns = [
        "account_id", "product_id", "month", "quantity", "version_id", "forecast_quantity",
        "reason", "reason_text", "committed_by_id", "committed_at",
    ]  # fmt: skip
    # preserve_rowcount: SQLAlchemy keeps an INSERT's row count only when asked
    # (psycopg's closed cursor answers -1).
    written = db.session.execute(
        insert(ForecastCommit.__table__)
        .from_select(columns, changed)
        .execution_options(preserve_rowcount=True)
    ).rowcount
    if written:
        _put_in_force(account.id, _written_since(mark, account.id, latest.id, user.id, now))
    service.record_event(account.id, latest.id, user, "committed", after=f"v{latest.number}",
                         cells=written, below=0)  # fmt: skip
    db.session.commit()
    return CommitResult(latest, written, 0)


def _written_since(mark, account_id: int, version_id: int, user_id: int, now):
    """The commitment rows one commit action has just written (a range of the primary
    key above `mark`, one per cell), as `_put_in_force` reads them."""
    return select(
        ForecastCommit.account_id,
        ForecastCommit.product_id,
        ForecastCommit.month,
        ForecastCommit.id,
        ForecastCommit.quantity,
        ForecastCommit.forecast_quantity,
    ).where(
        ForecastCommit.id > mark,
        ForecastCommit.account_id == account_id,
        ForecastCommit.version_id == version_id,
        ForecastCommit.committed_by_id == user_id,
        ForecastCommit.committed_at == now,
    )


def _write(user, account, latest, forecast, wanted) -> CommitResult:
    """Append a row for each cell whose commitment changes and make it the one in force;
    one event, one notice. The only place commitments are written: the in-force table
    changes here, in the same transaction as the rows it names."""
    # Plain tuples, not ORM rows: "commit all" compares every cell of the grid (48,000
    # at 2,000 products × 24 months).
    current = {
        (pid, month): tuple(rest)
        for pid, month, *rest in db.session.execute(
            _in_force_rows(
                user,
                account.id,
                _months(latest),
                None,
                ForecastCommitInForce.product_id,
                ForecastCommitInForce.month,
                ForecastCommitInForce.quantity,
                ForecastCommit.reason,
                ForecastCommit.reason_text,
                ForecastCommitInForce.forecast_quantity,
            ).join(ForecastCommit, ForecastCommit.id == ForecastCommitInForce.commit_id)
        )
    }
    now = utcnow()
    rows = []
    for (pid, month), (quantity, reason, text) in wanted.items():
        figure = forecast.get((pid, month), 0)
        if current.get((pid, month)) == (quantity, reason, text, figure):
            continue
        rows.append(
            {
                "account_id": account.id,
                "product_id": pid,
                "month": month,
                "quantity": quantity,
                "version_id": latest.id,
                "forecast_quantity": figure,
                "reason": reason,
                "reason_text": text,
                "committed_by_id": user.id,
                "committed_at": now,
            }
        )
    if rows:
        # The account's row held (recounts wait for this commit), and an id below every
        # one drawn from here on.
        _, mark = _hold_account(
            account.id, select(func.coalesce(func.max(ForecastCommit.id), 0)).scalar_subquery()
        )
        # Core, one executemany, no RETURNING: the ORM's bulk path spent 1.8 s of Python on
        # 48,000 rows before the database saw any.
        db.session.execute(insert(ForecastCommit.__table__), rows)
        _put_in_force(account.id, _written_since(mark, account.id, latest.id, user.id, now))
    below = sum(1 for row in rows if row["quantity"] < row["forecast_quantity"])
    service.record_event(account.id, latest.id, user, "committed", after=f"v{latest.number}",
                         cells=len(rows), below=below)  # fmt: skip
    if below:
        _notify_buyers(user, account, latest, below)
    db.session.commit()
    return CommitResult(latest, len(rows), below)


def _put_in_force(account_id: int, written) -> None:
    """Make the commitment rows `written` selects (account_id, product_id, month, id,
    quantity, forecast_quantity; one per cell) the ones in force: one INSERT … SELECT
    that replaces a cell's row on conflict. A row already naming a newer commitment
    stays, so two planners committing at once on PostgreSQL leave the newest id in
    force, as "the newest row per cell" would, whichever transaction writes last.
    The account's kept counts were of the commitments before these: gone with them."""
    upsert = _upsert()
    table = ForecastCommitInForce.__table__
    columns = ["account_id", "product_id", "month", "commit_id", "quantity", "forecast_quantity"]
    statement = upsert(table).from_select(columns, written)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.account_id, table.c.product_id, table.c.month],
            set_={name: statement.excluded[name] for name in columns[3:]},
            where=table.c.commit_id < statement.excluded.commit_id,
        )
    )
    db.session.execute(
        delete(ForecastCommitSummary).where(ForecastCommitSummary.account_id == account_id)
    )


def _upsert():
    """The dialect's INSERT with ON CONFLICT (SQLite and PostgreSQL spell it alike)."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _notify_buyers(user: User, account: CustomerAccount, version, below: int) -> None:
    from portal.notifications import service as notifications

    vendor = current_app.config["VENDOR_NAME"]
    notifications.notify(
        accounts.people_with_role(Role.BUYER, account.id),
        "commit_mismatch",
        {
            # The sentence's plural forms follow `count` ("one product-month" rows of
            # before are read with their "one" variant).
            "vendor": vendor,
            "version": version.number,
            "count": below,
        },
        f"/forecasts/accounts/{account.id}/commits",
        exclude=user,
    )
