"""Quality complaints: the five steps (who and when, every change an event, required
before resolving), the replacement order at zero price linked both ways, the
quality record (defects per million, hand-worked), complaints per 100 order
lines, and the scheduled warnings and breach notices of promised times."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event, func, select

from portal import jobs
from portal.accounts.models import CustomerAccount, User
from portal.catalog.models import Category, Product, Stock
from portal.errors import DomainError, Forbidden
from portal.extensions import db, utcnow
from portal.fulfilment.models import Shipment, ShipmentLine
from portal.notifications.models import Notification
from portal.ordering import service as ordering
from portal.ordering.models import Order, OrderLine
from portal.service import alerts, complaints, workflow
from portal.service.measures import ComplaintCount, complaint_counts, complaint_rates
from portal.service.models import (
    QualityStep,
    ReplacementOrder,
    ServiceCalendar,
    ServiceEvent,
    ServiceRequest,
    ServiceTarget,
)
from portal.service.quality import Defects, defects_ppm

from .support import soup

ALL_STEPS = {
    "affected": "Burrs in the bore, batch 24-117",
    "containment": "Batch blocked and sorted",
    "root_cause": "Worn deburring tool",
    "corrective_action": "Tool life counter",
    "verification": "Three batches inspected: clean",
}


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def account(number: str) -> CustomerAccount:
    return db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == number))


def product(sku: str, on_hand: int = 10_000, **fields) -> Product:
    found = db.session.scalar(select(Product).where(Product.sku == sku))
    if found is None:
        found = Product(
            sku=sku,
            name=f"Valve body {sku}",
            category=db.session.scalar(select(Category)) or Category(name="Valves"),
            list_price=40,
            stock=Stock(on_hand=on_hand),
            **fields,
        )
        db.session.add(found)
        db.session.commit()
    return found


def complaint(email="buyer@acme.test", sku="QV-1", now=None, kind="complaint_quality"):
    return workflow.open_request(
        user(email),
        kind=kind,
        priority="high",
        title="Burrs inside the valve bodies",
        description="",
        now=now or utcnow(),
        product_id=product(sku).id if sku else None,
    )


def text_of(response) -> str:
    return " ".join(soup(response).get_text(" ").split())


# --- the five steps ------------------------------------------------------------------------------


def test_a_quality_complaint_is_not_resolved_until_its_steps_are_recorded(app, demo):
    with app.app_context():
        request = complaint()
        service = user("service@vendor.test")
        with pytest.raises(DomainError) as refused:
            workflow.change_status(
                service, request, "resolved", now=utcnow(), resolution="Replaced."
            )
        assert refused.value.message == (
            "A quality complaint is resolved once its steps are recorded. Still missing: "
            "affected quantity, containment, root cause, corrective action, "
            "verification of its effect."
        )
        db.session.rollback()
        complaints.record_steps(
            service,
            request,
            texts={"affected": "", "containment": "Blocked"},
            affected_quantity="12",
            now=utcnow(),
        )
        with pytest.raises(DomainError, match="Still missing: root cause, corrective action"):
            workflow.change_status(service, request, "resolved", now=utcnow(), resolution="x")
        db.session.rollback()
        complaints.record_steps(
            service, request, texts=ALL_STEPS, affected_quantity=12, now=utcnow()
        )
        workflow.change_status(service, request, "resolved", now=utcnow(), resolution="Done.")
        assert request.status == "resolved"
        # Other kinds resolve as before.
        repair = complaint(kind="repair")
        workflow.change_status(service, repair, "resolved", now=utcnow(), resolution="Done.")


def test_resolving_on_the_page_without_steps_names_what_is_missing(app, demo, login_as):
    with app.app_context():
        request_id = complaint().id
    service = login_as("service@vendor.test")
    response = service.post(
        f"/service/{request_id}/status",
        {"status": "resolved", "resolution": "Replaced the parts."},
        page=f"/service/{request_id}",
    )
    assert response.status_code == 422
    error = soup(response).select_one("#status").find_parent(class_="field").get_text(" ")
    assert "Still missing: affected quantity, containment" in " ".join(error.split())
    with app.app_context():
        request = db.session.get(ServiceRequest, request_id)
        assert request.status == "new"
        complaints.record_steps(
            user("engineer@vendor.test"),
            request,
            texts=ALL_STEPS,
            affected_quantity=12,
            now=utcnow(),
        )
    # Resolved straight from "new" by someone who never took it: they own it now.
    response = service.post(
        f"/service/{request_id}/status",
        {"status": "resolved", "resolution": "Replaced the parts."},
        page=f"/service/{request_id}",
    )
    assert response.status_code == 303
    with app.app_context():
        request = db.session.get(ServiceRequest, request_id)
        assert (request.status, request.owner.email) == ("resolved", "service@vendor.test")


def test_each_step_keeps_who_and_when_and_every_change_is_an_event(app, demo):
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    with app.app_context():
        request = complaint(now=monday)
        service, engineer = user("service@vendor.test"), user("engineer@vendor.test")
        changed = complaints.record_steps(
            service, request, texts=ALL_STEPS, affected_quantity=12, now=monday
        )
        assert len(changed) == 5
        later = monday + timedelta(hours=3)
        changed = complaints.record_steps(
            engineer,
            request,
            texts=ALL_STEPS | {"root_cause": "Tool worn beyond its life", "verification": ""},
            affected_quantity=14,
            now=later,
        )
        assert changed == ["Affected quantity", "Root cause", "Verification of its effect"]
        steps = complaints.steps_of(request)
        assert (steps["affected"].quantity, steps["affected"].recorded_by_id) == (14, engineer.id)
        assert steps["affected"].recorded_at == later
        assert (steps["containment"].recorded_by_id, steps["containment"].recorded_at) == (
            service.id,
            monday,
        )
        assert "verification" not in steps  # emptied: removed
        quality_events = db.session.execute(
            select(ServiceEvent.before, ServiceEvent.after, ServiceEvent.detail)
            .where(ServiceEvent.request_id == request.id, ServiceEvent.kind == "quality_step")
            .order_by(ServiceEvent.id)
        ).all()
        assert len(quality_events) == 8
        # The texts as typed, the quantities apart (written in each reader's format).
        assert quality_events[5] == (
            "Burrs in the bore, batch 24-117",
            "Burrs in the bore, batch 24-117",
            {"step": "affected", "quantities": [12, 14]},
        )
        assert quality_events[7] == (
            "Three batches inspected: clean",
            None,
            {"step": "verification"},
        )
        # Saving the same values again changes nothing and writes nothing.
        assert (
            complaints.record_steps(
                engineer,
                request,
                texts=ALL_STEPS | {"root_cause": "Tool worn beyond its life", "verification": ""},
                affected_quantity="14",
                now=later,
            )
            == []
        )


@pytest.mark.parametrize(
    ("quantity", "texts", "message"),
    [
        ("abc", ALL_STEPS, "Enter the affected quantity as a whole number."),
        ("0", ALL_STEPS, "The affected quantity is between 1 and 10,000,000."),
        ("-3", ALL_STEPS, "The affected quantity is between 1 and 10,000,000."),
        ("99999999999", ALL_STEPS, "The affected quantity is between 1 and 10,000,000."),
        ("", ALL_STEPS, "Enter how many parts are affected, or leave the description empty."),
        ("5", ALL_STEPS | {"root_cause": "x" * 5001}, "Keep each step under 5,000 characters."),
    ],
)
def test_bad_steps_are_refused_and_nothing_is_saved(app, demo, quantity, texts, message):
    with app.app_context():
        request = complaint()
        with pytest.raises(DomainError) as refused:
            complaints.record_steps(
                user("service@vendor.test"),
                request,
                texts=texts,
                affected_quantity=quantity,
                now=utcnow(),
            )
        assert refused.value.message == message
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(QualityStep)) == 0


def test_only_vendor_staff_record_steps_and_only_on_quality_complaints(app, demo):
    with app.app_context():
        request = complaint()
        with pytest.raises(Forbidden):
            complaints.record_steps(
                user("buyer@acme.test"), request, texts=ALL_STEPS, affected_quantity=1, now=utcnow()
            )
        repair = complaint(kind="repair")
        with pytest.raises(DomainError, match="Only a complaint about quality"):
            complaints.record_steps(
                user("service@vendor.test"),
                repair,
                texts=ALL_STEPS,
                affected_quantity=1,
                now=utcnow(),
            )


def test_the_steps_on_the_page_vendor_fills_them_customer_reads_them(app, demo, login_as):
    with app.app_context():
        request_id = complaint().id
    service = login_as("service@vendor.test")
    form = {"affected_quantity": "12"} | ALL_STEPS
    bad = service.post(
        f"/service/{request_id}/quality",
        form | {"affected_quantity": "twelve"},
        page=f"/service/{request_id}",
    )
    assert bad.status_code == 422
    field = soup(bad).select_one("#affected_quantity").find_parent(class_="field")
    assert "whole number" in field.get_text()
    assert soup(bad).select_one("#containment").get_text().strip() == "Batch blocked and sorted"
    saved = service.post(f"/service/{request_id}/quality", form, page=f"/service/{request_id}")
    assert saved.status_code == 303
    page = text_of(service.get(f"/service/{request_id}"))
    assert "All five steps are recorded." in page

    buyer = login_as("buyer@acme.test")
    customer_page = buyer.get(f"/service/{request_id}")
    rows = soup(customer_page).select("table.quality-steps tbody tr")
    assert [r.th.get_text(strip=True) for r in rows] == [
        "Affected quantity",
        "Containment",
        "Root cause",
        "Corrective action",
        "Verification of its effect",
    ]
    assert "Sasha Service" in rows[2].get_text()
    assert soup(customer_page).select_one("#quality-form") is None
    assert (
        buyer.post(
            f"/service/{request_id}/quality", form, page=f"/service/{request_id}"
        ).status_code
        == 403
    )

    other = login_as("buyer@globex.test")
    assert other.get(f"/service/{request_id}").status_code == 404


# --- the replacement order -----------------------------------------------------------------------


def _recorded(request, quantity=7):
    complaints.record_steps(
        user("service@vendor.test"),
        request,
        texts={"affected": "Burrs"},
        affected_quantity=quantity,
        now=utcnow(),
    )


def test_a_replacement_order_at_zero_price_linked_both_ways(app, demo, login_as):
    with app.app_context():
        request = complaint()
        # Sold in packs of 10 from 20 up: a replacement replaces exactly what was defective.
        item = product("QV-1")
        item.min_order_qty, item.order_multiple = 20, 10
        db.session.commit()
        _recorded(request, 7)
        service = user("service@vendor.test")
        order = complaints.create_replacement(service, request, now=utcnow(), today=utcnow().date())
        assert (order.account_id, order.status, order.total) == (request.account_id, "placed", 0)
        assert [(ln.sku, ln.quantity, ln.unit_price) for ln in order.lines] == [("QV-1", 7, 0)]
        assert order.placed_by_id == service.id and order.po_number == request.reference
        link = db.session.scalar(select(ReplacementOrder))
        assert (link.request_id, link.order_id) == (request.id, order.id)
        assert (
            db.session.scalar(
                select(ServiceEvent.after).where(ServiceEvent.kind == "replacement_order")
            )
            == order.number
        )
        # The desk hears of it like any order.
        fulfilment = user("fulfilment@vendor.test")
        assert (
            db.session.scalar(
                select(func.count()).where(
                    Notification.user_id == fulfilment.id, Notification.kind == "order_placed"
                )
            )
            == 1
        )
        with pytest.raises(DomainError, match=f"Order {order.number} already replaces"):
            complaints.create_replacement(service, request, now=utcnow(), today=utcnow().date())
        db.session.rollback()
        request_id, number = request.id, order.number

    buyer = login_as("buyer@acme.test")
    page = soup(buyer.get(f"/orders/{number}"))
    origin = page.find("a", string=lambda s: s and "Replacement for service request" in s)
    assert origin["href"] == f"/service/{request_id}"
    complaint_page = soup(buyer.get(f"/service/{request_id}"))
    assert complaint_page.find("a", string=number)["href"] == f"/orders/{number}"
    desk = soup(login_as("fulfilment@vendor.test").get(f"/desk/orders/{number}"))
    # Fulfilment does not read service requests: the origin is named without a link.
    assert f"Replacement for service request SR-{request_id:05d}" in desk.get_text()

    # Once the first is cancelled, another may be made.
    with app.app_context():
        first = db.session.scalar(select(Order).where(Order.number == number))
        ordering.cancel(user("buyer@acme.test"), first)
        request = db.session.get(ServiceRequest, request_id)
        second = complaints.create_replacement(
            user("service@vendor.test"), request, now=utcnow(), today=utcnow().date()
        )
        assert second.number != number
        assert len(complaints.replacements_of(request)) == 2


def test_replacement_needs_a_quality_complaint_with_a_product_and_quantity(app, demo):
    with app.app_context():
        service = user("service@vendor.test")
        today = utcnow().date()
        without_product = complaint(sku=None)
        _recorded(without_product)
        with pytest.raises(DomainError, match="names no product"):
            complaints.create_replacement(service, without_product, now=utcnow(), today=today)
        repair = complaint(kind="repair")
        with pytest.raises(DomainError, match="Only a complaint about quality"):
            complaints.create_replacement(service, repair, now=utcnow(), today=today)
        no_quantity = complaint()
        with pytest.raises(DomainError, match="Record the affected quantity first"):
            complaints.create_replacement(service, no_quantity, now=utcnow(), today=today)
        _recorded(no_quantity)
        with pytest.raises(Forbidden):
            complaints.create_replacement(
                user("buyer@acme.test"), no_quantity, now=utcnow(), today=today
            )
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0
        # A customer cannot order free of charge through the ordering service either.
        buyer = user("buyer@acme.test")
        with pytest.raises(Forbidden):
            ordering.place_order(
                buyer,
                po_number="X",
                ship_to_id=0,
                requested_date=None,
                notes="",
                idempotency_key="free",
                today=today,
                lines=[(product("QV-1"), 1)],
                free_of_charge=True,
            )


def test_replacement_on_the_page(app, demo, login_as):
    with app.app_context():
        request = complaint()
        _recorded(request, 3)
        request_id = request.id
    buyer = login_as("buyer@acme.test")
    assert (
        buyer.post(
            f"/service/{request_id}/replacement", {}, page=f"/service/{request_id}"
        ).status_code
        == 403
    )
    service = login_as("service@vendor.test")
    page = soup(service.get(f"/service/{request_id}"))
    assert "Send a replacement free of charge (3 × QV-1)" in page.get_text()
    response = service.post(f"/service/{request_id}/replacement", {}, page=f"/service/{request_id}")
    assert response.status_code == 303
    again = service.post(f"/service/{request_id}/replacement", {}, page=f"/service/{request_id}")
    assert again.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    after = text_of(service.get(f"/service/{request_id}"))
    assert "already replaces the affected parts" in after


# --- the quality record --------------------------------------------------------------------------


ORDER_NUMBERS = itertools.count(1)


def _delivered(account_number: str, sku: str, quantity: int, on: date) -> None:
    """An order line of the account delivered on that day (the rows the desk writes)."""
    acct = account(account_number)
    item = product(sku)
    staff = user("fulfilment@vendor.test")
    order = Order(
        number=f"T-{next(ORDER_NUMBERS):06d}",
        account_id=acct.id,
        placed_by_id=staff.id,
        status="delivered",
        po_number="T",
        ship_to_text="Dock",
        total=0,
        currency="EUR",
        idempotency_key=f"t-{sku}-{on}-{quantity}-{account_number}",
    )
    line = OrderLine(
        line_no=1,
        product_id=item.id,
        sku=item.sku,
        name=item.name,
        unit="pc",
        quantity=quantity,
        unit_price=0,
        line_total=0,
        reserved_quantity=0,
        estimated_ship_date=on,
        promised_on=on,
        first_promised_on=on,
        shipped_quantity=quantity,
        delivered_quantity=quantity,
        status="confirmed",
    )
    order.lines.append(line)
    shipment = Shipment(order=order, account_id=acct.id, shipped_on=on, delivered_on=on)
    shipment.lines.append(ShipmentLine(line=line, quantity=quantity, from_stock=0))
    db.session.add_all([order, shipment])
    db.session.commit()


def _affected(email: str, sku: str | None, quantity: int | None, opened: datetime) -> None:
    request = complaint(email, sku, now=opened)
    if quantity is not None:
        _recorded(request, quantity)


def _record_data():
    """Hand-worked: in November 2026 Acme received 1,000 of QV-1 and 500 of QV-2,
    Globex 4,000 of QV-1; Acme found 5 QV-1 defective, Globex 2. Outside the
    period, or without a quantity or product, nothing counts."""
    nov = datetime(2026, 11, 10, 9, tzinfo=UTC)
    _delivered("C-10001", "QV-1", 600, date(2026, 11, 3))
    _delivered("C-10001", "QV-1", 400, date(2026, 11, 20))
    _delivered("C-10001", "QV-2", 500, date(2026, 11, 5))
    _delivered("C-10002", "QV-1", 4000, date(2026, 11, 6))
    _delivered("C-10001", "QV-1", 9000, date(2026, 10, 30))  # before the period
    _affected("buyer@acme.test", "QV-1", 5, nov)
    _affected("buyer@globex.test", "QV-1", 2, nov)
    _affected("buyer@acme.test", "QV-2", None, nov)  # no quantity yet
    _affected("buyer@acme.test", None, 9, nov)  # no product
    _affected("buyer@acme.test", "QV-1", 50, datetime(2026, 12, 2, tzinfo=UTC))  # after


def test_defects_per_million_hand_worked(app, demo):
    with app.app_context():
        _record_data()
        qv1, qv2 = product("QV-1").id, product("QV-2").id
        acme, globex = account("C-10001").id, account("C-10002").id
        start, end = date(2026, 11, 1), date(2026, 12, 1)
        by_product = defects_ppm(start, end, by="product")
        assert by_product == {qv1: Defects(7, 5000), qv2: Defects(0, 500)}
        assert by_product[qv1].ppm == 1400  # 7 / 5,000 × 1,000,000
        assert by_product[qv2].ppm == 0
        by_account = defects_ppm(start, end, by="account")
        assert by_account == {acme: Defects(5, 1500), globex: Defects(2, 4000)}
        assert round(by_account[acme].ppm, 2) == 3333.33 and by_account[globex].ppm == 500
        both = defects_ppm(start, end, by="account_product", account_ids=[acme])
        assert both == {(acme, qv1): Defects(5, 1000), (acme, qv2): Defects(0, 500)}
        assert both[(acme, qv1)].ppm == 5000
        total = defects_ppm(start, end, by="total")[None]
        assert total == Defects(7, 5500) and round(total.ppm, 1) == 1272.7
        assert defects_ppm(start, end, by="product", product_ids=[qv2]) == {qv2: Defects(0, 500)}
        assert defects_ppm(date(2020, 1, 1), date(2020, 2, 1)) == {}
        assert Defects(3, 0).ppm is None
        with pytest.raises(ValueError):
            defects_ppm(start, end, by="colour")


def test_defects_per_million_takes_two_statements_whatever_the_rows(app, demo):
    with app.app_context():
        _record_data()
        db.session.scalar(select(1))  # the transaction is open: BEGIN is not counted
        engine = db.engine
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            defects_ppm(date(2026, 11, 1), date(2026, 12, 1), by="account_product")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(statements) == 2


def test_the_quality_record_pages_show_each_viewer_its_own(app, demo, login_as):
    # The pages count from today back, and the hand-worked data is November 2026's (with a
    # complaint on 2 December 2026 "after" it): today is 1 December 2026 here, whenever the
    # suite runs (from 2 December the later complaint fell inside the page's period).
    with time_machine.travel(datetime(2026, 12, 1, 12, tzinfo=UTC), tick=True):
        _the_quality_record_pages(app, login_as)


def _the_quality_record_pages(app, login_as):
    with app.app_context():
        _record_data()
    # Ask for 730 days to cover November 2026 and the October delivery before it.
    vendor = soup(login_as("service@vendor.test").get("/service/quality?days=730"))
    accounts_table = vendor.find("h2", string="By account").find_next("table")
    names = [r.td.get_text(strip=True) for r in accounts_table.tbody.find_all("tr")]
    assert set(names) == {"Acme Industrial", "Globex Manufacturing"}

    acme = soup(login_as("buyer@acme.test").get("/service/quality?days=730"))
    assert acme.find("h2", string="By account") is None
    rows = {
        r.select("td")[0].get_text(strip=True): [td.get_text(strip=True) for td in r.select("td")]
        for r in acme.find("h2", string="By product, with defects")
        .find_next("table")
        .tbody.find_all("tr")
    }
    # Acme's own: QV-1 5 of 10,000 received (9,000 of them in October); QV-2 clean.
    assert rows == {"QV-1": ["QV-1", "Valve body QV-1", "5", "10,000", "500"]}
    assert "1 other product delivered in this period without a recorded defect" in " ".join(
        acme.get_text().split()
    )
    assert "Globex" not in acme.get_text()

    # An account manager sees the accounts they manage, not the others.
    other_manager = soup(login_as("manager2@vendor.test").get("/service/quality?days=730"))
    assert other_manager.find(string=lambda s: s and "Acme" in s) is None
    assert "No defects recorded" in other_manager.get_text()


# --- complaints per 100 order lines --------------------------------------------------------------


def test_complaints_per_100_order_lines_hand_worked():
    overall, per_account = complaint_rates(
        [
            ComplaintCount(1, complaints=3, order_lines=40),
            ComplaintCount(2, complaints=1, order_lines=10),
            ComplaintCount(3, complaints=2, order_lines=0),
        ]
    )
    assert per_account[1].per_100_lines == 7.5  # 3 / 40 × 100
    assert per_account[2].per_100_lines == 10.0
    assert per_account[3].per_100_lines is None  # complaints but no lines: no rate
    # Overall is 6 complaints over 50 lines, not the mean of the accounts' rates.
    assert (overall.complaints, overall.order_lines, overall.per_100_lines) == (6, 50, 12.0)
    empty, none = complaint_rates([])
    assert empty.per_100_lines is None and none == {}


def test_complaint_counts_read_complaints_and_order_lines(app, demo, login_as):
    with app.app_context():
        _delivered("C-10001", "QV-1", 10, date(2026, 11, 3))
        _delivered("C-10001", "QV-2", 10, date(2026, 11, 3))
        request = complaint(now=datetime(2026, 11, 10, tzinfo=UTC))
        complaint(kind="repair", now=datetime(2026, 11, 10, tzinfo=UTC))  # not a complaint
        complaint(kind="complaint_invoice", now=datetime(2026, 11, 11, tzinfo=UTC))
        _recorded(request, 2)
        complaints.create_replacement(
            user("service@vendor.test"), request, now=utcnow(), today=utcnow().date()
        )
        acme = account("C-10001").id
        counts = complaint_counts(
            None, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC)
        )
        # Two order lines (the replacement order is left out), two complaints.
        assert counts == [ComplaintCount(acme, 2, 2)]
    page = soup(login_as("service@vendor.test").get("/service/measures?days=365"))
    assert page.find("dt", string="Complaints per 100 order lines") is not None


# --- warnings and breach notices -----------------------------------------------------------------

MONDAY = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def _hand_worked_calendar():
    """Mon–Fri 08:00–17:00 UTC; Acme's high priority: answer in 4 h, resolve in 16 h."""
    db.session.add(
        ServiceCalendar(id=1, timezone="UTC", hours={str(d): ["08:00", "17:00"] for d in range(5)})
    )
    db.session.add(
        ServiceTarget(
            account_id=account("C-10001").id,
            priority="high",
            response_hours=4,
            resolution_hours=16,
        )
    )
    db.session.commit()


