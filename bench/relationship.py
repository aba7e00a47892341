"""Relationship health at scale: the daily refresh of every account's signals (set-based
SQL, a fixed number of statements whatever the number of accounts), then the portfolio
(an admin's 500 accounts, a manager's 50) and one account's page, in-process, with the
SQL statements each costs. Targets: refresh under 10 s, pages under 100 ms.

Runs on the large data set of bench/generate.py (500 accounts, 1,000,000 order lines),
best with the suggestions of bench/ideas.py --generate; --service adds 100,000 service
requests (with their first answers and events) first. Fifty generated accounts are given
to manager@vendor.test so a manager's portfolio is a realistic size.

    .venv/bin/python bench/relationship.py --instance /tmp/portal-big [--service]
    .venv/bin/python bench/relationship.py --database-url postgresql+psycopg://postgres@127.0.0.1/big
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import time_pages, use_database  # noqa: E402

SERVICE_REQUESTS = 100_000


def add_service_requests(rng: random.Random, count: int) -> None:
    """Bulk-insert service requests over the last year, most answered, with the events
    the promise clock reads (opened, first response, resolved)."""
    from sqlalchemy import insert, select

    from portal.accounts.models import CustomerAccount, User
    from portal.extensions import db
    from portal.service.models import ServiceEvent, ServiceRequest

    accounts = list(db.session.scalars(select(CustomerAccount.id)))
    opener = db.session.scalar(select(User.id).where(User.email == "buyer@acme.test"))
    now = datetime.now(UTC)
    next_id = (
        db.session.scalar(select(ServiceRequest.id).order_by(ServiceRequest.id.desc())) or 0
    ) + 1
    requests, events = [], []
    for n in range(count):
        opened = now - timedelta(minutes=rng.randint(60, 365 * 24 * 60))
        answered = opened + timedelta(hours=rng.choice([1, 2, 4, 8, 30]))
        resolved = answered + timedelta(hours=rng.randint(2, 200))
        done = resolved < now
        rid = next_id + n
        requests.append(
            {
                "id": rid,
                "account_id": rng.choice(accounts),
                "kind": rng.choice(["repair", "maintenance", "complaint_quality", "application"]),
                "priority": rng.choice(["normal", "normal", "high", "urgent"]),
                "title": f"Request {rid}",
                "description": "",
                "status": "closed" if done else "in_progress",
                "opened_by_id": opener,
                "on_behalf": False,
                "opened_at": opened,
                "first_response_at": answered if answered < now else None,
                "resolved_at": resolved if done else None,
                "closed_at": resolved if done else None,
                "resolution": "",
                "satisfaction_comment": "",
                "last_activity_at": resolved if done else answered,
            }
        )
        events.append({"request_id": rid, "at": opened, "kind": "opened"})
        if answered < now:
            events.append({"request_id": rid, "at": answered, "kind": "first_response"})
        if done:
            events.append({"request_id": rid, "at": resolved, "kind": "status",
                           "before": "in_progress", "after": "resolved"})  # fmt: skip
        if len(requests) >= 10_000:
            db.session.execute(insert(ServiceRequest), requests)
            db.session.execute(insert(ServiceEvent), events)
            requests, events = [], []
    if requests:
        db.session.execute(insert(ServiceRequest), requests)
        db.session.execute(insert(ServiceEvent), events)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    parser.add_argument("--service", action="store_true", help="add 100,000 service requests first")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    use_database(args.instance, args.database_url)

    from flask_migrate import upgrade
    from sqlalchemy import event, func, select, update

    from portal import create_app
    from portal.accounts.models import CustomerAccount, User
    from portal.extensions import db
    from portal.relationship import snapshots
    from portal.relationship.models import Snapshot
    from portal.service.models import ServiceRequest

    app = create_app()
    with app.app_context():
        upgrade()
        if args.service:
            started = time.perf_counter()
            add_service_requests(random.Random(17), SERVICE_REQUESTS)
            print(f"service requests added in {time.perf_counter() - started:.0f} s")
        manager = db.session.scalar(select(User.id).where(User.email == "manager@vendor.test"))
        mine = list(
            db.session.scalars(
                select(CustomerAccount.id)
                .where(CustomerAccount.account_manager_id.is_(None))
                .order_by(CustomerAccount.id)
                .limit(50)
            )
        )
        if mine:
            db.session.execute(
                update(CustomerAccount)
                .where(CustomerAccount.id.in_(mine))
                .values(account_manager_id=manager)
            )
            db.session.commit()
        accounts = db.session.scalar(select(func.count()).select_from(CustomerAccount))
        requests = db.session.scalar(select(func.count()).select_from(ServiceRequest))
        print(f"{accounts:,} accounts, {requests:,} service requests")

        statements: list[int] = []

        def count(*_):
            statements.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        today = datetime.now(UTC).date()
        # A few past weeks first, so the portfolio has sparklines and trends to read.
        for back in (28, 21, 14, 7):
            snapshots.refresh(today - timedelta(days=back), alert=False)
        timings = []
        for _ in range(3):
            statements.clear()
            started = time.perf_counter()
            written = snapshots.refresh(today)
            timings.append(time.perf_counter() - started)
            print(
                f"refresh of {written} accounts: {timings[-1]:.2f} s, "
                f"{len(statements)} SQL statements (target 10 s)"
            )
        print(f"refresh, best of 3: {min(timings):.2f} s")
        rows = db.session.scalar(
            select(func.count()).select_from(Snapshot).where(Snapshot.day == today)
        )
        assert rows == accounts, (rows, accounts)
        event.remove(db.engine, "before_cursor_execute", count)
        engine = db.engine
        some = db.session.scalar(
            select(CustomerAccount.number).where(CustomerAccount.id == mine[0])
        )

    time_pages(
        app,
        engine,
        {
            "portfolio, admin (all accounts)": (
                "admin@vendor.test",
                "/relationship/portfolio",
                100,
            ),
            "portfolio, manager (50 accounts)": (
                "manager@vendor.test",
                "/relationship/portfolio",
                100,
            ),
            "an account's page": ("manager@vendor.test", f"/relationship/accounts/{some}", 100),
            "portfolio.csv, admin": ("admin@vendor.test", "/relationship/portfolio.csv", None),
        },
        runs=args.runs,
    )


if __name__ == "__main__":
    main()
