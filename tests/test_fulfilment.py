"""The order desk and the promise ledger: confirm, split, change, ship, deliver,
cancel, requests; the ledger on hand-worked examples; bad input; who sees what."""

from __future__ import annotations

from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, insert, select, update

from portal.accounts.models import CustomerAccount, User
from portal.catalog.models import Category, Product, Stock
from portal.errors import DomainError, Forbidden
from portal.extensions import db
from portal.fulfilment import cancellations, confirmations, ledger, shipments
from portal.fulfilment.models import PromiseLedgerDay
from portal.ordering import service as ordering
from portal.ordering.models import Order, OrderLine

from .support import HttpPerson, csrf_token_from, soup

TODAY = date.today()
E = namedtuple("E", "kind quantity on_date")
D = TODAY + timedelta(days=10)  # the first promise in the examples


# --- the fold, on hand-worked examples ----------------------------------------------------


def figures(*events, basis="delivery"):
    return ledger.line_figures([E(*e) for e in events], basis)


def test_a_line_delivered_in_full_by_its_promise_is_kept():
    f = figures(("confirmed", 10, D), ("shipped", 10, D - timedelta(2)), ("delivered", 10, D))
    assert f.measured and f.on_time and f.in_full and f.on_time_in_full
    assert (f.changes, f.slip_days) == (0, 0)


def test_a_partial_delivery_on_time_is_on_time_but_not_in_full():
    f = figures(("confirmed", 10, D), ("delivered", 6, D))
    assert f.on_time and not f.in_full and not f.on_time_in_full


def test_the_rest_arriving_late_makes_the_line_late_but_in_full():
    f = figures(("confirmed", 10, D), ("delivered", 6, D), ("delivered", 4, D + timedelta(3)))
    assert not f.on_time and f.in_full and not f.on_time_in_full


def test_a_moved_promise_is_measured_against_the_first_one():
    f = figures(
        ("confirmed", 10, D),
        ("promise_changed", None, D + timedelta(5)),
        ("promise_changed", None, D + timedelta(7)),
        ("delivered", 10, D + timedelta(7)),
    )
    assert not f.on_time and f.in_full
    assert (f.changes, f.slip_days) == (2, 7)


def test_a_customer_cancellation_lowers_what_is_due_a_vendor_cancellation_does_not():
    customer = figures(("confirmed", 10, D), ("delivered", 6, D), ("line_cancelled", 4, None))
    assert customer.due == 6 and customer.on_time_in_full
    vendor = figures(
        ("confirmed", 10, D), ("delivered", 6, D), ("line_cancelled_by_vendor", 4, None)
    )
    assert vendor.due == 10 and not vendor.in_full
    fully = figures(("confirmed", 10, D), ("line_cancelled", 10, None))
    assert not fully.measured and fully.contribution() is None


def test_an_unconfirmed_or_declined_line_is_not_measured():
    assert not figures(("line_declined", 5, None)).measured
    assert not figures().measured


def test_shipment_terms_count_shipments_and_their_corrections():
    events = (
        ("confirmed", 10, D),
        ("shipped", 10, D),
        # The shipment really left two days later: taken back on D, shipped again on D+2.
        ("shipment_corrected", -10, D),
        ("shipment_corrected", 10, D + timedelta(2)),
        ("delivered", 10, D + timedelta(4)),
    )
    shipped = figures(*events, basis="shipment")
    assert shipped.done == 10 and not shipped.on_time and shipped.in_full
    delivered = figures(*events, basis="delivery")
    assert delivered.done == 10 and not delivered.on_time


# --- the desk, through the services -------------------------------------------------------


@pytest.fixture
def parts(app, demo):
    with app.app_context():
        category = Category(name="Desk parts")
        made = {}
        for sku, on_hand in (("DSK-A", 100), ("DSK-B", 0), ("DSK-C", 5)):
            product = Product(
                sku=sku,
                name=f"Part {sku}",
                category=category,
                list_price=Decimal("10.00"),
                lead_time_days=7,
                stock=Stock(on_hand=on_hand),
            )
            db.session.add(product)
            made[sku] = product
        db.session.commit()
        return {sku: p.id for sku, p in made.items()}


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def place(parts, items: dict[str, int], buyer: str = "buyer@acme.test") -> Order:
    person = user(buyer)
    ordering.add_to_cart(person, [(parts[sku], qty) for sku, qty in items.items()])
    address = next(a for a in person.account.addresses if a.kind == "shipping")
    order, _ = ordering.place_order(
        person,
        po_number="PO-DESK",
        ship_to_id=address.id,
        requested_date=None,
        notes="",
        idempotency_key=f"desk-{items}-{buyer}",
        today=TODAY,
    )
    return order


def line(order: Order, sku: str, n: int = 0):
    return [x for x in order.lines if x.sku == sku][n]


def test_a_customer_cancellation_after_the_promised_date_stays_a_broken_promise():
    """Cancelled on the promised day: no longer due. Cancelled after it with
    nothing arrived: the promise was already broken, so it stays due and missed."""
    on_the_day = figures(("confirmed", 10, D), ("line_cancelled", 10, D))
    assert on_the_day.due == 0 and not on_the_day.measured
    after = figures(("confirmed", 10, D), ("line_cancelled", 10, D + timedelta(3)))
    assert after.measured and after.due == 10
    assert not after.on_time and not after.in_full and not after.on_time_in_full
    # Part arrived on time, the rest was given up after the date: on time, not in full.
    partly = figures(
        ("confirmed", 10, D), ("delivered", 6, D), ("line_cancelled", 4, D + timedelta(1))
    )
    assert partly.due == 10 and partly.on_time and not partly.in_full
    # A moved promise does not move the date the cancellation is judged against.
    moved = figures(
        ("confirmed", 5, D),
        ("promise_changed", None, D + timedelta(9)),
        ("line_cancelled", 5, D + timedelta(4)),
    )
    assert moved.due == 5 and moved.contribution()["on_time_in_full"] == 0


