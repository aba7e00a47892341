"""Notifications: rows only with the change they report, each user's own, the bell, the list,
and e-mail through a real SMTP server (aiosmtpd on a local port)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import jobs
from portal.accounts.models import User
from portal.errors import NotFound
from portal.extensions import db, utcnow
from portal.notifications import service
from portal.notifications.models import Notification, OutboxMessage

from .support import soup

HTMX = {"HX-Request": "true"}


def user(email_address: str) -> User:
    return db.session.scalar(select(User).where(User.email == email_address))


def notifications_of(email_address: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .join(User, User.id == Notification.user_id)
            .where(User.email == email_address)
            .order_by(Notification.id)
        )
    )


def approved(number: str = "2026-000012") -> dict:
    """The parameters of an "order_approved" notification about order `number`."""
    return {"number": number, "actor": "Anna Buyer"}


def said(number: str = "2026-000012") -> str:
    """What that notification says in English."""
    return f"Order {number} was approved by Anna Buyer."


def tell(app, email_address: str, number: str = "2026-000012", link=None):
    """A committed notification for one demo user about order `number`; returns its id."""
    with app.app_context():
        (created,) = service.notify(
            [user(email_address)], "order_approved", approved(number), link or "/orders/2026-000012"
        )
        db.session.commit()
        return created.id


def mail_log(app) -> list[str]:
    """The committed e-mail in the outbox, as "mail to <address>: <subject>", read in a
    context of its own (so an open transaction's rows are not seen). The worker sends
    them: tests/test_outbox.py."""
    with app.app_context():
        return [
            f"mail to {m.recipient}: {m.subject}"
            for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]


def nudges(app) -> int:
    """Jobs waiting in the app's queue (a commit with mail queues one delivery)."""
    return jobs.queue_of(app).huey.pending_count()


# --- notify: who is told, and only when the change commits ------------------------------


def test_notify_tells_each_active_recipient_once_and_never_the_actor(app, demo):
    with app.app_context():
        buyer, admin, approver = (
            user("buyer@acme.test"),
            user("admin@acme.test"),
            user("approver@acme.test"),
        )
        gone = user("buyer@globex.test")
        gone.active = False
        created = service.notify(
            [buyer, admin, buyer, approver, gone],
            "order_approved",
            {"number": "2026-000012", "actor": "Anna\nBuyer  "},
            "/orders/2026-000012",
            exclude=approver,
        )
        assert len(created) == 2
        db.session.commit()
        assert [n.text for n in notifications_of("buyer@acme.test")] == [said()]
        assert len(notifications_of("admin@acme.test")) == 1
        assert notifications_of("approver@acme.test") == []
        assert notifications_of("buyer@globex.test") == []
        row = notifications_of("admin@acme.test")[0]
        assert (row.kind, row.link, row.read_at) == ("order_approved", "/orders/2026-000012", None)
        assert row.params == {"number": "2026-000012", "actor": "Anna Buyer"}
        assert row.created_at.tzinfo is not None
    assert sorted(mail_log(app)) == [
        f"mail to admin@acme.test: {said()}",
        f"mail to buyer@acme.test: {said()}",
    ]
    assert nudges(app) == 1  # one delivery job for the commit, not one per message


def test_a_rolled_back_change_stores_and_mails_nothing(app, demo):
    with app.app_context():
        service.notify([user("buyer@acme.test")], "order_approved", approved("Never"), "/orders")
        db.session.rollback()
        db.session.commit()  # a later commit must not send what was rolled back
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert mail_log(app) == []
    assert nudges(app) == 0


def test_a_session_closed_without_commit_mails_nothing_later(app, demo):
    with app.app_context():
        service.notify([user("buyer@acme.test")], "order_approved", approved("Gone"), "/orders")
        db.session.close()
        service.notify([user("admin@acme.test")], "order_approved", approved("Kept"), "/orders")
        db.session.commit()
    assert mail_log(app) == [f"mail to admin@acme.test: {said('Kept')}"]


def test_mail_waits_for_the_whole_transaction_and_a_failed_savepoint_drops_only_its_own(app, demo):
    """The outbox rows are part of the transaction: nobody sees them before the
    outermost commit, and a rolled-back savepoint takes its own with it."""
    with app.app_context():
        service.notify([user("buyer@acme.test")], "order_approved", approved("Before"), "/")
        with db.session.begin_nested():
            service.notify([user("admin@acme.test")], "order_approved", approved("Released"), "/")
        assert mail_log(app) == []
        assert nudges(app) == 0  # a released savepoint is no commit
        savepoint = db.session.begin_nested()
        service.notify([user("approver@acme.test")], "order_approved", approved("Back"), "/")
        savepoint.rollback()
        assert mail_log(app) == []
        db.session.commit()
        assert {n.user.email for n in db.session.scalars(select(Notification))} == {
            "buyer@acme.test",
            "admin@acme.test",
        }
    assert sorted(mail_log(app)) == [
        f"mail to admin@acme.test: {said('Released')}",
        f"mail to buyer@acme.test: {said('Before')}",
    ]
    assert nudges(app) == 1


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/orders",
        "//evil.example/orders",
        "/\\evil.example",
        "javascript:alert(1)",
        "orders/1",
        "",
        "/orders/1\r\nX: y",
        "/" + "x" * 300,
    ],
)
def test_notify_refuses_a_link_outside_the_portal(app, demo, link):
    with app.app_context(), pytest.raises(ValueError):
        service.notify([user("buyer@acme.test")], "order_approved", approved(), link)


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("", approved(), "kind"),
        ("k" * 41, approved(), "kind"),
        ("no_such_kind", approved(), "no sentence"),
        # The sentence needs an actor: a writer that forgets it is told, not the reader.
        ("order_approved", {"number": "2026-000012"}, "no sentence"),
        ("order_approved", {"number": object(), "actor": "A"}, "cannot be a object"),
        ("order_approved", {"number": "1", "actor": "A", "comment": True}, "boolean"),
    ],
)
def test_notify_refuses_a_bad_kind_or_parameters_its_sentence_cannot_take(
    app, demo, kind, params, message
):
    with app.app_context(), pytest.raises(ValueError, match=message):
        service.notify([user("buyer@acme.test")], kind, params, "/orders")


