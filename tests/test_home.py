"""Home pages (#14 item 8): each vendor role's list of what it owes, nearest promise
first, overdue said in words, cut at a limit with "N more"; the customer's timeline of
what passed between the companies, its own account only, no sign-ins.

The demo's own rows of an area are set aside first (orders cancelled, suggestions
answered), so each list holds exactly the hand-made rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from portal.accounts.models import CustomerAccount, User
from portal.audit import service as audit
from portal.catalog.models import Category, Product
from portal.extensions import db, utcnow
from portal.home import duties
from portal.ideas.models import Idea
from portal.ordering.models import Order, OrderEvent, OrderLine
from portal.service.models import ServiceRequest

from .support import soup


def account(number: str) -> CustomerAccount:
    return db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == number))


def person(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def an_order(number: str, buyer: str, *, status="placed", placed_days_ago=1, requested=None):
    who = person(buyer)
    order = Order(
        number=number,
        account_id=who.account_id,
        placed_by_id=who.id,
        status=status,
        po_number=f"PO-{number}",
        ship_to_text="Dock 1",
        requested_date=requested,
        total=Decimal("10.00"),
        currency="EUR",
        idempotency_key=number,
        placed_at=utcnow() - timedelta(days=placed_days_ago),
    )
    db.session.add(order)
    db.session.flush()
    return order


def a_line(order, line_no, promised_on, *, first=None, shipped=0, quantity=5):
    # shipped lines are delivered too: kept on either promise basis
    product = db.session.scalar(select(Product).where(Product.sku == "HOME-1"))
    if product is None:
        product = Product(
            sku="HOME-1",
            name="Home part",
            category=Category(name="Home parts"),
            list_price=Decimal("2.00"),
            lead_time_days=7,
        )
        db.session.add(product)
        db.session.flush()
    line = OrderLine(
        order_id=order.id,
        line_no=line_no,
        product_id=product.id,
        sku=f"SKU-{line_no}",
        name=f"Part {line_no}",
        unit="pc",
        quantity=quantity,
        unit_price=Decimal("2.00"),
        line_total=Decimal("2.00") * quantity,
        estimated_ship_date=promised_on,
        status="confirmed",
        first_promised_on=first or promised_on,
        promised_on=promised_on,
        shipped_quantity=shipped,
        delivered_quantity=shipped,
    )
    db.session.add(line)
    return line


def set_aside_demo_orders():
    db.session.execute(update(Order).where(Order.status == "placed").values(status="cancelled"))
    db.session.execute(
        update(OrderLine).where(OrderLine.status == "confirmed").values(status="cancelled")
    )


def cells(section) -> list[list[str]]:
    return [
        [td.get_text(" ", strip=True) for td in row.select("td")]
        for row in section.select("tbody tr")
    ]


@pytest.fixture
def desk_work(app, demo):
    """Three waiting orders and four confirmed lines, dates counted from today."""
    today = utcnow().date()
    with app.app_context():
        set_aside_demo_orders()
        an_order(
            "H-0001", "buyer@acme.test", placed_days_ago=5, requested=today - timedelta(days=2)
        )
        an_order("H-0002", "buyer@globex.test", placed_days_ago=1)
        an_order(
            "H-0003", "buyer@acme.test", placed_days_ago=3, requested=today + timedelta(days=5)
        )
        confirmed = an_order("H-0004", "buyer@initech.test", status="confirmed", placed_days_ago=20)
        a_line(confirmed, 1, today - timedelta(days=3))  # late
        a_line(confirmed, 2, today + timedelta(days=1))  # due tomorrow
        a_line(
            confirmed, 3, today + timedelta(days=10), first=today + timedelta(days=4)
        )  # moved only
        a_line(confirmed, 4, today - timedelta(days=1), shipped=5)  # kept: nothing to go
        db.session.commit()
    return today


def test_fulfilment_sees_waiting_orders_and_lines_due_nearest_first(desk_work, login_as):
    page = soup(login_as("fulfilment@vendor.test").get("/"))
    waiting = page.select_one("#owed-waiting")
    # H-0001's requested date passed two days ago; H-0002 waits since yesterday; H-0003 is
    # requested in five days.
    rows = cells(waiting)
    assert [row[2].split(" ·")[0] for row in rows] == [
        "Order H-0001 (PO PO-H-0001)",
        "Order H-0002 (PO PO-H-0002)",
        "Order H-0003 (PO PO-H-0003)",
    ]
    assert [row[1] for row in rows] == [
        "Acme Industrial C-10001",
        "Globex Manufacturing C-10002",
        "Acme Industrial C-10001",
    ]
    assert "Overdue" in rows[0][0] and "2 days late" in rows[0][0]
    assert "waiting since" in rows[1][0] and "Overdue" not in rows[1][0]
    assert "in 5 days" in rows[2][0] and "Overdue" not in rows[2][0]
    assert waiting.select_one("h2 .count").get_text() == "3"
    lines = cells(page.select_one("#owed-lines"))
    assert [row[2].split(":")[0] for row in lines] == ["H-0004 line 1", "H-0004 line 2"]
    assert "Overdue" in lines[0][0] and "3 days late" in lines[0][0]
    assert "Due soon" in lines[1][0] and "tomorrow" in lines[1][0]
    # Only fulfilment's sections: nothing of the planners' or the engineers'.
    assert [s["id"] for s in page.select("section.owed-section")] == ["owed-waiting", "owed-lines"]


def test_a_list_past_its_limit_says_how_many_more_and_links_to_the_full_list(
    desk_work, login_as, monkeypatch
):
    monkeypatch.setattr(duties, "LIMIT", 2)
    page = soup(login_as("fulfilment@vendor.test").get("/"))
    waiting = page.select_one("#owed-waiting")
    assert len(waiting.select("tbody tr")) == 2
    more = waiting.select_one(".owed-more a")
    assert more.get_text() == "1 more" and more["href"] == "/desk"
    assert page.select_one("#owed-lines .owed-more") is None


def test_engineers_see_suggestions_due_with_their_owner(app, login_as):
    today = utcnow().date()
    with app.app_context():
        db.session.execute(
            update(Idea).where(Idea.first_answered_at.is_(None)).values(first_answered_at=utcnow())
        )
        engineer = person("engineer@vendor.test")
        for title, due, assignee in (
            ("Later one", today + timedelta(days=4), None),
            ("Late one", today - timedelta(days=1), engineer.id),
        ):
            db.session.add(
                Idea(
                    account_id=account("C-10002").id,
                    title=title,
                    category="design",
                    status="submitted",
                    submitted_at=utcnow() - timedelta(days=6),
                    answer_due_on=due,
                    assignee_id=assignee,
                )
            )
        db.session.commit()
    page = soup(login_as("engineer@vendor.test").get("/"))
    rows = cells(page.select_one("#owed-suggestions"))
    assert [row[2].split(" ", 1)[1].split(" ·")[0] for row in rows] == ["Late one", "Later one"]
    assert "Overdue" in rows[0][0] and "1 day late" in rows[0][0]
    assert "Overdue" not in rows[1][0]
    assert [row[3] for row in rows] == [engineer_name(app), "—"]


def engineer_name(app) -> str:
    with app.app_context():
        return person("engineer@vendor.test").name


def test_an_empty_list_says_what_nothing_means(app, login_as):
    with app.app_context():
        set_aside_demo_orders()
        db.session.commit()
    page = soup(login_as("fulfilment@vendor.test").get("/"))
    assert page.select_one("#owed-waiting .empty").get_text() == (
        "Nothing owed: no order waits for confirmation."
    )


def test_service_sees_open_requests_past_their_promise_first(app, login_as):
    now = utcnow()
    with app.app_context():
        acme = account("C-10001")
        for title, opened in (
            ("Opened just now", now),
            ("Opened a month ago", now - timedelta(days=30)),
        ):
            db.session.add(
                ServiceRequest(
                    account_id=acme.id,
                    kind="installation",
                    priority="normal",
                    title=title,
                    status="new",
                    opened_at=opened,
                    last_activity_at=opened,
                )
            )
        db.session.commit()
    page = soup(login_as("service@vendor.test").get("/"))
    rows = cells(page.select_one("#owed-requests"))
    assert [row[2].split(" ", 1)[1].split(" ·")[0] for row in rows] == [
        "Opened a month ago",
        "Opened just now",
    ]
    assert "Overdue" in rows[0][0] and "promise passed" in rows[0][0]
    assert "Overdue" not in rows[1][0] and "first answer" in rows[1][2]


def test_service_with_no_open_request_is_told_so(login_as):
    page = soup(login_as("service@vendor.test").get("/"))
    assert [s["id"] for s in page.select("section.owed-section")] == ["owed-requests"]
    assert page.select_one("#owed-requests .empty").get_text() == (
        "Nothing owed: no service request is open."
    )


def test_the_planner_and_the_managers_see_their_own_sections(login_as):
    planner = soup(login_as("planner@vendor.test").get("/"))
    assert [s["id"] for s in planner.select("section.owed-section")] == [
        "owed-forecasts",
        "owed-exceptions",
        "owed-shortages",
        "owed-plans",
    ]
    manager = soup(login_as("manager@vendor.test").get("/"))
    assert [s["id"] for s in manager.select("section.owed-section")] == ["home-portfolio"]
    assert manager.select_one("#home-portfolio h2").get_text() == "Your accounts"
    admin = soup(login_as("admin@vendor.test").get("/"))
    names = {a.get_text() for a in admin.select("#home-portfolio tbody td a")}
    assert {"Acme Industrial", "Globex Manufacturing", "Initech Systems"} <= names


def publish(email: str, quantities: dict[int, dict[int, int]]):
    """Publish the account's next version: {product id: {months ahead: quantity}}."""
    from portal.catalog.models import Product as P
    from portal.forecasts import drafts, versions
    from portal.forecasts.months import add_months

    today = utcnow().date()
    buyer = person(email)
    present = {row.product.id for row in drafts.grid(buyer, today).rows}
    for pid, by_month in quantities.items():
        if pid not in present:
            drafts.add_product(buyer, db.session.get(P, pid).sku, today)
        for ahead, quantity in by_month.items():
            month = add_months(today.replace(day=1), ahead)
            drafts.save_cell(buyer, pid, f"{month:%Y-%m}", str(quantity), today)
    return versions.publish(buyer, "", today)