def test_an_old_cancellation_without_its_day_is_dated_by_when_it_was_written():
    from datetime import UTC, datetime

    At = namedtuple("At", "kind quantity on_date at")
    late = datetime.combine(D + timedelta(2), datetime.min.time(), tzinfo=UTC)
    f = ledger.line_figures(
        [At("confirmed", 3, D, None), At("line_cancelled", 3, None, late)], "delivery"
    )
    assert f.due == 3 and f.measured


def test_lateness_is_how_late_late_lines_arrived_not_how_far_promises_moved():
    """Hand-worked: line 1 kept; line 2 moved by 2 days, arrived 5 days late; line 3
    arrived in two parts, the last 9 days late, its promise never moved."""
    kept = figures(("confirmed", 4, D), ("delivered", 4, D - timedelta(1)))
    moved = figures(
        ("confirmed", 4, D),
        ("promise_changed", None, D + timedelta(2)),
        ("delivered", 4, D + timedelta(5)),
    )
    parts = figures(
        ("confirmed", 6, D),
        ("delivered", 2, D + timedelta(3)),
        ("delivered", 4, D + timedelta(9)),
    )
    assert (kept.arrived_late, kept.days_late) == (False, 0)
    assert (moved.arrived_late, moved.days_late, moved.slip_days) == (True, 5, 2)
    assert (parts.arrived_late, parts.days_late, parts.slip_days) == (True, 9, 0)
    total = ledger.summarise([kept, moved, parts], D + timedelta(30))
    assert (total.lines, total.late_lines, total.late_days, total.slip_days) == (3, 2, 14, 2)
    assert total.average_days_late == 7.0
    assert round(total.average_promise_move, 2) == 0.67
    # Nothing arrived yet: not late "by" anything, it is simply missing.
    missing = figures(("confirmed", 4, D))
    assert not missing.arrived_late and missing.days_late == 0


def promise_all(order: Order, on: date, **overrides) -> list[confirmations.LineDecision]:
    return [
        overrides.get(x.sku, confirmations.LineDecision(x.id, on))
        for x in order.lines
        if x.status == "open"
    ]


def ledger_rows(account_id: int) -> dict:
    return {
        row.day: (
            row.lines,
            row.on_time,
            row.in_full,
            row.on_time_in_full,
            row.changes,
            row.slip_days,
        )
        for row in db.session.scalars(
            select(PromiseLedgerDay).where(PromiseLedgerDay.account_id == account_id)
        )
        if row.lines
    }


def test_a_year_of_promises_adds_up_to_the_hand_worked_ledger(app, parts):
    """Three lines of one order, one split, one late, one cancelled by the vendor,
    and a second order cancelled at the customer's request; the ledger's figures
    were worked out by hand from these steps."""
    with app.app_context():
        staff = user("fulfilment@vendor.test")
        order = place(parts, {"DSK-A": 10, "DSK-B": 10, "DSK-C": 4})
        a, b, c = line(order, "DSK-A"), line(order, "DSK-B"), line(order, "DSK-C")
        split = confirmations.LineDecision(
            b.id, D, later_quantity=4, later_promised_on=D + timedelta(10)
        )
        confirmations.confirm(staff, order, promise_all(order, D, **{"DSK-B": split}), TODAY)
        assert order.status == "confirmed"
        b_later = line(order, "DSK-B", 1)
        assert (b.quantity, b_later.quantity, b_later.promised_on) == (6, 4, D + timedelta(10))
        # The later part slips by two days, for lack of material.
        confirmations.change_promise(
            staff,
            order,
            b_later.id,
            new_date=D + timedelta(12),
            reason="material",
            text="",
            today=TODAY,
        )
        # A and B's first part ship and arrive on the promised day.
        s1 = shipments.ship(
            staff, order, {a.id: 10, b.id: 6}, carrier="DHL", tracking="T1", shipped_on=D, today=D
        )
        assert order.status == "partly_shipped"
        shipments.deliver(staff, order, s1, delivered_on=D, received={}, today=D)
        # B's later part arrives on its new date: late against its first promise.
        s2 = shipments.ship(
            staff,
            order,
            {b_later.id: 4},
            carrier="",
            tracking="",
            shipped_on=D + timedelta(11),
            today=D + timedelta(11),
        )
        shipments.deliver(
            staff, order, s2, delivered_on=D + timedelta(12), received={}, today=D + timedelta(12)
        )
        # C cannot be made: the vendor cancels it, a broken promise.
        cancellations.cancel_line(staff, order, c.id, reason="Supplier stopped the part")
        assert order.status == "delivered"

        second = place(parts, {"DSK-A": 5}, buyer="admin@acme.test")
        confirmations.confirm(staff, second, promise_all(second, D), TODAY)
        request = cancellations.request_cancellation(
            user("admin@acme.test"), second, second.lines[0].id, reason="Project stopped"
        )
        cancellations.answer_cancellation(staff, second, request.id, accept=True, comment="")
        assert second.status == "cancelled"

        acme = order.account_id
        # A: kept. B first part: kept. B later part: late, in full, 1 change, 2 days'
        # slip (its first promise D+10). C: not on time, not in full. Second order: not due.
        assert ledger_rows(acme) == {
            D: (3, 2, 2, 2, 0, 0),
            D + timedelta(10): (1, 0, 1, 0, 1, 2),
        }
        accounts = select(CustomerAccount.id).where(CustomerAccount.id == acme)
        result = ledger.ledger(
            accounts, start=TODAY, end=D + timedelta(40), today=D + timedelta(40)
        )
        t = result.total
        assert (t.lines, t.on_time, t.in_full, t.on_time_in_full, t.changes, t.slip_days) == (
            4,
            2,
            3,
            2,
            1,
            2,
        )
        assert t.share("on_time_in_full") == 0.5
        # Only promises already due count: on day D+5 nothing is judged yet.
        early = ledger.ledger(accounts, start=TODAY, end=D + timedelta(40), today=D)
        assert early.total.lines == 0
        # The projection equals a fresh fold of the events.
        kept = ledger_rows(acme)
        ledger.rebuild([acme])
        assert ledger_rows(acme) == kept


