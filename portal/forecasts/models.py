"""Forecast settings, versions (the draft and the published ones), cells and events.

Volume: 200 accounts × 150 products × 18 months × 6 versions is about 3.2 M
cells. A cell's primary key is (version_id, product_id, month): every read of a
version's grid is one range of that key, the rows of a product lie together,
and no surrogate id or second index is kept per cell. On SQLite the table is
WITHOUT ROWID, so the key is the table itself (clustered).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from portal.accounts.models import CustomerAccount, User

DEFAULT_HORIZON_MONTHS = 12
MAX_HORIZON_MONTHS = 24
# The draft's number: published versions count 1, 2, 3 … per account, and the
# unique (account_id, number) also keeps an account to one draft.
DRAFT_NUMBER = 0
MAX_THRESHOLD_PERCENT = 1000


class ForecastSettings(db.Model):
    """How far ahead an account forecasts (months, the current one included)."""

    __tablename__ = "forecast_settings"
    tenant_column = "account_id"
    __table_args__ = (
        CheckConstraint(f"horizon_months BETWEEN 1 AND {MAX_HORIZON_MONTHS}", name="horizon"),
        CheckConstraint(
            f"exception_threshold_percent BETWEEN 1 AND {MAX_THRESHOLD_PERCENT}", name="threshold"
        ),
    )

    account_id: Mapped[int] = mapped_column(
        ForeignKey("customer_account.id", ondelete="CASCADE"), primary_key=True
    )
    horizon_months: Mapped[int] = mapped_column(default=DEFAULT_HORIZON_MONTHS)
    # Changes between two versions above this percentage are flagged for the planners.
    # None: the portal's default (FORECAST_EXCEPTION_THRESHOLD_PERCENT), so changing the
    # default reaches every account that never agreed on its own figure.
    exception_threshold_percent: Mapped[int | None]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ForecastVersion(db.Model):
    """The account's draft (number 0, not published) or one immutable published version."""

    __tablename__ = "forecast_version"
    tenant_column = "account_id"
    __table_args__ = (
        UniqueConstraint("account_id", "number", name="uq_forecast_version_number"),
        # The target of the cells' (version_id, account_id) foreign key.
        UniqueConstraint("id", "account_id", name="uq_forecast_version_id_account"),
        CheckConstraint("number >= 0", name="number"),
        CheckConstraint(
            "(number = 0 AND published_at IS NULL) OR (number > 0 AND published_at IS NOT NULL)",
            name="published",
        ),
        # The vendor's inbox: everything published, newest first.
        Index("ix_forecast_version_published", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id"))
    number: Mapped[int] = mapped_column(default=DRAFT_NUMBER)
    # The months it covers: first_month and the horizon_months - 1 after it.
    first_month: Mapped[date]
    horizon_months: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(Text, default="")
    # Counted once when published, against the version before: the inbox shows it.
    cells_changed: Mapped[int | None]
    total_quantity: Mapped[int | None]

    account: Mapped[CustomerAccount] = relationship()
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])

    @property
    def is_draft(self) -> bool:
        return self.number == DRAFT_NUMBER

    @property
    def label(self) -> str:
        return "Draft" if self.is_draft else f"Version {self.number}"


class ForecastCell(db.Model):
    """A quantity of one product for one month (the first day of the month) in one version."""

    __tablename__ = "forecast_cell"
    tenant_column = "account_id"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity"),
        # One key checks both that the version exists and that the cell's account is
        # the version's: one lookup per inserted cell instead of two.
        ForeignKeyConstraint(
            ["version_id", "account_id"],
            ["forecast_version.id", "forecast_version.account_id"],
            name="fk_forecast_cell_version",
            ondelete="CASCADE",
        ),
        # The draft grid's month totals over the whole version, read in month order
        # from the index alone (drafts.grid).
        Index("ix_forecast_cell_version_month", "version_id", "month", "quantity"),
        {"sqlite_with_rowid": False},
    )

    version_id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    # Denormalised from the version so that a cell can be scoped on its own.
    account_id: Mapped[int]
    quantity: Mapped[int] = mapped_column(Integer)


