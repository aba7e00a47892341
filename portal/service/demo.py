"""Demo service requests at every account but a silent one, through the same services people use:
every status between Acme and Globex (new, acknowledged, in progress, waiting for the customer
with its clock paused, resolved, reopened, closed with satisfaction answers), one past its
promise at Globex, one opened on the phone at Acme, Initech's burst of complaints months ago,
and a holiday."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import select

from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.extensions import db

from . import complaints, workflow
from .models import ServiceHoliday

SUBJECTS = [
    ("repair", "Dosing pump leaks at the shaft seal", "Drips about once a minute since Monday."),
    ("installation", "Commissioning of the new valve block", "Line 3 is ready from next week."),
    ("application", "Controller tuning for a slow process", "The loop overshoots by 8 %."),
    ("maintenance", "Yearly service of the booster pumps", "Two units, same site."),
    ("complaint_delivery", "Pallet arrived crushed", "Three cartons damaged, photos attached."),
    ("complaint_quality", "Burrs inside the valve bodies", "Found on 12 of 200 pieces."),
    ("complaint_invoice", "Invoice shows the list price", "Our contract price is lower."),
    ("return", "Return of surplus bearings", "Ordered twice by mistake."),
]
ANSWERS = [
    "Thank you, we are on it. A technician calls you today.",
    "We have checked the batch record; details follow.",
    "Could you send the serial number and a photo of the label?",
]


def _at(day: datetime, hour: int) -> datetime:
    return datetime.combine(day.date(), time(hour, 0), tzinfo=day.tzinfo)


def _working_day(now: datetime, days_back: int) -> datetime:
    """A weekday `days_back` days before now (moved back over a weekend)."""
    day = now - timedelta(days=days_back)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


# Umbrella Process Labs has not complained or asked for anything in a year, although it
# kept ordering until recently: the silence the relationship work must notice.
SILENT_ACCOUNTS = {"C-10004"}


# Initech complained five times within two weeks four months ago; the requests were
# handled and closed (not all to its satisfaction), and since then it has said nothing.
BURST_THEN_SILENT = {"C-10003"}
BURST = [
    ("complaint_quality", "Sensor batch reads 4 % high", "Found in incoming inspection."),
    ("complaint_quality", "Second sensor batch also out of tolerance", "Same fault as last week."),
    ("complaint_delivery", "Sensors delivered without calibration sheets", "Needed for audit."),
    ("complaint_quality", "Connector pins bent on arrival", "Six pieces of forty."),
    ("complaint_invoice", "Credit note for the returned sensors missing", "Returned a month ago."),
]


BURST_QUALITY_TEXTS = {
    "affected": "Sensors and connectors of the batches named in the complaint.",
    "containment": "Remaining stock of those batches blocked and replaced.",
    "root_cause": "Calibration rig drifted after a firmware update; not re-verified.",
    "corrective_action": "Rig verified against a reference sensor at every shift start.",
    "verification": "The next four batches measured within tolerance.",
}


def _burst_then_silence(rng, account, customers, worker, now: datetime) -> int:
    for n, (kind, title, body) in enumerate(BURST):
        opened = _at(_working_day(now, 132 - 3 * n), 9)
        customer = customers[n % len(customers)]
        request = workflow.open_request(
            customer,
            kind=kind,
            priority="high",
            title=title,
            description=f"{body}\n\n- site: {account.name}",
            now=opened,
            account_id=account.id,
        )
        first = opened + timedelta(hours=rng.choice((1, 2, 4)))
        workflow.take(worker, request, first)
        workflow.post(worker, request, body=rng.choice(ANSWERS), internal=False, now=first)
        workflow.change_status(worker, request, "in_progress", now=first)
        solved = first + timedelta(days=rng.randint(2, 6))
        if kind == "complaint_quality":  # resolved only with its five steps recorded
            complaints.record_steps(
                worker,
                request,
                texts=BURST_QUALITY_TEXTS,
                affected_quantity=6,
                now=solved - timedelta(hours=2),
            )
        workflow.change_status(
            worker, request, "resolved", now=solved, resolution="Replaced and credited."
        )
        workflow.confirm(
            customer,
            request,
            satisfied=n % 2 == 0,
            comment="" if n % 2 == 0 else "Third time this quarter.",
            now=solved + timedelta(hours=20),
        )
    return len(BURST)


def load(rng: random.Random, now: datetime) -> dict[str, int]:
    """The demo requests and a holiday; `rng` makes them the same on every run."""
    people = {u.email: u for u in db.session.scalars(select(User).where(User.account_id.is_(None)))}
    service = people["service@vendor.test"]
    engineer = people["engineer@vendor.test"]
    db.session.add(
        ServiceHoliday(day=_working_day(now + timedelta(days=40), 0).date(), name="Company day")
    )
    db.session.commit()
    made = 0
    for account in db.session.scalars(select(CustomerAccount).order_by(CustomerAccount.number)):
        customers = [u for u in account.users if u.has_role(Role.BUYER, Role.CUSTOMER_ADMIN)]
        if not customers or account.number in SILENT_ACCOUNTS:
            continue
        if account.number in BURST_THEN_SILENT:
            made += _burst_then_silence(rng, account, customers, service, now)
            continue
        plans = [
            "closed_ok",
            "closed_bad",
            "resolved",
            "waiting",
            "new",
            "acknowledged",
            "reopened",
        ]
        if account.number == "C-10001":
            # Acme is the healthy account: its requests are answered within the promise,
            # and one came in on the phone.
            plans.append("phone")
        else:
            # Globex's service slipped with its deliveries: one request is past its promise.
            plans.append("breached")
        for plan in plans:
            kind, title, body = rng.choice(SUBJECTS)
            customer = rng.choice(customers)
            priority = {"breached": "high", "new": "urgent", "acknowledged": "normal"}.get(
                plan, rng.choice(("high", "normal", "normal", "low"))
            )
            back = {
                "closed_ok": 40,
                "closed_bad": 30,
                "resolved": 4,
                "waiting": 3,
                "breached": 6,
                "new": 0,
                "acknowledged": 1,
                "reopened": 4,
                "phone": 2,
            }[plan]
            opened = _at(_working_day(now, back), 8) if back else now - timedelta(minutes=40)
            actor = service if plan != "phone" else engineer
            request = workflow.open_request(
                customer if plan != "phone" else actor,
                kind=kind,
                priority=priority,
                title=title,
                description=f"{body}\n\n- site: {account.name}\n- seen by: {customer.name}",
                now=opened,
                account_id=account.id,
            )
            made += 1
            if plan == "new":
                continue
            # The breached one is answered only after its promise ran out.
            first = opened + timedelta(hours=30 if plan == "breached" else rng.choice((1, 2, 3)))
            worker = engineer if plan == "reopened" else actor
            if request.owner_id is None:
                workflow.take(worker, request, first)
            workflow.post(worker, request, body=rng.choice(ANSWERS), internal=False, now=first)
            workflow.post(
                worker,
                request,
                body="Checked stock of spare seals: 4 on hand.",
                internal=True,
                now=first + timedelta(minutes=5),
            )
            if plan == "breached":
                workflow.change_status(worker, request, "in_progress", now=first)
                continue
            if plan == "acknowledged":
                # Seen and owned, its resolution clock running: a visit is being arranged.
                workflow.change_status(worker, request, "acknowledged", now=first)
                continue
            if plan == "waiting":
                workflow.change_status(worker, request, "waiting", now=first + timedelta(hours=1))
                continue
            if plan == "phone":
                workflow.change_status(worker, request, "in_progress", now=first)
                continue
            workflow.change_status(worker, request, "in_progress", now=first + timedelta(hours=1))
            solved = first + timedelta(days=1)
            if complaints.is_quality_complaint(request):
                _quality_steps(worker, request, first + timedelta(hours=2))
            workflow.change_status(
                worker,
                request,
                "resolved",
                now=solved,
                resolution="Replaced the seal kit and tested the unit for two hours.",
            )
            if plan == "resolved":
                continue
            if plan == "reopened":
                workflow.reopen(
                    customer,
                    request,
                    reason="It leaks again after a day.",
                    now=solved + timedelta(days=1),
                )
                continue
            workflow.confirm(
                customer,
                request,
                satisfied=plan == "closed_ok",
                comment="" if plan == "closed_ok" else "It took three visits.",
                now=solved + timedelta(hours=20),
            )
    made += _replaced_complaint(service, now)
    made += _open_complaint(service, now)
    return {"service requests": made}


QUALITY_TEXTS = {
    "affected": "Burrs inside the bore, found at incoming inspection; batch 24-117.",
    "containment": "Stock of batch 24-117 blocked at the vendor and sorted at the customer.",
    "root_cause": "Worn deburring tool on machining cell 4; tool life not tracked.",
    "corrective_action": "Tool life counter on cell 4, tool changed every 800 parts.",
    "verification": "Three batches since inspected 100 %: no burrs found.",
}


def _quality_steps(worker: User, request, at: datetime, quantity: int = 12) -> None:
    complaints.record_steps(
        worker, request, texts=QUALITY_TEXTS, affected_quantity=quantity, now=at
    )


def _delivered_line(account_id: int):
    """The account's delivered order line of the largest quantity (a complaint's subject)."""
    from portal.fulfilment.models import Shipment, ShipmentLine
    from portal.ordering.models import OrderLine

    return db.session.scalar(
        select(OrderLine)
        .join(ShipmentLine, ShipmentLine.line_id == OrderLine.id)
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.account_id == account_id, Shipment.delivered_on.is_not(None))
        .order_by(OrderLine.quantity.desc(), OrderLine.id)
        .limit(1)
    )


def _replaced_complaint(service: User, now: datetime) -> int:
    """A quality complaint at Acme about a delivered order line, with its five steps
    recorded, a replacement order free of charge on the desk, resolved and confirmed."""
    acme = db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == "C-10001"))
    buyer = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
    if acme is None or buyer is None:
        return 0
    line = _delivered_line(acme.id)
    if line is None:
        return 0
    opened = _at(_working_day(now, 12), 9)
    request = workflow.open_request(
        buyer,
        kind="complaint_quality",
        priority="normal",
        title=f"Burrs inside {line.sku}",
        description="Found at incoming inspection on part of the delivery.\n\n"
        "- photos attached to the inspection report",
        now=opened,
        order_line_id=line.id,
    )
    workflow.post(
        service,
        request,
        body="Thank you. We block the batch here and send a sorting instruction.",
        internal=False,
        now=opened + timedelta(hours=1),
    )
    workflow.change_status(service, request, "in_progress", now=opened + timedelta(hours=2))
    affected = max(1, min(line.quantity, line.quantity // 10 or 1))
    complaints.record_steps(
        service,
        request,
        texts={"affected": QUALITY_TEXTS["affected"], "containment": QUALITY_TEXTS["containment"]},
        affected_quantity=affected,
        now=opened + timedelta(hours=3),
    )
    complaints.create_replacement(
        service, request, now=opened + timedelta(hours=4), today=now.date()
    )
    _quality_steps(service, request, opened + timedelta(days=3), affected)
    resolved = opened + timedelta(days=4)
    workflow.change_status(
        service,
        request,
        "resolved",
        now=resolved,
        resolution="Replacement parts sent free of charge; the cause is corrected and verified.",
    )
    workflow.confirm(
        buyer,
        request,
        satisfied=True,
        comment="Quick and thorough.",
        now=resolved + timedelta(hours=5),
    )
    return 1


def _open_complaint(service: User, now: datetime) -> int:
    """A quality complaint at Globex being worked: two of its five steps recorded, no
    replacement yet (the button waits on the page)."""
    buyer = db.session.scalar(select(User).where(User.email == "buyer@globex.test"))
    if buyer is None:
        return 0
    line = _delivered_line(buyer.account_id)
    opened = _at(_working_day(now, 2), 10)
    request = workflow.open_request(
        buyer,
        kind="complaint_quality",
        priority="normal",
        title=f"Damaged threads on {line.sku}" if line else "Damaged threads on fasteners",
        description="Four pieces of the last delivery do not take the nut.",
        now=opened,
        order_line_id=line.id if line else None,
    )
    workflow.post(
        service,
        request,
        body="Please set the carton aside; we are checking the lot here.",
        internal=False,
        now=opened + timedelta(hours=1),
    )
    workflow.change_status(service, request, "in_progress", now=opened + timedelta(hours=1))
    complaints.record_steps(
        service,
        request,
        texts={
            "affected": "Thread damaged at the tip, four pieces from one carton.",
            "containment": "Cartons of the same lot held in the warehouse and checked.",
        },
        affected_quantity=4,
        now=opened + timedelta(hours=2),
    )
    return 1
