"""Service requests at scale: the promise clock's due-state of 10,000 open requests, the
service measures for all accounts, the queue, an account's list and a request page, with
the SQL statements each costs. Targets (issue "After the sale"): pages under 50 ms,
measures for all accounts under 300 ms, the due-state of 10,000 open requests under 1 s.

Runs on the large data set of bench/generate.py. --generate first adds (bulk inserts)
100,000 service requests over the last year (bench/relationship.py's, unless they are
there already), open ones up to 10,000 in the last 30 days, and events up to 1,000,000
(handovers and priority changes beside the clock's own), 50,000 equipment units
(bench/equipment.py's generator) with half of the requests about one of their
account's units, then writes every resolved request's kept final answer with the
backfill of migration 0022 (timed). Every run first does what the schedule's
`keep_service_clocks` would have done within five minutes (keeps the open requests'
clock answers; timed), and checks that the measures equal the clock's over every
request before timing them. A unit's page is timed beside the service pages.

    .venv/bin/python bench/service.py --instance /tmp/portal-big --generate
    .venv/bin/python bench/service.py --database-url postgresql+psycopg://postgres@127.0.0.1/big
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import time_pages, use_database  # noqa: E402
from bench.terminal import report  # noqa: E402

REQUESTS = 100_000
OPEN = 10_000
EVENTS = 1_000_000
UNITS = 50_000
BATCH = 10_000


def link_units(rng: random.Random, units: list[dict]) -> int:
    """Make every other request about one of its account's units, so a unit's page
    has a service history and the requests' lists carry their units."""
    from sqlalchemy import bindparam, select, update

    from portal.extensions import db
    from portal.service.models import ServiceRequest

    by_account: dict[int, list[dict]] = {}
    for unit in units:
        by_account.setdefault(unit["account_id"], []).append(unit)
    rows = db.session.execute(
        select(ServiceRequest.id, ServiceRequest.account_id).where(
            ServiceRequest.equipment_id.is_(None), ServiceRequest.id % 2 == 0
        )
    ).all()
    changes = []
    for request_id, account_id in rows:
        if by_account.get(account_id):
            unit = rng.choice(by_account[account_id])
            changes.append({"rid": request_id, "unit": unit["id"], "product": unit["product_id"]})
    statement = (
        update(ServiceRequest)
        .where(ServiceRequest.id == bindparam("rid"))
        .values(equipment_id=bindparam("unit"), product_id=bindparam("product"))
    )
    connection = db.session.connection()
    for i in range(0, len(changes), BATCH):
        connection.execute(statement, changes[i : i + BATCH])
    db.session.commit()
    return len(changes)


def add_open_requests(rng: random.Random, count: int) -> None:
    """Open requests of the last 30 days in every open status, with their clock's events."""
    from sqlalchemy import func, insert, select

    from portal.accounts.models import CustomerAccount, User
    from portal.extensions import db
    from portal.service.models import ServiceEvent, ServiceRequest

    accounts = list(db.session.scalars(select(CustomerAccount.id)))
    opener = db.session.scalar(select(User.id).where(User.email == "buyer@acme.test"))
    now = datetime.now(UTC)
    next_id = (db.session.scalar(select(func.max(ServiceRequest.id))) or 0) + 1
    requests, events = [], []
    for n in range(count):
        rid = next_id + n
        opened = now - timedelta(minutes=rng.randint(10, 30 * 24 * 60))
        status = rng.choice(["new", "acknowledged", "in_progress", "in_progress", "waiting"])
        answered = opened + timedelta(minutes=rng.randint(5, 600))
        answered = answered if status != "new" and answered < now else None
        requests.append(
            {
                "id": rid,
                "account_id": rng.choice(accounts),
                "kind": rng.choice(["repair", "maintenance", "complaint_delivery", "application"]),
                "priority": rng.choice(["low", "normal", "normal", "high", "urgent"]),
                "title": f"Open request {rid}",
                "description": "",
                "status": status,
                "opened_by_id": opener,
                "on_behalf": False,
                "opened_at": opened,
                "first_response_at": answered,
                "resolution": "",
                "satisfaction_comment": "",
                "last_activity_at": answered or opened,
            }
        )
        events.append({"request_id": rid, "at": opened, "kind": "opened"})
        if answered is not None:
            events.append({"request_id": rid, "at": answered, "kind": "first_response"})
            events.append({"request_id": rid, "at": answered, "kind": "status",
                           "before": "new", "after": status})  # fmt: skip
        if len(requests) >= BATCH:
            db.session.execute(insert(ServiceRequest), requests)
            db.session.execute(insert(ServiceEvent), events)
            requests, events = [], []
    if requests:
        db.session.execute(insert(ServiceRequest), requests)
        db.session.execute(insert(ServiceEvent), events)
    db.session.commit()


