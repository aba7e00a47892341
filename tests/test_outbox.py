"""The e-mail outbox: delivered by the worker to a real SMTP server (aiosmtpd on a local
port), retried when the server is away, kept with its answer when refused, never sent
twice; each user's choice of e-mail at once, a daily digest or none."""

from __future__ import annotations

import socket
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from portal import jobs
from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.catalog.models import Category, Product, Stock
from portal.extensions import db, utcnow
from portal.fulfilment import confirmations as desk
from portal.notifications import outbox, preferences, service
from portal.notifications.models import (
    DigestItem,
    Notification,
    NotificationPreference,
    OutboxMessage,
)
from portal.ordering import service as ordering

from .support import MailServer, free_port, soup


def user(email_address: str) -> User:
    return db.session.scalar(select(User).where(User.email == email_address))


@pytest.fixture
def mail_server(app):
    server = MailServer()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=server.port,
        MAIL_USE_TLS=False,
        MAIL_FROM="Portal <portal@vendor.example>",
        PUBLIC_URL="https://portal.vendor.example/",
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def worker(app):
    """A real huey consumer (worker thread and heartbeat) on the app's queue."""
    running = jobs.start_worker(app, periodic=False, heartbeat_seconds=0.2)
    yield running
    running.stop()


def rows(app) -> list[OutboxMessage]:
    with app.app_context():
        found = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return found


APPROVED = "Order 2026-000012 was approved by Anna Buyer."


def tell(app, email_address: str, kind="order_approved", link="/orders/2026-000012", **params):
    """A committed notification (by default: APPROVED) for one demo user."""
    params = params or {"number": "2026-000012", "actor": "Anna Buyer"}
    with app.test_request_context(method="POST"):
        service.notify([user(email_address)], kind, params, link)
        db.session.commit()


# --- through a real worker to a real server ----------------------------------------------


def test_the_worker_sends_the_mail_with_the_text_an_absolute_link_and_its_message_id(
    app, demo, mail_server, worker
):
    tell(app, "buyer@acme.test")
    message = mail_server.inbox.next()
    with app.app_context():
        name = user("buyer@acme.test").name
    (to,) = message["To"].addresses
    assert (to.display_name, to.addr_spec) == (name, "buyer@acme.test")
    assert message["From"] == "Portal <portal@vendor.example>"
    assert message["Subject"] == APPROVED
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    assert APPROVED in body
    assert "https://portal.vendor.example/orders/2026-000012" in body
    assert "https://portal.vendor.example/notifications/settings" in body
    assert jobs.wait_for(lambda: rows(app)[0].state == "sent")
    (row,) = rows(app)
    assert (row.attempts, row.last_error, row.claimed_by) == (1, None, None)
    assert message["Message-ID"] == row.message_id
    assert row.message_id.endswith("@vendor.example>")


@pytest.fixture
def parts(app, demo):
    with app.app_context():
        category = Category(name="Outbox parts")
        product = Product(
            sku="OBX-1",
            name="Part OBX-1",
            category=category,
            list_price=Decimal("10.00"),
            lead_time_days=7,
            stock=Stock(on_hand=1000),
        )
        db.session.add(product)
        db.session.commit()
        return product.id


def place_orders(app, product_id: int, count: int) -> list[str]:
    numbers = []
    for n in range(count):
        # Each in a POST request of its own: on SQLite it then takes the write lock
        # first (BEGIN IMMEDIATE), as the checkout page does, while the worker writes.
        with app.test_request_context(method="POST"):
            buyer = user("buyer@acme.test")
            address = next(a for a in buyer.account.addresses if a.kind == "shipping")
            ordering.add_to_cart(buyer, [(product_id, 1 + n)])
            order, _ = ordering.place_order(
                buyer,
                po_number=f"PO-OBX-{n}",
                ship_to_id=address.id,
                requested_date=None,
                notes="",
                idempotency_key=f"outbox-{n}",
                today=date.today(),
            )
            numbers.append(order.number)
    return numbers


