"""Forecast accuracy (WAPE, 1 and 3 months ahead, last 12 months) per demo account.

The demo's orders should follow its forecasts the way real ones do: most accounts
within 15–40 % WAPE, one that forecasts badly. This prints what the planners'
accuracy page shows, per account, from the same function it uses.

    PORTAL_INSTANCE_PATH=/tmp/demo .venv/bin/flask db upgrade
    PORTAL_INSTANCE_PATH=/tmp/demo .venv/bin/flask demo load
    PORTAL_INSTANCE_PATH=/tmp/demo .venv/bin/python bench/demo_wape.py
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from portal import create_app
from portal.accounts.models import CustomerAccount, User
from portal.extensions import db, utcnow
from portal.forecasts import planning


def main() -> None:
    logging.disable(logging.INFO)
    app = create_app()
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@vendor.test"))
        today = utcnow().date()
        heads = ("WAPE 1 ahead", "WAPE 3 ahead")
        print(f"{'account':32} {heads[0]:>13} {heads[1]:>13} {'bias 1':>8} {'points':>7}")
        for account in db.session.scalars(select(CustomerAccount).order_by(CustomerAccount.number)):
            figures = planning.account_accuracy(admin, account.id, today).figures
            one, three = figures.total[1], figures.total[3]

            def pct(value):
                return "—" if value is None else f"{value:.0%}"

            print(
                f"{account.number} {account.name:24} {pct(one.wape):>13} {pct(three.wape):>13} "
                f"{pct(one.bias):>8} {one.points:>7}"
            )


if __name__ == "__main__":
    main()