def test_confirming_twice_is_refused_and_nothing_changes(app, parts):
    with app.app_context():
        staff = user("fulfilment@vendor.test")
        order = place(parts, {"DSK-A": 2})
        confirmations.confirm(staff, order, promise_all(order, D), TODAY)
        with pytest.raises(DomainError, match="nothing to confirm"):
            confirmations.confirm(staff, order, promise_all(order, D + timedelta(1)), TODAY)
        db.session.rollback()
        assert order.lines[0].promised_on == D


def test_the_database_counts_an_orders_lines_however_they_are_written(app, parts):
    """Order.line_count (what the complaint rate reads) is kept by the database's
    triggers: lines placed, a confirmation's split part, and lines written, moved or
    deleted past the ORM all change it."""
    lines = OrderLine.__table__

    def counts(*orders: Order) -> list[tuple[int, int]]:
        """Each order's kept count beside its lines counted."""
        db.session.expire_all()
        return [
            (
                db.session.get(Order, o.id).line_count,
                db.session.scalar(select(func.count()).where(lines.c.order_id == o.id)),
            )
            for o in orders
        ]

    with app.app_context():
        staff = user("fulfilment@vendor.test")
        order = place(parts, {"DSK-A": 4, "DSK-C": 2})
        other = place(parts, {"DSK-A": 1})
        assert counts(order, other) == [(2, 2), (1, 1)]

        # Three now, one later: the later part is a line of its own.
        split = confirmations.LineDecision(
            line(order, "DSK-A").id, D, later_quantity=1, later_promised_on=D + timedelta(7)
        )
        confirmations.confirm(staff, order, promise_all(order, D, **{"DSK-A": split}), TODAY)
        assert counts(order, other) == [(3, 3), (1, 1)]

        # Plain SQL: a line inserted into the other order, moved to the first, deleted.
        written = db.session.execute(
            insert(lines).values(
                order_id=other.id,
                line_no=9,
                product_id=parts["DSK-B"],
                sku="DSK-B",
                name="Part DSK-B",
                unit="pc",
                quantity=1,
                unit_price=10,
                line_total=10,
                estimated_ship_date=D,
            )
        ).inserted_primary_key[0]
        db.session.commit()
        assert counts(order, other) == [(3, 3), (2, 2)]
        db.session.execute(update(lines).where(lines.c.id == written).values(order_id=order.id))
        db.session.commit()
        assert counts(order, other) == [(4, 4), (1, 1)]
        db.session.execute(delete(lines).where(lines.c.id == written))
        db.session.commit()
        assert counts(order, other) == [(3, 3), (1, 1)]

        # An update that leaves the order alone changes nothing.
        db.session.execute(update(lines).where(lines.c.order_id == order.id).values(name="x"))
        db.session.commit()
        assert counts(order, other) == [(3, 3), (1, 1)]


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (lambda x: confirmations.LineDecision(x.id, None), "enter the promised ship date"),
        (lambda x: confirmations.LineDecision(x.id, TODAY - timedelta(1)), "cannot be in the past"),
        (lambda x: confirmations.LineDecision(x.id, TODAY + timedelta(800)), "two years"),
        (
            lambda x: confirmations.LineDecision(x.id, D, later_quantity=10, later_promised_on=D),
            "between 1",
        ),
        (
            lambda x: confirmations.LineDecision(x.id, D, later_quantity=-1, later_promised_on=D),
            "between 1",
        ),
        (lambda x: confirmations.LineDecision(x.id, D, later_quantity=2), "later part: enter"),
    ],
)
def test_bad_confirmations_are_refused_and_nothing_is_saved(app, parts, decision, message):
    with app.app_context():
        order = place(parts, {"DSK-A": 10})
        with pytest.raises(DomainError, match=message):
            confirmations.confirm(
                user("fulfilment@vendor.test"), order, [decision(order.lines[0])], TODAY
            )
        db.session.rollback()
        fresh = db.session.get(Order, order.id)
        assert fresh.status == "placed" and fresh.lines[0].promised_on is None
        assert len(fresh.lines) == 1