def month_ahead(ahead: int):
    from portal.forecasts.months import add_months

    return add_months(utcnow().date().replace(day=1), ahead)


def test_the_planner_sees_forecast_exceptions_until_they_are_committed(app, catalog, login_as):
    """A change beyond the account's threshold (20 %) and a new product are owed until a
    commitment answers them; the nearest month's account comes first."""
    from portal.forecasts import commits

    with app.app_context():
        a, b, c = db.session.scalars(
            select(Product.id).where(Product.status == "active").order_by(Product.sku).limit(3)
        ).all()
        planner = person("planner@vendor.test")
        acme, globex = account("C-10001").id, account("C-10002").id
        publish("buyer@acme.test", {a: {1: 100, 2: 50}})
        publish("buyer@globex.test", {c: {3: 10, 4: 10}})
        for account_id in (acme, globex):
            commits.commit_all_as_forecast(planner, account_id)
        publish("buyer@acme.test", {a: {1: 300}, b: {5: 10}})  # +200 %, and b is new
        publish("buyer@globex.test", {c: {4: 11}})  # +10 %: within the threshold
        publish("buyer@globex.test", {c: {3: 50}})  # +400 % three months ahead
    section = soup(login_as("planner@vendor.test").get("/")).select_one("#owed-exceptions")
    rows = cells(section)
    assert [row[0].split(" ")[:3] for row in rows] == [
        f"{month_ahead(1):%d %b %Y}".split(),
        f"{month_ahead(3):%d %b %Y}".split(),
    ]
    assert [row[1:] for row in rows] == [
        [
            "Acme Industrial C-10001",
            "Forecast version 2 exceptions · 1 change beyond the threshold, 1 new product",
        ],
        [
            "Globex Manufacturing C-10002",
            "Forecast version 3 exceptions · 1 change beyond the threshold",
        ],
    ]
    assert [link["href"] for link in section.select("tbody a")] == [
        f"/forecasts/accounts/{acme}/commits",
        f"/forecasts/accounts/{globex}/commits",
    ]
    with app.app_context():
        commits.commit_all_as_forecast(person("planner@vendor.test"), acme)
    section = soup(login_as("planner@vendor.test").get("/")).select_one("#owed-exceptions")
    assert [row[1] for row in cells(section)] == ["Globex Manufacturing C-10002"]


