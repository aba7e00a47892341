"""Relationship health: the statistics worked by hand, the signals over a database with
hand-placed orders, one snapshot per account and day, alerts once per episode and
their escalation, the portfolio and its download, the admins' settings, and who sees what."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.accounts.models import CustomerAccount, User
from portal.extensions import db
from portal.notifications.models import Notification
from portal.ordering.models import Order
from portal.relationship import alerts, signals, snapshots, stats
from portal.relationship.models import Episode, SignalSetting, Snapshot

TODAY = date(2026, 6, 15)  # a Monday
NOW = datetime.combine(TODAY, time(4, 10), UTC)

# --- the statistics, by hand -------------------------------------------------------------


def test_gaps_10_12_14_30_give_the_percentiles_and_statuses():
    gaps = [10, 12, 14, 30]
    assert stats.percentile(gaps, 0.5) == 12  # nearest rank: ceil(2) = the 2nd
    assert stats.percentile(gaps, 0.75) == 14  # ceil(3) = the 3rd
    assert stats.percentile(gaps, 0.90) == 30  # ceil(3.6) = the 4th
    # Judged on its own gaps (min_events lowered: these are five orders).
    usual = stats.rhythm(gaps, [], min_events=5)
    assert (usual.median, usual.p_amber, usual.p_red, usual.pooled) == (13, 14, 30, False)
    assert stats.overdue_status(14, usual) == "green"  # not past the 75th percentile
    assert stats.overdue_status(15, usual) == "amber"  # past the 75th
    assert stats.overdue_status(30, usual) == "amber"  # not past the 90th
    assert stats.overdue_status(31, usual) == "red"


def test_fewer_than_six_orders_use_everyones_gaps():
    own = [10, 12, 14, 30]  # five orders
    everyone = [5, 6, 7, 8, 9, 10, 11, 12, 13, 40]
    usual = stats.rhythm(own, everyone)
    assert usual.pooled
    assert (usual.median, usual.p_amber, usual.p_red) == (9.5, 12, 13)
    six_orders = stats.rhythm([*own, 11], everyone)
    assert not six_orders.pooled
    assert (six_orders.median, six_orders.p_amber, six_orders.p_red) == (12, 14, 30)


def test_gaps_count_distinct_days():
    days = [date(2026, 1, 1), date(2026, 1, 11), date(2026, 1, 11), date(2026, 1, 23)]
    assert stats.gaps_of(days) == [10, 12]


def test_statuses_score_and_trend():
    assert stats.below_status(89.9, 90, 75) == "amber"
    assert stats.below_status(74.9, 90, 75) == "red"
    assert stats.below_status(90, 90, 75) == "green"
    assert stats.above_status(31, 30, 60) == "amber"
    assert stats.above_status(61, 30, 60) == "red"
    assert stats.worst(None, "green", "amber") == "amber"
    assert stats.worst(None) is None
    weights = {"a": 50, "b": 30, "c": 20}
    # green 100 × 50 + red 0 × 30 over 80 of weight (c has nothing to judge): 62.5 → 62
    assert stats.score({"a": "green", "b": "red", "c": None}, weights) == 62
    assert stats.score({"a": None}, weights) == 100
    assert stats.account_status(80, ["green", "red"], amber=75, red=50) == "amber"
    assert stats.account_status(80, ["red", "red"], amber=75, red=50) == "red"
    assert stats.account_status(49, ["green"], amber=75, red=50) == "red"
    assert stats.account_status(75, ["green"], amber=75, red=50) == "green"
    assert stats.trend(70, 60) == "improving"
    assert stats.trend(60, 69) == "stable"
    assert stats.trend(50, 60) == "deteriorating"


def test_default_weights_add_up_to_100():
    assert sum(s.default.weight for s in signals.SIGNALS) == 100


# --- the signals over real rows ----------------------------------------------------------


def _order(account_id: int, buyer_id: int, day: date, total: str = "100.00") -> None:
    count = db.session.scalar(select(func.count()).select_from(Order)) or 0
    db.session.add(
        Order(
            number=f"T-{count + 1:06d}",
            account_id=account_id,
            placed_by_id=buyer_id,
            status="placed",
            po_number="PO",
            ship_to_text="Dock 1",
            total=Decimal(total),
            currency="EUR",
            idempotency_key=f"k{count}",
            placed_at=datetime.combine(day, time(10), UTC),
        )
    )


def _orders_with_gaps(account_id: int, buyer_id: int, last: date, gaps: list[int]) -> None:
    day = last - timedelta(days=sum(gaps))
    _order(account_id, buyer_id, day)
    for gap in gaps:
        day += timedelta(days=gap)
        _order(account_id, buyer_id, day)


@pytest.fixture
def accounts(app, demo, ids):
    with app.app_context():
        return {
            a.number: (a.id, next(u.id for u in a.users))
            for a in db.session.scalars(select(CustomerAccount))
        }


def test_order_rhythm_on_own_gaps_and_pooled(app, accounts):
    acme, acme_buyer = accounts["C-10001"]
    globex, globex_buyer = accounts["C-10002"]
    with app.app_context():
        # Acme: six orders, gaps 10, 12, 14, 30, 11 — last order 20 days before today.
        _orders_with_gaps(acme, acme_buyer, TODAY - timedelta(days=20), [10, 12, 14, 30, 11])
        # Globex: three orders only, the last 13 days ago.
        _orders_with_gaps(globex, globex_buyer, TODAY - timedelta(days=13), [5, 5])
        db.session.commit()
        readings = signals.compute(TODAY)
        mine = readings[acme]["order_rhythm"]
        # own gaps 10 11 12 14 30: median 12, p75 14, p90 30; 20 days is past the 75th.
        assert mine.value == 20
        assert mine.status == "amber"
        assert mine.reason == (
            "no order for 20 days; it usually orders every 12 days, 90 % of the gaps are at "
            "most 30 days"
        )
        pooled = readings[globex]["order_rhythm"]
        # all gaps together: 5 5 10 11 12 14 30 → median 11, p75 14, p90 30; 13 days: green
        assert pooled.status == "green"
        assert "all accounts together usually orders every 11 days" in pooled.reason
        assert "only 3 days in 24 months" in pooled.reason
        # An account without any order in 24 months is red.
        initech, _ = accounts["C-10003"]
        assert readings[initech]["order_rhythm"].status == "red"


def test_signals_are_computed_as_of_a_past_day(app, accounts):
    acme, buyer = accounts["C-10001"]
    with app.app_context():
        _orders_with_gaps(acme, buyer, TODAY - timedelta(days=40), [10] * 8)
        _order(acme, buyer, TODAY - timedelta(days=1))  # after the day rebuilt below
        db.session.commit()
        past = signals.compute(TODAY - timedelta(days=25), is_today=False)[acme]["order_rhythm"]
        assert past.value == 15 and past.status == "red"  # gaps all 10: past the 90th
        assert signals.compute(TODAY)[acme]["order_rhythm"].value == 1


def test_volume_against_the_year_before(app, accounts):
    acme, buyer = accounts["C-10001"]
    with app.app_context():
        _order(acme, buyer, TODAY - timedelta(days=10), "300.00")
        _order(acme, buyer, TODAY - timedelta(days=365 + 10), "1000.00")
        db.session.commit()
        reading = signals.compute(TODAY)[acme]["volume"]
        assert reading.value == 30.0
        assert reading.status == "red"  # below 50 %
        assert "30 % of the same days a year before" in reading.reason


def test_silence_without_requests_while_ordering_is_red(app, accounts):
    acme, buyer = accounts["C-10001"]
    with app.app_context():
        _orders_with_gaps(acme, buyer, TODAY - timedelta(days=2), [7] * 10)
        db.session.commit()
        reading = signals.compute(TODAY)[acme]["silence"]
        assert reading.status == "red"
        assert reading.reason.startswith("nothing raised in 24 months")
        assert "while it ordered on 11 days" in reading.reason
        vendor = signals.compute(TODAY)[acme]["vendor_contact"]
        assert vendor.status == "red" and vendor.value is None


# --- snapshots, alerts, escalation ---------------------------------------------------------


def test_refresh_twice_a_day_keeps_one_row_per_account(app, accounts):
    with app.app_context():
        assert snapshots.refresh(TODAY, now=NOW) == 5  # the demo's five accounts
        assert snapshots.refresh(TODAY, now=NOW + timedelta(hours=8)) == 5
        rows = db.session.execute(
            select(Snapshot.account_id, func.count()).group_by(Snapshot.account_id)
        ).all()
        assert len(rows) == 5 and all(count == 1 for _, count in rows)
        snapshots.refresh(TODAY - timedelta(days=1), now=NOW, alert=False)
        assert db.session.scalar(select(func.count()).select_from(Snapshot)) == 10


def _red_notes(user_email: str, about: str = "") -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .join(User, User.id == Notification.user_id)
        .where(
            User.email == user_email,
            Notification.kind == "relationship_red",
            Notification.text.like(f"{about}%"),
        )
    )


def test_an_alert_is_sent_once_per_episode(app, accounts):
    acme, buyer = accounts["C-10001"]
    with app.app_context():
        # Acme stopped ordering 60 days ago after weekly orders, and never raised anything:
        # red for order rhythm, silence and vendor contact.
        _orders_with_gaps(acme, buyer, TODAY - timedelta(days=60), [7] * 10)
        db.session.commit()
        snapshots.refresh(TODAY, now=NOW)
        first = _red_notes("manager@vendor.test")
        # One message per account, naming the account's red status and each red signal.
        assert _red_notes("manager@vendor.test", "Acme Industrial turned red") == 1
        assert first == 2  # manager@ answers for Acme and Globex
        opened = db.session.scalar(
            select(func.count()).select_from(Episode).where(Episode.account_id == acme)
        )
        assert opened >= 3  # an episode each: the account, rhythm, silence, contact
        snapshots.refresh(TODAY, now=NOW + timedelta(hours=2))
        snapshots.refresh(TODAY + timedelta(days=1), now=NOW + timedelta(days=1))
        assert _red_notes("manager@vendor.test") == first  # still red: nothing more
        rhythm = db.session.scalar(
            select(Episode).where(Episode.account_id == acme, Episode.subject == "order_rhythm")
        )
        assert rhythm.ended_on is None and rhythm.manager_id is not None
        # Orders come back in the usual rhythm: the rhythm episode ends.
        _orders_with_gaps(acme, buyer, TODAY + timedelta(days=2), [7] * 8)
        db.session.commit()
        snapshots.refresh(TODAY + timedelta(days=2), now=NOW + timedelta(days=2))
        db.session.refresh(rhythm)
        assert rhythm.ended_on == TODAY + timedelta(days=2)
        assert _red_notes("manager@vendor.test") == first
        # Manager2's accounts alerted manager2, not manager.
        assert _red_notes("manager2@vendor.test") >= 1


def _red(account_id: int, *subjects: str) -> snapshots.Health:
    return snapshots.Health(
        account_id,
        TODAY,
        20,
        stats.RED,
        {s: {"status": stats.RED, "reason": f"{s} is red"} for s in subjects},
    )


def test_many_accounts_turning_red_at_once_make_one_message_in_a_few_statements(app, accounts):
    """The first refresh after a quiet spell turns many accounts red at once: each gets
    its episodes, but the person told gets one message naming them (not one each), and
    the refresh costs the same few statements for 6 accounts as for 12."""
    from sqlalchemy import event

    acme, _ = accounts["C-10001"]
    with app.app_context():
        nobodys = []
        for n in range(18):
            account = CustomerAccount(number=f"N-{n:03d}", name=f"Nobody's {n:02d}")
            db.session.add(account)
            nobodys.append(account)
        db.session.commit()
        nobodys = [a.id for a in nobodys]
        statements: list[str] = []

        def count(_conn, _cursor, sql, *_):
            statements.append(sql)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            six = {a: _red(a, "order_rhythm") for a in nobodys[:6]}
            opened_six = alerts.update({**six, acme: _red(acme, "silence")}, TODAY, NOW)
            for_six = len(statements)
            statements.clear()
            twelve = {a: _red(a, "order_rhythm") for a in nobodys[6:]}
            opened_twelve = alerts.update({**twelve, acme: _red(acme, "silence")}, TODAY, NOW)
            for_twelve = len(statements)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        db.session.commit()
        # An episode per red subject: the account's own and the signal's.
        assert (opened_six, opened_twelve) == (6 * 2 + 2, 12 * 2)
        assert for_twelve <= for_six <= 16, statements
        # Nobody manages them: the admins are told at once, in one message per refresh.
        admin_notes = list(
            db.session.scalars(
                select(Notification.text)
                .join(User, User.id == Notification.user_id)
                .where(User.email == "admin@vendor.test", Notification.kind == "relationship_red")
                .order_by(Notification.id)
            )
        )
        assert len(admin_notes) == 2, admin_notes
        assert admin_notes[0].startswith("6 accounts turned red: Nobody's 00, Nobody's 01")
        assert admin_notes[1].startswith("12 accounts turned red: Nobody's 06")
        link = db.session.scalar(
            select(Notification.link).where(Notification.text == admin_notes[0])
        )
        assert link == "/relationship/portfolio?status=red"
        # Acme's manager hears of Acme alone, once: still red the second time.
        assert _red_notes("manager@vendor.test", "Acme Industrial turned red") == 1
        escalated = db.session.scalar(
            select(func.count())
            .select_from(Episode)
            .where(Episode.account_id.in_(nobodys), Episode.escalated_at == NOW)
        )
        assert escalated == 36
        # No longer red: the episodes end, in the same few statements.
        green = {a: snapshots.Health(a, TODAY, 90, stats.GREEN, {}) for a in nobodys}
        assert alerts.update(green, TODAY + timedelta(days=1), NOW) == 0
        db.session.commit()
        still_open = db.session.scalar(
            select(func.count())
            .select_from(Episode)
            .where(Episode.account_id.in_(nobodys), Episode.ended_on.is_(None))
        )
        assert still_open == 0


def test_unacknowledged_alerts_go_to_the_admins_after_two_working_days(app, accounts):
    acme, _ = accounts["C-10001"]
    with app.app_context():
        snapshots.refresh(TODAY, now=NOW)  # Monday
        manager = db.session.scalar(select(User).where(User.email == "manager@vendor.test"))
        account = db.session.get(CustomerAccount, acme)
        acknowledged, _ = alerts.acknowledge(
            manager, account, _next_step("Call the buyer", TODAY + timedelta(days=1)), NOW
        )
        assert acknowledged == len(alerts.open_episodes(acme))
        assert alerts.escalate(NOW + timedelta(days=1)) == 0  # Tuesday: not yet
        escalated = alerts.escalate(NOW + timedelta(days=2))  # Wednesday: two working days
        open_count = db.session.scalar(
            select(func.count()).select_from(Episode).where(Episode.ended_on.is_(None))
        )
        assert escalated == open_count - acknowledged  # all but Acme's
        admin_notes = db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "relationship_escalated")
        )
        assert admin_notes == escalated  # one admin in the demo people
        assert alerts.escalate(NOW + timedelta(days=3)) == 0  # never twice
        assert alerts.escalation_due(datetime(2026, 6, 19, 9, tzinfo=UTC)) == date(2026, 6, 23)


def _next_step(title: str, due_on: date | None, kind: str = "call", owner_id=None):
    from portal.contacts.service import FollowUpInput

    return FollowUpInput(kind=kind, title=title, due_on=due_on, owner_id=owner_id)


def test_acknowledging_sets_the_next_step_as_a_follow_up(app, accounts):
    from portal.contacts.models import FollowUp
    from portal.errors import DomainError

    acme, _ = accounts["C-10001"]
    with app.app_context():
        snapshots.refresh(TODAY, now=NOW)
        manager = db.session.scalar(select(User).where(User.email == "manager@vendor.test"))
        account = db.session.get(CustomerAccount, acme)
        tomorrow = TODAY + timedelta(days=1)
        refused = [
            (_next_step("Call", None), "Give the day it is due."),
            (_next_step("Call", TODAY - timedelta(days=1)), "cannot be due in the past"),
            (_next_step("Call", tomorrow, kind="fax"), "Choose call, visit, review or other."),
            (_next_step("   ", tomorrow), "Write what is to be done."),
            (_next_step("Call", tomorrow, owner_id=accounts["C-10001"][1]), "vendor's staff"),
        ]
        for data, message in refused:
            with pytest.raises(DomainError, match=message):
                alerts.acknowledge(manager, account, data, NOW)
            db.session.rollback()
        # Nothing of the refused attempts was kept: no follow-up, every alert still waiting.
        assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0
        assert all(e.acknowledged_at is None for e in alerts.open_episodes(acme))
        count, follow_up = alerts.acknowledge(
            manager, account, _next_step("Visit the plant", tomorrow, kind="visit"), NOW
        )
        assert count == len(alerts.open_episodes(acme)) >= 1
        # A real follow-up: owned by the account's manager (the default), due tomorrow,
        # its reason naming the red alerts it answers.
        assert (follow_up.kind, follow_up.due_on, follow_up.owner_id) == (
            "visit",
            tomorrow,
            manager.id,
        )
        assert follow_up.reason.startswith("Red alert: ")
        assert all(
            e.next_step == "Visit by 16 Jun 2026 (Morgan Manager): Visit the plant"
            and e.acknowledged_by_id == manager.id
            for e in alerts.open_episodes(acme)
        ), [e.next_step for e in alerts.open_episodes(acme)]
        with pytest.raises(DomainError, match="waits for acknowledgement"):
            alerts.acknowledge(manager, account, _next_step("Again", tomorrow), NOW)


def test_a_follow_up_set_for_the_account_acknowledges_its_alert(app, accounts):
    """Set from the contact log's follow-up form (by anyone of the vendor's staff), not
    from the alert: the alert is answered all the same and never escalated."""
    from portal.contacts import service as contacts

    umbrella, _ = accounts["C-10004"]
    with app.app_context():
        snapshots.refresh(TODAY, now=NOW)  # Monday
        waiting = alerts.waiting_episodes(umbrella)
        assert waiting  # Umbrella has no orders, nothing raised: red
        engineer = db.session.scalar(select(User).where(User.email == "engineer@vendor.test"))
        account = db.session.get(CustomerAccount, umbrella)
        contacts.set_follow_up(
            engineer,
            account,
            _next_step("Ask about the quiet months", TODAY + timedelta(days=3), kind="review"),
            TODAY,
            now=NOW + timedelta(hours=1),
        )
        assert alerts.waiting_episodes(umbrella) == []
        assert all(e.acknowledged_by_id == engineer.id for e in alerts.open_episodes(umbrella))
        # Wednesday, two working days on: the other accounts' alerts go up, Umbrella's not.
        escalated = alerts.escalate(NOW + timedelta(days=2))
        assert escalated >= 1
        umbrella_escalated = db.session.scalar(
            select(func.count())
            .select_from(Episode)
            .where(Episode.account_id == umbrella, Episode.escalated_at.is_not(None))
        )
        assert umbrella_escalated == 0
        assert not db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.kind == "relationship_escalated",
                Notification.text.like("Umbrella%"),
            )
        )


def test_trend_names_the_signals_that_moved_against_30_and_90_days_ago(app):
    def snap(days_ago, score, **statuses):
        return Snapshot(
            day=TODAY - timedelta(days=days_ago),
            score=score,
            status="green",
            signals={key: {"status": status} for key, status in statuses.items()},
        )

    ninety = snap(95, 80, order_rhythm="green", silence="amber", promises="red")
    thirty = snap(31, 62, order_rhythm="amber", silence="amber", promises="red")
    now = snap(0, 55, order_rhythm="red", silence="green", promises="red", volume="amber")
    past = [ninety, thirty, now]
    # 30 days back is 16 May: the nearest snapshot on or before it is 31 days ago.
    month = snapshots.trend(now, past, 30)
    assert month.then is thirty and month.label == "stable"  # 62 → 55: under 10 points
    assert [(m.key, m.before, m.now, m.direction) for m in month.moved] == [
        ("order_rhythm", "amber", "red", "worse"),
        ("volume", None, "amber", None),  # nothing to judge then: neither better nor worse
        ("silence", "amber", "green", "better"),
    ]
    quarter = snapshots.trend(now, past, 90)
    assert quarter.then is ninety and quarter.label == "deteriorating"  # 80 → 55
    assert [m.key for m in quarter.worse] == ["order_rhythm"]
    assert [m.key for m in quarter.better] == ["silence"]
    assert snapshots.trend(now, [now], 90).label is None  # no history that old


# --- pages ------------------------------------------------------------------------------


@pytest.fixture
def refreshed(app, accounts):
    from portal.extensions import utcnow

    with app.app_context():
        snapshots.refresh(utcnow().date())
    return accounts


def test_portfolio_lists_the_managers_accounts_worst_first(refreshed, login_as):
    page = login_as("manager2@vendor.test").client.get("/relationship/portfolio")
    assert page.status_code == 200
    soup = BeautifulSoup(page.data, "html.parser")
    names = [row.find_all("td")[1].a.text for row in soup.select("table.portfolio tbody tr")]
    assert sorted(names) == ["Initech Systems", "Umbrella Process Labs"]
    assert soup.select_one("table.portfolio tbody tr .badge").text in ("Red", "Amber", "Green")
    assert "Acme" not in page.get_data(as_text=True)


def test_another_managers_account_is_hidden(refreshed, login_as):
    manager2 = login_as("manager2@vendor.test")
    assert manager2.client.get("/relationship/accounts/C-10001").status_code == 404
    assert manager2.client.get("/relationship/accounts/C-10004").status_code == 200
    admin = login_as("admin@vendor.test")
    assert admin.client.get("/relationship/accounts/C-10001").status_code == 200
    assert (
        login_as("buyer@acme.test").client.get("/relationship/accounts/C-10001").status_code == 403
    )


def test_account_page_shows_every_signal_with_its_reason(refreshed, login_as):
    page = login_as("manager@vendor.test").client.get("/relationship/accounts/C-10001")
    soup = BeautifulSoup(page.data, "html.parser")
    rows = soup.select("table.signals tbody tr")
    assert [r.th.text.strip() for r in rows] == [s.label for s in signals.SIGNALS]
    assert "no order in the last 24 months" in page.get_data(as_text=True)
    chart = soup.select_one("svg.health-chart")
    assert chart.title and chart.desc  # accessible charts
    assert soup.select_one("details.chart-table table")


def test_account_page_shows_what_moved_against_30_and_90_days_ago(refreshed, login_as, app):
    from portal.extensions import utcnow

    umbrella = refreshed["C-10004"][0]
    with app.app_context():
        today = db.session.scalar(
            select(Snapshot).where(Snapshot.account_id == umbrella, Snapshot.day == utcnow().date())
        )
        # 90 days ago every signal judged was green; 30 days ago the same as now.
        for back, statuses in (
            (90, {key: "green" for key, value in today.signals.items() if value.get("status")}),
            (30, {key: value.get("status") for key, value in today.signals.items()}),
        ):
            db.session.add(
                Snapshot(
                    account_id=umbrella,
                    day=today.day - timedelta(days=back),
                    score=100 if back == 90 else today.score,
                    status="green",
                    signals={key: {"status": status} for key, status in statuses.items()},
                )
            )
        db.session.commit()
        red_now = [s.label for s in signals.SIGNALS if today.signals[s.key]["status"] == "red"]
    page = login_as("manager2@vendor.test").client.get("/relationship/accounts/C-10004")
    soup = BeautifulSoup(page.data, "html.parser")
    quarter = " ".join(soup.select_one("#moved-90").text.split())
    assert red_now and all(f"{label} worse (green → red)" in quarter for label in red_now)
    assert "no signal changed status." in soup.select_one("#moved-30").text


def test_acknowledge_on_the_account_page(refreshed, login_as, app):
    from portal.contacts.models import FollowUp
    from portal.extensions import utcnow

    manager = login_as("manager@vendor.test")
    page = "/relationship/accounts/C-10001"
    url = page + "/acknowledge"
    form = manager.client.get(page)
    soup = BeautifulSoup(form.data, "html.parser")
    assert soup.select_one("form.acknowledge select[name=kind]")
    assert soup.select_one("form.acknowledge input[name=due_on]")["value"]  # a default day
    tomorrow = (utcnow().date() + timedelta(days=1)).isoformat()
    refused = manager.post(url, {"kind": "call", "title": "Call", "due_on": ""}, page=page)
    assert refused.status_code == 422
    assert "Give the day it is due." in refused.get_data(as_text=True)
    refused = manager.post(url, {"kind": "call", "title": "Call", "due_on": "19/06"}, page=page)
    # The contact log's own follow-up form checks it, with its messages.
    assert "Not a valid date" in refused.get_data(as_text=True)
    refused = manager.post(url, {"kind": "telex", "title": "Call", "due_on": tomorrow}, page=page)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    # What was typed is kept beside the message.
    assert "Not a valid choice" in text and f'value="{tomorrow}"' in text
    refused = manager.post(url, {"kind": "call", "title": " ", "due_on": tomorrow}, page=page)
    assert "Write what is to be done." in refused.get_data(as_text=True)  # the service's word
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0
    done = manager.post(
        url, {"kind": "visit", "title": "Visit on Friday", "due_on": tomorrow}, page=page
    )
    assert done.status_code == 303
    with app.app_context():
        episodes = alerts.open_episodes(refreshed["C-10001"][0])
        assert episodes and all("Visit on Friday" in e.next_step for e in episodes)
        follow_up = db.session.scalar(select(FollowUp))
        assert (follow_up.title, follow_up.kind) == ("Visit on Friday", "visit")
    # Another manager cannot acknowledge it, even knowing the id.
    other = login_as("manager2@vendor.test")
    refused = other.post(
        url, {"kind": "call", "title": "x", "due_on": tomorrow}, page="/relationship/portfolio"
    )
    assert refused.status_code == 404


def test_portfolio_download_as_csv_and_xlsx(refreshed, login_as, ids):
    admin = login_as("admin@vendor.test")
    response = admin.client.get("/relationship/portfolio.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Account number", "Name", "Manager", "Status", "Score", "Reasons"]
    assert {r[0] for r in rows[1:]} == {"C-10001", "C-10002", "C-10003", "C-10004", "C-10005"}
    assert all(r[3] in ("green", "amber", "red") for r in rows[1:])
    umbrella = next(r for r in rows if r[0] == "C-10004")
    assert umbrella[2] == "Sam Second-Manager" and "Silence: nothing raised" in umbrella[5]
    managers = admin.client.get(
        f"/relationship/portfolio.csv?manager={ids['users']['manager2@vendor.test']}"
    )
    assert {r[0] for r in list(csv.reader(io.StringIO(managers.get_data(as_text=True))))[1:]} == {
        "C-10003",
        "C-10004",
    }
    xlsx = admin.client.get("/relationship/portfolio.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_portfolio_pages_worst_first_filters_by_status_and_downloads_every_page(
    refreshed, login_as, monkeypatch
):
    """A page at a time, in the one worst-first order across pages; a status filter; the
    download holds every account of the filter, whatever the page."""
    from portal.relationship import service

    admin = login_as("admin@vendor.test")

    def shown(url):
        page = BeautifulSoup(admin.client.get(url).data, "html.parser")
        rows = page.select("table.portfolio tbody tr")
        return [r.select_one("td .muted.small").text for r in rows], page

    whole, _ = shown("/relationship/portfolio")
    assert len(whole) == 5
    monkeypatch.setattr(service, "PAGE_SIZE", 2)
    first, page = shown("/relationship/portfolio")
    assert "Accounts 1–2 of 5" in page.select_one("nav.pager").text
    second, _ = shown("/relationship/portfolio?page=2")
    third, page = shown("/relationship/portfolio?page=3")
    assert first + second + third == whole
    assert page.select_one("nav.pager a[rel=prev]")["href"].endswith("page=2")
    assert page.select_one("nav.pager a[rel=next]") is None
    # A page past the end shows the last; a page that is no number, the first.
    assert shown("/relationship/portfolio?page=99")[0] == third
    assert shown("/relationship/portfolio?page=x")[0] == first
    with admin.client.application.app_context():
        red = set(
            db.session.scalars(
                select(CustomerAccount.number)
                .join(Snapshot, Snapshot.account_id == CustomerAccount.id)
                .where(Snapshot.status == "red")
            )
        )
    assert red  # the demo has red accounts
    only_red, page = shown("/relationship/portfolio?status=red")
    assert set(only_red) == red or (len(red) > 2 and set(only_red) < red)
    assert all(
        b.text == "Red" for b in page.select("table.portfolio tbody tr td:first-child .badge")
    )
    # Any other status is no filter.
    assert len(shown("/relationship/portfolio?status=purple")[0]) == 2
    download = admin.client.get("/relationship/portfolio.csv?page=2")
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert {r[0] for r in rows[1:]} == set(whole)
    red_download = admin.client.get("/relationship/portfolio.csv?status=red")
    rows = list(csv.reader(io.StringIO(red_download.get_data(as_text=True).lstrip("\ufeff"))))
    assert {r[0] for r in rows[1:]} == red


def test_every_signals_defaults_run_the_way_it_says_things_get_worse():
    """Red lies beyond amber in the signal's own direction, and the weights add up to 100."""
    for s in [*signals.SIGNALS, signals.ACCOUNT]:
        beyond = (
            s.default.red < s.default.amber if s.lower_is_worse else s.default.red > s.default.amber
        )
        assert beyond, s.key
    assert sum(s.default.weight for s in signals.SIGNALS) == 100
    assert {s.key for s in signals.SIGNALS if s.lower_is_worse} == {
        "volume",
        "promises",
        "responsiveness",
        "customer_word",
    }


