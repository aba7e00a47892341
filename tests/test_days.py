"""Whose day it is (portal.days): a customer's promises are judged on the account's day,
the vendor's desk on the vendor's, and the pages say which zone counts.

Hand-worked: 2026-12-01 18:30 UTC is 2 December 01:30 in Asia/Jakarta (UTC+7) and
1 December 19:30 in Europe/Berlin (UTC+1).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import func, select

from portal import days
from portal.accounts.models import User
from portal.extensions import db
from portal.fulfilment import confirmations
from portal.ordering import service as ordering

from .support import soup
from .test_fulfilment import parts  # noqa: F401  (the fixture: three desk parts)

EVENING = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
FIRST = date(2026, 12, 1)


def account(zone: str | None):
    return SimpleNamespace(timezone=zone)


def test_the_day_is_the_accounts_and_the_vendors_by_their_zones(app):
    with app.app_context():
        assert app.config["DEFAULT_TIMEZONE"] == "Europe/Berlin"
        assert days.account_today(account("Asia/Jakarta"), EVENING) == date(2026, 12, 2)
        assert days.account_today(account("Europe/Berlin"), EVENING) == FIRST
        assert days.account_today(account("America/Chicago"), EVENING) == FIRST
        # Chicago (UTC-6) is still on 30 November at 03:00 UTC on 1 December.
        early = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
        assert days.account_today(account("America/Chicago"), early) == date(2026, 11, 30)
        assert days.account_today(None, EVENING) == days.vendor_today(EVENING) == FIRST
        assert days.account_today(account(""), EVENING) == FIRST  # none set: the vendor's
        # The day an order placed at 18:30 UTC was placed, where the customer is.
        assert days.local_day(EVENING, days.zone("Asia/Jakarta")) == date(2026, 12, 2)


def test_a_promise_for_1_december_is_overdue_at_18_30_utc_in_jakarta_not_in_berlin(app):
    with app.app_context():
        assert days.is_overdue(FIRST, account("Asia/Jakarta"), EVENING)
        assert not days.is_overdue(FIRST, account("Europe/Berlin"), EVENING)
        assert not days.is_overdue(FIRST, account("Asia/Jakarta"), MORNING)  # 17:00 there
        assert not days.is_overdue(None, account("Asia/Jakarta"), EVENING)


def test_the_zone_note_is_in_the_readers_words(app):
    from flask_babel import force_locale

    with app.test_request_context():
        jakarta = days.zone("Asia/Jakarta")
        with force_locale("en"):
            assert days.zone_note(jakarta) == (
                "Dates are days in Western Indonesia Time (Asia/Jakarta)."
            )
        with force_locale("id"):
            assert days.zone_note(jakarta) == (
                "Tanggal mengikuti hari di Waktu Indonesia Barat (Asia/Jakarta)."
            )


def _person(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _promised_order(app, parts, zone: str) -> str:  # noqa: F811
    """Acme, moved to `zone`, orders on 1 December at 10:00 UTC; the desk promises
    the line for 1 December, the same morning."""
    with time_machine.travel(MORNING, tick=False), app.app_context():
        buyer = _person("buyer@acme.test")
        buyer.account.timezone = zone
        ordering.add_to_cart(buyer, [(parts["DSK-A"], 2)])
        address = next(a for a in buyer.account.addresses if a.kind == "shipping")
        order, _ = ordering.place_order(
            buyer,
            po_number="PO-ZONE",
            ship_to_id=address.id,
            requested_date=None,
            notes="",
            idempotency_key=f"zone-{zone}",
            today=FIRST,
        )
        decisions = [confirmations.LineDecision(line.id, FIRST) for line in order.lines]
        confirmations.confirm(_person("fulfilment@vendor.test"), order, decisions, FIRST)
        return order.number


@pytest.mark.parametrize(
    ("zone", "late", "note"),
    [
        ("Asia/Jakarta", True, "Dates are days in Western Indonesia Time (Asia/Jakarta)."),
        ("Europe/Berlin", False, "Dates are days in Central European Standard Time"),
    ],
)
def test_the_order_pages_judge_the_promise_on_the_accounts_day_and_say_so(
    app,
    parts,  # noqa: F811
    login_as,
    zone,
    late,
    note,
):
    number = _promised_order(app, parts, zone)
    with time_machine.travel(EVENING, tick=False):
        for who, path in (
            ("buyer@acme.test", f"/orders/{number}"),
            ("fulfilment@vendor.test", f"/desk/orders/{number}"),
        ):
            page = soup(login_as(who).client.get(path))
            badges = [b.get_text() for b in page.select(".badge-late")]
            assert badges == (["Late"] if late else []), (who, badges)
            assert page.select_one(".zone-note").get_text().startswith(note), who


@pytest.mark.parametrize(
    ("zone", "state"), [("Asia/Jakarta", "late"), ("Europe/Berlin", "at_risk")]
)
def test_everything_promised_to_the_account_counts_its_own_day(app, parts, zone, state):  # noqa: F811
    """The account manager's page of what is owed to one account."""
    from portal.contacts import promised as owed

    number = _promised_order(app, parts, zone)
    with time_machine.travel(EVENING, tick=False), app.test_request_context():
        acme = _person("buyer@acme.test").account
        found = owed.promised(_person("manager@vendor.test"), acme, EVENING)
        [line] = [item for item in found.items if item.what.startswith(f"{number} line")]
        assert (line.due, line.state) == (FIRST, state)