def test_the_planner_sees_products_short_of_forecast_demand_nearest_month_first(
    app, catalog, login_as
):
    """Short: stock below the month's demand of every account's latest version, and the
    lead time too long to order in time. Each product once, at its nearest month."""
    from portal.catalog.models import Stock

    with app.app_context():
        slow, quick, late = db.session.scalars(
            select(Product).where(Product.status == "active").order_by(Product.sku).limit(3)
        ).all()
        for product, lead_time in ((slow, 400), (quick, 0), (late, 400)):
            product.lead_time_days = lead_time
            db.session.merge(Stock(product_id=product.id, on_hand=5, reserved=0))
        db.session.commit()
        ids = (slow.id, quick.id, late.id)
        publish("buyer@acme.test", {slow.id: {2: 4, 4: 30}, quick.id: {3: 50}, late.id: {6: 8}})
        publish("buyer@globex.test", {slow.id: {2: 3}})  # with Acme's 4: 7 > 5 in stock
        skus = {pid: db.session.get(Product, pid).sku for pid in ids}
    section = soup(login_as("planner@vendor.test").get("/")).select_one("#owed-shortages")
    rows = cells(section)
    assert [row[0].split(" ")[:3] for row in rows] == [
        f"{month_ahead(2):%d %b %Y}".split(),
        f"{month_ahead(6):%d %b %Y}".split(),
    ]
    assert rows[0][2].startswith(skus[ids[0]])
    assert rows[0][2].endswith("demand 7, available 5; short in 2 months ahead")
    assert rows[1][2].startswith(skus[ids[2]])
    link = section.select_one("tbody a")["href"]
    assert link == f"/forecasts/planning/demand?month={month_ahead(2):%Y-%m}&short=1"