def test_a_missing_line_or_a_customer_or_a_manager_cannot_confirm(app, parts):
    with app.app_context():
        order = place(parts, {"DSK-A": 1, "DSK-C": 1})
        with pytest.raises(DomainError, match="give it a promise or decline"):
            confirmations.confirm(
                user("fulfilment@vendor.test"),
                order,
                [confirmations.LineDecision(order.lines[0].id, D)],
                TODAY,
            )
        for email in ("buyer@acme.test", "manager@vendor.test"):
            with pytest.raises(Forbidden):
                confirmations.confirm(user(email), order, promise_all(order, D), TODAY)


def test_declining_every_line_cancels_the_order_and_frees_the_stock(app, parts):
    with app.app_context():
        order = place(parts, {"DSK-C": 5})
        assert db.session.get(Stock, parts["DSK-C"]).reserved == 5
        decline = confirmations.LineDecision(order.lines[0].id, decline_reason="Not for export")
        confirmations.confirm(user("fulfilment@vendor.test"), order, [decline], TODAY)
        assert order.status == "cancelled" and order.lines[0].status == "declined"
        assert db.session.get(Stock, parts["DSK-C"]).reserved == 0


def test_shipping_and_delivering_bad_quantities_and_dates_are_refused(app, parts):
    with app.app_context():
        staff = user("fulfilment@vendor.test")
        order = place(parts, {"DSK-A": 10})
        x = order.lines[0]
        with pytest.raises(DomainError, match="nothing to ship"):
            shipments.ship(
                staff, order, {x.id: 1}, carrier="", tracking="", shipped_on=TODAY, today=TODAY
            )
        db.session.rollback()
        confirmations.confirm(staff, order, promise_all(order, D), TODAY)
        cases = [
            ({x.id: 11}, TODAY, "only 10 pc left to ship"),
            ({x.id: -1}, TODAY, "cannot be negative"),
            ({x.id: 0}, TODAY, "at least one line"),
            ({x.id: 1}, TODAY - timedelta(1), "before the order was placed"),
            ({x.id: 1}, TODAY + timedelta(1), "in the future"),
            ({x.id: 1}, None, "Enter the ship date"),
        ]
        for quantities, shipped_on, message in cases:
            with pytest.raises(DomainError, match=message):
                shipments.ship(
                    staff,
                    order,
                    quantities,
                    carrier="",
                    tracking="",
                    shipped_on=shipped_on,
                    today=TODAY,
                )
            db.session.rollback()
        shipment = shipments.ship(
            staff, order, {x.id: 4}, carrier="", tracking="", shipped_on=TODAY, today=TODAY
        )
        for received, on, message in [
            ({shipment.lines[0].id: 5}, TODAY, "between 0 and 4"),
            ({}, TODAY - timedelta(1), "before the goods were shipped"),
            ({}, TODAY + timedelta(1), "in the future"),
        ]:
            with pytest.raises(DomainError, match=message):
                shipments.deliver(
                    staff, order, shipment, delivered_on=on, received=received, today=TODAY
                )
            db.session.rollback()
        shipments.deliver(staff, order, shipment, delivered_on=TODAY, received={}, today=TODAY)
        with pytest.raises(DomainError, match="delivery was recorded already"):
            shipments.deliver(staff, order, shipment, delivered_on=TODAY, received={}, today=TODAY)
        db.session.rollback()
        fresh = db.session.get(Order, order.id)
        assert (fresh.lines[0].shipped_quantity, fresh.lines[0].delivered_quantity) == (4, 4)


def test_a_shipment_correction_needs_a_reason_and_is_kept_in_the_timeline(app, parts):
    with app.app_context():
        staff = user("fulfilment@vendor.test")
        order = place(parts, {"DSK-A": 10})
        confirmations.confirm(staff, order, promise_all(order, D), TODAY)
        shipment = shipments.ship(
            staff,
            order,
            {order.lines[0].id: 6},
            carrier="DHL",
            tracking="1",
            shipped_on=TODAY,
            today=TODAY,
        )
        item = shipment.lines[0].id
        with pytest.raises(DomainError, match="Say why"):
            shipments.correct_shipment(
                staff,
                order,
                shipment,
                {item: 5},
                carrier="DHL",
                tracking="1",
                shipped_on=TODAY,
                reason=" ",
                today=TODAY,
            )
        with pytest.raises(DomainError, match="at most 10"):
            shipments.correct_shipment(
                staff,
                order,
                shipment,
                {item: 11},
                carrier="DHL",
                tracking="1",
                shipped_on=TODAY,
                reason="typo",
                today=TODAY,
            )
        with pytest.raises(DomainError, match="Nothing was changed"):
            shipments.correct_shipment(
                staff,
                order,
                shipment,
                {},
                carrier="DHL",
                tracking="1",
                shipped_on=TODAY,
                reason="typo",
                today=TODAY,
            )
        shipments.correct_shipment(
            staff,
            order,
            shipment,
            {item: 5},
            carrier="UPS",
            tracking="1Z",
            shipped_on=TODAY,
            reason="Miscounted",
            today=TODAY,
        )
        assert order.lines[0].shipped_quantity == 5
        kinds = [e.kind for e in ordering.timeline(order)]
        assert kinds.count("shipment_corrected") == 1
        assert (shipment.carrier, shipment.tracking) == ("UPS", "1Z")


