"""The shared plans board: publishing from both sides, who sees what (in the query),
revisions with history and fresh acknowledgements, withdrawal, notices on the
product page and in the quick order, notifications, and bad input on every form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from portal.accounts.models import CustomerAccount, User
from portal.catalog.models import Category, Product, Stock
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.notifications.models import Notification
from portal.plans import service
from portal.plans.models import Plan, PlanAcknowledgement, PlanRevision

from .support import soup

TODAY = utcnow().date()


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def account(number: str) -> CustomerAccount:
    return db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == number))


@pytest.fixture
def products(app, demo):
    """Three products: PUMP-1, VALVE-2, SEAL-3; returns their ids by SKU."""
    with app.app_context():
        category = Category(name="Plan tests")
        made = [
            Product(
                sku=sku,
                name=name,
                category=category,
                list_price=10,
                stock=Stock(on_hand=100),
            )
            for sku, name in (
                ("PUMP-1", "Dosing pump"),
                ("VALVE-2", "Ball valve"),
                ("SEAL-3", "Shaft seal"),
            )
        ]
        db.session.add_all(made)
        db.session.commit()
        return {p.sku: p.id for p in made}


def plan_input(**fields) -> service.PlanInput:
    values = {
        "kind": "shutdown",
        "title": "Summer shutdown of the pump line",
        "effective_from": TODAY + timedelta(days=20),
        "effective_to": TODAY + timedelta(days=34),
        "body": "The **pump line** stops for maintenance.",
        "skus": "PUMP-1",
        "visibility": "all",
        "account_ids": [],
    } | fields
    return service.PlanInput(**values)


def for_acme(**fields) -> Plan:
    """The planner's plan for Acme alone."""
    return service.publish(
        user("planner@vendor.test"),
        plan_input(visibility="chosen", account_ids=[account("C-10001").id], **fields),
    )


def board_ids(email: str, **filters) -> set[int]:
    found = service.board(user(email), service.BoardFilter(**filters), TODAY)
    return {p.id for _, plans in found.months for p in plans}


# --- who sees what ----------------------------------------------------------------------------


def test_a_plan_for_chosen_accounts_reaches_only_them(app, products, login_as):
    with app.app_context():
        plan_id = for_acme().id
        for email in ("buyer@acme.test", "approver@acme.test", "planner@vendor.test"):
            assert plan_id in board_ids(email)
            assert service.plan_for(user(email), plan_id).id == plan_id
        for email in ("buyer@globex.test", "buyer@initech.test"):
            assert plan_id not in board_ids(email, when="all", withdrawn=True)
            with pytest.raises(NotFound):
                service.plan_for(user(email), plan_id)
            assert service.notices_for(user(email), [products["PUMP-1"]], TODAY) == {}
        assert service.notices_for(user("buyer@acme.test"), [products["PUMP-1"]], TODAY)

    acme, globex = login_as("buyer@acme.test"), login_as("buyer@globex.test")
    assert acme.get(f"/plans/{plan_id}").status_code == 200
    assert globex.get(f"/plans/{plan_id}").status_code == 404
    assert globex.post(f"/plans/{plan_id}/seen", page="/plans").status_code == 404
    assert "Summer shutdown" in acme.get("/plans").get_data(as_text=True)
    assert "Summer shutdown" not in globex.get("/plans?when=all&withdrawn=1").get_data(as_text=True)
    product_page = f"/catalog/products/{products['PUMP-1']}"
    notice = soup(acme.get(product_page)).select_one(".plan-notice")
    assert notice is not None and "Summer shutdown" in notice.get_text()
    assert soup(globex.get(product_page)).select_one(".plan-notice") is None
    # The quick order: checking a pasted line, and one row of the pad.
    for person, shown in ((acme, True), (globex, False)):
        checked = person.post("/order", {"paste": "PUMP-1 4"})
        assert ("Summer shutdown" in checked.get_data(as_text=True)) is shown
        row = person.get("/order/row?n=0&sku=PUMP-1&qty=2", headers={"HX-Request": "true"})
        assert ("Summer shutdown" in row.get_data(as_text=True)) is shown