def test_a_long_text_is_cut_to_fit(app, demo):
    with app.app_context():
        (created,) = service.notify(
            [user("buyer@acme.test")],
            "order_rejected",
            {"number": "1", "actor": "A", "comment": "word " * 100},
            "/orders",
        )
        db.session.commit()
        assert len(created.text) == 300 and created.text.endswith("…")
        assert len(created.params["comment"]) == 300


# --- reading and marking ----------------------------------------------------------------


def test_unread_count_mark_read_and_mark_all(app, demo):
    first = tell(app, "buyer@acme.test", "First")
    tell(app, "buyer@acme.test", "Second")
    tell(app, "admin@acme.test", "Else")
    with app.app_context():
        buyer = user("buyer@acme.test")
        assert service.unread_count(buyer) == 2
        assert [n.text for n in service.recent(buyer)] == [said("Second"), said("First")]
        assert [n.text for n in service.recent(buyer, limit=1, offset=1)] == [said("First")]
        service.mark_read(buyer, first)
        service.mark_read(buyer, first)  # again: still read, no error
        assert service.unread_count(buyer) == 1
        assert service.mark_all_read(buyer) == 1
        assert service.unread_count(buyer) == 0
        assert service.mark_all_read(buyer) == 0
        assert service.unread_count(user("admin@acme.test")) == 1