def test_promise_changes_need_a_known_reason_a_future_date_and_an_open_line(app, parts):
    with app.app_context():
        staff = user("fulfilment@vendor.test")
        order = place(parts, {"DSK-A": 2, "DSK-C": 1})
        confirmations.confirm(staff, order, promise_all(order, D), TODAY)
        a, c = line(order, "DSK-A"), line(order, "DSK-C")
        for kwargs, message in [
            ({"new_date": D + timedelta(1), "reason": "weather", "text": ""}, "Choose the reason"),
            ({"new_date": D + timedelta(1), "reason": "other", "text": " "}, "other reason is"),
            ({"new_date": TODAY - timedelta(1), "reason": "capacity", "text": ""}, "past"),
            ({"new_date": D, "reason": "capacity", "text": ""}, "already promised"),
        ]:
            with pytest.raises(DomainError, match=message):
                confirmations.change_promise(staff, order, a.id, today=TODAY, **kwargs)
        cancellations.cancel_line(staff, order, c.id, reason="gone")
        with pytest.raises(DomainError, match="nothing left to ship"):
            confirmations.change_promise(
                staff,
                order,
                c.id,
                new_date=D + timedelta(3),
                reason="capacity",
                text="",
                today=TODAY,
            )
        with pytest.raises(DomainError, match="nothing left to cancel"):
            cancellations.cancel_line(staff, order, c.id, reason="again")
        with pytest.raises(DomainError, match="Say why"):
            cancellations.cancel_line(staff, order, a.id, reason="")


def test_cancellation_requests_are_answered_once(app, parts):
    with app.app_context():
        staff = user("fulfilment@vendor.test")
        buyer = user("buyer@acme.test")
        order = place(parts, {"DSK-A": 3})
        x = order.lines[0]
        with pytest.raises(DomainError, match="nothing left that could be cancelled"):
            cancellations.request_cancellation(buyer, order, x.id, reason="changed plans")
        confirmations.confirm(staff, order, promise_all(order, D), TODAY)
        with pytest.raises(DomainError, match="Tell the vendor why"):
            cancellations.request_cancellation(buyer, order, x.id, reason="")
        request = cancellations.request_cancellation(buyer, order, x.id, reason="changed plans")
        with pytest.raises(DomainError, match="already has a cancellation request"):
            cancellations.request_cancellation(buyer, order, x.id, reason="again")
        with pytest.raises(DomainError, match="Say why the request is declined"):
            cancellations.answer_cancellation(staff, order, request.id, accept=False, comment="")
        cancellations.answer_cancellation(
            staff, order, request.id, accept=False, comment="Already packed"
        )
        with pytest.raises(DomainError, match="already been answered"):
            cancellations.answer_cancellation(staff, order, request.id, accept=True, comment="")
        with pytest.raises(Forbidden):
            cancellations.request_cancellation(user("buyer@globex.test"), order, x.id, reason="x")
        assert x.cancelled_quantity == 0


# --- pages: the desk, the buyer's view, who sees what -------------------------------------


def confirmed_order(app, parts, items=None) -> str:
    with app.app_context():
        order = place(parts, items or {"DSK-A": 10})
        confirmations.confirm(user("fulfilment@vendor.test"), order, promise_all(order, D), TODAY)
        return order.number


def test_the_inbox_lists_waiting_orders_oldest_first_with_filters(app, parts, login_as):
    with app.app_context():
        first = place(parts, {"DSK-A": 1}).number
        second = place(parts, {"DSK-A": 2}, buyer="admin@acme.test").number
        globex = place(parts, {"DSK-A": 3}, buyer="buyer@globex.test").number
    staff = login_as("fulfilment@vendor.test")
    page = staff.get("/desk").get_data(as_text=True)
    assert page.index(first) < page.index(second) < page.index(globex)
    assert first not in staff.get("/desk?q=DSK-A&account=999999").get_data(as_text=True)
    found = staff.get(f"/desk?q={second}").get_data(as_text=True)
    assert second in found and first not in found
    assert globex in staff.get("/desk?q=dsk-a").get_data(as_text=True)
    assert "No orders match" in staff.get("/desk?view=in_transit").get_data(as_text=True)
    # Acme is managed by manager@, Globex too; Initech and Umbrella by manager2@.
    other_manager = login_as("manager2@vendor.test")
    assert first not in other_manager.get("/desk").get_data(as_text=True)
    assert other_manager.get(f"/desk/orders/{first}").status_code == 404
    assert login_as("manager@vendor.test").get(f"/desk/orders/{first}").status_code == 200
    assert login_as("buyer@acme.test").get("/desk").status_code == 403


def test_confirm_with_bad_input_shows_the_reason_and_keeps_what_was_typed(app, parts, login_as):
    with app.app_context():
        order = place(parts, {"DSK-A": 10})
        number, line_id = order.number, order.lines[0].id
    staff = login_as("fulfilment@vendor.test")
    form = {
        f"promise-{line_id}": "2020-13-45",
        f"later-{line_id}": "3",
        f"later_date-{line_id}": "",
    }
    response = staff.post(f"/desk/orders/{number}/confirm", form, page=f"/desk/orders/{number}")
    assert response.status_code == 422
    page = soup(response)
    assert "is not a date" in page.select_one("#desk-error").text
    assert page.select_one(f"#later-{line_id}")["value"] == "3"
    response = staff.post(
        f"/desk/orders/{number}/confirm",
        {f"later-{line_id}": "many"},
        page=f"/desk/orders/{number}",
    )
    assert "not a whole number" in soup(response).select_one("#desk-error").text
    with app.app_context():
        assert db.session.scalar(select(Order.status).where(Order.number == number)) == "placed"