def test_settings_refuse_weights_not_adding_up_and_save_nothing(refreshed, login_as, app):
    admin = login_as("admin@vendor.test")
    form = {}
    for s in [*signals.SIGNALS, signals.ACCOUNT]:
        form[f"{s.key}-weight"] = str(s.default.weight)
        form[f"{s.key}-amber"] = f"{s.default.amber:g}"
        form[f"{s.key}-red"] = f"{s.default.red:g}"
    bad = dict(form, **{"order_rhythm-weight": "30"})
    refused = admin.post("/relationship/settings", bad, page="/relationship/settings")
    assert refused.status_code == 422
    assert "add up to 105" in refused.get_data(as_text=True)
    # Each signal's own direction: a share kept falls when things go wrong, a forecast's
    # error (a percentage too) rises, as do days of silence.
    wrong = dict(
        form,
        **{
            "promises-red": "95",
            "volume-amber": "lots",
            "forecast-red": "30",
            "vendor_contact-red": "20",
        },
    )
    refused = admin.post("/relationship/settings", wrong, page="/relationship/settings")
    text = refused.get_data(as_text=True)
    assert "Promises: the red threshold must be at or below the amber one." in text
    assert "Volume amber: write a number." in text
    assert "Forecast: the red threshold must be at or above the amber one." in text
    assert "Vendor contact: the red threshold must be at or above the amber one." in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignalSetting)) == 0
    good = dict(form, **{"order_rhythm-weight": "30", "volume-weight": "10"})
    assert (
        admin.post("/relationship/settings", good, page="/relationship/settings").status_code == 303
    )
    with app.app_context():
        assert signals.thresholds()["order_rhythm"].weight == 30
    manager = login_as("manager@vendor.test")
    assert manager.client.get("/relationship/settings").status_code == 403