def _told(kind: str) -> list[str]:
    return sorted(
        db.session.scalars(
            select(User.email)
            .join(Notification, Notification.user_id == User.id)
            .where(Notification.kind == f"service_{kind}")
        )
    )


def test_warned_once_at_75_percent_and_told_once_of_a_breach(app, demo):
    with app.app_context():
        _hand_worked_calendar()
        request = complaint(kind="repair", now=MONDAY)
        at = MONDAY.replace
        # 2 h 59 min of 4 h: not yet 75 %.
        assert alerts.send_promise_alerts(at(hour=10, minute=59)) == 0
        # 3 h: the first answer's warning, to the service team (nobody owns it yet).
        assert alerts.send_promise_alerts(at(hour=11)) == 1
        assert _told("promise_warning") == ["service@vendor.test"]
        assert alerts.send_promise_alerts(at(hour=11, minute=5)) == 0
        # 4 h 1 min: breached; owner side and Acme's account manager are told, once.
        assert alerts.send_promise_alerts(at(hour=12, minute=1)) == 1
        assert _told("promise_breached") == ["manager@vendor.test", "service@vendor.test"]
        assert alerts.send_promise_alerts(at(hour=16)) == 0
        # Resolution: 12 of 16 working hours are spent on Tuesday at 11:00 (9 h Monday + 3 h).
        tuesday = MONDAY + timedelta(days=1)
        assert alerts.send_promise_alerts(tuesday.replace(hour=10, minute=59)) == 0
        workflow.take(user("engineer@vendor.test"), request, tuesday.replace(hour=10))
        assert alerts.send_promise_alerts(tuesday.replace(hour=11)) == 1
        assert _told("promise_warning") == ["engineer@vendor.test", "service@vendor.test"]
        assert alerts.send_promise_alerts(tuesday.replace(hour=11, minute=30)) == 0
        kinds = db.session.execute(
            select(ServiceEvent.kind, ServiceEvent.after)
            .where(ServiceEvent.kind.like("promise_%"))
            .order_by(ServiceEvent.id)
        ).all()
        assert kinds == [
            ("promise_warning", "response"),
            ("promise_breached", "response"),
            ("promise_warning", "resolution"),
        ]


