"""The quality record: defective parts per million, per product and per account.

    ppm = affected quantity of quality complaints / quantity delivered × 1,000,000

over a period: the complaints opened in it (their affected quantity, as recorded
in the complaint's first step, counted for the complaint's product) and the
goods delivered in it (what the customer received on shipments delivered in
it). Complaints without a product or without an affected quantity count for
nothing yet. Replacement orders' deliveries count as deliveries: they are
parts the customer uses.

`defects_ppm` is the public function other areas call (relationship health,
cost of ownership): two grouped statements whatever the number of accounts,
products or rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select

from portal.extensions import db
from portal.fulfilment.models import Shipment, ShipmentLine
from portal.ordering.models import OrderLine

from .models import QUALITY_KIND, QualityStep, ServiceRequest

GROUPINGS = ("product", "account", "account_product", "total")


@dataclass(frozen=True)
class Defects:
    """Affected and delivered quantities of one product, account or both."""

    affected: int = 0
    delivered: int = 0

    @property
    def ppm(self) -> float | None:
        """Defective parts per million delivered; None when nothing was delivered."""
        return self.affected * 1_000_000 / self.delivered if self.delivered else None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _key(by: str, account_id: int, product_id: int):
    return {
        "product": product_id,
        "account": account_id,
        "account_product": (account_id, product_id),
        "total": None,
    }[by]


def defects_ppm(
    start: date,
    end: date,
    *,
    by: str = "product",
    account_ids: Iterable[int] | None = None,
    product_ids: Iterable[int] | None = None,
) -> dict:
    """Defects per million for the period [start, end) (dates, UTC), grouped `by`
    "product" (key: product id), "account" (account id), "account_product"
    ((account id, product id)) or "total" (key None). `account_ids` and
    `product_ids` restrict what is counted (None: all). A key appears when
    something was delivered or found defective. Two statements."""
    if by not in GROUPINGS:
        raise ValueError(f"defects are grouped by one of {GROUPINGS}, not {by!r}")
    accounts = None if account_ids is None else sorted(set(account_ids))
    products = None if product_ids is None else sorted(set(product_ids))
    affected_query = (
        select(
            ServiceRequest.account_id,
            ServiceRequest.product_id,
            func.sum(QualityStep.quantity),
        )
        .join(QualityStep, QualityStep.request_id == ServiceRequest.id)
        .where(
            ServiceRequest.kind == QUALITY_KIND,
            ServiceRequest.product_id.is_not(None),
            QualityStep.step == "affected",
            ServiceRequest.opened_at >= _start_of(start),
            ServiceRequest.opened_at < _start_of(end),
        )
        .group_by(ServiceRequest.account_id, ServiceRequest.product_id)
    )
    received = func.coalesce(ShipmentLine.received_quantity, ShipmentLine.quantity)
    delivered_query = (
        select(Shipment.account_id, OrderLine.product_id, func.sum(received))
        .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
        .join(OrderLine, OrderLine.id == ShipmentLine.line_id)
        .where(
            Shipment.delivered_on.is_not(None),
            Shipment.delivered_on >= start,
            Shipment.delivered_on < end,
        )
        .group_by(Shipment.account_id, OrderLine.product_id)
    )
    if accounts is not None:
        affected_query = affected_query.where(ServiceRequest.account_id.in_(accounts))
        delivered_query = delivered_query.where(Shipment.account_id.in_(accounts))
    if products is not None:
        affected_query = affected_query.where(ServiceRequest.product_id.in_(products))
        delivered_query = delivered_query.where(OrderLine.product_id.in_(products))
    affected: dict = defaultdict(int)
    delivered: dict = defaultdict(int)
    for account_id, product_id, quantity in db.session.execute(affected_query):
        affected[_key(by, account_id, product_id)] += int(quantity or 0)
    for account_id, product_id, quantity in db.session.execute(delivered_query):
        delivered[_key(by, account_id, product_id)] += int(quantity or 0)
    return {
        key: Defects(affected.get(key, 0), delivered.get(key, 0))
        for key in set(affected) | set(delivered)
    }