# --- what other areas feed in: the contact log and the customer's rating ----------------------


def test_a_logged_contact_counts_as_the_vendor_speaking_on_its_day(app, accounts):
    from portal.contacts.models import ContactEntry

    acme, _ = accounts["C-10001"]
    with app.app_context():
        db.session.add(
            ContactEntry(
                account_id=acme, kind="visit", contacted_on=TODAY - timedelta(days=40), summary="V"
            )
        )
        # Logged for a day after the one rebuilt below: not yet known then.
        db.session.add(
            ContactEntry(
                account_id=acme, kind="call", contacted_on=TODAY - timedelta(days=5), summary="C"
            )
        )
        db.session.commit()
        past = signals.compute(TODAY - timedelta(days=10), is_today=False)[acme]["vendor_contact"]
        assert (past.value, past.status) == (30, "green")  # at most 30 days: green
        now = signals.compute(TODAY)[acme]["vendor_contact"]
        assert (now.value, now.status) == (5, "green")
        assert now.reason == "the vendor last spoke with it 5 days ago"


def test_the_customers_own_word_is_its_latest_rating(app, accounts):
    from portal.reviews.models import RelationshipRating

    acme, acme_buyer = accounts["C-10001"]
    globex, globex_buyer = accounts["C-10002"]
    initech, initech_buyer = accounts["C-10003"]
    umbrella, umbrella_buyer = accounts["C-10004"]

    def rate(account_id, user_id, score, days_ago, comment=""):
        db.session.add(
            RelationshipRating(
                account_id=account_id,
                user_id=user_id,
                score=score,
                comment=comment,
                rated_at=NOW - timedelta(days=days_ago),
            )
        )
        db.session.flush()

    with app.app_context():
        rate(acme, acme_buyer, 2, 50)
        rate(acme, acme_buyer, 4, 3)  # the latest counts
        rate(globex, globex_buyer, 3, 10, "Slow answers")
        rate(initech, initech_buyer, 2, 10)
        rate(umbrella, umbrella_buyer, 5, 400)  # more than a year ago: no rating
        db.session.commit()
        readings = signals.compute(TODAY)
        word = {number: readings[accounts[number][0]]["customer_word"] for number in accounts}
        assert (word["C-10001"].value, word["C-10001"].status) == (4, "green")
        assert (word["C-10002"].status, word["C-10003"].status) == ("amber", "red")
        assert word["C-10002"].reason.endswith("it said: “Slow answers”")
        assert (word["C-10004"].value, word["C-10004"].status) == (None, None)
        # Rebuilt as of a day before Acme's newer rating: the older one, red.
        past = signals.compute(TODAY - timedelta(days=10), is_today=False)[acme]["customer_word"]
        assert (past.value, past.status) == (2, "red")