def test_no_warning_while_paused_nor_after_the_promise_was_met(app, demo):
    with app.app_context():
        _hand_worked_calendar()
        service = user("service@vendor.test")
        met = complaint(kind="repair", now=MONDAY)
        workflow.post(service, met, body="On it.", internal=False, now=MONDAY.replace(hour=9))
        paused = complaint(kind="repair", now=MONDAY)
        workflow.post(
            service, paused, body="Which unit?", internal=False, now=MONDAY.replace(hour=9)
        )
        workflow.change_status(service, paused, "waiting", now=MONDAY.replace(hour=9))
        # Monday 12:01: the first answers were given at 09:00, within the promise.
        assert alerts.send_promise_alerts(MONDAY.replace(hour=12, minute=1)) == 0
        # Tuesday 11:00: `met` has spent 12 of 16 h on its resolution; `paused` only 1 h.
        tuesday = MONDAY + timedelta(days=1)
        assert alerts.send_promise_alerts(tuesday.replace(hour=11)) == 1
        warned = db.session.scalars(
            select(ServiceEvent.request_id).where(ServiceEvent.kind == "promise_warning")
        ).all()
        assert warned == [met.id]
        # Days later, still waiting for the customer: the paused clock warns nobody.
        assert alerts.send_promise_alerts(tuesday + timedelta(days=7)) == 1  # met's breach
        assert (
            db.session.scalar(
                select(func.count()).where(
                    ServiceEvent.request_id == paused.id, ServiceEvent.kind.like("promise_%")
                )
            )
            == 0
        )


def test_the_alerts_run_on_the_schedule_every_five_minutes(app):
    queue = jobs.queue_of(app)
    job = queue.jobs["service_promise_alerts"]
    assert job.schedule.label == "every 5 minutes"
    assert job.schedule.next_after(datetime(2026, 12, 1, 10, 2, tzinfo=UTC)).minute == 5