# --- relationship health, follow-ups, cancellations, forecast accuracy, quality ----------
# 2026-12-03 23:30 UTC (a Thursday) is already Friday 4 December in Berlin, the vendor's
# zone: the vendor's schedule and lists count Friday, UTC still says Thursday.
LATE_THURSDAY = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
BERLIN_FRIDAY = date(2026, 12, 4)


def test_the_relationship_snapshot_and_its_alerts_count_the_vendors_day(app, demo):
    from portal.relationship import alerts, snapshots
    from portal.relationship.models import Snapshot

    with app.app_context():
        snapshots.refresh(now=LATE_THURSDAY)
        assert set(db.session.scalars(select(Snapshot.day))) == {BERLIN_FRIDAY}
        # Told on Friday in Berlin: two working days later is Tuesday, not Monday.
        assert alerts.escalation_due(LATE_THURSDAY) == date(2026, 12, 8)


def test_acknowledging_a_red_alert_dates_the_follow_up_by_the_vendors_day(app, demo):
    """A follow-up due on Thursday is in the past for the manager in Berlin on Friday."""
    from portal.contacts.service import FollowUpInput, open_follow_ups
    from portal.errors import DomainError
    from portal.relationship import alerts
    from portal.relationship.models import Episode

    with app.app_context():
        acme = _person("buyer@acme.test").account
        manager = _person("manager@vendor.test")
        db.session.add(
            Episode(
                account_id=acme.id,
                subject="account",
                reason="score 20",
                started_on=BERLIN_FRIDAY,
                notified_at=LATE_THURSDAY,
            )
        )
        db.session.commit()
        thursday = FollowUpInput(kind="call", title="Call", due_on=date(2026, 12, 3))
        with pytest.raises(DomainError, match="cannot be due in the past"):
            alerts.acknowledge(manager, acme, thursday, LATE_THURSDAY)
        db.session.rollback()
        friday = FollowUpInput(kind="call", title="Call", due_on=BERLIN_FRIDAY)
        count, follow_up = alerts.acknowledge(manager, acme, friday, LATE_THURSDAY)
        assert (count, follow_up.due_on) == (1, BERLIN_FRIDAY)
        # Due Friday: not overdue on the vendor's Friday; overdue on its Saturday.
        with time_machine.travel(LATE_THURSDAY, tick=False):
            assert open_follow_ups([acme.id])[acme.id].overdue == 0
        with time_machine.travel(LATE_THURSDAY + timedelta(days=1), tick=False):
            assert open_follow_ups([acme.id])[acme.id].overdue == 1


def test_the_relationship_pages_say_their_days_are_the_vendors(app, demo, login_as):
    from portal.relationship import snapshots

    with time_machine.travel(LATE_THURSDAY, tick=False):
        # Signed in then: a session from two days before would have lapsed.
        manager = login_as("manager@vendor.test")
        with app.app_context():
            snapshots.refresh(now=LATE_THURSDAY)
        for path in ("/relationship/portfolio", "/relationship/accounts/C-10001"):
            page = soup(manager.client.get(path))
            assert (
                page.select_one(".zone-note")
                .get_text()
                .startswith("Dates are days in Central European Standard Time (Europe/Berlin)")
            ), path
        # Today's snapshot (Friday's) is the one the portfolio is "as of".
        page = soup(manager.client.get("/relationship/portfolio"))
        assert "As of 04 Dec 2026" in " ".join(page.select_one("#portfolio").get_text().split())


def test_an_accepted_cancellation_is_dated_by_the_accounts_day(app, parts):  # noqa: F811
    """Jakarta's buyer asks on 1 December; the desk accepts at 18:30 UTC, already
    2 December in Jakarta: the line promised for 1 December was cancelled after it."""
    from portal.fulfilment import cancellations
    from portal.ordering.models import Order, OrderEvent

    number = _promised_order(app, parts, "Asia/Jakarta")
    with time_machine.travel(EVENING, tick=False), app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        line = order.lines[0]
        asked = cancellations.request_cancellation(
            _person("buyer@acme.test"), order, line.id, reason="Not needed"
        )
        cancellations.answer_cancellation(
            _person("fulfilment@vendor.test"), order, asked.id, accept=True, comment=""
        )
        cancelled = db.session.scalar(
            select(OrderEvent).where(
                OrderEvent.order_id == order.id, OrderEvent.kind == "line_cancelled"
            )
        )
        assert cancelled.on_date == date(2026, 12, 2)