# --- every signal, worked by hand ----------------------------------------------------------
#
# TODAY is Monday 15 Jun 2026. The 90-day windows: volume and silence count events from
# 18 Mar (TODAY − 89) to the end of TODAY; the promise ledger's periods end yesterday:
# the last 90 days are promise dates 17 Mar – 14 Jun, the 90 before 16 Dec – 16 Mar.


def _product(name: str = "Pump seal"):
    from portal.catalog.models import Category, Product

    category = db.session.scalar(select(Category)) or Category(name="Seals")
    product = Product(
        sku=name.upper().replace(" ", "-"),
        sku_key=name.lower().replace(" ", "-"),
        name=name,
        category=category,
        list_price=Decimal("10.00"),
    )
    db.session.add(product)
    db.session.flush()
    return product


def _order_with_line(account_id, buyer_id, product, *, placed, quantity, total=None, **line):
    """An order of one line, placed on `placed`; `line` sets the line's promise state."""
    from portal.ordering.models import OrderLine

    _order(account_id, buyer_id, placed, total or f"{quantity * 10}.00")
    db.session.flush()
    order = db.session.scalar(select(Order).order_by(Order.id.desc()))
    order.status = "confirmed"
    row = OrderLine(
        order_id=order.id,
        line_no=1,
        product_id=product.id,
        sku=product.sku,
        name=product.name,
        unit="pc",
        quantity=quantity,
        unit_price=Decimal("10.00"),
        line_total=Decimal(quantity * 10),
        estimated_ship_date=placed,
        status=line.pop("status", "confirmed"),
        **line,
    )
    db.session.add(row)
    db.session.flush()
    return order, row