def timeline_texts(page) -> list[str]:
    return [
        " ".join(li.get_text(" ", strip=True).split()[3:])
        for li in page.select("#relationship-timeline li.happening")
    ]


@pytest.fixture
def two_accounts_events(app, demo):
    """Events in the future of the demo's, so they lead each timeline."""
    now = utcnow()
    with app.app_context():
        acme_buyer, globex_buyer = person("buyer@acme.test"), person("buyer@globex.test")
        order = an_order("H-0100", "buyer@acme.test", status="confirmed", placed_days_ago=0)
        line = a_line(order, 1, now.date() + timedelta(days=9))
        db.session.flush()
        for minutes, kind, extra in (
            (1, "placed", {}),
            (2, "order_confirmed", {}),
            (3, "promise_changed", {"line_id": line.id, "on_date": now.date() + timedelta(days=9)}),
            (5, "shipped", {"line_id": line.id, "on_date": now.date(), "quantity": 5}),
        ):
            db.session.add(
                OrderEvent(
                    order_id=order.id, at=now + timedelta(minutes=minutes), kind=kind, **extra
                )
            )
        db.session.add(
            Idea(
                account_id=acme_buyer.account_id,
                title="Thinner gasket",
                category="design",
                status="under_review",
                submitted_at=now + timedelta(minutes=4),
                first_answered_at=now + timedelta(minutes=6),
            )
        )
        audit.record("sign_in", actor=acme_buyer, account_id=acme_buyer.account_id)
        other = an_order("H-0200", "buyer@globex.test", placed_days_ago=0)
        db.session.add(OrderEvent(order_id=other.id, at=now + timedelta(minutes=7), kind="placed"))
        db.session.add(
            Idea(
                account_id=globex_buyer.account_id,
                title="Globex secret idea",
                category="design",
                status="submitted",
                submitted_at=now + timedelta(minutes=8),
            )
        )
        db.session.commit()
    return now