def test_forecast_accuracy_measures_the_months_ended_in_the_accounts_zone(app, demo, login_as):
    """At 30 November 18:30 UTC November has ended in Jakarta (1 December 01:30) and not
    in Berlin: Jakarta's last measured month is November, Berlin's October."""
    from portal.forecasts import planning

    end_of_november = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)
    with time_machine.travel(end_of_november, tick=False):
        for zone, last in (
            ("Europe/Berlin", date(2026, 10, 1)),
            ("Asia/Jakarta", date(2026, 11, 1)),
        ):
            with app.app_context():
                buyer = _person("buyer@acme.test")
                buyer.account.timezone = zone
                db.session.commit()
                report = planning.account_accuracy(buyer, None, None)
                assert report.months[-1] == last, zone
        # The page, for the Jakarta account now: its months, in its zone.
        page = soup(login_as("buyer@acme.test").client.get("/forecasts/accuracy"))
        assert (
            page.select_one(".zone-note")
            .get_text()
            .startswith("Dates are days in Western Indonesia Time (Asia/Jakarta)")
        )


def test_the_quality_record_says_whose_days_its_period_counts(app, demo, login_as):
    with app.app_context():
        _person("buyer@acme.test").account.timezone = "Asia/Jakarta"
        db.session.commit()
    for who, note in (
        ("buyer@acme.test", "Dates are days in Western Indonesia Time (Asia/Jakarta)."),
        ("service@vendor.test", "Dates are days in Central European"),
    ):
        page = soup(login_as(who).client.get("/service/quality"))
        assert page.select_one(".zone-note").get_text().startswith(note), who


def test_the_vendors_home_counts_the_vendors_day(app, demo):
    """The home page's duties and short portfolio count Friday in Berlin, as the
    portfolio page does: the last contact of a snapshot written that Friday is 'today'."""
    from portal.home import duties
    from portal.relationship import snapshots
    from portal.relationship.models import Snapshot

    with app.app_context():
        snapshots.refresh(now=LATE_THURSDAY)
        acme = _person("buyer@acme.test").account
        snapshot = db.session.scalar(select(Snapshot).where(Snapshot.account_id == acme.id))
        snapshot.signals = {**snapshot.signals, "vendor_contact": {"value": 0}}
        db.session.commit()
        home = duties.vendor_home(_person("manager@vendor.test"), LATE_THURSDAY)
        [row] = [r for r in home.portfolio.rows if r.account.id == acme.id]
        assert row.last_contact == "today"


# --- the relationship signals' days -------------------------------------------------------
# A Jakarta-zoned vendor (UTC+7) at 1 December 20:00 UTC is already on 2 December: its
# snapshot of 2 December counts what happened until its own midnight, on its own days.
JAKARTA_EVENING = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
SECOND = date(2026, 12, 2)


def _placed(account_id: int, buyer_id: int, at: datetime) -> None:
    """An order of the account placed at the instant `at` (UTC)."""
    from decimal import Decimal

    from portal.ordering.models import Order

    count = db.session.scalar(select(func.count()).select_from(Order)) or 0
    db.session.add(
        Order(
            number=f"Z-{count + 1:06d}",
            account_id=account_id,
            placed_by_id=buyer_id,
            status="placed",
            po_number="PO",
            ship_to_text="Dock 1",
            total=Decimal("100.00"),
            currency="EUR",
            idempotency_key=f"z{count}",
            placed_at=at,
        )
    )


def test_the_signals_count_events_until_the_vendors_midnight_on_the_vendors_days(
    app, demo, monkeypatch
):
    """An order at 1 December 18:00 UTC was placed on 2 December for a vendor in Jakarta:
    2 December's snapshot says 'no order for 0 days', and 1 December's, rebuilt, does not
    count it (its day ended at 17:00 UTC). By UTC days it would read 1 day and 0 days."""
    from portal.relationship import snapshots
    from portal.relationship.models import Snapshot

    monkeypatch.setitem(app.config, "DEFAULT_TIMEZONE", "Asia/Jakarta")
    with app.app_context():
        buyer = _person("buyer@acme.test")
        _placed(buyer.account_id, buyer.id, datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
        _placed(buyer.account_id, buyer.id, datetime(2026, 12, 1, 18, 0, tzinfo=UTC))
        db.session.commit()
        snapshots.refresh(now=JAKARTA_EVENING)
        snapshots.refresh(FIRST, now=JAKARTA_EVENING, alert=False)
        rhythm = {
            day: values["order_rhythm"]["value"]
            for day, values in db.session.execute(
                select(Snapshot.day, Snapshot.signals).where(
                    Snapshot.account_id == buyer.account_id
                )
            )
        }
        assert rhythm == {SECOND: 0, FIRST: 11}


# Instants near a midnight somewhere, in winter and in summer, and at Berlin's and
# Chicago's changes of the clock: the database must give each the day Python gives it.
NEAR_MIDNIGHT = [
    datetime(2025, 12, 31, 17, 30, tzinfo=UTC),  # 1 January 00:30 in Jakarta
    datetime(2026, 1, 14, 23, 30, tzinfo=UTC),  # 15 January 00:30 in Berlin (winter)
    datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),  # Berlin's last second of winter time
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # Berlin's first of summer time
    datetime(2026, 6, 14, 22, 30, tzinfo=UTC),  # 15 June 00:30 in Berlin (summer)
    datetime(2026, 6, 15, 4, 30, tzinfo=UTC),  # 14 June 23:30 in Chicago (summer)
    datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 1 November 00:30 in Chicago (summer)
    datetime(2026, 11, 1, 6, 30, 0, 500, tzinfo=UTC),  # 01:30 twice in Chicago: the first
    datetime(2026, 11, 1, 7, 30, tzinfo=UTC),  # ... and the second (winter)
    datetime(2026, 11, 30, 23, 30, tzinfo=UTC),  # 1 December 00:30 in Berlin
    # Midnights to the second: the day that begins, not the one that ended.
    datetime(2026, 1, 14, 17, 0, tzinfo=UTC),  # Jakarta
    datetime(2026, 6, 14, 22, 0, tzinfo=UTC),  # Berlin (summer)
    datetime(2026, 6, 15, 5, 0, tzinfo=UTC),  # Chicago (summer)
    datetime(2026, 12, 1, 6, 0, tzinfo=UTC),  # Chicago (winter)
]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Jakarta", "America/Chicago"])
def test_the_database_puts_each_event_on_its_day_in_the_vendors_zone(app, demo, monkeypatch, zone):
    from portal.contacts.models import ContactEntry
    from portal.relationship import signals

    monkeypatch.setitem(app.config, "DEFAULT_TIMEZONE", zone)
    with app.app_context():
        buyer = _person("buyer@acme.test")
        for at in NEAR_MIDNIGHT:
            _placed(buyer.account_id, buyer.id, at)
        db.session.commit()
        ctx = signals.Context(SECOND, [buyer.account_id], {}, now=JAKARTA_EVENING)
        expected = sorted({days.local_day(at, days.zone(zone)) for at in NEAR_MIDNIGHT})
        assert signals.order_days(ctx)[buyer.account_id] == expected
        # A source of days (the contact log's dates) keeps its days in every zone.
        db.session.add(
            ContactEntry(
                account_id=buyer.account_id, kind="call", contacted_on=FIRST, summary="Call"
            )
        )
        db.session.flush()
        logged = signals.days_per_account(
            [signals._logged_contacts], ctx.since(30), ctx.end, ctx.zone
        )
        assert logged[buyer.account_id] == [FIRST]