def _events(order, row, *events) -> None:
    """Ledger events of a line: (kind, quantity, on_date), oldest first."""
    from portal.ordering.models import OrderEvent

    for n, (kind, quantity, on_date) in enumerate(events):
        db.session.add(
            OrderEvent(
                order_id=order.id,
                line_id=row.id,
                kind=kind,
                quantity=quantity,
                on_date=on_date,
                at=datetime.combine(on_date, time(9, n), UTC),
            )
        )


def test_promises_count_a_late_cancellation_as_missed_and_lines_late_now(app, accounts):
    from portal.fulfilment import ledger

    acme, buyer = accounts["C-10001"]
    day = lambda n: TODAY - timedelta(days=n)  # noqa: E731
    with app.app_context():
        seal = _product()
        # 1. promised 30 days ago, delivered the day before: on time in full.
        order, line = _order_with_line(acme, buyer, seal, placed=day(45), quantity=10,
                                       first_promised_on=day(30), promised_on=day(30),
                                       shipped_quantity=10, delivered_quantity=10)  # fmt: skip
        _events(order, line, ("confirmed", 10, day(30)), ("delivered", 10, day(31)))
        # 2. promised 20 days ago, delivered 5 days late: in full, not on time.
        order, line = _order_with_line(acme, buyer, seal, placed=day(40), quantity=10,
                                       first_promised_on=day(20), promised_on=day(20),
                                       shipped_quantity=10, delivered_quantity=10)  # fmt: skip
        _events(order, line, ("confirmed", 10, day(20)), ("delivered", 10, day(15)))
        # 3. promised 40 days ago, nothing shipped, cancelled by the customer 35 days ago:
        #    the promise was broken before the customer gave up — missed, not erased.
        order, line = _order_with_line(acme, buyer, seal, placed=day(60), quantity=5,
                                       first_promised_on=day(40), promised_on=day(40),
                                       cancelled_quantity=5, status="cancelled")  # fmt: skip
        _events(order, line, ("confirmed", 5, day(40)), ("line_cancelled", 5, day(35)))
        # 4. promised 10 days ago, moved to 5 days ago, nothing delivered: missed, one
        #    promise change, and late now.
        order, line = _order_with_line(acme, buyer, seal, placed=day(30), quantity=8,
                                       first_promised_on=day(10), promised_on=day(5))  # fmt: skip
        _events(order, line, ("confirmed", 8, day(10)), ("promise_changed", None, day(5)))
        # 5. cancelled by the customer 60 days ago, before its promise 50 days ago: nothing
        #    was due, so it is not measured.
        order, line = _order_with_line(acme, buyer, seal, placed=day(70), quantity=4,
                                       first_promised_on=day(50), promised_on=day(50),
                                       cancelled_quantity=4, status="cancelled")  # fmt: skip
        _events(order, line, ("confirmed", 4, day(50)), ("line_cancelled", 4, day(60)))
        # 6. the 90 days before: promised 100 days ago, delivered on the day — 1 of 1.
        order, line = _order_with_line(acme, buyer, seal, placed=day(120), quantity=3,
                                       first_promised_on=day(100), promised_on=day(100),
                                       shipped_quantity=3, delivered_quantity=3)  # fmt: skip
        _events(order, line, ("confirmed", 3, day(100)), ("delivered", 3, day(100)))
        db.session.commit()
        ledger.rebuild([acme])
        reading = signals.compute(TODAY)[acme]["promises"]
        # Measured in the last 90 days: lines 1–4 (5 had nothing due); on time in full: 1.
        # 1 / 4 = 25 % → red (below 75 %).
        assert (reading.value, reading.status) == (25.0, "red")
        assert reading.baseline == "100 % the 90 days before"
        assert reading.reason == (
            "25 % on time in full over the last 90 days (1 of 4 lines); 100 % in the 90 days "
            "before; 1 promise change; 1 line late now"
        )
        # Rebuilt for a past day, "late now" is not known (today's state only).
        past = signals.compute(TODAY - timedelta(days=1), is_today=False)[acme]["promises"]
        assert "late now" not in past.reason


