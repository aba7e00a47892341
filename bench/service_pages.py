"""The service pages alone (bench/service.py's `page_cases`: the queue with each of its
filters, an account's list, request pages, the measures pages, a unit's pages), timed
in-process as signed-in people, of whichever checkout is named: the same data and the
same script for the code before and after a change, run one after the other (alternate
them: the machine is shared). Median and p95 wall time, the median of this process's CPU
time (on PostgreSQL the server's work is not in it), the statements per page and the
load average. Nothing is migrated or written: migrate the data with the newer checkout
first (its bench/service.py, or `flask db upgrade`); the older code reads a newer schema
as well.

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

    from bench.service import page_cases
    from portal import create_app
    from portal.extensions import db
    from portal.service.models import ServiceRequest

    app = create_app()
    with app.app_context():
        engine = db.engine
        requests = db.session.scalar(select(func.count()).select_from(ServiceRequest))
        pages = page_cases(queue_filters=True)
    print(f"{args.checkout}: {requests:,} service requests; load average {os.getloadavg()}")
    time_pages(app, engine, pages, runs=args.runs, cpu=True)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