def test_the_buyer_sees_the_new_date_the_reason_and_the_shipment(app, parts, login_as):
    number = confirmed_order(app, parts)
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        staff = user("fulfilment@vendor.test")
        confirmations.change_promise(
            staff,
            order,
            order.lines[0].id,
            new_date=D + timedelta(4),
            reason="transport",
            text="Ferry strike",
            today=TODAY,
        )
        shipments.ship(
            staff,
            order,
            {order.lines[0].id: 4},
            carrier="DHL",
            tracking="JD0001",
            shipped_on=TODAY,
            today=TODAY,
        )
    page = login_as("buyer@acme.test").get(f"/orders/{number}").get_data(as_text=True)
    assert (D + timedelta(4)).strftime("%d %b %Y") in page
    assert "Ferry strike" in page and "Transport" in page
    assert "JD0001" in page and "4 shipped" in page
    # Another customer's user never sees it.
    assert login_as("buyer@globex.test").get(f"/orders/{number}").status_code == 404


def test_the_desks_part_of_the_buyers_order_page_is_fulfilments_own(app, parts, login_as):
    """Ordering's order page gets promises and shipments only through the part the
    desk registers (ordering imports nothing of fulfilment); without it the page
    still shows the order as placed."""
    from portal.ordering import order_page

    with app.app_context():
        order = place(parts, {"DSK-A": 6})
        number = order.number
        staff = user("fulfilment@vendor.test")
        confirmations.confirm(staff, order, promise_all(order, D), TODAY)
        shipments.ship(
            staff,
            order,
            {order.lines[0].id: 6},
            carrier="DHL",
            tracking="JD0002",
            shipped_on=TODAY,
            today=TODAY,
        )
    buyer = login_as("buyer@acme.test")
    page = soup(buyer.get(f"/orders/{number}"))
    assert page.select_one("#shipments-heading").text == "Shipments"
    assert "JD0002" in page.text and "6 shipped" in page.text

    parts = app.extensions[order_page.PARTS_KEY]
    app.extensions[order_page.PARTS_KEY] = []
    try:
        response = buyer.get(f"/orders/{number}")
    finally:
        app.extensions[order_page.PARTS_KEY] = parts
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("#lines-heading") and page.select_one("#timeline-heading")
    assert page.select_one("#shipments-heading") is None
    assert page.select_one("li.shipment") is None


def test_desk_forms_with_bad_input_say_why_and_change_nothing(app, parts, login_as):
    number = confirmed_order(app, parts)
    with app.app_context():
        line_id = db.session.scalar(select(Order).where(Order.number == number)).lines[0].id
    staff = login_as("fulfilment@vendor.test")
    page = f"/desk/orders/{number}"
    cases = [
        (
            f"{page}/shipments",
            {f"ship-{line_id}": "abc", "shipped_on": TODAY.isoformat()},
            "not a whole number",
        ),
        (
            f"{page}/shipments",
            {f"ship-{line_id}": "99", "shipped_on": TODAY.isoformat()},
            "left to ship",
        ),
        (f"{page}/shipments", {f"ship-{line_id}": "1", "shipped_on": "yesterday"}, "not a date"),
        (
            f"{page}/lines/{line_id}/promise",
            {f"line{line_id}-new_date": "", f"line{line_id}-reason": "capacity"},
            "not changed",
        ),
        (f"{page}/lines/{line_id}/cancel", {f"cancel{line_id}-reason": ""}, "Say why"),
    ]
    for url, form, message in cases:
        response = staff.post(url, form, page=page)
        assert response.status_code == 303
        assert message in staff.get(page).get_data(as_text=True), (url, message)
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        assert (order.status, order.lines[0].shipped_quantity, order.lines[0].promised_on) == (
            "confirmed",
            0,
            D,
        )


def test_two_staff_confirming_at_once_make_one_confirmation(app, parts, live_server):
    """Parallel requests over HTTP (SQLite and PostgreSQL): one wins, one is told."""
    with app.app_context():
        order = place(parts, {"DSK-A": 10})
        number, line_id = order.number, order.lines[0].id
    people = [HttpPerson(live_server.url) for _ in range(2)]
    for person, email in zip(people, ("fulfilment@vendor.test", "admin@vendor.test"), strict=True):
        person.login(email)
    forms = []
    for n, person in enumerate(people):
        token = csrf_token_from(person.request("GET", f"/desk/orders/{number}")[2])
        forms.append({"csrf_token": token, f"promise-{line_id}": (D + timedelta(n)).isoformat()})

    def submit(n):
        return people[n].request("POST", f"/desk/orders/{number}/confirm", forms[n])

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(status for status, _, _ in pool.map(submit, range(2)))
    assert statuses == [303, 422]
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        assert order.status == "confirmed" and len(order.lines) == 1
        confirmations = [e for e in ordering.timeline(order) if e.kind == "confirmed"]
        assert len(confirmations) == 1