def _suggestion(account_id, author_id, submitted: date, due: date, answered: date | None):
    from portal.ideas.models import Idea

    db.session.add(
        Idea(
            account_id=account_id,
            title="Thinner gasket",
            category="design",
            status="under_review" if answered else "submitted",
            created_by_id=author_id,
            submitted_at=datetime.combine(submitted, time(9), UTC),
            answer_due_on=due,
            first_answered_at=datetime.combine(answered, time(15), UTC) if answered else None,
        )
    )


def _customer_plan(account_id, author_id, created: date, acknowledged_by: int | None):
    from portal.plans.models import Plan, PlanAcknowledgement, PlanRevision

    plan = Plan(side="customer", account_id=account_id, created_by_id=author_id)
    db.session.add(plan)
    db.session.flush()
    revision = PlanRevision(
        plan_id=plan.id,
        number=1,
        kind="shutdown",
        title="Summer shutdown",
        effective_from=created + timedelta(days=30),
        visibility="vendor",
        created_by_id=author_id,
        created_at=datetime.combine(created, time(9), UTC),
    )
    db.session.add(revision)
    db.session.flush()
    if acknowledged_by:
        db.session.add(
            PlanAcknowledgement(
                revision_id=revision.id,
                user_id=acknowledged_by,
                at=datetime.combine(created + timedelta(days=1), time(9), UTC),
            )
        )


def test_responsiveness_counts_answers_in_time_of_what_fell_due(app, accounts, ids):
    acme, buyer = accounts["C-10001"]
    day = lambda n: TODAY - timedelta(days=n)  # noqa: E731
    with app.app_context():
        # Suggestions sent in the last 90 days, each promised an answer 10 days on:
        _suggestion(acme, buyer, day(60), day(50), day(55))  # answered in time
        _suggestion(acme, buyer, day(40), day(30), day(30))  # on the promised day: in time
        _suggestion(acme, buyer, day(40), day(30), day(25))  # 5 days late
        _suggestion(acme, buyer, day(20), day(10), None)  # unanswered, date passed: counts
        _suggestion(acme, buyer, day(5), TODAY + timedelta(days=5), None)  # not yet due
        _suggestion(acme, buyer, day(120), day(110), None)  # before the window
        # Two plans of the customer, one acknowledged by the vendor's planner, one by
        # nobody (the customer's own acknowledgement would not count).
        _customer_plan(acme, buyer, day(20), ids["users"]["planner@vendor.test"])
        _customer_plan(acme, buyer, day(10), buyer)
        db.session.commit()
        reading = signals.compute(TODAY)[acme]["responsiveness"]
        # Suggestions: 2 in time of 4 due; plans: 1 of 2 → 3 of 6 = 50 % → red (below 75).
        assert (reading.value, reading.status) == (50.0, "red")
        assert reading.reason == (
            "50 % of what fell due was answered in time: suggestions answered within the "
            "promise 2 of 4; plans acknowledged 1 of 2"
        )
        # An account with nothing due has nothing to judge.
        globex, _ = accounts["C-10002"]
        assert signals.compute(TODAY)[globex]["responsiveness"].status is None


