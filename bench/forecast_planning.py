"""The planners' pages at scale: 200 accounts and 2,000 products, each account
forecasting 150 of them over 18 months in 6 published versions (about 3.2 million
cells), with a year of orders; then, in-process, median timings and SQL statements of
demand across accounts for one month, the waterfall of one product (all accounts and
one), and one account's accuracy over a year (vendor and customer).

    .venv/bin/python bench/forecast_planning.py                  # a new SQLite file in /tmp
    .venv/bin/python bench/forecast_planning.py --instance /tmp/portal-fcplan   # reuse it
    .venv/bin/python bench/forecast_planning.py --database-url postgresql+psycopg://postgres@127.0.0.1/fcplan

The data are generated when the database has no forecast versions yet (bulk inserts;
COPY on PostgreSQL). Targets: demand 300 ms, waterfall 100 ms, accuracy 200 ms.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNTS = 200
PRODUCTS = 2_000
PER_ACCOUNT = 150
MONTHS = 18
PUBLISHED_MONTHS_AGO = (15, 12, 9, 6, 3, 1)
ORDER_LINES_PER_MONTH = 30
BATCH = 50_000
TARGETS = {"demand": 300, "waterfall": 100, "accuracy": 200}


def _copy_or_insert(table, columns: tuple[str, ...], rows) -> int:
    """Bulk-load rows (tuples in `columns` order): COPY on PostgreSQL, executemany else."""
    from sqlalchemy import insert

    from portal.extensions import db

    connection = db.session.connection()
    count = 0
    if connection.dialect.name == "postgresql":
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY {table.__tablename__} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    batch = []
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) == BATCH:
            connection.execute(insert(table), batch)
            count += len(batch)
            batch = []
    if batch:
        connection.execute(insert(table), batch)
        count += len(batch)
    return count


def generate(rng: random.Random, today: date) -> None:
    from sqlalchemy import func, insert, select

    from portal import demo
    from portal.accounts.models import CustomerAccount, User
    from portal.catalog.models import Category, Product, Stock
    from portal.extensions import db
    from portal.forecasts.models import ForecastCell, ForecastVersion
    from portal.forecasts.months import add_months, first_of_month
    from portal.ordering.models import Order, OrderLine

    step = time.perf_counter()

    def lap(what: str) -> None:
        nonlocal step
        print(f"  {what}: {time.perf_counter() - step:.1f} s", flush=True)
        step = time.perf_counter()

    if not demo.is_loaded():
        demo.load_people()
        db.session.commit()
    category = Category(name="Planning bench")
    db.session.add(category)
    db.session.flush()
    db.session.execute(
        insert(Product),
        [
            {
                "sku": f"PLB-{n:05d}",
                "sku_key": f"PLB-{n:05d}",
                "name": f"Planning bench part {n}",
                "category_id": category.id,
                "list_price": Decimal("10.00"),
                "lead_time_days": rng.choice((3, 7, 14, 28, 42, 90)),
            }
            for n in range(PRODUCTS)
        ],
    )
    products = list(
        db.session.scalars(select(Product.id).where(Product.category_id == category.id))
    )
    db.session.execute(
        insert(Stock),
        [
            {"product_id": pid, "on_hand": rng.randint(0, 400) * 10, "reserved": 0}
            for pid in products
        ],  # fmt: skip
    )
    have = db.session.scalar(select(func.count()).select_from(CustomerAccount))
    db.session.execute(
        insert(CustomerAccount),
        [
            {
                "number": f"P-{n:05d}",
                "name": f"Planning Customer {n:03d}",
                "created_at": datetime.now(UTC),
            }
            for n in range(ACCOUNTS - have)
        ],  # fmt: skip
    )
    accounts = list(db.session.scalars(select(CustomerAccount.id).order_by(CustomerAccount.id)))
    buyer = db.session.scalar(select(User.id).where(User.email == "buyer@acme.test"))
    db.session.commit()
    lap(f"{len(products):,} products, {len(accounts)} accounts")

    this_month = first_of_month(today)
    next_version = (db.session.scalar(select(func.max(ForecastVersion.id))) or 0) + 1
    versions, plans = [], {}
    for account_id in accounts:
        chosen = rng.sample(products, PER_ACCOUNT)
        level = {pid: rng.randint(5, 400) for pid in chosen}
        plans[account_id] = level
        for number, ago in enumerate(PUBLISHED_MONTHS_AGO, start=1):
            first = add_months(this_month, -ago)
            at = datetime.combine(first + timedelta(days=rng.randint(2, 20)), datetime.min.time(),
                                  UTC) + timedelta(hours=rng.randint(8, 16))  # fmt: skip
            versions.append(
                {
                    "id": next_version,
                    "account_id": account_id,
                    "number": number,
                    "first_month": first,
                    "horizon_months": MONTHS,
                    "created_by_id": buyer,
                    "created_at": at - timedelta(days=1),
                    "published_by_id": buyer,
                    "published_at": at,
                    "comment": "",
                    "cells_changed": 0,
                    "total_quantity": 0,
                }
            )
            next_version += 1
    db.session.execute(insert(ForecastVersion), versions)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            db.text(
                "SELECT setval('forecast_version_id_seq', (SELECT max(id) FROM forecast_version))"
            )
        )
    db.session.commit()

    def cells():
        for version in versions:
            level = plans[version["account_id"]]
            for pid in sorted(level):
                for n in range(MONTHS):
                    month = add_months(version["first_month"], n)
                    yield (version["id"], pid, month, version["account_id"],
                           max(0, round(level[pid] * rng.uniform(0.7, 1.3))))  # fmt: skip

    count = _copy_or_insert(
        ForecastCell, ("version_id", "product_id", "month", "account_id", "quantity"), cells()
    )
    db.session.commit()
    lap(f"{len(versions):,} versions, {count:,} cells")

    orders, lines = [], []
    next_order = (db.session.scalar(select(func.max(Order.id))) or 0) + 1
    for account_id, level in plans.items():
        for ago in range(13, 0, -1):
            month = add_months(this_month, -ago)
            placed = datetime.combine(month + timedelta(days=rng.randint(0, 25)),
                                      datetime.min.time(), UTC) + timedelta(hours=10)  # fmt: skip
            status = "rejected" if rng.random() < 0.03 else "delivered"
            orders.append(
                {
                    "id": next_order,
                    "number": f"PB-{next_order:08d}",
                    "account_id": account_id,
                    "placed_by_id": buyer,
                    "status": status,
                    "po_number": f"PO-{next_order}",
                    "ship_to_text": "Road 1, Town",
                    "total": Decimal("0"),
                    "currency": "EUR",
                    "idempotency_key": f"plb-{next_order}",
                    "placed_at": placed,
                }
            )
            for line_no, pid in enumerate(rng.sample(sorted(level), ORDER_LINES_PER_MONTH), 1):
                quantity = max(1, round(level[pid] * rng.uniform(0.6, 1.4)))
                lines.append(
                    {
                        "order_id": next_order,
                        "line_no": line_no,
                        "product_id": pid,
                        "sku": f"PLB-{pid}",
                        "name": "Planning bench part",
                        "unit": "pc",
                        "quantity": quantity,
                        "unit_price": Decimal("10.00"),
                        "line_total": Decimal(quantity * 10),
                        "estimated_ship_date": placed.date(),
                        "status": "cancelled" if rng.random() < 0.02 else "confirmed",
                    }
                )
            next_order += 1
    db.session.execute(insert(Order), orders)
    for start in range(0, len(lines), BATCH):
        db.session.execute(insert(OrderLine), lines[start : start + BATCH])
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            db.text("SELECT setval('customer_order_id_seq', (SELECT max(id) FROM customer_order))")
        )
    db.session.commit()
    lap(f"{len(orders):,} orders, {len(lines):,} lines")
    # Fresh statistics, as after any bulk load, so the query planner knows the tables.
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE")
    else:
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
    lap("statistics")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    from bench.pages import time_pages, use_database

    use_database(args.instance, args.database_url, "portal-fcplan-")

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from portal import create_app
    from portal.accounts.models import CustomerAccount
    from portal.extensions import db
    from portal.forecasts.models import ForecastCell, ForecastVersion
    from portal.forecasts.months import add_months, first_of_month, month_label

    app = create_app()
    today = date.today()
    with app.app_context():
        upgrade()
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
        if not db.session.scalar(select(func.count()).select_from(ForecastVersion)):
            started = time.perf_counter()
            generate(random.Random(5), today)
            print(f"generated in {time.perf_counter() - started:.0f} s")
        cells = db.session.scalar(select(func.count()).select_from(ForecastCell))
        print(f"{cells:,} forecast cells")
        acme = db.session.scalar(
            select(CustomerAccount.id).where(CustomerAccount.number == "C-10001")
        )
        # The product most accounts forecast: the widest waterfall.
        busiest = db.session.scalar(
            select(ForecastCell.product_id)
            .join(ForecastVersion, ForecastVersion.id == ForecastCell.version_id)
            .where(ForecastVersion.number == 1, ForecastCell.month == ForecastVersion.first_month)
            .group_by(ForecastCell.product_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        one_of_them = db.session.scalar(
            select(ForecastCell.account_id).where(ForecastCell.product_id == busiest).limit(1)
        )
        engine = db.engine

    next_month = month_label(add_months(first_of_month(today), 1))
    waterfall = f"/forecasts/planning/products/{busiest}/waterfall"
    pages = {
        "demand, next month": ("demand", "planner@vendor.test",
                               f"/forecasts/planning/demand?month={next_month}"),
        "demand, by SKU, page 3": ("demand", "planner@vendor.test",
                                   f"/forecasts/planning/demand?month={next_month}&sort=sku&page=3"),
        "demand, only short": ("demand", "planner@vendor.test",
                               f"/forecasts/planning/demand?month={next_month}&short=1"),
        "waterfall, all accounts": ("waterfall", "planner@vendor.test", waterfall),
        "waterfall, one account": ("waterfall", "planner@vendor.test",
                                   f"{waterfall}?account={one_of_them}"),
        "accuracy, one account (vendor)": ("accuracy", "planner@vendor.test",
                                           f"/forecasts/planning/accuracy?account={acme}"),
        "accuracy, own account (customer)": ("accuracy", "buyer@acme.test",
                                             "/forecasts/accuracy"),
    }  # fmt: skip
    time_pages(
        app,
        engine,
        {name: (email, url, TARGETS[kind]) for name, (kind, email, url) in pages.items()},
        runs=args.runs,
    )


if __name__ == "__main__":
    main()
