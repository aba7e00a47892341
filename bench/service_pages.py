"""The service pages alone (the queue and its filters, an account's list, a request
page), timed in-process as signed-in people, of whichever checkout is named: the same
data and the same script for the code before and after a change, run one after the
other (alternate them: the machine is shared). Median and p95 wall time, the median of
this process's CPU time (on PostgreSQL the server's work is not in it), the statements
per page and the load average. Nothing is migrated or written: migrate the data with
the newer checkout first (its bench/service.py, or `flask db upgrade`); the older
code reads a newer schema as well.

    .venv/bin/python bench/service_pages.py /work/main --instance /tmp/portal-big
    .venv/bin/python bench/service_pages.py . \\
        --database-url postgresql+psycopg://postgres@127.0.0.1/big --runs 20
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", help="the Portal checkout whose code is timed")
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.checkout).resolve()))

    from bench.pages import time_pages, use_database

    use_database(args.instance, args.database_url)

    from sqlalchemy import func, select

    from portal import create_app
    from portal.extensions import db
    from portal.service.models import OPEN_STATUSES, ServiceRequest

    app = create_app()
    with app.app_context():
        engine = db.engine
        requests = db.session.scalar(select(func.count()).select_from(ServiceRequest))
        some_open = db.session.scalar(
            select(ServiceRequest.id)
            .where(ServiceRequest.status.in_(OPEN_STATUSES))
            .order_by(ServiceRequest.id.desc())
        )
        some_closed = db.session.scalar(
            select(ServiceRequest.id).where(ServiceRequest.status == "closed")
        )
    print(f"{args.checkout}: {requests:,} service requests; load average {os.getloadavg()}")
    service = "service@vendor.test"
    time_pages(
        app,
        engine,
        {
            "queue (service)": (service, "/service", 50),
            "queue, all statuses": (service, "/service?status=all", 50),
            "queue, urgent": (service, "/service?priority=urgent", 50),
            "queue, low": (service, "/service?priority=low", 50),
            "queue, closed": (service, "/service?status=closed", 50),
            "queue, nobody's": (service, "/service?owner=nobody", 50),
            "an account's list (buyer)": ("buyer@acme.test", "/service", 50),
            "a request page, open": (service, f"/service/{some_open}", 50),
            "a request page, closed": (service, f"/service/{some_closed}", 50),
        },
        runs=args.runs,
        cpu=True,
    )
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
