"""Published forecast versions: publishing the draft as the account's next
immutable version (and telling the vendor), the versions a viewer may read,
the vendor's inbox of new versions, and one version compared with the one before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import Select, delete, select

from portal.accounts import service as accounts
from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.catalog.models import Product
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.formatting import number as format_number
from portal.security import scoped

from .models import DRAFT_NUMBER, ForecastCell, ForecastVersion
from .months import add_months
from .service import (
    EDITORS,
    MAX_COMMENT,
    PLANNERS,
    VENDOR_READERS,
    all_cells,
    draft_of,
    editor,
    latest_published,
    products_by_id,
    record_event,
    window,
)


def published(viewer: User) -> Select:
    """The published versions the viewer may read, as a query to refine."""
    query = scoped(select(ForecastVersion), ForecastVersion, viewer).where(
        ForecastVersion.number > DRAFT_NUMBER
    )
    if not viewer.is_vendor_staff:
        if not viewer.has_role(*EDITORS):
            raise Forbidden(_("Buyers and customer admins see the account's forecasts."))
        return query
    if not viewer.has_role(*VENDOR_READERS):
        raise Forbidden(_("Forecasts are for planners and account managers."))
    if not viewer.has_role(*PLANNERS):
        query = query.where(
            ForecastVersion.account_id.in_(
                select(CustomerAccount.id).where(CustomerAccount.account_manager_id == viewer.id)
            )
        )
    return query


def versions_of(
    viewer: User, account_id: int, *, limit: int | None = None
) -> list[ForecastVersion]:
    """An account's published versions, newest first (the newest `limit` of them)."""
    from sqlalchemy.orm import joinedload

    return list(
        db.session.scalars(
            published(viewer)
            .where(ForecastVersion.account_id == account_id)
            # The publisher's name is shown, never their roles: no statement for those.
            .options(joinedload(ForecastVersion.published_by).lazyload(User.role_rows))
            .order_by(ForecastVersion.number.desc())
            .limit(limit)
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
        raise NotFound(_("No such forecast version."))
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
        raise Forbidden(_("The forecast inbox is the vendor's."))
    return list(
        db.session.scalars(
            published(viewer)
            .options(joinedload(ForecastVersion.account), joinedload(ForecastVersion.published_by))
            .order_by(ForecastVersion.published_at.desc(), ForecastVersion.id.desc())
            .limit(limit)
        )
    )


# --- publishing ----------------------------------------------------------------------------------


def count_changes(new: dict, old: dict) -> int:
    """Cells whose quantity differs (a cell missing on one side counts as 0)."""
    return sum(1 for key in new.keys() | old.keys() if new.get(key, 0) != old.get(key, 0))


def publish(user: User, comment: str | None, today: date) -> ForecastVersion:
    """Publish the draft as the account's next immutable version, and tell the vendor."""
    account_id = editor(user)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise DomainError(
            _(
                "Keep the comment under %(max_comment)s characters.",
                max_comment=format_number(MAX_COMMENT),
            ),
            field="comment",
        )
    draft = draft_of(account_id)
    if draft is None:
        raise DomainError(_("Change the forecast before publishing a new version."))
    months = window(account_id, today)
    db.session.execute(
        delete(ForecastCell).where(
            ForecastCell.version_id == draft.id,
            (ForecastCell.month < months[0]) | (ForecastCell.month > months[-1]),
        )
    )
    cells = all_cells(draft.id)
    if not cells:
        raise DomainError(_("Add at least one product before publishing."))
    latest = latest_published(account_id)
    changed = count_changes(cells, all_cells(latest.id) if latest else {})
    number = (latest.number if latest else 0) + 1
    draft.number = number
    draft.first_month, draft.horizon_months = months[0], len(months)
    draft.published_at = utcnow()
    draft.published_by_id = user.id
    draft.comment = comment
    draft.cells_changed = changed
    draft.total_quantity = sum(cells.values())
    record_event(
        account_id,
        draft.id,
        user,
        "published",
        before="draft",
        after=f"v{number}",
        cells_changed=changed,
    )
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
        {"account": account.name, "version": version.number, "cells": version.cells_changed},
        f"/forecasts/versions/{version.id}",
        exclude=user,
    )


# --- comparing versions --------------------------------------------------------------------------


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
    new = all_cells(version.id)
    old = all_cells(previous.id) if previous else {}
    product_ids = {pid for pid, _ in new} | {pid for pid, m in old if m in set(months)}
    products = products_by_id(product_ids)
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