def test_the_ledger_page_shows_each_side_its_own_figures(app, parts, login_as):
    with app.app_context():
        acme = db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == "C-10001"))
        globex = db.session.scalar(
            select(CustomerAccount).where(CustomerAccount.number == "C-10002")
        )
        yesterday = TODAY - timedelta(1)
        db.session.add_all(
            [
                PromiseLedgerDay(
                    account_id=acme.id,
                    day=yesterday,
                    lines=4,
                    on_time=3,
                    in_full=4,
                    on_time_in_full=3,
                    changes=1,
                    slip_days=2,
                ),
                PromiseLedgerDay(
                    account_id=globex.id,
                    day=yesterday,
                    lines=10,
                    on_time=1,
                    in_full=1,
                    on_time_in_full=1,
                    changes=0,
                    slip_days=0,
                ),
            ]
        )
        db.session.commit()
        globex_id = globex.id
    customer = soup(login_as("buyer@acme.test").get("/promises"))
    kpis = {
        dt.text: dd.text
        for dt, dd in zip(customer.select(".kpis dt"), customer.select(".kpis dd"), strict=True)
    }
    assert kpis["On time, in full"] == "75 %" and kpis["Lines measured"] == "4"
    assert "Globex" not in customer.text
    # Acme's admin asking for Globex's figures still gets Acme's own.
    asked = soup(login_as("admin@acme.test").get(f"/promises?account={globex_id}"))
    assert asked.select(".kpis dd")[3].text == "4"
    vendor = soup(login_as("fulfilment@vendor.test").get("/promises"))
    kpis = {
        dt.text: dd.text
        for dt, dd in zip(vendor.select(".kpis dt"), vendor.select(".kpis dd"), strict=True)
    }
    assert kpis["Lines measured"] == "14"
    assert "Globex" in vendor.text and vendor.select_one("svg.trend") is not None


def test_desk_queries_do_not_grow_with_the_rows_shown(app, parts, login_as):
    from .test_ordering import statements_for

    with app.app_context():
        for n in range(2):
            place(parts, {"DSK-A": n + 1}, buyer="buyer@acme.test")
    staff = login_as("fulfilment@vendor.test")
    few = statements_for(app, staff.client, "/desk")
    with app.app_context():
        for n in range(8):
            place(parts, {"DSK-A": n + 1, "DSK-C": 1}, buyer="admin@acme.test")
    assert statements_for(app, staff.client, "/desk") == few


# --- stock, corrections, requests and odd input (from review) -----------------------------


def stock(parts, sku: str) -> tuple[int, int]:
    row = db.session.get(Stock, parts[sku])
    db.session.refresh(row)
    return row.on_hand, row.reserved


def test_stock_follows_shipments_corrections_and_cancellations(app, parts):
    """DSK-C has 5 on hand; an order of 4 reserves them, shipping takes them out,
    a correction puts back what did not leave, a cancellation frees the rest."""
    with app.app_context():
        staff = user("fulfilment@vendor.test")
        order = place(parts, {"DSK-C": 4})
        x = order.lines[0]
        assert stock(parts, "DSK-C") == (5, 4)
        confirmations.confirm(staff, order, promise_all(order, D), TODAY)
        shipment = shipments.ship(
            staff, order, {x.id: 3}, carrier="", tracking="", shipped_on=TODAY, today=TODAY
        )
        assert stock(parts, "DSK-C") == (2, 1) and x.reserved_quantity == 1
        item = shipment.lines[0].id
        shipments.correct_shipment(
            staff,
            order,
            shipment,
            {item: 1},
            carrier="",
            tracking="",
            shipped_on=TODAY,
            reason="Two stayed on the shelf",
            today=TODAY,
        )
        assert stock(parts, "DSK-C") == (4, 3) and x.reserved_quantity == 3
        shipments.correct_shipment(
            staff,
            order,
            shipment,
            {item: 2},
            carrier="",
            tracking="",
            shipped_on=TODAY,
            reason="One more went after all",
            today=TODAY,
        )
        assert stock(parts, "DSK-C") == (3, 2)
        cancellations.cancel_line(staff, order, x.id, reason="Customer's project stopped")
        assert stock(parts, "DSK-C") == (3, 0)
        assert (x.shipped_quantity, x.cancelled_quantity, x.reserved_quantity) == (2, 2, 0)


def test_a_correction_of_the_ship_date_moves_the_ledger_figures(app, parts):
    with app.app_context():
        staff = user("fulfilment@vendor.test")
        acme = db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == "C-10001"))
        acme.promise_basis = "shipment"
        db.session.commit()
        order = place(parts, {"DSK-A": 5})
        confirmations.confirm(staff, order, promise_all(order, TODAY), TODAY)
        shipment = shipments.ship(
            staff,
            order,
            {order.lines[0].id: 5},
            carrier="",
            tracking="",
            shipped_on=TODAY,
            today=TODAY,
        )
        assert ledger_rows(acme.id) == {TODAY: (1, 1, 1, 1, 0, 0)}
        # It really left a day later than recorded: late against the promise.
        later = TODAY + timedelta(days=1)
        shipments.correct_shipment(
            staff,
            order,
            shipment,
            {},
            carrier="",
            tracking="",
            shipped_on=later,
            reason="Truck came the next morning",
            today=later,
        )
        assert ledger_rows(acme.id) == {TODAY: (1, 0, 1, 0, 0, 0)}
        kept = ledger_rows(acme.id)
        ledger.rebuild([acme.id])
        assert ledger_rows(acme.id) == kept
        texts = " ".join(e.kind for e in ordering.timeline(order))
        assert texts.count("shipment_corrected") == 2  # taken off the old date, put on the new