def test_lines_late_now_are_judged_on_each_accounts_own_day(app, demo):
    """Friday 00:30 in Berlin (the vendor's snapshot day) is Thursday 17:30 in Chicago and
    Friday 06:30 in Jakarta: a line promised for Thursday is late for Acme (Berlin) and
    Nusantara (Jakarta), not yet for Globex (Chicago); one promised for Friday is late
    for nobody. By the snapshot's day, Globex's line would be late too."""
    from portal.relationship import signals

    from .test_relationship import _order_with_line, _product

    thursday = date(2026, 12, 3)
    with app.app_context():
        product = _product()
        buyers = {
            email: _person(email)
            for email in ("buyer@acme.test", "buyer@globex.test", "buyer@nusantara.test")
        }
        for buyer in buyers.values():
            for promised in (thursday, BERLIN_FRIDAY):
                _order_with_line(
                    buyer.account_id, buyer.id, product, placed=date(2026, 11, 20),
                    quantity=4, first_promised_on=promised, promised_on=promised,
                )  # fmt: skip
        db.session.commit()
        assert days.vendor_today(LATE_THURSDAY) == BERLIN_FRIDAY
        readings = signals.compute(BERLIN_FRIDAY, now=LATE_THURSDAY)
        late = {
            email: "1 line late now" in str(readings[buyer.account_id]["promises"].reason)
            for email, buyer in buyers.items()
        }
        assert late == {
            "buyer@acme.test": True,
            "buyer@globex.test": False,
            "buyer@nusantara.test": True,
        }


# --- PunchOut ------------------------------------------------------------------------------


def test_a_punchout_cart_goes_back_at_the_prices_of_the_accounts_day(app, demo, client):
    """Acme, in Jakarta, agreed 9.50 for CX-100 from 2 December. At 18:30 UTC on
    1 December it is 2 December there: the cart shows 9.50, and the message back to the
    purchasing system says 9.50 too (by the UTC day it said the list price, 12.00)."""
    import xml.etree.ElementTree as ET  # noqa: N817 - reading our own document
    from decimal import Decimal
    from urllib.parse import urlsplit

    from portal.catalog.models import ContractPrice, Product
    from portal.cxml import demo as cxml_demo

    from .cxml_support import make_products
    from .support import Browserless
    from .test_cxml import _accept, _start_url

    with app.app_context():
        cxml_demo.load()
    make_products(app)
    with app.app_context():
        acme = _person("buyer@acme.test").account
        acme.timezone = "Asia/Jakarta"
        product = db.session.scalar(select(Product).where(Product.sku == "CX-100"))
        db.session.add(
            ContractPrice(
                account_id=acme.id,
                product_id=product.id,
                unit_price=Decimal("9.50"),
                currency=acme.currency,
                valid_from=date(2026, 12, 2),
            )
        )
        db.session.commit()
    with time_machine.travel(EVENING, tick=False):
        browser = Browserless(app.test_client())
        assert browser.client.get(urlsplit(_start_url(client)).path).status_code == 303
        _accept(browser, app, "CX-100", 3)
        returned = browser.post("/punchout/return", {}, page="/cart")
    message = soup(returned).find("input", attrs={"name": "cxml-urlencoded"})["value"]
    root = ET.fromstring(message.encode())
    prices = [m.text for m in root.iterfind(".//ItemIn/ItemDetail/UnitPrice/Money")]
    assert prices == ["9.50"]