def confirm(app, number: str) -> None:
    """The desk confirms every line, as its page would (in a POST request)."""
    from portal.ordering.models import Order

    with app.test_request_context(method="POST"):
        staff = user("fulfilment@vendor.test")
        order = db.session.scalar(select(Order).where(Order.number == number))
        decisions = [
            desk.LineDecision(line.id, date.today() + timedelta(days=3)) for line in order.lines
        ]
        desk.confirm(staff, order, decisions, date.today())


def test_with_the_mail_server_stopped_ten_confirmations_lose_nothing_and_later_arrive_once(
    app, parts, mail_server, worker
):
    numbers = place_orders(app, parts, 10)
    with app.app_context():
        # What placing the orders mailed goes out first (the server is still up).
        placed = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert jobs.wait_for(lambda: all(r.state == "sent" for r in rows(app)))
    before = {m["Message-ID"] for m in mail_server.inbox.all()}
    assert len(before) == placed

    mail_server.stop()
    for number in numbers:
        confirm(app, number)
    confirmations = [r for r in rows(app) if r.kind == "order_confirmed"]
    assert len(confirmations) == 10
    # The worker tried each once, was refused a connection, and keeps them for later.
    assert jobs.wait_for(
        lambda: all(
            (r.state, r.attempts) == ("queued", 1) for r in rows(app) if r.kind == "order_confirmed"
        )
    )
    waiting = [r for r in rows(app) if r.kind == "order_confirmed"]
    assert {r.state for r in waiting} == {"queued"}
    assert all("127.0.0.1" in r.last_error for r in waiting)
    assert all(r.next_attempt_at > utcnow() for r in waiting)
    assert mail_server.inbox.all() == []

    mail_server.start()
    with app.app_context():
        # The retry delay passes (a minute here); the schedule's run, or a nudge, follows.
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == "queued")
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        jobs.enqueue("deliver_outbox")
    assert jobs.wait_for(lambda: all(r.state == "sent" for r in rows(app)))
    with app.app_context():
        jobs.enqueue("deliver_outbox")  # another run finds nothing to send again
    arrived = mail_server.inbox.all(wait=1.0)
    ids = [m["Message-ID"] for m in arrived]
    assert len(ids) == len(set(ids)) == 10
    assert set(ids) == {r.message_id for r in rows(app) if r.kind == "order_confirmed"}
    subjects = sorted(m["Subject"] for m in arrived)
    assert all(s.startswith("Order ") and "was confirmed" in s for s in subjects)
    assert {s.split()[1] for s in subjects} == set(numbers)
    assert all(m["To"].addresses[0].addr_spec == "buyer@acme.test" for m in arrived)


# --- the worker's rules, through its function --------------------------------------------


def a_message(recipient: str, **values) -> int:
    """An outbox row as notify writes it; returns its id."""
    row = OutboxMessage(
        recipient_name="Test Person",
        recipient=recipient,
        subject=f"Hello {recipient}",
        body="Body.",
        kind="k",
        message_id=f"<{time.monotonic_ns()}.test@vendor.example>",
        give_up_at=utcnow() + timedelta(hours=24),
        **values,
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def test_temporary_failures_retry_later_and_permanent_ones_keep_the_servers_answer(
    app, demo, mail_server
):
    inbox = mail_server.inbox
    inbox.answers = {
        "busy@acme.test": "450 4.2.1 Mailbox busy, try later",
        "nobody@acme.test": "550 5.1.1 No such user here",
    }
    with app.app_context():
        busy = a_message("busy@acme.test")
        nobody = a_message("nobody@acme.test")
        bad = a_message("not-an-address")
        fine = a_message("buyer@acme.test")
        started = utcnow()
        report = outbox.deliver_due()
        assert (report.sent, report.retrying, report.failed) == (1, 1, 2)
        found = {r.id: r for r in db.session.scalars(select(OutboxMessage))}
    assert (found[fine].state, found[fine].sent_at is not None) == ("sent", True)
    assert found[busy].state == "queued"
    assert found[busy].last_error == "450 4.2.1 Mailbox busy, try later"
    assert timedelta(seconds=50) < found[busy].next_attempt_at - started < timedelta(seconds=70)
    assert (found[nobody].state, found[nobody].last_error) == (
        "failed",
        "550 5.1.1 No such user here",
    )
    assert (found[bad].state, found[bad].last_error) == (
        "failed",
        "Bad address: 'not-an-address'.",
    )
    assert [m["To"].addresses[0].addr_spec for m in inbox.all()] == ["buyer@acme.test"]

    with app.app_context():
        # Not due yet: nothing happens. Later, the delay grows: 1, 2, 4 … minutes.
        assert outbox.deliver_due().retrying == 0
        for attempt, minutes in ((2, 2), (3, 4), (4, 8)):
            later = utcnow() + timedelta(hours=attempt)
            report = outbox.deliver_due(now=later)
            row = db.session.get(OutboxMessage, busy)
            db.session.refresh(row)
            assert (report.retrying, row.attempts) == (1, attempt)
            delay = row.next_attempt_at - later
            assert timedelta(minutes=minutes) <= delay < timedelta(minutes=minutes, seconds=5)
        # After a day of trying, it is failed with the last answer.
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == busy)
            .values(give_up_at=utcnow() + timedelta(seconds=30), next_attempt_at=utcnow())
        )
        db.session.commit()
        assert outbox.deliver_due().failed == 1
        row = db.session.get(OutboxMessage, busy)
        assert row.state == "failed"
        assert row.last_error == (
            "Gave up after 24 hours of trying. Last answer: 450 4.2.1 Mailbox busy, try later"
        )