def test_a_customers_plan_is_for_the_vendor_never_another_customer(app, products, login_as):
    with app.app_context():
        plan = service.publish(
            user("buyer@acme.test"),
            plan_input(kind="volume", title="Double the pump volume", skus="PUMP-1, SEAL-3"),
        )
        assert plan.side == "customer" and plan.account_id == account("C-10001").id
        assert plan.current.visibility == "vendor"
        for email in ("admin@acme.test", "planner@vendor.test", "fulfilment@vendor.test"):
            assert plan.id in board_ids(email)
        for email in ("buyer@globex.test", "buyer@initech.test"):
            assert plan.id not in board_ids(email, when="all", withdrawn=True)
            with pytest.raises(NotFound):
                service.plan_for(user(email), plan.id)
        # The vendor's planners, admins and Acme's manager are told; no customer.
        told = set(
            db.session.scalars(
                select(User.email).join(Notification).where(Notification.kind == "plan_published")
            )
        )
        assert told == {"planner@vendor.test", "admin@vendor.test", "manager@vendor.test"}
        plan_id = plan.id
    assert login_as("buyer@globex.test").get(f"/plans/{plan_id}").status_code == 404
    page = soup(login_as("planner@vendor.test").get(f"/plans/{plan_id}"))
    assert page.select_one("h1").get_text().startswith("Double the pump volume")
    assert page.select_one("#acknowledgement button").get_text() == "Mark as seen"


def test_vendor_plans_for_every_account_reach_every_customer(app, products):
    with app.app_context():
        plan = service.publish(user("admin@vendor.test"), plan_input(kind="price", skus=""))
        for email in ("buyer@acme.test", "buyer@globex.test", "buyer@initech.test"):
            assert plan.id in board_ids(email)
        told = set(
            db.session.scalars(
                select(User.account_id).join(Notification).where(Notification.kind.like("plan_%"))
            )
        )
        assert len(told) == 5 and None not in told  # every account, no vendor staff


def test_an_account_manager_publishes_only_for_the_accounts_they_manage(app, products):
    with app.app_context():
        manager = user("manager@vendor.test")  # manages Acme and Globex
        with pytest.raises(DomainError, match="accounts they manage: choose") as raised:
            service.publish(manager, plan_input(visibility="all"))
        assert raised.value.field == "visibility"
        initech = account("C-10003").id
        with pytest.raises(DomainError, match="among the accounts you manage"):
            service.publish(manager, plan_input(visibility="chosen", account_ids=[initech]))
        plan = service.publish(
            manager, plan_input(visibility="chosen", account_ids=[account("C-10002").id])
        )
        assert plan.id in board_ids("buyer@globex.test")
        assert plan.id not in board_ids("buyer@acme.test")
        # Only the author or a planner changes it; another manager, an engineer cannot.
        assert service.may_change(manager, plan)
        assert service.may_change(user("planner@vendor.test"), plan)
        assert not service.may_change(user("manager2@vendor.test"), plan)
        assert not service.may_change(user("engineer@vendor.test"), plan)
        assert not service.may_change(user("buyer@globex.test"), plan)
        with pytest.raises(Forbidden):
            service.publish(user("engineer@vendor.test"), plan_input())
        with pytest.raises(Forbidden):
            service.publish(user("approver@acme.test"), plan_input(kind="volume"))


# --- revisions, acknowledgements, withdrawal ------------------------------------------------