# --- the last vendor contact and the suggestions answered, on the vendor's days ------------
# A Chicago-zoned vendor (UTC-6) at 1 December 03:00 UTC is still on 30 November.
CHICAGO_NIGHT = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
THIRTIETH = date(2026, 11, 30)


def _vendor_message(account_id: int, author_id: int, at: datetime) -> None:
    """An answer of vendor staff on one of the account's suggestions, at `at` (UTC)."""
    from portal.ideas.models import Idea, IdeaMessage

    idea = Idea(
        account_id=account_id,
        title="Thinner gasket",
        category="design",
        status="under_review",
        created_by_id=author_id,
        submitted_at=at - timedelta(days=3),
        answer_due_on=at.date(),
        first_answered_at=at,
    )
    db.session.add(idea)
    db.session.flush()
    db.session.add(IdeaMessage(idea_id=idea.id, author_id=author_id, body="Yes", created_at=at))


def test_a_logged_contact_is_the_vendors_last_word_on_its_own_day_west_of_utc(
    app, demo, monkeypatch
):
    """For a vendor in Chicago, a call logged for 30 November is the last contact of that
    day, and later than an answer at 30 November 03:00 UTC (29 November 21:00 there).
    Read as midnight UTC, the logged day became 29 November 18:00 in Chicago: the answer
    won the comparison and both accounts read '1 day' where they had spoken 'today'."""
    from portal.contacts.models import ContactEntry
    from portal.relationship import signals

    monkeypatch.setitem(app.config, "DEFAULT_TIMEZONE", "America/Chicago")
    with app.app_context():
        assert days.vendor_today(CHICAGO_NIGHT) == THIRTIETH
        manager = _person("manager@vendor.test")
        acme = _person("buyer@acme.test").account_id
        globex = _person("buyer@globex.test").account_id
        _vendor_message(acme, manager.id, datetime(2026, 11, 30, 3, 0, tzinfo=UTC))
        for account_id in (acme, globex):
            db.session.add(
                ContactEntry(
                    account_id=account_id, kind="call", contacted_on=THIRTIETH, summary="Call"
                )
            )
        db.session.commit()
        ctx = signals.Context(THIRTIETH, [acme, globex], {}, now=CHICAGO_NIGHT)
        assert signals.last_vendor_contact(None, ctx.since(signals.HISTORY_DAYS), ctx.end) == {
            acme: THIRTIETH,
            globex: THIRTIETH,
        }
        readings = signals.compute(THIRTIETH, [acme, globex], now=CHICAGO_NIGHT)
        assert [readings[a]["vendor_contact"].value for a in (acme, globex)] == [0, 0]
        # The answer alone is the vendor's 29 November (a day before), not UTC's 30th.
        db.session.execute(db.delete(ContactEntry).where(ContactEntry.account_id == acme))
        readings = signals.compute(THIRTIETH, [acme], now=CHICAGO_NIGHT)
        assert readings[acme]["vendor_contact"].value == 1


def test_suggestions_answered_count_those_sent_on_the_vendors_days(app, demo, monkeypatch):
    """Responsiveness reads the suggestions sent in the 90 vendor days that end with the
    snapshot's day, as every other signal does. For a Jakarta vendor (UTC+7) the window
    of 2 December begins on 4 September, at 3 September 17:00 UTC, and that of 1 December
    ends at 1 December 17:00 UTC. By UTC days, 2 December's counted only the later
    suggestion and 1 December's, rebuilt, both."""
    from portal.ideas.models import Idea
    from portal.relationship import signals

    monkeypatch.setitem(app.config, "DEFAULT_TIMEZONE", "Asia/Jakarta")
    with app.app_context():
        buyer = _person("buyer@acme.test")
        for sent in (
            datetime(2026, 9, 3, 20, 0, tzinfo=UTC),  # 4 September 03:00 in Jakarta
            datetime(2026, 12, 1, 18, 0, tzinfo=UTC),  # 2 December 01:00 in Jakarta
        ):
            db.session.add(
                Idea(
                    account_id=buyer.account_id,
                    title="Thinner gasket",
                    category="design",
                    status="under_review",
                    created_by_id=buyer.id,
                    submitted_at=sent,
                    answer_due_on=(sent + timedelta(days=10)).date(),
                    first_answered_at=sent + timedelta(hours=1),
                )
            )
        db.session.commit()

        def answered(as_of: date, **kwargs) -> str:
            reading = signals.compute(as_of, [buyer.account_id], now=JAKARTA_EVENING, **kwargs)
            return str(reading[buyer.account_id]["responsiveness"].reason)

        assert "suggestions answered within the promise 2 of 2" in answered(SECOND)
        assert "suggestions answered within the promise 1 of 1" in answered(FIRST, is_today=False)


