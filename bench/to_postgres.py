"""Copy a benchmark data set from SQLite to a new PostgreSQL database with COPY.

Generating the large data set on PostgreSQL with the generators' ORM bulk inserts took
longer than 30 minutes on a loaded machine (bench/service.md); generating it once on
SQLite and copying it over takes minutes, and both databases then hold the same rows,
so their figures compare. The schema comes from the migrations (`upgrade`), whatever
they seed is emptied, every table of the models is streamed from SQLite and written
with psycopg's COPY (foreign-key triggers off during the copy: the source is
consistent, and the tables' order need not respect cycles), then the id sequences are
moved past the copied ids and the tables analysed.

    .venv/bin/python bench/generate.py --instance /tmp/portal-big
    .venv/bin/python bench/service.py --instance /tmp/portal-big --generate
    .venv/bin/python bench/to_postgres.py --instance /tmp/portal-big \
        --database-url postgresql+psycopg://postgres@127.0.0.1/big
    .venv/bin/python bench/service.py --database-url postgresql+psycopg://postgres@127.0.0.1/big
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHUNK = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", required=True, help="instance folder of the SQLite data set")
    parser.add_argument("--database-url", required=True, help="a new PostgreSQL database")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        metavar="TABLE",
        help="tables left empty (order_event: 2.8 million rows bench/service.py never reads)",
    )
    args = parser.parse_args()
    source_file = Path(args.instance) / "portal.sqlite3"
    if not source_file.exists():
        raise SystemExit(f"No SQLite database at {source_file}.")
    os.environ["PORTAL_DATABASE_URL"] = args.database_url

    import sqlalchemy as sa
    from flask_migrate import upgrade
    from sqlalchemy.engine import make_url

    from portal import create_app
    from portal.extensions import db

    url = make_url(args.database_url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        )
        if not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    admin.dispose()

    app = create_app()
    with app.app_context():
        started = time.perf_counter()
        upgrade()
        source = sa.create_engine(f"sqlite:///{source_file}")
        with source.connect() as conn:
            source_version = conn.exec_driver_sql(
                "SELECT version_num FROM alembic_version"
            ).scalar()
        target_version = db.session.execute(
            sa.text("SELECT version_num FROM alembic_version")
        ).scalar()
        db.session.commit()
        if source_version != target_version:
            raise SystemExit(
                f"The SQLite data set is at revision {source_version}, PostgreSQL at "
                f"{target_version}: run the SQLite side's upgrade first (any bench run does)."
            )
        tables = [t for t in db.metadata.sorted_tables if t.name != "alembic_version"]
        unknown = set(args.skip) - {t.name for t in tables}
        if unknown:
            raise SystemExit(f"No such table: {', '.join(sorted(unknown))}.")
        copy(source_file, db.engine, tables, skip=set(args.skip))
        print(f"copied in {time.perf_counter() - started:.0f} s", flush=True)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
        print(f"done in {time.perf_counter() - started:.0f} s")


def copy(source_file: Path, target, tables, skip: set[str] = frozenset()) -> None:
    import sqlite3

    raw = target.raw_connection()
    source = sqlite3.connect(source_file)
    try:
        cursor = raw.cursor()
        names = ", ".join(f'"{t.name}"' for t in tables)
        # The migrations seed a few rows (the calendar, currencies); the copy brings them.
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        # Foreign-key triggers off for this session: the rows come from a consistent
        # database, and the tables' order need not respect cycles. Needs a superuser.
        cursor.execute("SET session_replication_role = replica")
        # SQLite keeps UTC timestamps naive ("2026-12-01 12:00:00.000000"): read as UTC.
        cursor.execute("SET TIME ZONE 'UTC'")
        for table in tables:
            if table.name in skip:
                continue  # emptied above, left empty
            step = time.perf_counter()
            # Generated columns (the service queue's rank) are the database's to compute.
            column_list = ", ".join(f'"{c.name}"' for c in table.columns if c.computed is None)
            count = 0
            # The stored values as they are, no conversion per value: PostgreSQL parses
            # SQLite's text timestamps, dates and JSON, 0/1 as booleans, numbers as numeric.
            rows = source.execute(f'SELECT {column_list} FROM "{table.name}"')
            with cursor.copy(f'COPY "{table.name}" ({column_list}) FROM STDIN') as out:
                while batch := rows.fetchmany(CHUNK):
                    for row in batch:
                        out.write_row(row)
                    count += len(batch)
            if count:
                print(
                    f"  {table.name}: {count:,} rows, {time.perf_counter() - step:.1f} s",
                    flush=True,
                )
            raw.commit()
        cursor.execute("SET session_replication_role = DEFAULT")
        for table in tables:
            for column in table.primary_key.columns:
                cursor.execute(
                    "SELECT pg_get_serial_sequence(%s, %s)", (f'"{table.name}"', column.name)
                )
                sequence = cursor.fetchone()[0]
                if sequence:
                    cursor.execute(
                        f'SELECT setval(%s, COALESCE((SELECT max("{column.name}") '
                        f'FROM "{table.name}"), 0) + 1, false)',
                        (sequence,),
                    )
        raw.commit()
    finally:
        source.close()
        raw.close()


if __name__ == "__main__":
    main()