def test_a_revision_keeps_the_history_and_asks_to_be_seen_again(app, products):
    with app.app_context():
        plan = for_acme()
        buyer, planner = user("buyer@acme.test"), user("planner@vendor.test")
        first = plan.current
        service.acknowledge(buyer, plan)
        service.acknowledge(buyer, plan)  # twice is once
        assert service.acknowledged(buyer, plan)[0] is not None
        with pytest.raises(DomainError, match="other side"):
            service.acknowledge(planner, plan)
        before = db.session.scalar(
            select(db.func.count())
            .select_from(Notification)
            .where(Notification.user_id == buyer.id)
        )

        with pytest.raises(DomainError, match="what changed") as raised:
            service.revise(
                planner, plan, plan_input(visibility="chosen", account_ids=[first.accounts[0].id])
            )
        assert raised.value.field == "change_note"
        db.session.rollback()
        service.revise(
            planner,
            plan,
            plan_input(
                title="Summer shutdown, one week longer",
                effective_to=TODAY + timedelta(days=41),
                skus="PUMP-1\nVALVE-2",
                visibility="chosen",
                account_ids=[account("C-10001").id, account("C-10002").id],
                change_note="One week longer; valves too.",
            ),
        )
        db.session.expire_all()
        plan = db.session.get(Plan, plan.id)
        assert plan.revision_number == 2 and plan.current.title.endswith("one week longer")
        revisions = service.history(plan)
        assert [r.number for r in revisions] == [2, 1]
        assert revisions[1].title == "Summer shutdown of the pump line"  # unchanged
        assert [p.sku for p in revisions[1].products] == ["PUMP-1"]
        assert [p.sku for p in revisions[0].products] == ["PUMP-1", "VALVE-2"]
        # The acknowledgement belonged to revision 1: revision 2 is unseen.
        assert service.acknowledged(buyer, plan) == (None, 1)
        assert plan.id in service.board(buyer, service.BoardFilter(), TODAY).unseen
        after = db.session.scalar(
            select(db.func.count())
            .select_from(Notification)
            .where(Notification.user_id == buyer.id)
        )
        assert after == before + 1
        # Globex was added: it now sees the plan, and hears of it as a new one.
        assert plan.id in board_ids("buyer@globex.test")
        globex_told = db.session.scalars(
            select(Notification.kind).where(Notification.user_id == user("buyer@globex.test").id)
        ).all()
        assert globex_told == ["plan_published"]
        assert (
            "plan_changed"
            in db.session.scalars(
                select(Notification.kind).where(Notification.user_id == buyer.id)
            ).all()
        )
        groups = {g.name: g for g in service.readers(plan)}
        assert set(groups) == {"Acme Industrial", "Globex Manufacturing"}
        bea = next(r for r in groups["Acme Industrial"].readers if r.user.id == buyer.id)
        assert bea.seen_at is None and bea.seen_earlier == 1
        service.acknowledge(buyer, plan)
        groups = {g.name: g for g in service.readers(plan)}
        assert groups["Acme Industrial"].seen_count == 1
        assert db.session.scalar(select(db.func.count()).select_from(PlanAcknowledgement)) == 2


def test_a_withdrawn_plan_stays_readable_but_leaves_the_board_and_product_pages(
    app, products, login_as
):
    with app.app_context():
        plan = for_acme()
        buyer = user("buyer@acme.test")
        with pytest.raises(DomainError, match="why") as raised:
            service.withdraw(user("planner@vendor.test"), plan, "  ")
        assert raised.value.field == "reason"
        with pytest.raises(Forbidden):
            service.withdraw(buyer, plan, "Not mine")
        service.withdraw(user("planner@vendor.test"), plan, "Maintenance moved to next year.")
        assert plan.id not in board_ids("buyer@acme.test")
        assert plan.id in board_ids("buyer@acme.test", withdrawn=True)
        assert service.notices_for(buyer, [products["PUMP-1"]], TODAY) == {}
        assert not service.may_change(user("planner@vendor.test"), plan)
        plan_id = plan.id
    page = soup(login_as("buyer@acme.test").get(f"/plans/{plan_id}"))
    assert "Withdrawn" in page.select_one("h1").get_text()
    assert "Maintenance moved to next year." in page.select_one("main").get_text()
    assert page.select_one("#acknowledgement") is None