def test_commitments_below_the_forecast_count_from_each_accounts_own_month(app, demo):
    """At 30 November 23:30 UTC the vendor (Berlin) and Acme are in December, Globex
    (Chicago, 17:30) still in November: its commitment below the forecast for November
    is still in force, Acme's is past. By the vendor's month neither November one counted."""
    from portal.forecasts.models import ForecastCommit
    from portal.relationship import signals

    from .test_relationship import _forecast_version, _product

    end_of_november = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    with app.app_context():
        seal = _product()
        acme = _person("buyer@acme.test").account_id
        globex = _person("buyer@globex.test").account_id
        for account_id in (acme, globex):
            months = (date(2026, 11, 1), FIRST)
            version = _forecast_version(
                account_id, seal, 1, date(2026, 9, 30), dict.fromkeys(months, 100)
            )
            for month in months:
                db.session.add(
                    ForecastCommit(
                        account_id=account_id, product_id=seal.id, month=month, quantity=80,
                        version_id=version.id, forecast_quantity=100, reason="capacity",
                        committed_at=datetime(2026, 10, 1, tzinfo=UTC),
                    )
                )  # fmt: skip
        db.session.commit()
        assert days.vendor_today(end_of_november) == FIRST
        ctx = signals.Context(FIRST, [acme, globex], {}, now=end_of_november)
        assert signals._commitments_below(ctx) == {acme: 1, globex: 2}
        # Rebuilt a day later, 1 December is judged at its last instant in Berlin: 16:59
        # in Chicago, December there too.
        later = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
        later = signals.Context(FIRST, [acme, globex], {}, is_today=False, now=later)
        assert signals._commitments_below(later) == {acme: 1, globex: 1}


def test_the_forecast_error_measures_each_accounts_own_complete_months(app, demo):
    """At 30 November 23:30 UTC November has ended for the vendor (Berlin) and Acme, not
    for Globex (Chicago, 17:30): Acme's six months are June to November, Globex's May to
    October, as on each account's accuracy page. Both forecast 100 a month and ordered
    100 a month, but 200 in November: Acme's forecasts were off by 100 of 700 ordered,
    Globex's by nothing yet. By the vendor's months both read 14.3 %."""
    from portal.relationship import signals

    from .test_relationship import _forecast_version, _order_with_line, _product

    end_of_november = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    months = [date(2026, month, 1) for month in range(5, 12)]
    with app.app_context():
        seal = _product()
        accounts = {}
        for email in ("buyer@acme.test", "buyer@globex.test"):
            buyer = _person(email)
            accounts[email] = buyer.account_id
            _forecast_version(
                buyer.account_id, seal, 1, date(2026, 1, 10), dict.fromkeys(months, 100)
            )
            for month in months:
                quantity = 200 if month.month == 11 else 100
                _order_with_line(buyer.account_id, buyer.id, seal,
                                 placed=month.replace(day=15), quantity=quantity)  # fmt: skip
        db.session.commit()
        ids = list(accounts.values())
        ctx = signals.Context(FIRST, ids, {}, now=end_of_november)
        assert signals._forecast_error(ctx, ids) == {
            accounts["buyer@acme.test"]: 14.3,
            accounts["buyer@globex.test"]: 0.0,
        }


# --- suggestions answered in time, reviews, the scorecard and forecast accuracy -----------
# Days promised to a customer and the periods about the vendor's promises to it are the
# account's: 18:30 UTC is already the next day in Jakarta (UTC+7); 03:00 UTC is still the
# day before in Chicago (UTC-6 in winter, UTC-5 in summer).


def _idea(account_id: int, author_id: int, sent: datetime, due: date, answered) -> None:
    from portal.ideas.models import Idea

    db.session.add(
        Idea(
            account_id=account_id,
            title="Thinner gasket",
            category="design",
            status="under_review" if answered else "submitted",
            created_by_id=author_id,
            submitted_at=sent,
            answer_due_on=due,
            first_answered_at=answered,
        )
    )


def test_a_suggestion_is_answered_in_time_by_the_accounts_day(app):
    """Promised for 1 December and answered at 1 December 18:30 UTC: on 2 December in
    Jakarta, a day late there; in time in Berlin (19:30). Not answered, at that instant it
    counts against in Jakarta and not yet in Chicago (12:30). By the UTC day the answer
    was in time everywhere."""
    from portal.ideas.measures import Record, measure

    sent = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    jakarta, berlin, chicago = map(days.zone, ("Asia/Jakarta", "Europe/Berlin", "America/Chicago"))
    answered = [Record(sent, FIRST, EVENING, "under_review", where=z) for z in (jakarta, berlin)]
    assert [measure([r], EVENING).within_promise for r in answered] == [0, 1]
    waiting = [Record(sent, FIRST, None, "submitted", where=z) for z in (jakarta, chicago)]
    assert [measure([r], EVENING).due for r in waiting] == [1, 0]
    assert measure(waiting, EVENING).due == 1  # each on its own account's day