def test_the_customer_timeline_shows_what_passed_newest_first(two_accounts_events, login_as):
    page = soup(login_as("buyer@acme.test").get("/"))
    day = two_accounts_events.date()
    shown = timeline_texts(page)
    assert shown[:6] == [
        "Suggestion answered: Thinner gasket",
        f"Order H-0100: 1 line shipped on {day:%d %b %Y}",
        "Suggestion sent: Thinner gasket",
        f"Promise for H-0100 line 1 (SKU-1) moved to {day + timedelta(days=9):%d %b %Y}",
        "Order H-0100 confirmed by the vendor",
        "Order H-0100 placed (PO PO-H-0100)",
    ]
    timeline = page.select_one("#relationship-timeline").get_text()
    assert "Signed in" not in timeline and "sign" not in timeline.lower()
    assert "H-0200" not in page.get_text() and "Globex secret idea" not in page.get_text()
    links = [a["href"] for a in page.select("#relationship-timeline li.happening a")][:2]
    assert links[1] == "/orders/H-0100" and links[0].startswith("/ideas/")


def test_another_customer_sees_only_its_own_timeline(two_accounts_events, login_as):
    shown = timeline_texts(soup(login_as("buyer@globex.test").get("/")))
    assert shown[:2] == [
        "Suggestion sent: Globex secret idea",
        "Order H-0200 placed (PO PO-H-0200)",
    ]
    assert not [text for text in shown if "H-0100" in text or "Thinner gasket" in text]


def test_show_older_answers_the_next_page_alone_for_htmx(two_accounts_events, login_as, app):
    buyer = login_as("buyer@acme.test")
    with app.app_context():
        acme = account("C-10001")
        for n in range(20):
            db.session.add(
                Idea(
                    account_id=acme.id,
                    title=f"Old idea {n:02d}",
                    category="design",
                    status="submitted",
                    submitted_at=utcnow() - timedelta(days=400 + n),
                )
            )
        db.session.commit()
    first = soup(buyer.get("/"))
    assert len(first.select("li.happening")) == 15
    more = first.select_one("li.timeline-more a")
    assert more["hx-get"] == "/?page=2"
    fragment = buyer.get("/?page=2", headers={"HX-Request": "true"})
    assert fragment.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    rows = soup(fragment).select("li.happening")
    assert rows and soup(fragment).select_one("h1") is None
    first_texts = {li.get_text(" ", strip=True) for li in first.select("li.happening")}
    assert not first_texts & {li.get_text(" ", strip=True) for li in rows}


@pytest.mark.parametrize("page", ["0", "-3", "abc", "99999999999", "2147483647"])
def test_a_bad_page_number_is_the_first_page_or_an_empty_one(login_as, page):
    response = login_as("buyer@acme.test").get(f"/?page={page}")
    assert response.status_code == 200