def test_another_users_notification_is_not_found_and_stays_unread(app, demo):
    theirs = tell(app, "admin@acme.test")
    with app.app_context():
        buyer = user("buyer@acme.test")
        with pytest.raises(NotFound):
            service.mark_read(buyer, theirs)
        with pytest.raises(NotFound):
            service.open_notification(buyer, theirs)
        assert db.session.get(Notification, theirs).read_at is None


def test_mark_all_leaves_what_arrived_after_the_page_was_drawn(app, demo, login_as):
    tell(app, "buyer@acme.test", "Seen")
    buyer = login_as("buyer@acme.test")
    page = soup(buyer.client.get("/notifications"))
    up_to = page.find("input", attrs={"name": "up_to"})["value"]
    tell(app, "buyer@acme.test", "Meanwhile")
    response = buyer.post("/notifications/read-all", {"up_to": up_to}, page="/notifications")
    assert response.status_code == 303
    with app.app_context():
        assert {n.text: n.read_at is None for n in notifications_of("buyer@acme.test")} == {
            said("Seen"): False,
            said("Meanwhile"): True,
        }


# --- the bell ---------------------------------------------------------------------------


def bell_of(response):
    bell = soup(response).find("a", id="notification-bell")
    assert bell is not None
    return bell


def test_the_bell_shows_the_viewers_own_unread_count_and_refreshes_itself(app, demo, login_as):
    tell(app, "buyer@acme.test")
    tell(app, "buyer@acme.test")
    tell(app, "admin@acme.test")
    buyer = login_as("buyer@acme.test")
    response = buyer.client.get("/notifications/bell", headers=HTMX)
    assert response.status_code == 200
    bell = bell_of(response)
    assert bell["href"] == "/notifications"
    assert bell["hx-get"] == "/notifications/bell"
    assert bell["hx-trigger"] == "every 30s, notifications-changed from:body"
    assert (bell["hx-target"], bell["hx-swap"]) == ("this", "outerHTML")
    assert bell.find(class_="sr-only").get_text() == "Notifications, 2 unread"
    assert bell.find(class_="bell-count").get_text() == "2"
    # The same bell is in the header of every page.
    home = bell_of(buyer.client.get("/"))
    assert home.find(class_="sr-only").get_text() == "Notifications, 2 unread"
    planner = login_as("planner@vendor.test")
    bell = bell_of(planner.client.get("/notifications/bell"))
    assert bell.find(class_="sr-only").get_text() == "Notifications"
    assert bell.find(class_="bell-count") is None


def test_signed_out_pages_have_no_bell(client, demo):
    assert soup(client.get("/login")).find("a", id="notification-bell") is None
    assert client.get("/notifications/bell").status_code == 302