def test_the_suggestion_measures_count_the_accounts_days_and_say_so(app, demo, login_as):
    """Acme in Jakarta at 1 December 18:30 UTC (its 2 December): its last 3 months begin
    on 2 September (91 days before), at 1 September 17:00 UTC. A suggestion sent at 17:30
    UTC that day counts; answered on 5 September 18:00 UTC (6 September there) for a
    promise of the 5th, it was late. Another, promised for 1 December and answered at
    18:30 UTC that day, was late too. By UTC days: one sent, 100 % in time."""
    with app.app_context():
        buyer = _person("buyer@acme.test")
        buyer.account.timezone = "Asia/Jakarta"
        _idea(buyer.account_id, buyer.id, datetime(2026, 9, 1, 17, 30, tzinfo=UTC),
              date(2026, 9, 5), datetime(2026, 9, 5, 18, 0, tzinfo=UTC))  # fmt: skip
        _idea(buyer.account_id, buyer.id, datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
              FIRST, EVENING)  # fmt: skip
        db.session.commit()
    with time_machine.travel(EVENING, tick=False):
        for who, note in (
            ("buyer@acme.test", "Dates are days in Western Indonesia Time (Asia/Jakarta)."),
            ("engineer@vendor.test", "Dates are days in Central European"),
        ):
            page = soup(login_as(who).client.get("/ideas/measures?months=3"))
            kpis = {
                dt.get_text(): dd.get_text()
                for dt, dd in zip(page.select(".kpis dt"), page.select(".kpis dd"), strict=True)
            }
            if who == "buyer@acme.test":
                assert (kpis["Sent"], kpis["Answered within the promise"]) == ("2", "0 %")
            assert page.select_one(".zone-note").get_text().startswith(note), who


def _request(account_id: int, opened: datetime, kind: str = "repair") -> None:
    from portal.service.models import ServiceRequest

    db.session.add(
        ServiceRequest(
            account_id=account_id,
            kind=kind,
            title="Pump leaks",
            status="new",
            opened_at=opened,
            last_activity_at=opened,
        )
    )


def test_a_reviews_quarter_is_the_accounts_quarter(app, demo):
    """Q3 2026 of Acme in Jakarta runs from 30 June 17:00 UTC to 30 September 17:00 UTC. A
    request opened, a rating given and a suggestion sent on 30 June at 18:00 UTC are in
    it; those of 30 September 18:00 UTC are in Q4. By UTC days each would sit a quarter
    early: Q3 would count the September ones and Q2 the June ones."""
    from portal.reviews import figures, ratings, reviews

    with app.app_context():
        buyer, manager = _person("buyer@acme.test"), _person("manager@vendor.test")
        buyer.account.timezone = "Asia/Jakarta"
        for day, score in ((date(2026, 6, 30), "4"), (date(2026, 9, 30), "2")):
            at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=18)
            _request(buyer.account_id, at)
            ratings.rate(buyer, score, "", now=at)
            # Promised for the next day (its own: 1 July, 1 October) and answered then.
            _idea(buyer.account_id, buyer.id, at, day + timedelta(days=1), at + timedelta(hours=2))
        review = reviews.create(manager, buyer.account_id, date(2026, 7, 1), date(2026, 9, 30))
        db.session.commit()
        found = figures.review_figures(manager, review, date(2026, 12, 2), EVENING)
        q3, q2 = found.current, found.previous
        assert (q3.requests, q2.requests) == (1, 0)
        assert ([r.score for r in q3.ratings], q2.ratings) == ([4], [])
        assert (q3.suggestions.sent, q2.suggestions.sent) == (1, 0)


def test_the_scorecard_and_review_are_the_accounts_days_for_vendor_staff_too(app, demo, login_as):
    """At 1 December 18:30 UTC it is 2 December for Acme in Jakarta: its scorecard covers
    the 90 days to 1 December, for its buyer and for the vendor's manager in Berlin (whose
    own day is still 1 December), and both pages say whose days they count."""
    from portal.reviews import reviews

    with app.app_context():
        buyer = _person("buyer@acme.test")
        buyer.account.timezone = "Asia/Jakarta"
        review = reviews.create(
            _person("manager@vendor.test"), buyer.account_id, date(2026, 7, 1), date(2026, 9, 30)
        )
        account_id, review_id = buyer.account_id, review.id
        db.session.commit()
    jakarta = "Dates are days in Western Indonesia Time (Asia/Jakarta)."
    with time_machine.travel(EVENING, tick=False):
        for who, path in (
            ("manager@vendor.test", f"/accounts/{account_id}/scorecard"),
            ("buyer@acme.test", "/scorecard"),
            ("manager@vendor.test", f"/reviews/{review_id}"),
        ):
            page = soup(login_as(who).client.get(path))
            if "scorecard" in path:
                text = " ".join(page.get_text().split())
                assert "over the 90 days to 01 Dec 2026" in text, (who, path)
            assert page.select_one(".zone-note").get_text() == jakarta, (who, path)


