"""Forecast versions the vendor has not answered yet, for pages that gather an account's
promises in one place. One statement for any number of accounts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select

from portal.accounts.models import CustomerAccount
from portal.extensions import db

from .models import ForecastCommit, ForecastVersion
from .planning import latest_versions
from .service import VENDOR_READERS

# Who may read an account's forecast versions.
READERS = VENDOR_READERS


@dataclass(frozen=True)
class UnansweredVersion:
    account_id: int
    version_id: int
    number: int
    published_at: datetime | None


def unanswered_versions(account_ids: Iterable[int] | None) -> list[UnansweredVersion]:
    """Each account's latest published version when the planners have committed nothing
    against it yet (an older version is answered by answering the latest); `account_ids`
    None: every account's (the planners' home page)."""
    accounts = select(CustomerAccount.id)
    if account_ids is not None:
        accounts = accounts.where(CustomerAccount.id.in_(list(account_ids)))
    rows = db.session.execute(
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
    return [UnansweredVersion(*row) for row in rows]
