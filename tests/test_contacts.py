"""The contact log, follow-ups, what a customer is shown of them, everything promised to
one account, and handing an account to another manager."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from portal.accounts.models import CustomerAccount, User
from portal.audit.models import AuditEvent
from portal.contacts import service as contacts
from portal.contacts.models import ContactEntry, FollowUp
from portal.extensions import db, utcnow
from portal.notifications.models import Notification

from .support import soup

TODAY = utcnow().date()


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def account(number: str) -> CustomerAccount:
    return db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == number))


def entry(number: str, summary: str, *, shared: bool, days_ago: int = 1, author="manager"):
    return contacts.log_contact(
        user(f"{author}@vendor.test"),
        account(number),
        contacts.ContactInput(
            kind="call",
            contacted_on=TODAY - timedelta(days=days_ago),
            summary=summary,
            notes=f"Notes of *{summary}*",
            shared=shared,
        ),
        TODAY,
    )


CONTACT = {
    "kind": "call",
    "contacted_on": TODAY.isoformat(),
    "summary": "Call about the pump deliveries",
    "vendor_people": "",
    "customer_people": "Bea Buyer",
    "notes": "- volumes **steady**",
    "next_step": "Send the new lead times",
}


# --- the contact log ---------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["manager@vendor.test", "engineer@vendor.test"])
def test_vendor_staff_engineers_too_log_a_contact(app, login_as, ids, email):
    person = login_as(email)
    page = f"/contacts/accounts/{ids['acme']}"
    response = person.post(f"{page}/entries", CONTACT, page=page)
    assert response.status_code == 303
    shown = soup(person.get(page))
    article = shown.select_one("article.message")
    assert "Call about the pump deliveries" in article.h3.get_text()
    assert article.select_one(".badge").get_text() == "Internal"
    assert article.select_one(".markdown strong").get_text() == "steady"
    with app.app_context():
        saved = db.session.scalars(select(ContactEntry)).one()
        author = db.session.get(User, saved.author_id)
        assert (author.email, saved.shared, saved.vendor_people) == (email, False, author.name)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"summary": "  "}, "summary", "Write what it was about"),
        ({"summary": "x" * 201}, "summary", "200"),
        ({"contacted_on": ""}, "contacted_on", "Give the day"),
        ({"contacted_on": "31.02.2026"}, "contacted_on", "Not a valid date"),
        ({"contacted_on": (TODAY + timedelta(days=1)).isoformat()}, "contacted_on", "future"),
        ({"contacted_on": "2001-01-01"}, "contacted_on", "two years ago"),
        ({"kind": "fax"}, "kind", "Not a valid choice"),
        ({"notes": "n" * 20_001}, "notes", "20000"),
        ({"customer_people": "p" * 501}, "customer_people", "500"),
    ],
)
def test_bad_contact_input_is_refused_beside_its_field_and_nothing_saved(
    app, login_as, ids, change, field, message
):
    manager = login_as("manager@vendor.test")
    page = f"/contacts/accounts/{ids['acme']}"
    response = manager.post(f"{page}/entries", CONTACT | change, page=page)
    assert response.status_code == 422
    error = soup(response).select_one(f"#{field}-error")
    assert error is not None and message in error.get_text()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContactEntry)) == 0


def test_a_customer_sees_only_the_notes_shared_with_its_own_account(app, login_as, ids):
    with app.app_context():
        entry("C-10001", "Shared with Acme", shared=True)
        entry("C-10001", "Internal about Acme", shared=False)
        entry("C-10002", "Shared with Globex", shared=True)
    page = soup(login_as("buyer@acme.test").get("/contacts/shared"))
    titles = [h.get_text() for h in page.select("article h2")]
    assert len(titles) == 1 and "Shared with Acme" in titles[0]
    assert "Internal" not in page.get_text() and "Globex" not in page.get_text()
    globex = soup(login_as("buyer@globex.test").get("/contacts/shared"))
    assert [h.get_text() for h in globex.select("article h2")][0].endswith("Shared with Globex")


def test_customers_reach_none_of_the_vendors_contact_pages(app, login_as, ids):
    with app.app_context():
        follow_up = contacts.set_follow_up(
            user("manager@vendor.test"),
            account("C-10001"),
            contacts.FollowUpInput(kind="call", title="Call", due_on=TODAY),
            TODAY,
        ).id
    buyer = login_as("buyer@acme.test")
    for url in (
        f"/contacts/accounts/{ids['acme']}",
        f"/contacts/accounts/{ids['acme']}/promised",
        "/contacts/follow-ups",
    ):
        assert buyer.get(url).status_code == 403
    assert buyer.post(f"/contacts/follow-ups/{follow_up}/done", {}, page="/").status_code == 403


def test_another_accounts_manager_guessing_ids_gets_404(app, login_as, ids):
    """manager2 manages Initech and Umbrella, not Acme."""
    with app.app_context():
        follow_up = contacts.set_follow_up(
            user("manager@vendor.test"),
            account("C-10001"),
            contacts.FollowUpInput(kind="call", title="Call", due_on=TODAY),
            TODAY,
        ).id
        entry("C-10001", "Internal about Acme", shared=False)
    other = login_as("manager2@vendor.test")
    acme = ids["acme"]
    assert other.get(f"/contacts/accounts/{acme}").status_code == 404
    assert other.get(f"/contacts/accounts/{acme}/promised").status_code == 404
    page = f"/contacts/accounts/{ids['initech']}"
    assert other.post(f"/contacts/accounts/{acme}/entries", CONTACT, page=page).status_code == 404
    done = other.post(f"/contacts/follow-ups/{follow_up}/done", {"done_note": "x"}, page=page)
    assert done.status_code == 404
    refused = other.post(
        "/contacts/follow-ups/new",
        {"account_id": acme, "kind": "call", "title": "t", "due_on": TODAY.isoformat()},
        page="/contacts/follow-ups/new",
    )
    assert refused.status_code == 422
    assert "Internal about Acme" not in other.get("/contacts/follow-ups?view=all").get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 1
        assert db.session.scalar(select(FollowUp.status)) == "open"


# --- follow-ups --------------------------------------------------------------------------------


def test_the_follow_up_form_comes_prefilled_from_a_link(login_as, ids):
    page = soup(
        login_as("manager@vendor.test").get(
            "/contacts/follow-ups/new?account=c-10001&reason=Account+turned+red"
        )
    )
    assert page.select_one("#account_id option[selected]").get_text().startswith("Acme")
    assert page.select_one("#reason")["value"] == "Account turned red"
    unknown = soup(login_as("manager@vendor.test").get("/contacts/follow-ups/new?account=C-99"))
    assert unknown.select_one("#account_id option[selected]")["value"] == ""


def test_a_follow_up_defaults_to_the_account_manager_who_is_told(app, login_as, ids):
    engineer = login_as("engineer@vendor.test")
    due = TODAY + timedelta(days=5)
    response = engineer.post(
        "/contacts/follow-ups/new",
        {"account_id": ids["acme"], "kind": "visit", "title": "Visit", "due_on": due.isoformat()},
        page="/contacts/follow-ups/new",
    )
    assert response.status_code == 303
    with app.app_context():
        follow_up = db.session.scalars(select(FollowUp)).one()
        manager = user("manager@vendor.test")
        assert (follow_up.owner_id, follow_up.due_on, follow_up.status) == (manager.id, due, "open")
        told = db.session.scalars(
            select(Notification).where(Notification.user_id == manager.id)
        ).one()
        assert told.kind == "follow_up_assigned" and "Acme Industrial" in told.text
    mine = soup(login_as("manager@vendor.test").get("/contacts/follow-ups"))
    assert [td.get_text() for td in mine.select("#results tbody td")][3] == "Visit"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": ""}, "title", "Write what is to be done"),
        ({"due_on": ""}, "due_on", "Give the day it is due"),
        ({"due_on": (TODAY - timedelta(days=1)).isoformat()}, "due_on", "in the past"),
        ({"due_on": "2999-01-01"}, "due_on", "two years ahead"),
        ({"kind": "lunch"}, "kind", "Not a valid choice"),
        ({"owner_id": "acme_buyer"}, "owner_id", "Not a valid choice"),
        ({"owner_id": "99999999999"}, "owner_id", "Invalid Choice"),
        ({"account_id": ""}, "account_id", "Choose an account"),
        ({"account_id": "abc"}, "account_id", "Invalid Choice"),
        ({"contact_id": "globex_contact"}, "contact_id", "Not a valid choice"),
    ],
)
def test_bad_follow_up_input_is_refused_and_nothing_saved(
    app, login_as, ids, change, field, message
):
    with app.app_context():
        globex_contact = entry("C-10002", "Globex call", shared=False).id
    values = {"acme_buyer": str(ids["acme_buyer"]), "globex_contact": str(globex_contact)}
    change = {key: values.get(value, value) for key, value in change.items()}
    data = {
        "account_id": str(ids["acme"]),
        "kind": "call",
        "title": "Call them",
        "due_on": (TODAY + timedelta(days=3)).isoformat(),
        "owner_id": "",
        "reason": "",
        "contact_id": "",
    } | change
    manager = login_as("manager@vendor.test")
    response = manager.post("/contacts/follow-ups/new", data, page="/contacts/follow-ups/new")
    assert response.status_code == 422
    error = soup(response).select_one(f"#{field}-error")
    assert error is not None and message in error.get_text(), soup(response).select(".error")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0


def test_a_follow_up_is_done_with_a_note_and_not_without(app, login_as, ids):
    with app.app_context():
        follow_up = contacts.set_follow_up(
            user("manager@vendor.test"),
            account("C-10001"),
            contacts.FollowUpInput(kind="call", title="Call back", due_on=TODAY),
            TODAY,
        ).id
    manager = login_as("manager@vendor.test")
    page = f"/contacts/accounts/{ids['acme']}"
    url = f"/contacts/follow-ups/{follow_up}/done"
    assert manager.post(url, {"done_note": " "}, page=page).status_code == 303
    with app.app_context():
        assert db.session.get(FollowUp, follow_up).status == "open"
    assert manager.post(url, {"done_note": "Spoke with Bea"}, page=page).status_code == 303
    with app.app_context():
        done = db.session.get(FollowUp, follow_up)
        assert (done.status, done.done_note) == ("done", "Spoke with Bea")
    again = manager.post(url, {"done_note": "twice"}, page=page, follow_redirects=True)
    assert "already done" in again.get_data(as_text=True)


# --- the figures other areas read ----------------------------------------------------------------


def count_statements(action):
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = action()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return result, len(statements)


def test_last_contacts_and_open_follow_ups_read_many_accounts_at_once(app, demo):
    with app.app_context():
        entry("C-10001", "older", shared=False, days_ago=30)
        entry("C-10001", "newest", shared=False, days_ago=2, author="engineer")
        entry("C-10002", "globex", shared=False, days_ago=9)
        manager = user("manager@vendor.test")
        acme = account("C-10001")
        for due_in in (4, 1, 9):
            contacts.set_follow_up(
                manager,
                acme,
                contacts.FollowUpInput(kind="call", title="c", due_on=TODAY + timedelta(due_in)),
                TODAY,
            )
        ids = list(db.session.scalars(select(CustomerAccount.id)))
        last, statements = count_statements(lambda: contacts.last_contacts(ids))
        assert statements == 1
        assert {a: (c.summary, c.days_ago(TODAY)) for a, c in last.items()} == {
            acme.id: ("newest", 2),
            account("C-10002").id: ("globex", 9),
        }
        # Three days later one is overdue.
        later = TODAY + timedelta(days=3)
        open_, statements = count_statements(lambda: contacts.open_follow_ups(ids, later))
        assert statements == 1
        assert open_ == {acme.id: contacts.OpenFollowUps(3, 1, TODAY + timedelta(days=1))}
        assert contacts.last_contacts([]) == {} and contacts.open_follow_ups([]) == {}


# --- everything promised ------------------------------------------------------------------------


def _world_for_promises(n: int) -> None:
    """n of each thing the vendor owes Acme: waiting orders, late lines, suggestions,
    service requests, customer plans, follow-ups."""
    from portal.catalog.models import Category, ContractPrice, Product, Stock
    from portal.fulfilment import confirmations
    from portal.ideas import service as ideas
    from portal.ordering import service as ordering
    from portal.plans import service as plans
    from portal.service import workflow

    buyer, desk = user("buyer@acme.test"), user("fulfilment@vendor.test")
    acme = buyer.account
    product = db.session.scalar(select(Product).where(Product.sku == "PRM-1"))
    if product is None:
        product = Product(
            sku="PRM-1",
            name="Promise part",
            category=Category(name="Parts"),
            list_price=1,
            stock=Stock(on_hand=10_000),
        )
        db.session.add(product)
        db.session.flush()
        db.session.add(
            ContractPrice(
                account_id=acme.id,
                product_id=product.id,
                min_quantity=1,
                unit_price=1,
                valid_from=TODAY - timedelta(days=400),
            )
        )
        db.session.commit()
    address = next(a for a in acme.addresses if a.kind == "shipping")
    for i in range(n):
        for confirm in (False, True):
            ordering.add_to_cart(buyer, [(product.id, 2)])
            order, _ = ordering.place_order(
                buyer,
                po_number=f"PO-{n}-{i}-{confirm}",
                ship_to_id=address.id,
                requested_date=None,
                notes="",
                idempotency_key=f"k-{n}-{i}-{confirm}",
                today=TODAY,
            )
            if confirm:
                line = order.lines[0]
                confirmations.confirm(
                    desk, order, [confirmations.LineDecision(line.id, TODAY + timedelta(9))], TODAY
                )
                # As if placed weeks ago: the promise has passed with nothing shipped.
                line.promised_on = line.first_promised_on = TODAY - timedelta(days=10)
                db.session.commit()
        idea = ideas.save_draft(
            buyer, None, title=f"Idea {i}", body="", category="design", expected_saving="",
            expected_benefit="", skus="",
        )  # fmt: skip
        ideas.submit(buyer, idea, TODAY)
        workflow.open_request(
            buyer, kind="repair", priority="high", title=f"Leak {i}", description="", now=utcnow()
        )
        plans.publish(
            buyer,
            plans.PlanInput(kind="shutdown", title=f"Shutdown {i}", effective_from=TODAY),
        )
        contacts.set_follow_up(
            user("manager@vendor.test"),
            acme,
            contacts.FollowUpInput(kind="call", title=f"Call {i}", due_on=TODAY + timedelta(i)),
            TODAY,
        )


def test_everything_promised_gathers_every_area_nearest_first_in_constant_statements(
    app, login_as, demo
):
    with app.app_context():
        _world_for_promises(1)
    manager = login_as("manager@vendor.test")
    with app.app_context():
        acme_id = account("C-10001").id
    url = f"/contacts/accounts/{acme_id}/promised"
    response, few = count_statements_of_request(app, manager, url)
    page = soup(response)
    kinds = [row.select("td")[2].get_text() for row in page.select("tbody tr")]
    assert set(kinds) == {
        "Orders waiting for confirmation",
        "Late lines",
        "Suggestions waiting for an answer",
        "Service requests",
        "Plans not acknowledged",
        "Follow-ups",
    }
    late = next(row for row in page.select("tbody tr") if "Late lines" in row.get_text())
    assert late.select_one(".badge-late") and late.select_one("td a")["href"].startswith("/orders/")
    dates = [row.select_one("td").get_text().strip() for row in page.select("tbody tr")]
    assert "waiting since" not in dates[0]  # the late line's promise (10 days ago) comes first
    with app.app_context():
        _world_for_promises(3)
    response, many = count_statements_of_request(app, manager, url)
    assert len(soup(response).select("tbody tr")) == 4 * len(kinds)
    assert few == many


def count_statements_of_request(app, person, url):
    with app.app_context():
        engine = db.engine
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = person.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return response, len(statements)


def test_a_planner_reads_promises_but_only_counts_what_is_confidential(app, login_as, demo):
    with app.app_context():
        _world_for_promises(1)
        acme_id = account("C-10001").id
    page = soup(login_as("planner@vendor.test").get(f"/contacts/accounts/{acme_id}/promised"))
    text = page.get_text()
    assert "Idea 0" not in text and "Leak 0" not in text
    assert "1 suggestions waiting for an answer, 1 service requests" in page.select_one(
        ".notice"
    ).get_text(" ", strip=True)


# --- handing an account over ---------------------------------------------------------------------


def test_handing_an_account_to_another_manager_is_recorded_with_why(app, login_as, ids):
    admin = login_as("admin@vendor.test")
    url = f"/accounts/{ids['acme']}/edit"
    data = {
        "number": "C-10001",
        "name": "Acme Industrial",
        "status": "active",
        "timezone": "Europe/Berlin",
        "account_manager_id": str(ids["users"]["manager2@vendor.test"]),
        "promise_basis": "delivery",
    }
    refused = admin.post(url, data)
    assert refused.status_code == 422
    assert "Say why" in soup(refused).select_one("#handover_reason-error").get_text()
    with app.app_context():
        assert account("C-10001").account_manager.email == "manager@vendor.test"
    assert admin.post(url, data | {"handover_reason": "Morgan moves to Asia"}).status_code == 303
    with app.app_context():
        event_ = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "account_handed_over")
        ).one()
        assert event_.detail["from"] == "Morgan Manager"
        assert event_.detail["to"] == "Sam Second-Manager"
        assert event_.actor.email == "admin@vendor.test"
    row = soup(admin.get(f"/accounts/{ids['acme']}")).select_one(
        "[aria-labelledby=handovers-heading] tbody tr"
    )
    cells = [td.get_text() for td in row.select("td")]
    assert cells[1:] == [
        "Morgan Manager",
        "Sam Second-Manager",
        "Morgan moves to Asia",
        "Alex Admin",
    ]
    # The customer's page shows no handovers.
    assert not soup(login_as("admin@acme.test").get(f"/accounts/{ids['acme']}")).select(
        "[aria-labelledby=handovers-heading]"
    )


def test_the_demo_tells_each_accounts_story_in_contacts(app, demo):
    import random

    from portal.contacts import demo as contacts_demo

    with app.app_context():
        counts = contacts_demo.load(random.Random(4848), TODAY)
        assert counts["contacts"] > 20
        ids = {a.number: a.id for a in db.session.scalars(select(CustomerAccount))}
        last = contacts.last_contacts(ids.values())
        days = {number: last[i].days_ago(TODAY) for number, i in ids.items()}
        assert days["C-10001"] < 30 and days["C-10004"] > 120
        open_ = contacts.open_follow_ups(ids.values(), TODAY)
        assert open_[ids["C-10002"]].overdue == 1
        assert ids["C-10004"] not in open_
