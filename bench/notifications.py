"""The notification list (50 to a page) rendered when read, in English and Indonesian,
against rows that only show their stored text (what every row was before 0030), in-process.

Three readers of one account each hold the same 50 notifications of mixed kinds (amounts,
dates, labels, variants): one reads them in English, one in Indonesian, one has them as
text-only rows. The pages are read turn about, so a shared machine's load falls on all
three alike; the report gives wall time and this process's CPU time (time.process_time)
per page, medians, and the load average.

    .venv/bin/python bench/notifications.py --runs 200
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

READERS = {"en": "buyer@acme.test", "id": "admin@acme.test", "text only": "approver@acme.test"}
PER_PAGE = 50


def sample(n: int):
    """The n-th notification of the sample: (kind, params), a mix of the common kinds."""
    from portal.fulfilment.models import CHANGE_REASONS
    from portal.notifications import messages

    number = f"2026-{n:06d}"
    day = date(2026, 12, 1) + timedelta(days=n % 30)
    return [
        (
            "order_placed",
            {
                "number": number,
                "account": "Acme Industrial",
                "lines": 3,
                "total": messages.money(Decimal("1234.50") * n, "EUR"),
            },
        ),
        ("order_confirmed", {"number": number, "date": day}),
        (
            "promise_changed",
            {
                "number": number,
                "line": 2,
                "sku": "BRK-1",
                "date": day,
                "before": day - timedelta(days=3),
                "reason": CHANGE_REASONS["transport"],
            },
        ),
        ("order_shipped", {"number": number, "quantity": 12, "date": day, "carrier": "DHL"}),
        (
            "service_status",
            {"variant": "waiting", "reference": f"SR-{n:05d}", "title": "Pump leaks"},
        ),
    ][n % 5]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    logging.disable(logging.INFO)

    from flask_migrate import upgrade
    from sqlalchemy import select, update

    from portal import create_app, demo
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.notifications import service
    from portal.notifications.models import Notification
    from tests.support import Browserless, make_test_config

    folder = tempfile.mkdtemp(prefix="portal-notifications-")
    app = create_app(make_test_config(f"sqlite:///{folder}/bench.sqlite3"))
    with app.app_context():
        upgrade()
        demo.load_people()
        db.session.commit()
        people = {
            language: db.session.scalar(select(User).where(User.email == email))
            for language, email in READERS.items()
        }
        people["en"].language, people["id"].language = "en", "id"
        people["text only"].language = "en"
        for n in range(PER_PAGE):
            kind, params = sample(n)
            service.notify(list(people.values()), kind, params, "/orders")
        db.session.commit()
        # The text-only reader's rows lose their parameters: rows from before 0030.
        db.session.execute(
            update(Notification)
            .where(Notification.user_id == people["text only"].id)
            .values(params=None)
        )
        db.session.commit()

    clients = {}
    for language, email in READERS.items():
        client = Browserless(app.test_client())
        client.post("/login", {"email": email, "password": demo.DEMO_PASSWORD})
        assert client.get("/notifications").status_code == 200
        clients[language] = client

    wall = {language: [] for language in READERS}
    cpu = {language: [] for language in READERS}
    for _ in range(args.runs):
        for language, client in clients.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get("/notifications")
            wall[language].append(time.perf_counter() - started)
            cpu[language].append(time.process_time() - started_cpu)
            assert response.status_code == 200
    load = os.getloadavg()
    print(
        f"GET /notifications, {PER_PAGE} rows, {args.runs} runs each, turn about; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    base = statistics.median(cpu["text only"])
    for language in READERS:
        w, c = statistics.median(wall[language]), statistics.median(cpu[language])
        print(
            f"  {language:10} wall {w * 1000:7.2f} ms   cpu {c * 1000:7.2f} ms   "
            f"cpu vs text only {c / base:5.2f}"
        )


if __name__ == "__main__":
    main()
