"""The service queue's order: open requests before resolved and closed ones, the open
ones by priority and then age, the others by latest activity; the database picks the
page in that order from the queue's generated rank (migration 0034), the clock then
orders the page. The rank follows every status change; the filters said through it
select exactly what they select without it."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import case, func, insert, select

from portal.accounts.models import User
from portal.extensions import db, utcnow
from portal.service import reading, workflow
from portal.service.models import (
    CLOSED_RANK,
    OPEN_STATUSES,
    PRIORITIES,
    STATUSES,
    ServiceRequest,
)


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def opened(now, priority: str, email: str = "buyer@acme.test") -> ServiceRequest:
    return workflow.open_request(
        user(email), kind="repair", priority=priority, title="Pump", description="", now=now
    )


# The order as the queue's statement said it before the generated rank (CASE
# expressions over status and priority): the specification the index must give.
_OPEN = ServiceRequest.status.in_(OPEN_STATUSES)
_PRIORITY_RANK = case(
    {"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=ServiceRequest.priority, else_=4
)
SPECIFIED_ORDER = (
    case((_OPEN, 0), else_=1),
    case((_OPEN, _PRIORITY_RANK), else_=0),
    case((_OPEN, ServiceRequest.opened_at), else_=None),
    ServiceRequest.last_activity_at.desc(),
    ServiceRequest.id.desc(),
)


def test_the_page_is_open_ones_by_priority_and_age_then_the_others_by_latest_activity(app, demo):
    start = utcnow() - timedelta(days=3)
    with app.app_context():
        service = user("service@vendor.test")
        low = opened(start, "low")  # the oldest, but the least urgent
        urgent_first = opened(start + timedelta(hours=1), "urgent")
        urgent_later = opened(start + timedelta(hours=2), "urgent")
        resolved_late = opened(start + timedelta(hours=3), "high")
        resolved_early = opened(start + timedelta(hours=4), "urgent")
        for request, at in ((resolved_early, 6), (resolved_late, 10)):
            workflow.change_status(
                service, request, "resolved", now=start + timedelta(hours=at), resolution="Done."
            )
        expected = [
            urgent_first.id,
            urgent_later.id,
            low.id,
            resolved_late.id,  # the latest activity first among the resolved
            resolved_early.id,
        ]
        everything = reading.RequestFilter(status="all")
        # Each page is the first of the order, however short.
        for size in range(1, len(expected) + 1):
            rows, total = reading.listing(service, everything, utcnow(), limit=size)
            assert {r.id for r, _ in rows} == set(expected[:size]), size
            assert total == len(expected)
        rows, _ = reading.listing(service, everything, utcnow())
        # The clock orders the open ones by when they fall due; the others keep the
        # database's order, after them.
        assert [r.id for r, _ in rows][-2:] == expected[-2:]
        assert {r.id for r, _ in rows[:3]} == set(expected[:3])
        rows, total = reading.listing(service, reading.RequestFilter(), utcnow(), limit=2)
        assert {r.id for r, _ in rows} == set(expected[:2]) and total == 3
        # A customer's list: their account's alone, in the same order.
        globex = opened(start, "urgent", email="buyer@globex.test")
        rows, total = reading.listing(user("buyer@acme.test"), everything, utcnow(), limit=4)
        assert {r.id for r, _ in rows} == set(expected[:4]) and total == len(expected)
        assert globex.id not in {r.id for r, _ in rows}


def test_the_rank_follows_the_status_whatever_changes_it(app, demo):
    start = utcnow() - timedelta(days=2)
    with app.app_context():
        request = opened(start, "normal")

        def rank():
            db.session.expire_all()
            return db.session.execute(
                select(ServiceRequest.queue_rank, ServiceRequest.queue_opened_at).where(
                    ServiceRequest.id == request.id
                )
            ).one()

        assert rank() == (2, request.opened_at)
        workflow.change_status(
            user("service@vendor.test"),
            request,
            "resolved",
            now=start + timedelta(hours=1),
            resolution="Done.",
        )
        assert rank() == (CLOSED_RANK, None)
        workflow.reopen(
            user("buyer@acme.test"), request, reason="Still drips.", now=start + timedelta(hours=2)
        )
        assert rank() == (2, request.opened_at)
        # A write that bypasses the workflow changes it too: the database computes it.
        db.session.execute(
            ServiceRequest.__table__.update()
            .where(ServiceRequest.id == request.id)
            .values(priority="urgent")
        )
        assert rank() == (0, request.opened_at)
        db.session.execute(
            ServiceRequest.__table__.update()
            .where(ServiceRequest.id == request.id)
            .values(status="closed")
        )
        assert rank() == (CLOSED_RANK, None)
        db.session.rollback()


def test_every_filter_selects_the_same_requests_in_the_specified_order(app, demo):
    """Random requests with ties in opening and activity times: for every status and
    priority filter, and for a customer, the queue's rank gives the rows and the order
    the CASE expressions gave."""
    rng = random.Random(34)
    start = utcnow() - timedelta(days=20)
    with app.app_context():
        accounts = [user("buyer@acme.test").account_id, user("buyer@globex.test").account_id]
        rows = []
        for n in range(160):
            at = start + timedelta(hours=rng.randint(0, 12))
            rows.append(
                {
                    "account_id": rng.choice(accounts),
                    "kind": "repair",
                    "priority": rng.choice(list(PRIORITIES)),
                    "title": f"Request {n}",
                    "status": rng.choice(list(STATUSES)),
                    "opened_at": at,
                    "last_activity_at": at + timedelta(hours=rng.randint(0, 4)),
                }
            )
        db.session.execute(insert(ServiceRequest), rows)
        db.session.commit()
        for email in ("service@vendor.test", "buyer@acme.test"):
            viewer = user(email)
            for status in ("open", "all", *STATUSES):
                for priority in ("", *PRIORITIES):
                    filters = reading.RequestFilter(status=status, priority=priority)
                    ranked = reading._filtered(viewer, filters, ranked=True)
                    got = db.session.scalars(
                        ranked.with_only_columns(ServiceRequest.id).order_by(*reading.QUEUE_ORDER)
                    ).all()
                    specified = db.session.scalars(
                        reading._filtered(viewer, filters)
                        .with_only_columns(ServiceRequest.id)
                        .order_by(*SPECIFIED_ORDER)
                    ).all()
                    assert got == specified, (email, status, priority)
                    if email == "service@vendor.test":
                        assert got, (status, priority)  # the data has some of each
        # And the count the queue shows: every request for vendor staff, "all statuses".
        _, total = reading.listing(
            user("service@vendor.test"), reading.RequestFilter(status="all"), utcnow(), limit=1
        )
        assert total == db.session.scalar(select(func.count()).select_from(ServiceRequest))
