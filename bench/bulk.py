"""Bulk loading for the large-data generators.

On PostgreSQL the rows go in with psycopg's COPY: executemany through the ORM (even with
insertmanyvalues) took over 30 minutes for the 1,000,000 order lines and their ~3,000,000
events on a loaded machine, COPY takes a few minutes. On SQLite, Core inserts in batches
(already fast there). Either way in the session's own transaction, so a failed load
leaves nothing behind once the caller rolls back.
"""

from __future__ import annotations

BATCH = 10_000


def insert_rows(model_or_table, rows: list[dict]) -> None:
    """Insert `rows` (dicts of column name -> Python value) into a model's table.

    Columns missing from the rows get their scalar Python default (as a Core insert
    would); every value passes the column type's own bind processing, so the UTC
    timestamps, JSON and booleans reach COPY the way they reach an INSERT."""
    from sqlalchemy import insert

    from portal.extensions import db

    if not rows:
        return
    table = getattr(model_or_table, "__table__", model_or_table)
    session = db.session
    dialect = db.engine.dialect
    given = set().union(*(row.keys() for row in rows[:100]))
    defaults = {}
    for column in table.columns:
        if column.name in given or column.default is None:
            continue
        if column.default.is_scalar:
            defaults[column.name] = column.default.arg
        elif column.default.is_callable:
            # A function of nothing (utcnow), wrapped by SQLAlchemy to take the context:
            # once for the whole load, as a bench needs no distinct timestamps here.
            defaults[column.name] = column.default.arg(None)
        else:
            raise ValueError(f"{table.name}.{column.name}: give a value")
    names = [c.name for c in table.columns if c.name in given or c.name in defaults]
    if dialect.name != "postgresql":
        # Every row with every column: an executemany takes its columns from the first
        # row, so rows that lack a key (a service event without before/after) either
        # fail or, first in a batch, drop the others' values.
        for start in range(0, len(rows), BATCH):
            batch = [
                {name: row.get(name, defaults.get(name)) for name in names}
                for row in rows[start : start + BATCH]
            ]
            session.execute(insert(table), batch)
        return
    processors = [table.columns[name].type._cached_bind_processor(dialect) for name in names]
    sql = f'COPY "{table.name}" ({", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)}) FROM STDIN'
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            values = []
            for name, process in zip(names, processors, strict=True):
                value = row.get(name, defaults.get(name))
                values.append(process(value) if process and value is not None else value)
            copy.write_row(values)


def move_sequences(*tables: str) -> None:
    """After rows with explicit ids, move PostgreSQL's id sequences past them, so the
    next row the application writes gets a fresh id (SQLite needs nothing)."""
    from portal.extensions import db

    if db.engine.dialect.name != "postgresql":
        return
    for table in tables:
        db.session.execute(
            db.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table}), 1))"
            )
        )
    db.session.commit()
