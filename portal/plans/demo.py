"""Demo plans from both sides, through the same services people use: the vendor's
shutdown, lead-time, price, discontinuation and capacity plans (for every account
or chosen ones, one revised, one withdrawn, one past), and the customers' own
volume, shutdown and launch plans; some acknowledged, some not yet."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update

from portal.accounts.models import CustomerAccount, User
from portal.catalog.models import Product
from portal.extensions import db
from portal.notifications.models import Notification

from . import service
from .models import Plan, PlanEvent, PlanRevision


def load(rng: random.Random, today: date) -> dict[str, int]:
    people = {u.email: u for u in db.session.scalars(select(User))}
    accounts = {a.number: a for a in db.session.scalars(select(CustomerAccount))}
    skus = list(
        db.session.scalars(
            select(Product.sku).where(Product.status == "active").order_by(Product.sku)
        )
    )

    def some(n: int, prefix: str, containing: str = "") -> str:
        """`n` SKUs of one kind of product, so titles and products agree."""
        fitting = [s for s in skus if s.startswith(prefix) and containing in s] or skus
        return "\n".join(rng.sample(fitting, k=min(n, len(fitting))))

    planner, admin = people["planner@vendor.test"], people["admin@vendor.test"]
    acme, globex = accounts["C-10001"], accounts["C-10002"]
    made: list[Plan] = []

    def publish(author: User, days_ago: int, **fields) -> Plan:
        since = _last_notification()
        plan = service.publish(author, service.PlanInput(**fields))
        _date_back(plan, today - timedelta(days=days_ago), since)
        made.append(plan)
        return plan

    shutdown = publish(
        planner,
        12,
        kind="shutdown",
        title="Maintenance shutdown of the valve assembly",
        body="The valve assembly stops for its yearly maintenance.\n\n"
        "- Orders placed **before** the shutdown ship before it.\n"
        "- Orders placed during it ship in the first week after.",
        effective_from=today + timedelta(days=rng.randint(35, 45)),
        effective_to=today + timedelta(days=rng.randint(49, 56)),
        skus=some(3, "HYD-BLV"),
        visibility="all",
    )
    lead_time = publish(
        planner,
        25,
        kind="lead_time",
        title="Seal lead times up to five weeks",
        body="Our elastomer supplier is short of FKM compound.",
        effective_from=today + timedelta(days=5),
        effective_to=today + timedelta(days=90),
        skus=some(2, "ORG-FKM"),
        visibility="all",
    )
    since = _last_notification()
    service.revise(
        planner,
        lead_time,
        service.PlanInput(
            kind="lead_time",
            title="Seal lead times up to six weeks",
            body="Our elastomer supplier is short of FKM compound; the shortage lasts longer "
            "than first announced.",
            effective_from=today + timedelta(days=5),
            effective_to=today + timedelta(days=120),
            skus="\n".join(p.sku for p in lead_time.current.products),
            visibility="all",
            change_note="Six weeks instead of five, a month longer.",
        ),
    )
    _date_back(lead_time, today - timedelta(days=5), since, revision=2)
    publish(
        admin,
        8,
        kind="price",
        title="New prices for stainless fittings",
        body="Stainless steel surcharges rise; contract prices change from the date below.",
        effective_from=(today.replace(day=1) + timedelta(days=32)).replace(day=1),
        skus=some(3, "FST-", "-A"),
        visibility="chosen",
        account_ids=[acme.id, globex.id],
    )
    publish(
        planner,
        4,
        kind="discontinuation",
        title="Last orders for a legacy product",
        body="It is replaced by its successor; order the last pieces before the date.",
        effective_from=today + timedelta(days=75),
        skus=some(1, "EL-CBL"),
        visibility="all",
    )
    publish(
        people["manager@vendor.test"],
        3,
        kind="capacity",
        title="A second shift for your pump orders",
        body="From the date below we add a second shift on the pump line for your volumes.",
        effective_from=today + timedelta(days=20),
        visibility="chosen",
        account_ids=[acme.id],
    )
    publish(
        planner,
        150,
        kind="shutdown",
        title="Maintenance stop of the pump line",
        effective_from=today - timedelta(days=120),
        effective_to=today - timedelta(days=113),
        skus=some(2, "EQ-PMP"),
        visibility="all",
    )
    moved = publish(
        planner,
        30,
        kind="capacity",
        title="Moving the bearing assembly to hall 3",
        effective_from=today + timedelta(days=60),
        visibility="all",
    )
    service.withdraw(planner, moved, "The move is postponed to next year; nothing changes.")

    # The customers' own plans, for the vendor's staff.
    volume = publish(
        people["buyer@acme.test"],
        6,
        kind="volume",
        title="About 30 % more pumps from next quarter",
        body="Our new line doubles one shift. Rough monthly volumes:\n\n"
        "| Month | Pumps |\n|---|---|\n| 1 | 40 |\n| 2 | 55 |\n| 3 | 60 |",
        effective_from=today + timedelta(days=45),
        skus=some(2, "EQ-PMP"),
    )
    publish(
        people["buyer@globex.test"],
        10,
        kind="shutdown",
        title="Our plant closes for two weeks",
        body="No goods receiving in this period; please do not ship.",
        effective_from=today + timedelta(days=rng.randint(25, 30)),
        effective_to=today + timedelta(days=rng.randint(38, 42)),
    )
    # Initech announced its launch before its burst of complaints (about four months
    # ago, see service.demo) and has said nothing since: the silence the relationship
    # signals must notice.
    publish(
        people["buyer@initech.test"],
        150,
        kind="launch",
        title="Launch of our new dosing skid",
        effective_from=today + timedelta(days=100),
        skus=some(1, "EQ-PMP"),
    )

    # Some readers have seen some plans; others not yet.
    for email, plan in (
        ("buyer@acme.test", shutdown),
        ("admin@acme.test", shutdown),
        ("buyer@globex.test", shutdown),
        ("buyer@acme.test", lead_time),  # revision 2: seen afresh
        ("planner@vendor.test", volume),
    ):
        service.acknowledge(people[email], plan)
    # The bell shows recent news; older news is read.
    db.session.execute(
        update(Notification)
        .where(
            Notification.kind.like("plan_%"),
            Notification.created_at < _when(today - timedelta(days=7)),
        )
        .values(read_at=Notification.created_at)
    )
    db.session.commit()
    return {"plans": len(made)}


def _last_notification() -> int:
    return db.session.scalar(select(func.max(Notification.id))) or 0


def _when(day: date) -> datetime:
    return datetime.combine(day, time(9, 30), tzinfo=UTC)


def _date_back(plan: Plan, day: date, since: int, revision: int = 1) -> None:
    """Make a demo plan's revision look published on `day`: the revision, its event
    and the notifications it sent (written just now, after any earlier ones)."""
    when = _when(day)
    if revision == 1:
        db.session.execute(update(Plan).where(Plan.id == plan.id).values(created_at=when))
    db.session.execute(
        update(PlanRevision)
        .where(PlanRevision.plan_id == plan.id, PlanRevision.number == revision)
        .values(created_at=when)
    )
    db.session.execute(
        update(PlanEvent)
        .where(PlanEvent.plan_id == plan.id, PlanEvent.after == str(revision))
        .values(at=when)
    )
    db.session.execute(
        update(Notification)
        .where(Notification.link == f"/plans/{plan.id}", Notification.id > since)
        .values(created_at=when)
    )
    db.session.commit()
    db.session.expire(plan)
