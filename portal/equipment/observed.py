"""The vendor's observed record for products, beside their cost of ownership.

Over the last `DAYS` days, for each product and across all accounts (the
vendor's overall record: it names no account, so any customer may read it):

- on time: the promise ledger's definitions (`fulfilment.ledger.line_figures`)
  applied to the order lines of the product whose first promised date fell in
  the period and has passed; each line judged on its account's promise basis;
- defects per million: the quality record (`service.quality.defects_ppm`);
- median repair time: working hours to resolution of the repair requests
  about the product (or one of its units) opened in the period, as the service
  measures count them (`service.measures`).

Three reads of fixed count whatever the number of products.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select

from portal.accounts.models import CustomerAccount
from portal.extensions import db
from portal.fulfilment import ledger
from portal.ordering.models import Order, OrderEvent, OrderLine
from portal.service import measures, promises, quality
from portal.service.models import ServiceRequest

from .models import EquipmentUnit
from .ownership import Observed

DAYS = 365


def _on_time(product_ids: list[int], start: date, today: date) -> dict[int, ledger.Figures]:
    judged = (
        select(OrderEvent.line_id)
        .join(OrderLine, OrderLine.id == OrderEvent.line_id)
        .where(
            OrderLine.product_id.in_(product_ids),
            OrderEvent.kind == "confirmed",
            OrderEvent.on_date >= start,
            OrderEvent.on_date < today,
        )
    )
    rows = db.session.execute(
        select(
            OrderLine.product_id,
            CustomerAccount.promise_basis,
            OrderEvent.line_id,
            OrderEvent.kind,
            OrderEvent.quantity,
            OrderEvent.on_date,
            OrderEvent.at,
        )
        .join(OrderLine, OrderLine.id == OrderEvent.line_id)
        .join(Order, Order.id == OrderEvent.order_id)
        .join(CustomerAccount, CustomerAccount.id == Order.account_id)
        .where(OrderEvent.line_id.in_(judged), OrderEvent.kind.in_(ledger.LEDGER_KINDS))
        .order_by(OrderEvent.line_id, OrderEvent.id)
    ).all()
    events: dict[int, list] = defaultdict(list)
    line_of: dict[int, tuple[int, str]] = {}
    for row in rows:
        events[row.line_id].append(row)
        line_of[row.line_id] = (row.product_id, row.promise_basis)
    per_product: dict[int, list[ledger.LineFigures]] = defaultdict(list)
    for line_id, line_events in events.items():
        product_id, basis = line_of[line_id]
        figures = ledger.line_figures(line_events, basis)
        if figures.first_promise is not None and figures.first_promise >= start:
            per_product[product_id].append(figures)
    return {pid: ledger.summarise(lines, today) for pid, lines in per_product.items()}


def _repairs(product_ids: list[int], start: date, now: datetime) -> dict[int, measures.Measures]:
    product = func.coalesce(ServiceRequest.product_id, EquipmentUnit.product_id)
    found = db.session.execute(
        select(ServiceRequest, product)
        .outerjoin(EquipmentUnit, EquipmentUnit.id == ServiceRequest.equipment_id)
        .where(
            ServiceRequest.kind == "repair",
            ServiceRequest.opened_at >= datetime.combine(start, time(0), tzinfo=UTC),
            or_(
                ServiceRequest.product_id.in_(product_ids),
                EquipmentUnit.product_id.in_(product_ids),
            ),
        )
    ).all()
    requests = [request for request, _ in found]
    states = promises.promises_for(requests, now) if requests else {}
    records: dict[int, list[measures.Record]] = defaultdict(list)
    for request, product_id in found:
        records[product_id].append(measures.record_of(request, states[request.id]))
    return {pid: measures.measure(rs) for pid, rs in records.items()}


def observed_for(
    product_ids: Iterable[int], today: date, now: datetime | None = None
) -> dict[int, Observed]:
    """Each product's record over the last `DAYS` days up to `today` (see the module)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    start = today - timedelta(days=DAYS)
    now = now or datetime.combine(today, time(0), tzinfo=UTC)
    on_time = _on_time(ids, start, today)
    defects = quality.defects_ppm(start, today + timedelta(days=1), by="product", product_ids=ids)
    repairs = _repairs(ids, start, now)
    result = {}
    for pid in ids:
        figures = on_time.get(pid, ledger.Figures())
        found = defects.get(pid, quality.Defects())
        repaired = repairs.get(pid, measures.Measures())
        result[pid] = Observed(
            lines=figures.lines,
            on_time=figures.on_time,
            late_days=figures.late_days,
            delivered=found.delivered,
            affected=found.affected,
            repairs=len(repaired.resolution_hours),
            repair_hours_median=repaired.resolution_median,
        )
    return result