def _forecast_version(account_id, product, number: int, published: date, months: dict):
    from portal.forecasts.models import ForecastCell, ForecastVersion

    first = min(months)
    version = ForecastVersion(
        account_id=account_id,
        number=number,
        first_month=first,
        horizon_months=len(months),
        published_at=datetime.combine(published, time(8), UTC),
    )
    db.session.add(version)
    db.session.flush()
    for month, quantity in months.items():
        db.session.add(
            ForecastCell(
                version_id=version.id,
                product_id=product.id,
                month=month,
                account_id=account_id,
                quantity=quantity,
            )
        )
    return version


def test_forecast_cadence_accuracy_three_months_ahead_and_commitments_below(app, accounts):
    from portal.forecasts.models import ForecastCommit

    globex, buyer = accounts["C-10002"]
    with app.app_context():
        seal = _product()
        # The six complete months before June 2026, 100 a month in every version.
        months = [date(2025, 12, 1)] + [date(2026, m, 1) for m in range(1, 7)]
        cells = dict.fromkeys(months, 100)
        # Ten versions, every 28 days from 10 Sep 2025: the last on 20 May 2026.
        published = [date(2025, 9, 10) + timedelta(days=28 * n) for n in range(10)]
        assert published[-1] == date(2026, 5, 20)
        versions = [
            _forecast_version(globex, seal, n + 1, day, cells) for n, day in enumerate(published)
        ]
        # What it ordered, on the 15th of each month: Dec–Jan 100, Feb–May 50.
        ordered = [100, 100, 50, 50, 50, 50]
        for month, quantity in zip(months[:6], ordered, strict=True):
            _order_with_line(globex, buyer, seal, placed=month.replace(day=15),
                             quantity=quantity)  # fmt: skip
        # The vendor committed 80 of the 100 forecast for June: below, not agreed.
        db.session.add(
            ForecastCommit(
                account_id=globex,
                product_id=seal.id,
                month=date(2026, 6, 1),
                quantity=80,
                version_id=versions[-1].id,
                forecast_quantity=100,
                reason="capacity",
                committed_at=NOW - timedelta(days=3),
            )
        )
        db.session.commit()
        reading = signals.compute(TODAY)[globex]["forecast"]
        # Three months ahead, every month was forecast 100 (each version says 100).
        # Actual 100+100+50+50+50+50 = 400; |error| 0+0+50+50+50+50 = 200; WAPE 200/400 = 50 %
        # → amber (above 40, not above 80). Cadence: gaps all 28; 26 days since 20 May is
        # not past the 75th percentile (28): green. One commitment below: amber at least.
        assert (reading.value, reading.status) == (50.0, "amber")
        assert reading.baseline == "every 28 days"
        assert reading.reason == (
            "last forecast 26 days ago; it usually publishes every 28 days; three months ahead "
            "its forecasts were off by 50 % (WAPE); 1 commitment below its forecast"
        )
        # 40 days on, with no new version: 66 days since the last, past every gap — red.
        later = signals.compute(TODAY + timedelta(days=40), is_today=False)[globex]["forecast"]
        assert later.status == "red" and later.reason.startswith("last forecast 66 days ago")


def test_volume_is_judged_on_the_worse_of_the_year_before_and_the_forecast(app, accounts):
    umbrella, buyer = accounts["C-10004"]
    with app.app_context():
        seal = _product()
        # Forecast published before the window: 10 a day — Mar 310, Apr 300, May 310, Jun 300.
        _forecast_version(umbrella, seal, 1, date(2026, 2, 1), {
            date(2026, 3, 1): 310, date(2026, 4, 1): 300,
            date(2026, 5, 1): 310, date(2026, 6, 1): 300,
        })  # fmt: skip
        # The window 18 Mar – 15 Jun, prorated: Mar 14/31 × 310 = 140, Apr 300, May 310,
        # Jun 15/30 × 300 = 150 → 900 forecast. Ordered 351 pieces → 39 % of the forecast.
        _order_with_line(umbrella, buyer, seal, placed=TODAY - timedelta(days=30),
                         quantity=351, total="950.00")  # fmt: skip
        # A year before: 1,000 of value → 950 / 1,000 = 95 % of the year before.
        _order(umbrella, buyer, TODAY - timedelta(days=365 + 30), "1000.00")
        db.session.commit()
        reading = signals.compute(TODAY)[umbrella]["volume"]
        # The worse of 95 % and 39 % is 39 %: red (below 50), on the forecast.
        assert (reading.value, reading.status, reading.baseline) == (39.0, "red", "its forecast")
        assert reading.reason == (
            "ordered 950 in the last 90 days, 95 % of the same days a year before (1,000); "
            "39 % of what its latest forecast said for those months; judged on its forecast, "
            "the lower of the two"
        )
        # The admins' thresholds apply to both comparisons: with red below 30 it is amber.
        db.session.add(SignalSetting(signal="volume", weight=15, amber=80, red=30))
        db.session.commit()
        assert signals.compute(TODAY)[umbrella]["volume"].status == "amber"


def test_silence_is_judged_on_the_accounts_own_rhythm(app, accounts):
    initech, buyer = accounts["C-10003"]
    with app.app_context():
        # Suggestions on six days, gaps 10, 12, 14, 30, 11, the last 20 days ago; no orders,
        # so "no request while ordering" does not apply.
        last = TODAY - timedelta(days=20)
        day = last - timedelta(days=77)
        for gap in (0, 10, 12, 14, 30, 11):
            day += timedelta(days=gap)
            _suggestion(initech, buyer, day, day + timedelta(days=10), day + timedelta(days=2))
        assert day == last
        db.session.commit()
        reading = signals.compute(TODAY)[initech]["silence"]
        # Its own gaps 10 11 12 14 30: median 12, p75 14, p90 30; 20 days is past the 75th.
        assert (reading.value, reading.status, reading.baseline) == (20, "amber", "every 12 days")
        assert reading.reason == (
            "nothing raised for 20 days; it usually raises something every 12 days, 90 % of "
            "the gaps are at most 30 days"
        )
        # 11 days later: 31 days, past its 90th percentile — red.
        later = signals.compute(TODAY + timedelta(days=11), is_today=False)[initech]["silence"]
        assert (later.value, later.status) == (31, "red")


# --- the reader's language ------------------------------------------------------------------


def _phrased_readings() -> dict:
    """Readings as the signals write them: phrases, stored as message ids and parameters."""
    from flask_babel import lazy_gettext as _l

    from portal.relationship.phrases import Joined, Phrase, days

    return {
        "order_rhythm": signals.Reading(
            47,
            days(47),
            Phrase(_l("every %(days)s"), days=days(12)),
            stats.RED,
            Joined(
                [
                    Phrase(_l("no order for %(days)s"), days=days(47)),
                    Phrase(_l("%(amount)s a year before"), amount=12345),
                ]
            ),
        ).as_dict(),
        # A snapshot written before readings kept their messages: plain English strings.
        "silence": {
            "value": 5,
            "figure": "5 days",
            "baseline": "every 9 days",
            "status": stats.AMBER,
            "reason": "nothing raised for 5 days (older snapshot)",
        },
    }