def test_acknowledging_with_htmx_swaps_in_seen_and_the_author_sees_who(app, products, login_as):
    with app.app_context():
        plan_id = for_acme().id
    buyer = login_as("buyer@acme.test")
    page = soup(buyer.get(f"/plans/{plan_id}"))
    assert page.select_one("#acknowledgement button").get_text() == "Mark as seen"
    response = buyer.post(
        f"/plans/{plan_id}/seen", page=f"/plans/{plan_id}", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    fragment = soup(response)
    assert fragment.select_one("#acknowledgement .badge").get_text() == "Seen"
    assert fragment.select_one("h1") is None  # the block alone
    planner = soup(login_as("planner@vendor.test").get(f"/plans/{plan_id}"))
    rows = {
        tr.select("td")[0].get_text(): tr.select("td")[1].get_text(" ", strip=True)
        for tr in planner.select(".readers tbody tr")
    }
    assert rows["Bea Buyer"].startswith("Seen")
    assert rows["Arno Approver"] == "Not yet"
    assert "Gil Globex" not in rows  # Globex is not a reader
    # The customer is not shown the readers list of a vendor plan.
    assert soup(buyer.get(f"/plans/{plan_id}")).select_one(".readers") is None


def test_a_customer_never_learns_which_other_accounts_a_plan_is_for(app, products, login_as):
    with app.app_context():
        plan_id = service.publish(
            user("planner@vendor.test"),
            plan_input(
                visibility="chosen",
                account_ids=[account("C-10001").id, account("C-10002").id],
            ),
        ).id
    text = login_as("buyer@acme.test").get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "Globex" not in text
    assert "Globex" in login_as("planner@vendor.test").get(f"/plans/{plan_id}").get_data(
        as_text=True
    )


# --- the board ---------------------------------------------------------------------------------


def test_the_board_filters_by_date_kind_product_and_side(app, products, login_as):
    with app.app_context():
        planner = user("planner@vendor.test")
        past = service.publish(
            planner,
            plan_input(
                kind="lead_time",
                title="Longer lead time in spring",
                effective_from=TODAY - timedelta(days=200),
                effective_to=TODAY - timedelta(days=100),
                skus="VALVE-2",
            ),
        ).id
        coming = service.publish(planner, plan_input()).id
        open_ended = service.publish(
            planner,
            plan_input(
                kind="discontinuation",
                title="Seal discontinued",
                effective_from=TODAY - timedelta(days=10),
                effective_to=None,
                skus="SEAL-3",
            ),
        ).id
        theirs = service.publish(user("buyer@acme.test"), plan_input(kind="volume", skus="")).id
        email = "planner@vendor.test"
        assert board_ids(email) == {coming, open_ended, theirs}
        assert service.board(user(email), service.BoardFilter(when="all"), TODAY).total == 4
        assert board_ids(email, when="past") == {past}
        assert board_ids(email, when="all") == {past, coming, open_ended, theirs}
        assert board_ids(email, when="all", kind="lead_time") == {past}
        assert board_ids(email, when="all", sku="valve-2") == {past}
        assert board_ids(email, when="all", side="customer") == {theirs}
        assert board_ids(email, when="all", start=TODAY + timedelta(days=15)) == {coming, theirs}
        assert board_ids(email, when="all", end=TODAY - timedelta(days=50)) == {past}
        found = service.board(user(email), service.BoardFilter(sku="NOPE-9"), TODAY)
        assert found.unknown_sku and found.months == []
        # Month headings in date order.
        months = [m for m, _ in service.board(user(email), service.BoardFilter(), TODAY).months]
        assert months == sorted(months)
    page = soup(login_as("planner@vendor.test").get("/plans?when=all"))
    assert len(page.select(".plan-month")) >= 2
    assert len(page.select(".plan-item")) == 4
    fragment = login_as("planner@vendor.test").get(
        "/plans?kind=discontinuation", headers={"HX-Request": "true"}
    )
    assert fragment.headers["Vary"] == "HX-Request" or "HX-Request" in fragment.headers["Vary"]
    items = soup(fragment).select(".plan-item")
    assert [i.select_one(".plan-title a").get_text() for i in items] == ["Seal discontinued"]


def test_notices_take_one_query_however_many_products(app, products, login_as):
    with app.app_context():
        service.publish(user("planner@vendor.test"), plan_input(skus="PUMP-1, VALVE-2, SEAL-3"))
        service.publish(
            user("planner@vendor.test"), plan_input(kind="capacity", title="More capacity")
        )  # capacity is no notice
        engine = db.engine
        buyer = user("buyer@acme.test")
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            found = service.notices_for(buyer, products.values(), TODAY)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(statements) == 1
        assert set(found) == set(products.values())
        assert all(n.kind == "shutdown" for notices in found.values() for n in notices)
    buyer = login_as("buyer@acme.test")
    few = buyer.post("/order", {"paste": "PUMP-1 1"})
    assert "Summer shutdown" in few.get_data(as_text=True)

    from .test_ordering import statements_for

    one = statements_for(app, buyer.client, f"/catalog/products/{products['PUMP-1']}")
    assert statements_for(app, buyer.client, f"/catalog/products/{products['SEAL-3']}") == one


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": "  "}, "title", "title of a few words"),
        ({"title": "x" * 201}, "title", "under 200"),
        ({"kind": "volume"}, "kind", "kind of plan"),  # a customer's kind, not the vendor's
        ({"effective_from": None}, "effective_from", "takes effect"),
        (
            {"effective_from": TODAY, "effective_to": TODAY - timedelta(days=1)},
            "effective_to",
            "before the start",
        ),
        ({"skus": "PUMP-1, NOPE-404"}, "skus", "no product with the SKU “NOPE-404”"),
        ({"skus": ", ".join(f"X-{i}" for i in range(51))}, "skus", "at most 50"),
        ({"visibility": "chosen", "account_ids": []}, "account_ids", "at least one account"),
        ({"visibility": "chosen", "account_ids": [2**31 - 1]}, "account_ids", "from the list"),
        ({"visibility": "everybody"}, "visibility", "who may see"),
        ({"body": "x" * 20_001}, "body", "under 20,000"),
    ],
)
def test_bad_plans_are_refused_with_the_field_named(app, products, fields, field, message):
    with app.app_context():
        with pytest.raises(DomainError, match=message) as raised:
            service.publish(user("planner@vendor.test"), plan_input(**fields))
        assert raised.value.field == field
        db.session.rollback()
        assert db.session.scalar(select(db.func.count()).select_from(Plan)) == 0