def pad_events(rng: random.Random, count: int) -> None:
    """Events the clock does not read (handovers, priority changes), so the clock's
    reads find theirs among a million."""
    from sqlalchemy import func, insert, select

    from portal.extensions import db
    from portal.service.models import ServiceEvent, ServiceRequest

    low, high = db.session.execute(
        select(func.min(ServiceRequest.id), func.max(ServiceRequest.id))
    ).one()
    now = datetime.now(UTC)
    rows = []
    for _ in range(count):
        rows.append(
            {
                "request_id": rng.randint(low, high),
                "at": now - timedelta(minutes=rng.randint(1, 365 * 24 * 60)),
                "kind": rng.choice(["owner", "priority"]),
                "before": None,
                "after": None,
            }
        )
        if len(rows) >= BATCH:
            db.session.execute(insert(ServiceEvent), rows)
            rows = []
    if rows:
        db.session.execute(insert(ServiceEvent), rows)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    parser.add_argument("--generate", action="store_true")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--skip-pages", action="store_true", help="only the in-process timings")
    args = parser.parse_args()
    use_database(args.instance, args.database_url)

    from flask_migrate import upgrade
    from sqlalchemy import event, func, select

    from bench.equipment import add_units
    from bench.relationship import add_service_requests
    from portal import create_app
    from portal.equipment.models import EquipmentUnit
    from portal.extensions import db
    from portal.service import measures, promises
    from portal.service.models import OPEN_STATUSES, ServiceEvent, ServiceRequest

    app = create_app()
    with app.app_context():
        upgrade()

        def count(model, *where):
            return db.session.scalar(select(func.count()).select_from(model).where(*where))

        if args.generate:
            rng = random.Random(13)
            started = time.perf_counter()
            have = count(ServiceRequest)
            opened = count(ServiceRequest, ServiceRequest.status.in_(OPEN_STATUSES))
            if have < REQUESTS - OPEN:
                add_service_requests(rng, REQUESTS - OPEN - have)
                opened = count(ServiceRequest, ServiceRequest.status.in_(OPEN_STATUSES))
            if opened < OPEN:
                add_open_requests(rng, OPEN - opened)
            if (events := count(ServiceEvent)) < EVENTS:
                pad_events(rng, EVENTS - events)
            if (units := count(EquipmentUnit)) < UNITS:
                linked = link_units(rng, add_units(rng, UNITS - units))
                print(f"{UNITS - units:,} units added, {linked:,} requests about one of them")
            print(f"generated in {time.perf_counter() - started:.0f} s")
            started = time.perf_counter()
            written = promises.record_outcomes()
            db.session.commit()
            print(
                f"backfill of kept answers (migration 0022's code): {written:,} final "
                f"requests in {time.perf_counter() - started:.1f} s"
            )
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.exec_driver_sql("ANALYZE")
            else:
                db.session.execute(db.text("ANALYZE"))
                db.session.commit()
        open_ids = count(ServiceRequest, ServiceRequest.status.in_(OPEN_STATUSES))
        print(
            f"{count(ServiceRequest):,} service requests ({open_ids:,} open), "
            f"{count(ServiceEvent):,} events, {count(EquipmentUnit):,} equipment units"
        )

        statements: list[int] = []
        event.listen(db.engine, "before_cursor_execute", lambda *_: statements.append(1))

        def load() -> str:
            return " ".join(f"{x:.1f}" for x in os.getloadavg())

        def once(name, work):
            started, started_cpu = time.perf_counter(), time.process_time()
            result = work()
            print(
                f"  {name}: {(time.perf_counter() - started) * 1000:,.0f} ms, process time "
                f"{(time.process_time() - started_cpu) * 1000:,.0f} ms; load average {load()}"
            )
            return result

        # What the schedule's keep_service_clocks does every five minutes: keep the answer
        # of the open requests whose kept one is missing, ran out or predates an event.
        now = datetime.now(UTC)
        looked = once("keep_service_clocks", lambda: promises.keep_open_clocks(now))
        print(f"    {looked:,} open requests looked at")
        looked = once("keep_service_clocks again", lambda: promises.keep_open_clocks(now))
        print(f"    {looked:,} open requests looked at (none changed since)")

        def by_clock(start):
            """The measures with every request's clock run (no kept answer read)."""
            rows = db.session.execute(
                select(ServiceRequest.id, ServiceRequest.account_id, ServiceRequest.priority,
                       ServiceRequest.opened_at, ServiceRequest.status,
                       ServiceRequest.satisfied).where(ServiceRequest.opened_at >= start)
            ).all()  # fmt: skip
            states = promises.promises_for(rows, now)
            return measures.measure(measures.record_of(row, states[row.id]) for row in rows)

        def figures(m):
            # The hours in order: the lists are gathered per account as read, in row order
            # by the clock; medians and percentiles do not depend on the order.
            return replace(m, response_hours=sorted(m.response_hours),
                           resolution_hours=sorted(m.resolution_hours))  # fmt: skip

        start = now - timedelta(days=90)
        full = once("measures, 90 days, every clock run", lambda: by_clock(start))
        read = measures.measures_for(select(ServiceRequest), start, now).total
        assert figures(read) == figures(full), "the measures differ from the clock's"
        print(f"    equal to the measures as read ({full.requests:,} requests)")

        def timed(name, work, target_ms, runs=5):
            timings, cpu = [], []
            for _ in range(runs):
                db.session.expire_all()
                statements.clear()
                started, started_cpu = time.perf_counter(), time.process_time()
                work()
                timings.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
            report(name, timings, target_ms)
            # This process's CPU time: on a shared machine the wall time also counts the
            # waits for a core; on SQLite the database's work is in it, on PostgreSQL not.
            print(
                f"  {name}: {len(statements)} SQL statements, "
                f"process time median {statistics.median(cpu) * 1000:.0f} ms; "
                f"load average {load()}"
            )

        lean = (ServiceRequest.id, ServiceRequest.account_id, ServiceRequest.priority,
                ServiceRequest.opened_at)  # fmt: skip

        def due_state():
            rows = db.session.execute(
                select(*lean)
                .where(ServiceRequest.status.in_(OPEN_STATUSES))
                .order_by(ServiceRequest.id)
                .limit(OPEN)
            ).all()
            assert len(rows) == min(OPEN, open_ids)
            promises.promises_for(rows, now)

        timed(f"due-state of {min(OPEN, open_ids):,} open requests", due_state, 1000)
        for days in (90, 365):
            start = now - timedelta(days=days)
            timed(
                f"measures, all accounts, {days} days",
                lambda start=start: measures.measures_for(select(ServiceRequest), start, now),
                300,
            )
        engine = db.engine
        pages = page_cases()

    if args.skip_pages:
        return
    time_pages(
        app,
        engine,
        pages,
        runs=args.runs,
        cpu=True,
    )


