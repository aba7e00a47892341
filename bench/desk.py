"""Server-side timings of the order desk and the promise ledger on the large data
set (bench/generate.py: 500 accounts, 1,000,000 order lines over a year).

Runs the app in this process and times requests through Flask's test client
(no network): the desk's inbox (waiting orders, a search, all orders), the
promise ledger for one account and for all 500 over a year (the service call
and the whole page), and the SQL statements each page issues.

    .venv/bin/python bench/desk.py --instance /tmp/portal-big
    .venv/bin/python bench/desk.py --database-url postgresql+psycopg://postgres@127.0.0.1/big
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.terminal import report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    if args.instance:
        os.environ["PORTAL_INSTANCE_PATH"] = args.instance
    if args.database_url:
        os.environ["PORTAL_DATABASE_URL"] = args.database_url

    from sqlalchemy import event, func, select

    from portal import create_app
    from portal.accounts.models import CustomerAccount
    from portal.catalog.models import Product
    from portal.extensions import db
    from portal.fulfilment import ledger
    from portal.ordering.models import Order, OrderLine
    from tests.support import Browserless

    app = create_app()
    with app.app_context():
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
        print(
            f"{db.session.scalar(select(func.count()).select_from(Order)):,} orders, "
            f"{db.session.scalar(select(func.count()).select_from(OrderLine)):,} lines, "
            f"{db.session.scalar(select(func.count()).where(Order.status == 'placed')):,} waiting"
        )
        busiest = db.session.scalar(
            select(Order.account_id).group_by(Order.account_id).order_by(func.count().desc())
        )
        # A SKU that was ordered, searched by its first characters.
        ordered_sku = db.session.scalar(
            select(Product.sku).join(OrderLine, OrderLine.product_id == Product.id).limit(1)
        )
        some_number = db.session.scalar(
            select(Order.number).where(Order.status == "placed").order_by(Order.id.desc())
        )

    staff = Browserless(app.test_client())
    assert staff.login("fulfilment@vendor.test").status_code == 303
    statements: list[int] = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(1))

    def timed(url: str) -> float:
        started = time.perf_counter()
        response = staff.client.get(url)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        return elapsed

    def statements_for(url: str) -> int:
        statements.clear()
        timed(url)
        return len(statements)

    pages = {
        "inbox, waiting orders": "/desk",
        "inbox, search by order number": f"/desk?view=all&q={some_number}",
        "inbox, all orders, one account": f"/desk?view=all&account={busiest}",
        "inbox, search by SKU prefix": f"/desk?view=all&q={ordered_sku[:-1]}",
        "desk order page": f"/desk/orders/{some_number}",
        "ledger page, one account, a year": f"/promises?account={busiest}&months=12",
        "ledger page, all accounts, a year": "/promises?months=12",
    }
    targets = {"ledger page, one account, a year": 100, "ledger page, all accounts, a year": 500}
    for name, url in pages.items():
        for _ in range(3):
            timed(url)
        report(name, [timed(url) for _ in range(30)], targets.get(name, 50))

    today = date.today()
    with app.app_context():
        for name, accounts, target in (
            (
                "ledger(), one account",
                select(CustomerAccount.id).where(CustomerAccount.id == busiest),
                100,
            ),
            ("ledger(), all 500 accounts", select(CustomerAccount.id), 500),
        ):
            timings = []
            for _ in range(30):
                started = time.perf_counter()
                result = ledger.ledger(
                    accounts, start=today - timedelta(days=365), end=today, today=today
                )
                timings.append(time.perf_counter() - started)
                db.session.rollback()
            report(name, timings, target)
        print(
            f"  all accounts: {result.total.lines:,} lines measured, "
            f"on time in full {result.total.share('on_time_in_full'):.1%}"
        )

    print("SQL statements per page:")
    for name, url in pages.items():
        print(f"  {name:40} {statements_for(url)}")


if __name__ == "__main__":
    main()
