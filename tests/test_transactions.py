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

    for view in (unmarked, marked, asks_first):
        writing_app.add_url_rule(f"/{view.__name__}", view_func=view)
    yield writing_app
    with writing_app.app_context():
        db.session.remove()
        db.engine.dispose()


def _rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_a_get_that_writes_in_a_read_transaction_fails_the_suite_on_sqlite(
    app_with_writing_views,
):
    client = app_with_writing_views.test_client()
    if app_with_writing_views.config["DATABASE_URL"].startswith("sqlite"):
        with pytest.raises(RuntimeError, match="writes in a read transaction"):
            client.get("/unmarked")
        assert _rows(app_with_writing_views) == 0
    else:
        # PostgreSQL lets a read transaction write; nothing to catch there.
        assert client.get("/unmarked").get_data(as_text=True) == "written"
        assert _rows(app_with_writing_views) == 1


@pytest.mark.parametrize("path", ["/marked", "/asks_first"])
def test_a_get_marked_as_writing_or_asking_first_writes(app_with_writing_views, path):
    before = _rows(app_with_writing_views)
    response = app_with_writing_views.test_client().get(path)
    assert response.get_data(as_text=True) == "written"
    assert _rows(app_with_writing_views) == before + 1