def test_a_customer_cannot_use_the_vendors_kinds(app, products):
    with app.app_context(), pytest.raises(DomainError, match="kind of plan"):
        service.publish(user("buyer@acme.test"), plan_input(kind="price"))


def test_markdown_is_sanitised(app, products, login_as):
    with app.app_context():
        plan = service.publish(
            user("planner@vendor.test"),
            plan_input(
                body="<script>alert(1)</script> **bold** [x](javascript:alert(2)) "
                '<img src=x onerror="alert(3)">'
            ),
        )
        from bs4 import BeautifulSoup

        html = BeautifulSoup(plan.current.body_html, "html.parser")
        # Raw HTML stays visible text; a javascript: link is no link at all.
        assert html.find("script") is None and html.find("img") is None
        assert all(not a.get("href", "").startswith("javascript") for a in html.find_all("a"))
        assert "<script>alert(1)</script>" in html.get_text()
        assert html.find("strong").get_text() == "bold"
        plan_id = plan.id
    page = login_as("buyer@acme.test").get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    preview = login_as("planner@vendor.test").post(
        "/plans/preview", {"body": "<script>x</script> *it*"}, page="/plans/new"
    )
    assert "<script>" not in preview.get_data(as_text=True)
    assert "<em>it</em>" in preview.get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"title": ""}, "title", "title of a few words"),
        ({"effective_to": "2020-01-01"}, "effective_to", "before the start"),
        ({"effective_from": "31.12."}, "effective_from", "Not a valid date"),
        ({"skus": "NOPE-404"}, "skus", "NOPE-404"),
        ({"visibility": "chosen"}, "account_ids", "at least one account"),
        ({"body": "x" * 20_001}, "body", "20000"),
    ],
)
def test_the_plan_form_shows_each_problem_beside_its_field(
    app, products, login_as, form, field, message
):
    planner = login_as("planner@vendor.test")
    data = {
        "kind": "shutdown",
        "title": "Winter shutdown",
        "effective_from": (TODAY + timedelta(days=5)).isoformat(),
        "effective_to": "",
        "body": "",
        "skus": "",
        "visibility": "all",
    } | form
    response = planner.post("/plans/new", data)
    assert response.status_code == 422
    error = soup(response).select_one(f"#{field}-error")
    assert error is not None and message in error.get_text(), soup(response).select(".error")
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Plan)) == 0


