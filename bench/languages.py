"""The order path (quick order, cart, checkout, order list, one order) in English and
in Indonesian, in-process.

Translations and Babel's formats must cost no more than 10 % over English. Loads the
demo into a temporary instance (or uses --instance / --database-url), then reads each
page as two buyers of one account with the same cart, one reading English and one
Indonesian. The two are read turn about, request by request, so that the load of a
shared machine falls on both languages alike; the report gives each one's median and
the median of the paired ratios (Indonesian / English).

    .venv/bin/python bench/languages.py --runs 60
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import use_database  # noqa: E402
from bench.terminal import report  # noqa: E402

# Two buyers of Acme: the same pages, the same account's orders, each their own cart.
READERS = {"en": "buyer@acme.test", "id": "admin@acme.test"}
PAGES = {
    "quick order": "/order",
    "cart": "/cart",
    "checkout": "/checkout",
    "order list": "/orders",
    "order page": "/orders/{newest}",
}
CART_LINES = 5  # the cart the cart page and the checkout show
LIMIT = 1.10  # Indonesian may cost at most 10 % more than English


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    use_database(args.instance, args.database_url, temp_prefix="portal-languages-")

    from flask_migrate import upgrade
    from sqlalchemy import event, select

    from portal import create_app, demo
    from portal.accounts.models import User
    from portal.catalog.models import Product
    from portal.extensions import db
    from portal.ordering import service as ordering
    from portal.ordering.models import CartLine, Order
    from tests.support import Browserless

    app = create_app()
    logging.getLogger("portal.request").setLevel(logging.WARNING)  # a line per request
    with app.app_context():
        upgrade()
        if db.session.scalar(select(User).where(User.email == READERS["en"])) is None:
            demo.load()
        products = db.session.scalars(
            select(Product.id)
            .where(Product.status == "active", Product.min_order_qty == 1)
            .where(Product.order_multiple == 1)
            .order_by(Product.sku)
            .limit(CART_LINES)
        ).all()
        for language, email in READERS.items():
            reader = db.session.scalar(select(User).where(User.email == email))
            reader.language = language
            db.session.execute(CartLine.__table__.delete().where(CartLine.user_id == reader.id))
            ordering.add_to_cart(reader, [(product, 3) for product in products])
        db.session.commit()
        # The account's newest order: the one a buyer opens after checkout.
        newest = db.session.scalar(
            select(Order.number)
            .where(Order.account_id == reader.account_id)
            .order_by(Order.id.desc())
            .limit(1)
        )
        engine = db.engine

    people = {}
    for language, email in READERS.items():
        people[language] = Browserless(app.test_client())
        assert people[language].login(email).status_code == 303

    def timed(language: str, url: str) -> float:
        started = time.perf_counter()
        response = people[language].client.get(url)
        assert response.status_code == 200, (url, language, response.status_code)
        return time.perf_counter() - started

    for name, path in PAGES.items():
        url = path.format(newest=newest)
        for _ in range(2):
            timed("en", url), timed("id", url)
        times = {"en": [], "id": []}
        for run in range(args.runs):
            # Turn about, each language first every other time.
            for language in ("en", "id") if run % 2 == 0 else ("id", "en"):
                times[language].append(timed(language, url))
        for language in ("en", "id"):
            report(f"{name} ({language})", times[language])
        ratio = statistics.median(i / e for e, i in zip(times["en"], times["id"], strict=True))
        verdict = "ok" if ratio <= LIMIT else "OVER 10 %"
        print(f"{name:34} id/en  {ratio:5.2f} (median of paired ratios)  {verdict}")

    statements: list[int] = []
    event.listen(engine, "before_cursor_execute", lambda *_: statements.append(1))
    print("SQL statements per page (en, id):")
    for name, path in PAGES.items():
        counts = []
        for language in ("en", "id"):
            statements.clear()
            timed(language, path.format(newest=newest))
            counts.append(len(statements))
        print(f"  {name:32} {counts[0]:3} {counts[1]:3}")


if __name__ == "__main__":
    main()