def test_a_refused_connection_is_temporary(app, demo):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_USE_TLS=False)
    with app.app_context():
        one = a_message("buyer@acme.test")
        assert outbox.deliver_due().retrying == 1
        row = db.session.get(OutboxMessage, one)
        assert (row.state, row.attempts) == ("queued", 1)
        assert "refused" in row.last_error.lower()


def test_a_worker_killed_mid_batch_never_resends_what_the_server_may_have_accepted(
    app, demo, mail_server
):
    """A dead worker's claim: the lowest row may have been in the server's hands (it is
    failed, for an admin to decide); the others were never tried (they are sent)."""
    with app.app_context():
        ids = [a_message(f"person{n}@acme.test") for n in range(3)]
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(
                state="sending",
                attempts=1,
                claimed_by="dead-host:1/abc",
                lease_until=utcnow() - timedelta(minutes=1),
            )
        )
        # A live worker's claim is left alone.
        live = a_message("live@acme.test")
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == live)
            .values(state="sending", claimed_by="live:2/x", lease_until=utcnow() + timedelta(5))
        )
        db.session.commit()
        report = outbox.deliver_due()
        assert (report.recovered, report.sent) == (3, 2)
        found = {r.id: r for r in db.session.scalars(select(OutboxMessage))}
    assert (found[ids[0]].state, found[ids[0]].last_error) == ("failed", outbox.INTERRUPTED)
    assert [found[i].state for i in ids[1:]] == ["sent", "sent"]
    assert [found[i].attempts for i in ids[1:]] == [1, 1]
    assert found[live].state == "sending"
    arrived = [m["To"].addresses[0].addr_spec for m in mail_server.inbox.all()]
    assert sorted(arrived) == ["person1@acme.test", "person2@acme.test"]


def test_two_workers_never_take_the_same_message(app, demo, mail_server):
    import threading

    with app.app_context():
        for n in range(40):
            a_message(f"p{n}@acme.test")

    def work():
        with app.app_context():
            outbox.deliver_due()
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    arrived = [m["Message-ID"] for m in mail_server.inbox.all()]
    assert len(arrived) == len(set(arrived)) == 40
    assert {r.state for r in rows(app)} == {"sent"}


def test_without_a_mail_server_the_worker_logs_each_message(app, demo, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="portal.notifications")
    tell(app, "buyer@acme.test")
    assert jobs.drain(app) == 1  # the nudge the commit queued
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("mail to")] == [
        f"mail to buyer@acme.test: {APPROVED}"
    ]
    assert rows(app)[0].state == "sent"


