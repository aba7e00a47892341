"""Relationship health at scale: the daily refresh of every account's signals (set-based
SQL, a fixed number of statements whatever the number of accounts), then the portfolio
(an admin's 500 accounts, a manager's 50) and one account's page, in-process, with the
SQL statements each costs. Targets: refresh under 10 s, pages under 100 ms.

Runs on the issue's large data set: 500 accounts, 1,000,000 order lines (bench/generate.py),
100,000 suggestions with 1,000,000 thread messages (bench/ideas.py --generate) and 100,000
service requests with their events and kept answers (below, then the service area's own
`record_outcomes`, as bench/service.py does). --generate builds whatever of it is missing,
so it runs on a new empty database as well as on one that bench/generate.py and
bench/ideas.py filled already. Fifty generated accounts are given to manager@vendor.test
so a manager's portfolio is a realistic size.

    .venv/bin/python bench/relationship.py --instance /tmp/portal-big --generate
    .venv/bin/python bench/relationship.py --generate \
        --database-url postgresql+psycopg://postgres@127.0.0.1/big

Figures: bench/relationship.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import time_pages, use_database  # noqa: E402

SERVICE_REQUESTS = 100_000
ACCOUNTS, PRODUCTS, ORDER_LINES = 500, 100_000, 1_000_000
SUGGESTIONS, SUGGESTION_MESSAGES = 100_000, 1_000_000


def build_large_data_set() -> None:
    """Fill in what the large data set lacks, reusing the generators of the other
    benchmarks (same seeds), each step timed; then fresh planner statistics."""
    from sqlalchemy import func, select

    from bench import generate as orders
    from bench import ideas
    from portal import demo as demo_data
    from portal.extensions import db
    from portal.ideas.models import Idea
    from portal.ordering.models import OrderLine
    from portal.service import promises
    from portal.service.models import ServiceRequest

    def count(model) -> int:
        return db.session.scalar(select(func.count()).select_from(model)) or 0

    def step(what, work) -> None:
        started = time.perf_counter()
        work()
        print(f"  {what}: {time.perf_counter() - started:.0f} s", flush=True)

    if not count(OrderLine):
        if not demo_data.is_loaded():
            demo_data.load_people()
        step(
            f"{ACCOUNTS} accounts, {ORDER_LINES:,} order lines (bench/generate.py)",
            lambda: orders.generate(random.Random(7), PRODUCTS, ACCOUNTS, ORDER_LINES),
        )
    if not count(Idea):
        step(
            f"{SUGGESTIONS:,} suggestions (bench/ideas.py)",
            lambda: ideas.generate(random.Random(11), SUGGESTIONS, SUGGESTION_MESSAGES),
        )
    if (missing := SERVICE_REQUESTS - count(ServiceRequest)) > 0:
        step(
            f"{missing:,} service requests",
            lambda: add_service_requests(random.Random(17), missing),
        )
        # Resolved and closed requests keep their clock's final answer, as in production.
        step("their kept answers (record_outcomes)", promises.record_outcomes)
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()


def add_service_requests(rng: random.Random, count: int) -> None:
    """Bulk-insert service requests over the last year, most answered, with the events
    the promise clock reads (opened, first response, resolved)."""
    from sqlalchemy import select

    from bench.bulk import insert_rows, move_sequences
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
            insert_rows(ServiceRequest, requests)
            insert_rows(ServiceEvent, events)
            requests, events = [], []
    if requests:
        insert_rows(ServiceRequest, requests)
        insert_rows(ServiceEvent, events)
    db.session.commit()
    move_sequences("service_request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    parser.add_argument(
        "--generate", action="store_true", help="build what the large data set lacks first"
    )
    parser.add_argument(
        "--generate-only", action="store_true", help="build the data set, measure nothing"
    )
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    use_database(args.instance, args.database_url)

    from flask_migrate import upgrade
    from sqlalchemy import event, func, select, update

    from portal import create_app
    from portal.accounts.models import CustomerAccount, User
    from portal.extensions import db
    from portal.ideas.models import Idea
    from portal.ordering.models import OrderLine
    from portal.relationship import snapshots
    from portal.relationship.models import Snapshot
    from portal.service.models import ServiceRequest

    app = create_app()
    with app.app_context():
        upgrade()
        if args.generate or args.generate_only:
            started = time.perf_counter()
            build_large_data_set()
            print(f"large data set ready in {time.perf_counter() - started:.0f} s", flush=True)
            if args.generate_only:
                return
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

        def count(model) -> int:
            return db.session.scalar(select(func.count()).select_from(model))

        accounts = count(CustomerAccount)
        print(
            f"{accounts:,} accounts, {count(OrderLine):,} order lines, {count(Idea):,} "
            f"suggestions, {count(ServiceRequest):,} service requests",
            flush=True,
        )

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
            started, started_cpu = time.perf_counter(), time.process_time()
            written = snapshots.refresh(today)
            timings.append(time.perf_counter() - started)
            print(
                f"refresh of {written} accounts: {timings[-1]:.2f} s "
                f"(process time {time.process_time() - started_cpu:.2f} s), "
                f"{len(statements)} SQL statements (target 10 s); load average "
                f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}",
                flush=True,
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
            "portfolio, admin, red only": (
                "admin@vendor.test",
                "/relationship/portfolio?status=red",
                100,
            ),
            "portfolio, admin, last page": (
                "admin@vendor.test",
                "/relationship/portfolio?page=5",
                100,
            ),
            "home, admin": ("admin@vendor.test", "/", 100),
            "portfolio.csv, admin": ("admin@vendor.test", "/relationship/portfolio.csv", None),
        },
        runs=args.runs,
        cpu=True,
    )
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
