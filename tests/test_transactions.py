"""Transactions that write say so from their start (SQLite's write lock), and the suite notices
a request that writes inside a read transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from portal import create_app
from portal.audit.models import AuditEvent
from portal.extensions import begin_writing, db
from portal.security import public, writes

from .conftest import TEMPLATE_CACHE
from .support import make_test_config


@pytest.fixture
def app_with_writing_views(app):
    """The test app's database, with three GET views that write: unmarked, marked, and one
    that asks for a write transaction itself."""
    writing_app = create_app(make_test_config(app.config["DATABASE_URL"]))
    writing_app.jinja_env.bytecode_cache = TEMPLATE_CACHE

    def write_a_row():
        db.session.execute(text("SELECT 1"))  # the read that opens the transaction
        db.session.add(AuditEvent(action="access_denied", target="test"))
        db.session.commit()
        return "written"

    @public
    def unmarked():
        return write_a_row()

    @public
    @writes
    def marked():
        return write_a_row()

    @public
    def asks_first():
        db.session.execute(text("SELECT 1"))
        begin_writing()
        return write_a_row()

    @public
    def read_only():
        return db.session.execute(text("SHOW transaction_read_only")).scalar()

    @public
    def prepared():
        db.session.execute(select(AuditEvent.id).where(AuditEvent.target == "p").limit(1)).all()
        return str(db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements")))

    for view in (unmarked, marked, asks_first, read_only, prepared):
        writing_app.add_url_rule(f"/{view.__name__}", view_func=view)
    yield writing_app
    with writing_app.app_context():
        db.session.remove()
        db.engine.dispose()


def _rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_a_get_that_writes_in_a_read_transaction_fails_the_suite(app_with_writing_views):
    """On SQLite it would fail under load ("database is locked"); on PostgreSQL the
    request's transaction is READ ONLY (below). Either way the suite says where."""
    client = app_with_writing_views.test_client()
    with pytest.raises(RuntimeError, match="writes in a read transaction"):
        client.get("/unmarked")
    assert _rows(app_with_writing_views) == 0


def test_a_read_request_on_postgresql_is_read_only_and_keeps_what_it_prepared(
    app_with_writing_views,
):
    """A request that only reads runs in a READ ONLY transaction, ended by COMMIT, so the
    statements psycopg prepared on the connection (after five runs of one) are still
    there for the next request: a ROLLBACK makes psycopg forget them all."""
    if not app_with_writing_views.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("READ ONLY transactions and prepared statements are PostgreSQL's")
    client = app_with_writing_views.test_client()
    assert client.get("/read_only").get_data(as_text=True) == "on"
    counts = [int(client.get("/prepared").get_data(as_text=True)) for _ in range(8)]
    assert counts[0] == 0 and counts[-1] >= 1, counts
    # A request that writes is not read only, and still writes.
    assert client.get("/marked").get_data(as_text=True) == "written"


@pytest.mark.parametrize("path", ["/marked", "/asks_first"])
def test_a_get_marked_as_writing_or_asking_first_writes(app_with_writing_views, path):
    before = _rows(app_with_writing_views)
    response = app_with_writing_views.test_client().get(path)
    assert response.get_data(as_text=True) == "written"
    assert _rows(app_with_writing_views) == before + 1