def exceptions_cell_by_cell(account_id: int):
    """open_exceptions' answer for one account worked out in Python, cell by cell, from
    the pure rule (commits.exception_flags) and the commitments in force: what the
    statement must equal."""
    from portal.forecasts import commits
    from portal.forecasts.models import ForecastCell, ForecastCommitInForce, ForecastVersion

    latest, previous = db.session.scalars(
        select(ForecastVersion)
        .where(ForecastVersion.account_id == account_id, ForecastVersion.number > 0)
        .order_by(ForecastVersion.number.desc())
        .limit(2)
    ).all()

    def cells_of(version):
        rows = db.session.execute(
            select(ForecastCell.product_id, ForecastCell.month, ForecastCell.quantity).where(
                ForecastCell.version_id == version.id
            )
        )
        return {(pid, month): quantity for pid, month, quantity in rows}

    new, old = cells_of(latest), cells_of(previous)
    flagged, new_products = commits.exception_flags(
        new, old, commits.threshold_of(account_id), old_months=commits._months(previous)
    )
    answered = {
        (pid, month): forecast
        for pid, month, forecast in db.session.execute(
            select(
                ForecastCommitInForce.product_id,
                ForecastCommitInForce.month,
                ForecastCommitInForce.forecast_quantity,
            ).where(ForecastCommitInForce.account_id == account_id)
        )
    }
    open_cells = {cell for cell, quantity in new.items() if answered.get(cell) != quantity}
    owed = {cell for cell in open_cells if cell in flagged or cell[0] in new_products}
    if not owed:
        return None
    nearest = [
        cell[1] for cell in owed if cell in flagged or (cell[0] in new_products and new[cell] > 0)
    ]
    return (
        latest.number,
        len(owed & flagged),
        len({pid for pid, _ in owed if pid in new_products}),
        min(nearest, default=None),
    )


def test_open_exceptions_equal_the_rule_worked_cell_by_cell(app, catalog):
    """A changed forecast, partly answered: changes up and down beyond the threshold and
    within it, a product new in the version, a month beyond the old version's horizon,
    a cell committed against the new figure and one against the old; the home's one
    statement gives what the rule gives cell by cell, for every account and for one."""
    from portal.forecasts import commits
    from portal.forecasts import owed as forecasts_owed

    with app.app_context():
        a, b, c, d = db.session.scalars(
            select(Product.id).where(Product.status == "active").order_by(Product.sku).limit(4)
        ).all()
        planner = person("planner@vendor.test")
        acme, globex = account("C-10001").id, account("C-10002").id
        publish("buyer@acme.test", {a: {1: 100, 2: 50, 3: 10}, c: {1: 5, 2: 0}})
        publish("buyer@globex.test", {c: {3: 10, 4: 10}, d: {2: 7}})
        for account_id in (acme, globex):
            commits.commit_all_as_forecast(planner, account_id)
        # Acme: +200 %, −60 %, +10 % (within 20 %), 0 → 3, and b new with a zero month first.
        publish("buyer@acme.test", {a: {1: 300, 2: 20, 3: 11}, c: {2: 3}, b: {4: 0, 5: 10}})
        # Globex: +400 % and d dropped to 0; the planner answers d's month only.
        publish("buyer@globex.test", {c: {3: 50}, d: {2: 0}})
        commits.commit(
            planner,
            globex,
            [commits.CommitEntry(d, f"{month_ahead(2):%Y-%m}", "0")],
        )
        expected = {
            account_id: exceptions_cell_by_cell(account_id) for account_id in (acme, globex)
        }
        assert expected[acme] is not None and expected[globex] is not None
        assert expected[acme][1:3] == (3, 1)  # +200 %, −60 %, 0 → 3; and b
        assert expected[globex][1] == 1  # d's answered change is not owed

        def found(account_ids):
            return {
                row.account_id: (row.number, row.cells, row.new_products, row.first_month)
                for row in forecasts_owed.open_exceptions(account_ids)
            }

        assert found(None) == expected
        assert found([globex]) == {globex: expected[globex]}
        assert found([]) == {}


