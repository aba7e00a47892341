"""What every signed-in page pays (#17): few statements on the home pages, one for
the sign-in session, and what is read once per request stays right.

Speed itself is measured by bench/page_cost.py, never here.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import render_template_string
from flask_login import login_user
from sqlalchemy import event, select

from portal.accounts.models import AuthSession, User
from portal.demo import CUSTOMER_LOGINS, DEMO_PASSWORD, VENDOR_STAFF
from portal.extensions import db, utcnow
from portal.ideas.models import Idea
from portal.notifications import service as notifications

from .support import soup

HOME_PAGE_STATEMENTS = 8


def statements_for(app, client, url: str) -> int:
    """SQL statements one GET of `url` runs (BEGIN included on SQLite)."""
    seen = []
    with app.app_context():
        engine = db.engine

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


@pytest.mark.parametrize("login", [*VENDOR_STAFF, *CUSTOMER_LOGINS], ids=lambda login: login.email)
def test_every_roles_home_page_runs_at_most_eight_statements(app, login_as, login):
    person = login_as(login.email)
    assert statements_for(app, person.client, "/") <= HOME_PAGE_STATEMENTS


def test_a_signed_in_request_reads_its_session_in_one_statement(app, login_as):
    # The bell alone: the sign-in session, its user, roles, account and the unread count.
    buyer = login_as("buyer@acme.test")
    with app.app_context():
        begin = 1 if db.engine.dialect.name == "sqlite" else 0
    assert statements_for(app, buyer.client, "/notifications/bell") == 1 + begin


def test_customer_home_statements_do_not_grow_with_the_events_in_its_timeline(app, login_as):
    buyer = login_as("buyer@acme.test")
    before = statements_for(app, buyer.client, "/")
    with app.app_context():
        acme = db.session.scalar(select(User).where(User.email == "buyer@acme.test")).account
        now = utcnow()
        for n in range(5):
            db.session.add(
                Idea(
                    account_id=acme.id,
                    title=f"Colleague idea {n}",
                    category="design",
                    status="submitted",
                    submitted_at=now + timedelta(minutes=n + 1),
                    first_answered_at=now + timedelta(minutes=n + 1, seconds=30),
                )
            )
        db.session.commit()
    page = buyer.client.get("/").get_data(as_text=True)
    assert all(f"Colleague idea {n}" in page for n in range(5))
    assert statements_for(app, buyer.client, "/") == before


def test_the_bell_count_read_with_the_session_is_fresh_on_every_request(app, login_as):
    buyer = login_as("buyer@acme.test")

    def bell() -> str:
        return soup(buyer.client.get("/")).select_one("#notification-bell .sr-only").get_text()

    assert bell() == "Notifications"
    with app.app_context():
        person = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
        notifications.notify([person], "order_confirmed", {"number": "1"}, "/orders")
        notifications.notify([person], "order_confirmed", {"number": "2"}, "/orders")
        db.session.commit()
    assert bell() == "Notifications, 2 unread"
    assert buyer.post("/notifications/read-all", page="/notifications").status_code == 303
    assert bell() == "Notifications"


def test_a_request_that_may_write_counts_the_bell_again(app, demo):
    """The count read at the start of a request is used only by requests that cannot
    change notifications (GET, HEAD, OPTIONS without @writes)."""
    with app.app_context():
        person = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
        notifications.notify([person], "order_confirmed", {"number": "1"}, "/orders")
        db.session.commit()
        for method, expected in (("GET", "99"), ("POST", "1")):
            with app.test_request_context("/notifications", method=method):
                user = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
                user.current_auth_session_token = "t"
                user.unread_notifications_at_load = 99  # what a stale read would show
                login_user(user)
                assert render_template_string("{{ unread_notifications() }}") == expected


def test_a_session_revoked_elsewhere_is_refused_on_the_very_next_request(app, login_as):
    buyer = login_as("buyer@acme.test")
    assert buyer.client.get("/").status_code == 200
    with app.app_context():
        for auth_session in db.session.scalars(select(AuthSession)):
            auth_session.revoked_at = utcnow()
        db.session.commit()
    assert buyer.client.get("/").status_code == 302


def test_the_session_cookie_is_written_when_it_changes_not_with_every_response(app, demo):
    from .support import Browserless

    person = Browserless(app.test_client())
    response = person.login("buyer@acme.test", DEMO_PASSWORD)
    assert "Set-Cookie" in response.headers  # the sign-in writes it
    person.client.get("/")  # the first page adds its CSRF token to the cookie
    for url in ("/", "/orders", "/notifications/bell"):
        response = person.client.get(url)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, url