@pytest.mark.own_app
def test_a_request_that_notifies_never_waits_for_the_mail_server(app, demo, login_as):
    """A mail server that accepts connections and never answers would hold a request
    that talked to it until the SMTP timeout. The request answers, its mail is queued,
    and nobody has even connected to the server: mail is the worker's business."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.setblocking(False)
        app.config.update(
            MAIL_SERVER="127.0.0.1", MAIL_PORT=silent.getsockname()[1], MAIL_USE_TLS=False
        )

        def notify_admin():
            service.notify(
                [user("admin@acme.test")], "order_approved", {"number": "1", "actor": "A"}, "/"
            )
            db.session.commit()
            return "done"

        app.add_url_rule("/test-notify", "test_notify", notify_admin, methods=["POST"])
        buyer = login_as("buyer@acme.test")
        token = buyer.token("/")
        response = buyer.client.post("/test-notify", data={"csrf_token": token})
        with pytest.raises(BlockingIOError):
            silent.accept()  # no connection is waiting: nothing talked to the server
    assert response.status_code == 200
    assert [(r.state, r.attempts) for r in rows(app)] == [("queued", 0)]


# --- preferences: at once, digest, none ---------------------------------------------------


def test_digest_and_none_keep_the_notification_and_change_only_the_mail(app, demo):
    with app.app_context():
        preferences.save(
            user("buyer@acme.test"), {"order_confirmed": "digest", "order_shipped": "none"}
        )
    day = date(2026, 12, 1)
    tell(app, "buyer@acme.test", "order_confirmed", "/orders/1", number="1")
    tell(app, "buyer@acme.test", "order_confirmed", "/orders/2", number="2")
    tell(app, "buyer@acme.test", "order_shipped", "/orders/1", number="1", quantity=3, date=day)
    tell(app, "buyer@acme.test", "order_delivered", "/orders/1", number="1", quantity=3, date=day)
    tell(app, "admin@acme.test", "order_shipped", "/orders/1", number="1", quantity=3, date=day)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 5
        assert db.session.scalar(select(func.count()).select_from(DigestItem)) == 2
    assert sorted((r.recipient, r.subject) for r in rows(app)) == [
        ("admin@acme.test", "Order 1: 3 units shipped 01 Dec 2026."),
        ("buyer@acme.test", "Order 1: 3 units delivered 01 Dec 2026."),
    ]
    with app.app_context():
        assert outbox.send_digests() == 1
        assert outbox.send_digests() == 0  # each item goes into one digest only
        assert db.session.scalar(select(func.count()).select_from(DigestItem)) == 0
    digest = [r for r in rows(app) if r.kind == "digest"]
    assert [(d.recipient, d.subject) for d in digest] == [
        ("buyer@acme.test", "Your daily digest: 2 notifications")
    ]
    body = digest[0].body
    assert body.index("Order 1 was confirmed") < body.index("Order 2 was confirmed")
    assert "http://localhost:5000/orders/2" in body
    assert "shipped" not in body


def test_the_digest_is_on_the_schedule(app, demo):
    queue = jobs.queue_of(app)
    job = queue.jobs["send_digests"]
    assert job.schedule.label == "daily at 06:00 UTC"


def settings_rows(response) -> dict[str, str]:
    page = soup(response)
    return {
        tr["id"].removeprefix("pref-"): tr.find("input", checked=True)["value"]
        for tr in page.select("#preferences tbody tr")
    }


def test_the_settings_page_shows_and_saves_each_choice(app, demo, login_as):
    buyer = login_as("buyer@acme.test")
    page = buyer.get("/notifications/settings")
    assert page.status_code == 200
    shown = settings_rows(page)
    assert set(shown) == set(preferences.KINDS)
    assert set(shown.values()) == {"immediate"}
    choices = dict(shown, order_confirmed="digest", idea_message="none")
    response = buyer.post("/notifications/settings", choices)
    assert (response.status_code, response.headers["Location"]) == (
        303,
        "/notifications/settings",
    )
    page = buyer.get("/notifications/settings")
    assert soup(page).select_one(".flash-success").get_text() == "Your e-mail settings are saved."
    shown = settings_rows(page)
    assert (shown["order_confirmed"], shown["idea_message"], shown["order_placed"]) == (
        "digest",
        "none",
        "immediate",
    )
    with app.app_context():
        stored = db.session.scalars(select(NotificationPreference.kind)).all()
    assert sorted(stored) == ["idea_message", "order_confirmed"]  # "at once" is no row


@pytest.mark.parametrize(
    "bad",
    [{"order_confirmed": "weekly"}, {"order_confirmed": ""}, {"order_confirmed": "IMMEDIATE"}],
)
def test_bad_choices_are_refused_beside_the_field_and_nothing_is_saved(app, demo, login_as, bad):
    buyer = login_as("buyer@acme.test")
    choices = dict(settings_rows(buyer.get("/notifications/settings")), idea_message="none")
    choices.update(bad)
    response = buyer.post("/notifications/settings", choices)
    assert response.status_code == 422
    row = soup(response).select_one("#pref-order_confirmed")
    assert row.select_one(".error").get_text() == (
        "Choose e-mail at once, a daily digest or no e-mail."
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(NotificationPreference)) == 0


def test_unknown_kinds_in_the_form_are_ignored_and_the_service_refuses_them(app, demo, login_as):
    from portal.errors import DomainError

    buyer = login_as("buyer@acme.test")
    choices = dict(settings_rows(buyer.get("/notifications/settings")), made_up="none")
    del choices["order_placed"]  # a kind the form does not send keeps its choice
    assert buyer.post("/notifications/settings", choices).status_code == 303
    assert settings_rows(buyer.get("/notifications/settings"))["order_placed"] == "immediate"
    with app.app_context():
        with pytest.raises(DomainError, match="Unknown kind"):
            preferences.save(user("buyer@acme.test"), {"made_up": "none"})
        with pytest.raises(DomainError, match="An order was confirmed"):
            preferences.save(user("buyer@acme.test"), {"order_confirmed": "hourly"})
        assert db.session.scalar(select(func.count()).select_from(NotificationPreference)) == 0


def test_settings_need_the_csrf_token(app, demo, login_as):
    buyer = login_as("buyer@acme.test")
    assert buyer.client.post("/notifications/settings", data={}).status_code == 400


# --- failed e-mail for vendor admins -------------------------------------------------------


def test_admins_see_failed_mail_with_the_answer_and_resend_it(app, demo, login_as, mail_server):
    mail_server.inbox.answers = {"nobody@acme.test": "550 5.1.1 No such user here"}
    with app.app_context():
        failed = a_message("nobody@acme.test")
        outbox.deliver_due()
    admin = login_as("admin@vendor.test")
    page = soup(admin.get("/background"))
    (row,) = page.select("#failed-mail tbody tr")
    cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
    assert cells[:4] == [
        "nobody@acme.test",
        "Hello nobody@acme.test",
        "1",
        "550 5.1.1 No such user here",
    ]
    action = row.find("form")["action"]
    assert action == f"/notifications/outbox/{failed}/resend"

    mail_server.inbox.answers = {}  # the address was fixed at the other end
    response = admin.post(action, page="/background")
    assert (response.status_code, response.headers["Location"]) == (303, "/background")
    page = soup(admin.get("/background"))
    assert page.select_one(".flash-success").get_text() == (
        "The e-mail to nobody@acme.test is queued again."
    )
    assert page.select("#failed-mail tbody tr") == []
    with app.app_context():
        row = db.session.get(OutboxMessage, failed)
        assert (row.state, row.attempts) == ("queued", 0)
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "mail_resent"))
        assert event.target == f"outbox_message:{failed}"
        assert event.detail["recipient"] == "nobody@acme.test"
        assert outbox.deliver_due().sent == 1
    (message,) = mail_server.inbox.all()
    assert message["Message-ID"] == rows(app)[0].message_id  # the same message, again

    # Resending what is not failed (any more) says so and changes nothing.
    response = admin.post(action, page="/background")
    assert response.status_code == 303
    flash = soup(admin.get("/background")).select_one(".flash-error").get_text()
    assert flash == "That message is not failed (any more): nothing to resend."
    assert admin.post("/notifications/outbox/999999/resend", page="/background").status_code == 404


def test_resend_needs_the_csrf_token(app, demo, login_as):
    with app.app_context():
        failed = a_message("x@acme.test", state="failed", last_error="550 no")
    admin = login_as("admin@vendor.test")
    assert admin.client.post(f"/notifications/outbox/{failed}/resend").status_code == 400
    assert rows(app)[0].state == "failed"