def test_the_timeline_s_pages_are_every_event_grouped_and_newest_first(app, demo):
    """The timeline reads each kind of order event newest first and stops when the page
    is full; its pages must be what the rule gives worked out over every event: one row
    per order event, one per order, kind and day of shipped or delivered lines (at its
    newest event, with its count). Among them a shipment day whose first line shipped
    before everything else and whose second is the newest row (the group straddles where
    the reading stops), and a delivery day whose two lines arrived at the same instant."""
    import random

    from portal.home import timeline

    rng = random.Random(17)
    start = utcnow().replace(microsecond=0) - timedelta(days=60)
    moments = iter(rng.sample(range(1, 50 * 24 * 60), 400))  # distinct minutes: no ties

    def moment():
        return start + timedelta(minutes=next(moments))

    with app.app_context():
        acme = account("C-10001")
        events = []  # (order, kind, at, line or None, on_date or None)
        orders = []
        for n in range(8):
            order = an_order(f"T-{n:04d}", "buyer@acme.test", status="confirmed")
            lines = [a_line(order, no, start.date() + timedelta(days=no)) for no in (1, 2, 3)]
            orders.append((order, lines))
        db.session.flush()
        for order, lines in orders:
            events += [(order, "placed", moment(), None, None)]
            events += [(order, "order_confirmed", moment(), None, None)]
            for _ in range(2):
                line = rng.choice(lines)
                events.append((order, "promise_changed", moment(), line, start.date()))
            for _ in range(12):
                kind = rng.choice(timeline.GOODS_KINDS)
                on = start.date() + timedelta(days=rng.randrange(4))
                events.append((order, kind, moment(), rng.choice(lines), on))
        first, first_lines = orders[0]
        straddling = start.date() + timedelta(days=30)
        events.append((first, "shipped", start, first_lines[0], straddling))
        events.append((first, "shipped", start + timedelta(days=55), first_lines[1], straddling))
        second, second_lines = orders[1]
        together = start + timedelta(days=54)
        for line in second_lines[:2]:
            events.append((second, "delivered", together, line, straddling))
        for order, kind, at, line, on in events:
            db.session.add(
                OrderEvent(
                    order_id=order.id,
                    line_id=line.id if line else None,
                    at=at,
                    kind=kind,
                    on_date=on,
                    quantity=1 if line else None,
                )
            )
        other = an_order("T-9999", "buyer@globex.test")
        db.session.add(OrderEvent(order_id=other.id, at=utcnow(), kind="placed"))
        db.session.commit()

        goods = {}
        rows = []
        for order, kind, at, line, on in events:
            if kind in timeline.GOODS_KINDS:
                newest, count = goods.get((order.number, order.id, kind, on), (at, 0))
                goods[order.number, order.id, kind, on] = (max(newest, at), count + 1)
            elif kind == "promise_changed":
                text = (
                    f"Promise for {order.number} line {line.line_no} ({line.sku}) moved to "
                    f"{on:%d %b %Y}"
                )
                rows.append((at, kind, order.id, text))
            else:
                text = {
                    "placed": f"Order {order.number} placed (PO {order.po_number})",
                    "order_confirmed": f"Order {order.number} confirmed by the vendor",
                }[kind]
                rows.append((at, kind, order.id, text))
        for (number, order_id, kind, on), (at, count) in goods.items():
            lines = "1 line" if count == 1 else f"{count} lines"
            rows.append((at, kind, order_id, f"Order {number}: {lines} {kind} on {on:%d %b %Y}"))
        rows.sort(key=lambda row: (-row[0].timestamp(), row[1], -row[2]))
        expected = [(at, kind, text) for at, kind, _, text in rows]
        assert expected[0][2] == f"Order T-0000: 2 lines shipped on {straddling:%d %b %Y}"
        assert expected[1][2] == f"Order T-0001: 2 lines delivered on {straddling:%d %b %Y}"

        shown, page, older = [], 1, True
        with app.test_request_context("/"):
            while older:
                found, older = timeline.timeline(acme.id, page=page)
                shown += [(h.at, h.kind, h.text) for h in found]
                page += 1
        assert len(expected) > 5 * timeline.PAGE_SIZE
        assert shown == expected