class ForecastEvent(db.Model):
    """Every change of an account's forecast: who, when, what, before and after."""

    __tablename__ = "forecast_event"
    tenant_column = "account_id"
    __table_args__ = (Index("ix_forecast_event_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id"))
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("forecast_version.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    before: Mapped[str | None] = mapped_column(String(30))
    after: Mapped[str | None] = mapped_column(String(30))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ForecastCommit(db.Model):
    """The vendor's commitment for one product and month of an account, answering one
    published version. Rows are never changed: a new commitment is a new row, and the
    newest row of an (account, product, month) is the one in force. The older rows are
    the history (who committed what, when, against which forecast)."""

    __tablename__ = "forecast_commit"
    tenant_column = "account_id"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity"),
        CheckConstraint("forecast_quantity >= 0", name="forecast_quantity"),
        CheckConstraint(
            "reason IS NULL OR reason IN ('capacity', 'material', 'lead_time', 'other')",
            name="reason",
        ),
        ForeignKeyConstraint(
            ["version_id", "account_id"],
            ["forecast_version.id", "forecast_version.account_id"],
            name="fk_forecast_commit_version",
        ),
        # The commitments in force for an account's months: one range of this index,
        # grouped by (product, month), the newest id of each.
        Index("ix_forecast_commit_current", "account_id", "month", "product_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    month: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    # The published version it answers, and that version's quantity for the cell: a
    # later version with another figure makes the commitment out of date.
    version_id: Mapped[int]
    forecast_quantity: Mapped[int] = mapped_column(Integer)
    # Why less than the forecast (None when it is not less).
    reason: Mapped[str | None] = mapped_column(String(20))
    reason_text: Mapped[str] = mapped_column(Text, default="")
    committed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    committed_by: Mapped[User | None] = relationship()


class ForecastCommitInForce(db.Model):
    """The commitment in force per (account, product, month): which ForecastCommit row
    is the newest, with its quantity and the forecast it answered copied beside it.

    Kept by `commits._write` (the one function that writes commitments), in the same
    transaction as the rows it appends, so it always equals "the newest row per cell".
    Why a table and not a query: every formulation of "the newest row per cell" walks
    every commitment ever written (two and more per cell after a few versions); the
    commit page counts and compares the whole grid on every view, so it reads one row
    per cell here instead. On SQLite the table is WITHOUT ROWID, so the key is the
    table: an account's cells of a product lie together, as the grid reads them."""

    __tablename__ = "forecast_commit_in_force"
    tenant_column = "account_id"
    __table_args__ = ({"sqlite_with_rowid": False},)

    # No foreign keys of their own on account and product: the commitment row the cell
    # names already holds both (one check per written cell instead of three).
    account_id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    commit_id: Mapped[int] = mapped_column(ForeignKey("forecast_commit.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    forecast_quantity: Mapped[int] = mapped_column(Integer)

    commit: Mapped[ForecastCommit] = relationship()


class ForecastCommitSummary(db.Model):
    """The commit page's counts over an account's whole grid, kept for the version pair
    and threshold they were counted with (the key columns), so that a page view reads
    one row instead of comparing every cell of the grid (48,000 at 2,000 × 24).

    What the counts depend on, and why the key is enough: published versions never
    change (their ids say which two were compared), the threshold is part of the key,
    and the commitments in force change only in `commits._write`, which deletes the
    row in the same transaction. A view that finds no row, or one of another key,
    counts afresh and keeps the result."""

    __tablename__ = "forecast_commit_summary"
    tenant_column = "account_id"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("customer_account.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[int]
    previous_id: Mapped[int | None]
    threshold: Mapped[int]
    products: Mapped[int]
    below: Mapped[int]
    forecast_changed: Mapped[int]
    not_committed: Mapped[int]
    exceptions: Mapped[int]
    new_products: Mapped[int]