def test_publishing_revising_and_withdrawing_through_the_forms(app, products, login_as):
    buyer = login_as("buyer@acme.test")
    response = buyer.post(
        "/plans/new",
        {
            "kind": "launch",
            "title": "Launch of our X200 line",
            "effective_from": (TODAY + timedelta(days=60)).isoformat(),
            "skus": "PUMP-1",
            "body": "We will need **more pumps**.",
        },
    )
    assert response.status_code == 303
    url = response.headers["Location"]
    page = soup(buyer.get(url))
    assert page.select_one("#acknowledgement") is None  # the author's side does not acknowledge
    assert "Launch of our X200 line" in page.select_one("h1").get_text()
    # Another buyer of the same account cannot revise the author's plan; the customer admin can.
    with app.app_context():
        plan_id = db.session.scalar(select(Plan.id))
    revise = f"/plans/{plan_id}/revise"
    admin = login_as("admin@acme.test")
    form = soup(admin.get(revise))
    assert form.select_one("#title")["value"] == "Launch of our X200 line"
    assert form.select_one("#visibility") is None  # customers do not choose
    response = admin.post(
        revise,
        {
            "kind": "launch",
            "title": "Launch of our X200 line, later",
            "effective_from": (TODAY + timedelta(days=90)).isoformat(),
            "skus": "PUMP-1",
            "change_note": "Moved by a month.",
        },
    )
    assert response.status_code == 303
    page = soup(admin.get(f"/plans/{plan_id}"))
    history = page.select(".plan-history > li")
    assert len(history) == 2 and "Moved by a month." in history[0].get_text()
    assert login_as("approver@acme.test").get(revise).status_code == 403
    response = admin.post(f"/plans/{plan_id}/withdraw", {"reason": ""}, page=f"/plans/{plan_id}")
    assert response.status_code == 422
    assert "why" in soup(response).select_one("#reason-error").get_text()
    response = admin.post(
        f"/plans/{plan_id}/withdraw", {"reason": "Launch cancelled."}, page=f"/plans/{plan_id}"
    )
    assert response.status_code == 303
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        assert plan.is_withdrawn and plan.withdrawal_reason == "Launch cancelled."
        assert db.session.scalar(select(db.func.count()).select_from(PlanRevision)) == 2


# --- demo data --------------------------------------------------------------------------------


def test_the_demo_has_plans_from_both_sides(app, catalog):
    import random

    from portal.plans import demo as plans_demo

    with app.app_context():
        assert plans_demo.load(random.Random(4646), TODAY) == {"plans": 10}
        plans = db.session.scalars(select(Plan).order_by(Plan.id)).all()
        assert {p.side for p in plans} == {"vendor", "customer"}
        assert sum(p.is_withdrawn for p in plans) == 1
        assert max(p.revision_number for p in plans) == 2
        acme_only = {p.id for p in plans if p.current.visibility == "chosen"}
        assert acme_only and not acme_only & board_ids("buyer@initech.test", when="all")
        theirs = {p.id for p in plans if p.side == "customer"}
        assert len(board_ids("buyer@acme.test", when="all") & theirs) == 1
        assert theirs <= board_ids("planner@vendor.test", when="all")


def test_the_board_and_a_plan_cost_the_same_queries_for_few_or_many(app, products, login_as):
    from .test_ordering import statements_for

    with app.app_context():
        # One of each: the vendor's (to acknowledge) and the account's own.
        first = for_acme()
        service.acknowledge(user("buyer@acme.test"), first)
        service.publish(user("buyer@acme.test"), plan_input(kind="volume"))
        plan_id = first.id
    buyer, planner = login_as("buyer@acme.test"), login_as("planner@vendor.test")
    few = statements_for(app, buyer.client, "/plans")
    detail = statements_for(app, planner.client, f"/plans/{plan_id}")
    with app.app_context():
        for n in range(5):
            service.publish(user("planner@vendor.test"), plan_input(title=f"Plan number {n}"))
        service.publish(user("buyer@acme.test"), plan_input(kind="volume"))
        service.acknowledge(user("buyer@acme.test"), db.session.get(Plan, plan_id))
    assert statements_for(app, buyer.client, "/plans") == few
    assert statements_for(app, planner.client, f"/plans/{plan_id}") == detail