def test_a_shipment_corrected_to_nothing_is_not_on_its_way(app, parts):
    with app.app_context():
        staff = user("fulfilment@vendor.test")
        order = place(parts, {"DSK-A": 5})
        x = order.lines[0]
        confirmations.confirm(staff, order, promise_all(order, D), TODAY)
        wrong = shipments.ship(
            staff, order, {x.id: 5}, carrier="", tracking="", shipped_on=TODAY, today=TODAY
        )
        shipments.correct_shipment(
            staff,
            order,
            wrong,
            {wrong.lines[0].id: 0},
            carrier="",
            tracking="",
            shipped_on=TODAY,
            reason="Recorded on the wrong order",
            today=TODAY,
        )
        assert order.status == "confirmed"
        with pytest.raises(DomainError, match="corrected to nothing"):
            shipments.deliver(staff, order, wrong, delivered_on=TODAY, received={}, today=TODAY)
        db.session.rollback()
        right = shipments.ship(
            staff, order, {x.id: 5}, carrier="", tracking="", shipped_on=TODAY, today=TODAY
        )
        shipments.deliver(
            staff, order, right, delivered_on=TODAY, received={right.lines[0].id: 3}, today=TODAY
        )
        assert order.status == "delivered" and x.delivered_quantity == 3


def test_the_vendor_cannot_cancel_a_line_the_buyer_asked_to_cancel(app, parts, login_as):
    with app.app_context():
        staff = user("fulfilment@vendor.test")
        order = place(parts, {"DSK-A": 5})
        confirmations.confirm(staff, order, promise_all(order, D), TODAY)
        cancellations.request_cancellation(
            user("buyer@acme.test"), order, order.lines[0].id, reason="Stop"
        )
        with pytest.raises(DomainError, match="answer that request instead"):
            cancellations.cancel_line(staff, order, order.lines[0].id, reason="Out of stock")
        number = order.number
    page = login_as("fulfilment@vendor.test").get(f"/desk/orders/{number}").get_data(as_text=True)
    assert "The buyer asks to cancel" in page and "Cancel rest" not in page


def test_a_later_part_cannot_be_promised_before_the_first(app, parts):
    with app.app_context():
        order = place(parts, {"DSK-C": 4})
        split = confirmations.LineDecision(
            order.lines[0].id, D, later_quantity=2, later_promised_on=D - timedelta(days=1)
        )
        with pytest.raises(DomainError, match="cannot be promised before the first"):
            confirmations.confirm(user("fulfilment@vendor.test"), order, [split], TODAY)


def test_the_ledger_page_survives_lines_cancelled_at_the_customers_request(app, parts, login_as):
    with app.app_context():
        acme = db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == "C-10001"))
        db.session.add(
            PromiseLedgerDay(
                account_id=acme.id,
                day=TODAY - timedelta(days=2),
                lines=0,
                on_time=0,
                in_full=0,
                on_time_in_full=0,
                changes=0,
                slip_days=0,
            )
        )
        db.session.commit()
    page = login_as("fulfilment@vendor.test").get("/promises")
    assert page.status_code == 200
    assert "No promises have fallen due" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/desk?account=99999999999999999999&manager=99999999999999999999&page=99999999999999999999",
        "/promises?account=99999999999999999999",
        "/promises?from=9999-12-01&to=9999-12-31",
        "/promises?from=yesterday",
        "/promises?months=-4",
    ],
)
def test_odd_query_strings_get_a_page_not_an_error(login_as, url):
    assert login_as("fulfilment@vendor.test").get(url).status_code == 200


def test_changing_an_accounts_terms_measures_its_promises_again(app, parts):
    """Shipped on the promised day, delivered two days later: kept on shipment
    terms, late on delivery terms. The vendor admin switches the terms."""
    from portal.accounts import service as accounts

    with app.app_context():
        staff = user("fulfilment@vendor.test")
        order = place(parts, {"DSK-A": 5})
        confirmations.confirm(staff, order, promise_all(order, TODAY), TODAY)
        shipment = shipments.ship(
            staff,
            order,
            {order.lines[0].id: 5},
            carrier="",
            tracking="",
            shipped_on=TODAY,
            today=TODAY,
        )
        later = TODAY + timedelta(days=2)
        shipments.deliver(staff, order, shipment, delivered_on=later, received={}, today=later)
        acme = order.account
        assert acme.promise_basis == "delivery"
        assert ledger_rows(acme.id) == {TODAY: (1, 0, 1, 0, 0, 0)}
        accounts.update_account(
            user("admin@vendor.test"),
            acme,
            number=acme.number,
            name=acme.name,
            status=acme.status,
            timezone=acme.timezone,
            account_manager_id=acme.account_manager_id,
            promise_basis="shipment",
        )
        assert ledger_rows(acme.id) == {TODAY: (1, 1, 1, 1, 0, 0)}


def test_home_pages_show_waiting_orders_and_promises_kept(app, parts, login_as):
    with app.app_context():
        place(parts, {"DSK-A": 1})
        acme = db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == "C-10001"))
        globex = db.session.scalar(
            select(CustomerAccount).where(CustomerAccount.number == "C-10002")
        )
        for account, lines, kept in ((acme, 4, 3), (globex, 10, 1)):
            db.session.add(
                PromiseLedgerDay(
                    account_id=account.id,
                    day=TODAY - timedelta(days=3),
                    lines=lines,
                    on_time=kept,
                    in_full=lines,
                    on_time_in_full=kept,
                    changes=0,
                    slip_days=0,
                )
            )
        db.session.commit()
    vendor = soup(login_as("fulfilment@vendor.test").get("/"))
    waiting = vendor.select("#owed-waiting tbody tr")
    assert [row.select("td")[1].get_text(" ", strip=True) for row in waiting] == [
        "Acme Industrial C-10001"
    ]
    assert "(PO PO-DESK)" in waiting[0].select("td")[2].get_text()
    buyer = soup(login_as("buyer@acme.test").get("/"))
    assert "75 % of 4 order lines" in " ".join(buyer.select_one(".kept-figure").text.split())
    assert "Globex" not in buyer.text