def page_cases(*, queue_filters: bool = False) -> dict:
    """The service pages timed, name -> (person, url, target in ms), read in an app
    context on the large data set: the queue (with `queue_filters`, each of its filters),
    an account's list, an open and a closed request, the measures pages and a unit's
    pages. bench/service_pages.py times the same pages alone."""
    from sqlalchemy import func, select

    from portal.accounts.models import User
    from portal.extensions import db
    from portal.service.models import OPEN_STATUSES, ServiceRequest

    some_open = db.session.scalar(
        select(ServiceRequest.id)
        .where(ServiceRequest.status.in_(OPEN_STATUSES))
        .order_by(ServiceRequest.id.desc())
    )
    some_closed = db.session.scalar(
        select(ServiceRequest.id).where(ServiceRequest.status == "closed")
    )
    # Acme's unit with the longest service history.
    acme = db.session.scalar(select(User.account_id).where(User.email == "buyer@acme.test"))
    busiest_unit = db.session.scalar(
        select(ServiceRequest.equipment_id)
        .where(ServiceRequest.account_id == acme, ServiceRequest.equipment_id.is_not(None))
        .group_by(ServiceRequest.equipment_id)
        .order_by(func.count().desc(), ServiceRequest.equipment_id)
        .limit(1)
    )
    service, buyer = "service@vendor.test", "buyer@acme.test"
    queue = {"queue (service)": (service, "/service", 50)}
    if queue_filters:
        queue |= {
            f"queue, {name}": (service, f"/service?{query}", 50)
            for name, query in (
                ("all statuses", "status=all"),
                ("urgent", "priority=urgent"),
                ("low", "priority=low"),
                ("closed", "status=closed"),
                ("nobody's", "owner=nobody"),
            )
        }
    else:
        queue["queue, all statuses"] = (service, "/service?status=all", 50)
    return queue | {
        "an account's list (buyer)": (buyer, "/service", 50),
        "a request page, open": (service, f"/service/{some_open}", 50),
        "a request page, closed": (service, f"/service/{some_closed}", 50),
        "measures page, vendor, 90 days": (service, "/service/measures", 300),
        "measures page, buyer": (buyer, "/service/measures", 300),
        "a unit's page (buyer)": (buyer, f"/equipment/{busiest_unit}", 50),
        "a unit's page (service)": (service, f"/equipment/{busiest_unit}", 50),
        "equipment by site (buyer)": (buyer, "/equipment", 50),
    }


if __name__ == "__main__":
    main()