def test_polling_the_bell_does_not_keep_an_idle_session_alive(app, demo, login_as):
    buyer = login_as("buyer@acme.test")
    two_minutes_ago = int(time.time()) - 120
    with buyer.client.session_transaction() as session:
        session["seen"] = two_minutes_ago
    assert buyer.client.get("/notifications/bell", headers=HTMX).status_code == 200
    with buyer.client.session_transaction() as session:
        assert session["seen"] == two_minutes_ago
    buyer.client.get("/notifications")  # a page the person asked for is activity
    with buyer.client.session_transaction() as session:
        assert session["seen"] > two_minutes_ago
    # Idle for longer than allowed: the next poll signs out and sends htmx to sign in.
    with buyer.client.session_transaction() as session:
        session["seen"] = int(time.time()) - app.config["SESSION_IDLE_MINUTES"] * 60 - 5
    response = buyer.client.get("/notifications/bell", headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")


# --- the list page and its actions ------------------------------------------------------


def rows_of(response):
    return soup(response).select("#notifications table tbody tr")


def test_the_list_shows_own_notifications_newest_first_with_unread_marked(app, demo, login_as):
    read = tell(app, "buyer@acme.test", "Older")
    tell(app, "buyer@acme.test", "Newer")
    tell(app, "admin@acme.test", "Other")
    with app.app_context():
        service.mark_read(user("buyer@acme.test"), read)
    buyer = login_as("buyer@acme.test")
    response = buyer.client.get("/notifications")
    assert response.status_code == 200
    rows = rows_of(response)
    assert [r.td.get_text(" ", strip=True) for r in rows] == [
        f"Unread {said('Newer')}",
        said("Older"),
    ]
    assert [r["class"] for r in rows] == [["unread"], ["read"]]
    assert rows[0].find("time").get_text() == "just now"
    assert rows[0].find("time")["title"]  # the exact local time on hover
    buttons = [[b.get_text(" ", strip=True) for b in r.find_all("button")] for r in rows]
    assert buttons == [
        [f"Open {said('Newer')}", f"Mark read {said('Newer')}"],
        [f"Open {said('Older')}"],
    ]
    page = soup(response)
    assert page.find("button", string="Mark all as read") is not None
    assert "1 unread" in page.select_one("#notifications .section-head").get_text()


def test_the_empty_list(login_as):
    response = login_as("fulfilment@vendor.test").client.get("/notifications")
    page = soup(response)
    assert page.select_one("#notifications .empty").get_text().startswith("No notifications yet")
    assert page.find("button", string="Mark all as read") is None


def test_the_list_pages_fifty_at_a_time(app, demo, login_as):
    with app.app_context():
        buyer_id = user("buyer@acme.test").id
        start = utcnow() - timedelta(days=1)
        db.session.add_all(
            Notification(
                user_id=buyer_id,
                kind="k",
                text=f"Note {n}",
                link="/",
                created_at=start + timedelta(minutes=n),
            )
            for n in range(51)
        )
        db.session.commit()
    buyer = login_as("buyer@acme.test")
    first = buyer.client.get("/notifications")
    assert len(rows_of(first)) == 50
    assert rows_of(first)[0].td.get_text(" ", strip=True) == "Unread Note 50"
    assert soup(first).find("a", string="Older ›")["href"] == "/notifications?page=2"
    second = buyer.client.get("/notifications?page=2")
    assert [r.td.get_text(" ", strip=True) for r in rows_of(second)] == ["Unread Note 0"]
    assert soup(second).find("a", string="‹ Newer")["href"] == "/notifications"
    # Not a page number (one no integer column holds included): the first page.
    for bad in ("abc", "-3", "0", "99999999999999999999"):
        assert len(rows_of(buyer.client.get(f"/notifications?page={bad}"))) == 50
    far = buyer.client.get("/notifications?page=999999")
    assert far.status_code == 200
    assert soup(far).select_one("#notifications .empty").get_text().startswith("No older")


def test_mark_read_without_javascript_redirects_back_with_a_message(app, demo, login_as):
    note = tell(app, "buyer@acme.test")
    buyer = login_as("buyer@acme.test")
    response = buyer.post(f"/notifications/{note}/read", {"page": "2"}, page="/notifications")
    assert response.status_code == 303
    assert response.headers["Location"] == "/notifications?page=2"
    page = soup(buyer.client.get(response.headers["Location"]))
    assert page.select_one(".flash-success").get_text() == "Marked as read."
    with app.app_context():
        assert db.session.get(Notification, note).read_at is not None


def test_mark_read_with_htmx_answers_the_list_and_tells_the_bell(app, demo, login_as):
    note = tell(app, "buyer@acme.test", "One")
    tell(app, "buyer@acme.test", "Two")
    buyer = login_as("buyer@acme.test")
    response = buyer.post(f"/notifications/{note}/read", page="/notifications", headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "notifications-changed"
    assert "HX-Request" in response.headers["Vary"]
    page = soup(response)
    assert page.find("html") is None  # the block alone
    block = page.find(id="notifications")
    assert (block["hx-target"], block["hx-swap"]) == ("this", "outerHTML")
    assert [r["class"] for r in block.select("tbody tr")] == [["unread"], ["read"]]
    response = buyer.post("/notifications/read-all", page="/notifications", headers=HTMX)
    assert response.headers["HX-Trigger"] == "notifications-changed"
    assert [r["class"] for r in soup(response).select("tbody tr")] == [["read"], ["read"]]
    with app.app_context():
        assert service.unread_count(user("buyer@acme.test")) == 0


def test_mark_all_without_javascript(app, demo, login_as):
    tell(app, "buyer@acme.test")
    tell(app, "buyer@acme.test")
    buyer = login_as("buyer@acme.test")
    response = buyer.post("/notifications/read-all", page="/notifications")
    assert (response.status_code, response.headers["Location"]) == (303, "/notifications")
    flash = soup(buyer.client.get("/notifications")).select_one(".flash-success")
    assert flash.get_text() == "2 notifications marked as read."


def test_open_marks_read_and_goes_to_the_link(app, demo, login_as):
    note = tell(app, "buyer@acme.test", link="/orders?status=placed")
    buyer = login_as("buyer@acme.test")
    response = buyer.post(f"/notifications/{note}/open", page="/notifications")
    assert response.status_code == 303
    assert response.headers["Location"] == "/orders?status=placed"
    with app.app_context():
        assert db.session.get(Notification, note).read_at is not None


@pytest.mark.parametrize(
    "stored", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_open_never_redirects_off_site_whatever_the_row_says(app, demo, login_as, stored):
    with app.app_context():
        note = Notification(user_id=user("buyer@acme.test").id, kind="k", text="T", link=stored)
        db.session.add(note)
        db.session.commit()
        note_id = note.id
    buyer = login_as("buyer@acme.test")
    response = buyer.post(f"/notifications/{note_id}/open", page="/notifications")
    assert response.status_code == 303
    assert response.headers["Location"] == "/notifications"


@pytest.mark.parametrize("action", ["read", "open"])
@pytest.mark.parametrize("other", ["admin@acme.test", "buyer@globex.test", "planner@vendor.test"])
def test_another_users_notification_gives_404_and_is_not_changed(
    app, demo, login_as, action, other
):
    """Per user, not per account: a colleague in the same account gets 404 too."""
    note = tell(app, "buyer@acme.test")
    person = login_as(other)
    response = person.post(f"/notifications/{note}/{action}", page="/notifications")
    assert response.status_code == 404
    response = person.post(f"/notifications/{note}/{action}", page="/notifications", headers=HTMX)
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Notification, note).read_at is None


@pytest.mark.parametrize(
    "url",
    [
        "/notifications/abc/read",
        "/notifications/-1/read",
        "/notifications/1.5/open",
        "/notifications//open",
        "/notifications/99999999999999999999/read",
        "/notifications/99999999999999999999/open",
        "/notifications/2147483648/open",
    ],
)
def test_bad_ids_are_not_found(login_as, url):
    buyer = login_as("buyer@acme.test")
    assert buyer.post(url, page="/notifications").status_code == 404


@pytest.mark.parametrize("up_to", ["abc", "-1", "99999999999999999999"])
def test_mark_all_with_a_bad_up_to(app, demo, login_as, up_to):
    tell(app, "buyer@acme.test")
    buyer = login_as("buyer@acme.test")
    response = buyer.post("/notifications/read-all", {"up_to": up_to}, page="/notifications")
    assert response.status_code == 303
    with app.app_context():
        unread = service.unread_count(user("buyer@acme.test"))
    # Not a whole number an id column holds: as if none was sent, so all are marked.
    assert unread == 0


def test_actions_need_the_csrf_token(app, demo, login_as):
    note = tell(app, "buyer@acme.test")
    buyer = login_as("buyer@acme.test")
    for url in (f"/notifications/{note}/read", f"/notifications/{note}/open"):
        assert buyer.client.post(url, headers=HTMX).status_code == 400
    assert buyer.client.post("/notifications/read-all").status_code == 400
    with app.app_context():
        assert db.session.get(Notification, note).read_at is None
