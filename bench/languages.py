"""The order path (quick order, cart, checkout, order list, one order) in English and
in Indonesian, in-process.

Translations and Babel's formats must cost no more than 10 % over English. Loads the
demo into a temporary instance (or uses --instance / --database-url), then reads each
page as the demo buyer with `language` set to each language in turn.

    .venv/bin/python bench/languages.py --runs 60
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import time_pages, use_database  # noqa: E402

BUYER = "buyer@acme.test"
PAGES = {
    "quick order": "/order",
    "cart": "/cart",
    "checkout": "/checkout",
    "order list": "/orders",
    "order page": "/orders/{newest}",
}
CART_LINES = 5  # the cart the cart page and the checkout show


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    use_database(args.instance, args.database_url, temp_prefix="portal-languages-")

    from flask_migrate import upgrade
    from sqlalchemy import select

    from portal import create_app, demo
    from portal.accounts.models import User
    from portal.catalog.models import Product
    from portal.extensions import db
    from portal.ordering import service as ordering
    from portal.ordering.models import CartLine, Order

    app = create_app()
    with app.app_context():
        upgrade()
        if db.session.scalar(select(User).where(User.email == BUYER)) is None:
            demo.load()
        buyer = db.session.scalar(select(User).where(User.email == BUYER))
        if db.session.scalar(select(CartLine.id).where(CartLine.user_id == buyer.id)) is None:
            products = db.session.scalars(
                select(Product.id)
                .where(Product.status == "active", Product.min_order_qty == 1)
                .where(Product.order_multiple == 1)
                .order_by(Product.sku)
                .limit(CART_LINES)
            ).all()
            ordering.add_to_cart(buyer, [(product, 3) for product in products])
            db.session.commit()
        # The buyer's newest order: the one a buyer opens after checkout.
        newest = db.session.scalar(
            select(Order.number)
            .where(Order.account_id == buyer.account_id)
            .order_by(Order.id.desc())
            .limit(1)
        )
    for language in ("en", "id"):
        with app.app_context():
            db.session.scalar(select(User).where(User.email == BUYER)).language = language
            db.session.commit()
            engine = db.engine
        print(f"--- {language}")
        time_pages(
            app,
            engine,
            {
                f"{name} ({language})": (BUYER, url.format(newest=newest), None)
                for name, url in PAGES.items()
            },
            runs=args.runs,
        )


if __name__ == "__main__":
    main()