def test_a_reading_is_written_in_the_readers_language(app, accounts, login_as):
    """The same stored reading reads in Indonesian to an Indonesian manager and in English
    to an English one; a reading stored as plain text before shows as it was stored."""
    from portal.extensions import utcnow

    acme, _ = accounts["C-10001"]
    with app.app_context():
        stored = _phrased_readings()
        # Stored as JSON: message ids and typed parameters, not the English sentence.
        assert stored["order_rhythm"]["figure"]["msg"] == "%(num)s day"
        db.session.add(
            Snapshot(account_id=acme, day=utcnow().date(), score=40, status=stats.RED,
                     signals=stored)
        )  # fmt: skip
        db.session.commit()
    manager = login_as("manager@vendor.test")
    for language, expected in (
        ("id", ["47 hari", "setiap 12 hari", "tidak ada pesanan selama 47 hari; 12.345 setahun"]),
        ("en", ["47 days", "every 12 days", "no order for 47 days; 12,345 a year before"]),
    ):
        with app.app_context():
            db.session.scalar(
                select(User).where(User.email == "manager@vendor.test")
            ).language = language
            db.session.commit()
        for path in ("/relationship/accounts/C-10001", "/relationship/portfolio"):
            page = manager.client.get(path)
            assert page.status_code == 200
            text = " ".join(BeautifulSoup(page.data, "html.parser").get_text().split())
            assert expected[-1] in text, (language, path)
            assert "nothing raised for 5 days (older snapshot)" in text
        page = manager.client.get("/relationship/accounts/C-10001")
        soup = BeautifulSoup(page.data, "html.parser")
        row = next(r for r in soup.select("table.signals tbody tr") if "47" in r.get_text())
        cells = [td.get_text(strip=True) for td in row.find_all("td")]
        assert cells[1:3] == expected[:2]
        other = [td.get_text(strip=True) for td in soup.select("table.signals tbody tr td")]
        assert "5 days" in other and "every 9 days" in other  # the old strings, as stored


def test_red_alert_reasons_are_written_for_each_reader(app, accounts):
    """A red alert keeps the reason as its message: each reader reads it in their language
    (the signal's name too); the episode keeps the English sentence."""
    from flask_babel import force_locale

    from portal.notifications import messages

    acme, _ = accounts["C-10001"]
    with app.app_context():
        health = snapshots.Health(acme, TODAY, 20, stats.GREEN, _phrased_readings())
        health.signals["silence"]["status"] = stats.GREEN
        alerts.update({acme: health}, TODAY, NOW)
        note = db.session.scalar(
            select(Notification)
            .join(User, User.id == Notification.user_id)
            .where(User.email == "manager@vendor.test", Notification.kind == "relationship_red")
        )
        with force_locale("id"):
            indonesian = messages.render(note.kind, note.params, note.text)
        with force_locale("en"):
            english = messages.render(note.kind, note.params, note.text)
        assert "Ritme pesanan: tidak ada pesanan selama 47 hari; 12.345 setahun sebelumnya" in (
            indonesian
        )
        assert "Order rhythm: no order for 47 days; 12,345 a year before" in english
        episode = db.session.scalar(select(Episode).where(Episode.account_id == acme))
        assert episode.reason == "no order for 47 days; 12,345 a year before"


def test_an_episodes_reason_and_next_step_are_written_for_each_reader(app, accounts, login_as):
    """The episode keeps its reason and next step as messages beside the English text:
    the escalation reads in each admin's language, the account page in the reader's; an
    episode written before keeps only its English text and shows that."""
    from flask_babel import force_locale

    from portal.notifications import messages

    acme, _ = accounts["C-10001"]
    with app.app_context():
        health = snapshots.Health(acme, TODAY, 20, stats.GREEN, _phrased_readings())
        health.signals["silence"]["status"] = stats.GREEN
        snapshots.write({acme: health}, TODAY, NOW)  # the account page shows alerts with it
        alerts.update({acme: health}, TODAY, NOW)
        episode = db.session.scalar(select(Episode).where(Episode.account_id == acme))
        episode_id = episode.id
        assert episode.reason == "no order for 47 days; 12,345 a year before"
        with force_locale("id"):
            assert alerts.reason_of(episode) == (
                "tidak ada pesanan selama 47 hari; 12.345 setahun sebelumnya"
            )
        # An older episode: English text only, shown as stored in every language.
        older = Episode(
            account_id=acme,
            subject="silence",
            reason="nothing raised for 40 days (older episode)",
            started_on=TODAY,
            notified_at=NOW,
        )
        db.session.add(older)
        db.session.commit()
        with force_locale("id"):
            assert alerts.reason_of(older) == "nothing raised for 40 days (older episode)"
        # Not acknowledged in two working days: the admins read the reason in their words.
        assert alerts.escalate(NOW + timedelta(days=2)) == 2
        notes = list(
            db.session.scalars(
                select(Notification).where(Notification.kind == "relationship_escalated")
            )
        )
        with force_locale("id"):
            indonesian = [messages.render(n.kind, n.params, n.text) for n in notes]
        with force_locale("en"):
            english = [messages.render(n.kind, n.params, n.text) for n in notes]
        assert any(
            text.endswith("tidak ada pesanan selama 47 hari; 12.345 setahun sebelumnya")
            for text in indonesian
        ), indonesian
        assert any(text.endswith("no order for 47 days; 12,345 a year before") for text in english)
        assert any(text.endswith("(older episode)") for text in indonesian)

    manager = login_as("manager@vendor.test")
    tomorrow = TODAY + timedelta(days=1)
    with app.app_context():
        count, _follow_up = alerts.acknowledge(
            db.session.scalar(select(User).where(User.email == "manager@vendor.test")),
            db.session.get(CustomerAccount, acme),
            _next_step("Visit the plant", tomorrow, kind="visit"),
            NOW,
        )
        assert count == 2
        episode = db.session.get(Episode, episode_id)
        assert episode.next_step == "Visit by 16 Jun 2026 (Morgan Manager): Visit the plant"
        with force_locale("id"):
            assert alerts.next_step_shown(episode) == (
                "Kunjungan paling lambat 16 Jun 2026 (Morgan Manager): Visit the plant"
            )
        db.session.scalar(select(User).where(User.email == "manager@vendor.test")).language = "id"
        db.session.commit()
    page = BeautifulSoup(manager.client.get("/relationship/accounts/C-10001").data, "html.parser")
    alerts_text = " ".join(page.select_one("section.alerts ul.episodes").get_text().split())
    assert "tidak ada pesanan selama 47 hari; 12.345 setahun sebelumnya" in alerts_text
    assert "nothing raised for 40 days (older episode)" in alerts_text
    assert "Kunjungan paling lambat 16 Jun 2026 (Morgan Manager): Visit the plant" in alerts_text