def test_a_review_falls_due_for_accounts_that_existed_when_their_quarter_began(app, demo):
    """Q4 2026 began at 1 October 05:00 UTC in Chicago and at 30 September 17:00 UTC in
    Jakarta. Globex (Chicago), created at 1 October 03:00 UTC (30 September there), had
    its whole quarter: due. Nusantara (Jakarta), created at 30 September 20:00 UTC
    (1 October there), did not: not due. By UTC midnight it was the other way round."""
    from portal.accounts.models import CustomerAccount
    from portal.reviews import reviews

    with app.app_context():
        created = {
            "C-10002": datetime(2026, 10, 1, 3, 0, tzinfo=UTC),
            "C-10005": datetime(2026, 9, 30, 20, 0, tzinfo=UTC),
        }
        for a in db.session.scalars(select(CustomerAccount)):
            a.created_at = created.get(a.number, datetime(2024, 1, 1, tzinfo=UTC))
        db.session.commit()
        due = {a.number for a, _, _ in reviews.due_reviews(date(2027, 1, 10))}
        assert due == {"C-10001", "C-10002", "C-10003", "C-10004"}


def test_the_rating_prompt_asks_once_in_the_accounts_quarter(app, demo):
    """Rated at 30 September 18:00 UTC: 1 October in Jakarta (Q4 there, so not asked again
    in December), still 30 September in Berlin (Q3: asked)."""
    from portal.reviews import ratings

    with app.app_context():
        buyer = _person("buyer@acme.test")
        ratings.rate(buyer, "4", "", now=datetime(2026, 9, 30, 18, 0, tzinfo=UTC))
        for zone, asked in (("Asia/Jakarta", False), ("Europe/Berlin", True)):
            buyer.account.timezone = zone
            assert ratings.should_ask(buyer, date(2026, 12, 2)) is asked, zone


@pytest.mark.parametrize(
    ("zone", "published", "forecast"),
    [
        # 1 November 01:00 in Jakarta: not before November there.
        ("Asia/Jakarta", datetime(2026, 10, 31, 18, 0, tzinfo=UTC), 100),
        ("Europe/Berlin", datetime(2026, 10, 31, 18, 0, tzinfo=UTC), 150),
        # 31 October 22:00 in Chicago: before November there.
        ("America/Chicago", datetime(2026, 11, 1, 3, 0, tzinfo=UTC), 150),
    ],
)
def test_a_forecast_is_a_month_ahead_by_the_accounts_day_it_was_published(
    app, demo, zone, published, forecast
):
    """November's forecast one month ahead is the latest version published before
    November began where the account is: 100 from 15 October, or 150 from a version
    published near midnight on 31 October, depending on the zone. By the UTC day the
    Jakarta version counted and the Chicago one did not."""
    from portal.forecasts import planning

    from .test_relationship import _forecast_version, _order_with_line, _product

    november = date(2026, 11, 1)
    with time_machine.travel(MORNING, tick=False), app.app_context():
        buyer = _person("buyer@acme.test")
        buyer.account.timezone = zone
        seal = _product()
        _forecast_version(buyer.account_id, seal, 1, date(2026, 10, 15), {november: 100})
        later = _forecast_version(buyer.account_id, seal, 2, date(2026, 10, 31), {november: 150})
        later.published_at = published
        _order_with_line(buyer.account_id, buyer.id, seal, placed=date(2026, 11, 15), quantity=100)
        db.session.commit()
        report = planning.account_accuracy(buyer, None, None)
        assert report.months[-1] == november
        assert report.figures.by_month[(november, 1)].forecast == forecast


def test_what_was_ordered_counts_in_the_accounts_month(app, demo):
    """An order placed at 31 October 18:00 UTC is November's for Acme in Jakarta (1 November
    01:00 there); one placed at 1 November 03:00 UTC is October's for Globex in Chicago
    (31 October 22:00 there). By UTC months each was the other month. The period's edges
    hold in each zone: Acme's order of 30 September 17:30 UTC is October's in Jakarta,
    Globex's of 1 December 04:00 UTC November's in Chicago."""
    from portal.forecasts import planning

    from .test_relationship import _order_with_line, _product

    october, november = date(2026, 10, 1), date(2026, 11, 1)
    with app.app_context():
        seal = _product()
        placed = {
            "buyer@acme.test": (datetime(2026, 10, 31, 18, 0, tzinfo=UTC),
                                datetime(2026, 9, 30, 17, 30, tzinfo=UTC)),
            "buyer@globex.test": (datetime(2026, 11, 1, 3, 0, tzinfo=UTC),
                                  datetime(2026, 12, 1, 4, 0, tzinfo=UTC)),
        }  # fmt: skip
        accounts = {}
        for email, instants in placed.items():
            buyer = _person(email)
            accounts[email] = buyer.account_id
            if email == "buyer@acme.test":
                buyer.account.timezone = "Asia/Jakarta"
            for n, at in enumerate(instants, start=1):
                order, _ = _order_with_line(
                    buyer.account_id, buyer.id, seal, placed=at.date(), quantity=n
                )
                order.placed_at = at
        db.session.commit()
        lines = planning.ordered_lines(list(accounts.values()), october, date(2026, 12, 1))
        got = {(line.account_id, line.month): line.quantity for line in lines}
        assert got == {
            (accounts["buyer@acme.test"], november): 1,
            (accounts["buyer@acme.test"], october): 2,
            (accounts["buyer@globex.test"], october): 1,
            (accounts["buyer@globex.test"], november): 2,
        }
