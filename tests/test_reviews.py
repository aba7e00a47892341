"""The customer's rating, relationship reviews and the vendor's scorecard for the
customer: hand-worked figures, bad input, who sees what (unshared reviews and
another account's are 404 for a customer), and the reminder of due reviews."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import CustomerAccount, User
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.fulfilment.models import PromiseLedgerDay
from portal.notifications.models import Notification
from portal.reviews import figures, ratings, reviews, scorecard
from portal.reviews.models import RelationshipRating, RelationshipReview, ReviewComment

from .support import soup

TODAY = utcnow().date()


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def account(number: str) -> CustomerAccount:
    return db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == number))


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


# --- ratings --------------------------------------------------------------------------------


def test_latest_ratings_gives_each_accounts_newest_in_one_go(app, demo):
    with app.app_context():
        acme, globex, initech = account("C-10001"), account("C-10002"), account("C-10003")
        buyer, admin, gil = (
            user("buyer@acme.test"),
            user("admin@acme.test"),
            user("buyer@globex.test"),
        )
        ratings.rate(buyer, "4", "fine", now=at(TODAY - timedelta(days=30)))
        ratings.rate(admin, "2", " slow answers ", now=at(TODAY - timedelta(days=3)))
        ratings.rate(gil, "5", "", now=at(TODAY - timedelta(days=10)))
        db.session.commit()
        latest = ratings.latest_ratings([acme.id, globex.id, initech.id])
        assert set(latest) == {acme.id, globex.id}
        assert (latest[acme.id].score, latest[acme.id].comment) == (2, "slow answers")
        assert latest[acme.id].rated_by == "Ada Acme-Admin"
        assert latest[globex.id].score == 5
        assert ratings.latest_ratings([]) == {}


@pytest.mark.parametrize(
    ("score", "comment", "field"),
    [
        ("", "", "score"),
        ("0", "", "score"),
        ("6", "", "score"),
        ("four", "", "score"),
        ("3.5", "", "score"),
        ("٣", "", "score"),
        ("+3", "", "score"),
        ("3", "x" * 2001, "comment"),
    ],
)
def test_a_bad_rating_is_refused_and_nothing_is_stored(app, demo, score, comment, field):
    with app.app_context():
        with pytest.raises(DomainError) as refused:
            ratings.rate(user("buyer@acme.test"), score, comment)
        assert refused.value.field == field
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(RelationshipRating)) == 0


def test_vendor_staff_cannot_rate_for_a_customer(app, demo):
    with app.app_context(), pytest.raises(Forbidden):
        ratings.rate(user("manager@vendor.test"), "5", "")


def test_the_rating_is_asked_until_answered_in_the_quarter(app, demo):
    with app.app_context():
        buyer = user("buyer@acme.test")
        assert ratings.should_ask(buyer, TODAY)
        quarter = ratings.quarter_start(TODAY)
        # A rating in the quarter before does not answer this quarter's question.
        ratings.rate(buyer, "3", "", now=at(quarter - timedelta(days=1)))
        db.session.commit()
        assert ratings.should_ask(buyer, TODAY)
        ratings.rate(buyer, "4", "", now=at(quarter))
        db.session.commit()
        assert not ratings.should_ask(buyer, TODAY)
        # Asked of each person: a colleague is still asked.
        assert ratings.should_ask(user("admin@acme.test"), TODAY)
        assert not ratings.should_ask(user("manager@vendor.test"), TODAY)


def test_quarters_are_worked_out_by_hand():
    assert ratings.quarter_start(date(2026, 11, 30)) == date(2026, 10, 1)
    assert reviews.quarter_of(date(2026, 2, 14)) == (date(2026, 1, 1), date(2026, 3, 31))
    assert reviews.last_complete_quarter(date(2026, 1, 1)) == (
        date(2025, 10, 1),
        date(2025, 12, 31),
    )
    assert reviews.quarter_label(date(2026, 7, 1), date(2026, 9, 30)) == "Q3 2026"
    assert reviews.quarter_label(date(2026, 7, 1), date(2026, 8, 15)) == "01 Jul 2026 – 15 Aug 2026"


def test_the_customer_rates_on_the_scorecard_and_bad_input_keeps_the_form(login_as, app):
    buyer = login_as("buyer@acme.test")
    page = soup(buyer.get("/scorecard"))
    assert page.h1.get_text() == "How Northwind Components is doing for you"
    assert "We ask once a quarter" in page.select_one("#rating").get_text()
    refused = buyer.post("/scorecard/rating", {"score": "9", "comment": "hm"}, page="/scorecard")
    assert refused.status_code == 422
    form = soup(refused)
    assert "Choose a rating from 1" in form.select_one("#score-error").get_text()
    assert form.select_one("#comment").get_text().strip() == "hm"
    sent = buyer.post("/scorecard/rating", {"score": "4", "comment": "Good"}, page="/scorecard")
    assert sent.status_code == 303
    page = soup(buyer.get("/scorecard"))
    assert "Thank you for your rating this quarter" in page.select_one("#rating").get_text()
    assert "4 of 5" in page.select_one("#rating").get_text()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RelationshipRating)) == 1


# --- the scorecard --------------------------------------------------------------------------


def test_scorecard_periods_end_yesterday():
    current, previous = scorecard.periods(date(2026, 11, 30))
    assert (current.start, current.end, current.days) == (date(2026, 9, 1), date(2026, 11, 29), 90)
    assert (previous.start, previous.end) == (date(2026, 6, 3), date(2026, 8, 31))


def test_a_measures_trend_knows_which_way_is_better():
    up = scorecard.Measure("x", "x", 0.9, 0.8, "share", True)
    late = scorecard.Measure("y", "y", 4.0, 6.5, "days", False)
    assert (up.trend, late.trend) == ("better", "better")
    assert scorecard.Measure("z", "z", 3, 5, "count", True).trend == "worse"
    assert scorecard.Measure("z", "z", 0.801, 0.8, "share", True).trend == "same"
    assert scorecard.Measure("z", "z", None, 0.8, "share", True).trend is None


def test_scorecard_figures_come_from_the_ledger_and_dpmo_waits_for_its_function(app, demo):
    """Hand-worked: 10 lines in this 90 days (8 kept, 3 late by 12 days in all,
    2 changes), 4 the 90 days before (2 kept)."""
    with app.app_context():
        acme = account("C-10001")
        db.session.add_all(
            [
                PromiseLedgerDay(
                    account_id=acme.id,
                    day=TODAY - timedelta(days=5),
                    lines=10,
                    on_time=8,
                    in_full=9,
                    on_time_in_full=8,
                    changes=2,
                    slip_days=3,
                    late_lines=3,
                    late_days=12,
                ),
                PromiseLedgerDay(
                    account_id=acme.id,
                    day=TODAY - timedelta(days=120),
                    lines=4,
                    on_time=2,
                    in_full=4,
                    on_time_in_full=2,
                    changes=0,
                    slip_days=0,
                    late_lines=2,
                    late_days=2,
                ),
                # Today's promises are not judged yet.
                PromiseLedgerDay(
                    account_id=acme.id,
                    day=TODAY,
                    lines=5,
                    on_time=0,
                    in_full=0,
                    on_time_in_full=0,
                    changes=0,
                    slip_days=0,
                    late_lines=0,
                    late_days=0,
                ),
            ]
        )
        db.session.commit()
        card = scorecard.scorecard(acme, TODAY, utcnow())
        by_key = {m.key: m for m in card.measures}
        otif = by_key["on_time_in_full"]
        assert (otif.current, otif.previous, otif.trend) == (0.8, 0.5, "better")
        assert (by_key["promise_changes"].current, by_key["promise_changes"].trend) == (2, "worse")
        assert (by_key["days_late"].current, by_key["days_late"].previous) == (4.0, 1.0)
        assert by_key["defects_per_million"].current is None
        assert card.commitments is None


def test_the_customer_sees_only_the_vendors_promises_never_internal_judgements(app, login_as):
    with app.app_context():
        manager = user("manager@vendor.test")
        acme = account("C-10001")
        start, end = reviews.last_complete_quarter(TODAY)
        review = reviews.create(manager, acme.id, start, end)
        reviews.assess(
            manager,
            review,
            trend="deteriorating",
            neglected="SECRET-NEGLECT",
            comparison="",
            actions="",
        )
        db.session.commit()
        acme_id = acme.id
    page = login_as("buyer@acme.test").get("/scorecard")
    text = soup(page).get_text()
    assert "SECRET-NEGLECT" not in text and "eteriorating" not in text
    assert "No review has been shared" in text
    assert "Defects per million units delivered" in text  # from the quality record
    for internal in ("order rhythm", "silence", "health"):
        assert internal not in text
    # Vendor staff see the same page as the customer does.
    vendor = soup(login_as("planner@vendor.test").get(f"/accounts/{acme_id}/scorecard"))
    assert "exactly as its users see it" in vendor.get_text()
    assert "SECRET-NEGLECT" not in vendor.get_text()
    assert login_as("planner@vendor.test").get("/accounts/999999/scorecard").status_code == 404


# --- reviews --------------------------------------------------------------------------------


def quarter():
    return reviews.last_complete_quarter(TODAY)


def test_reviews_are_kept_by_the_accounts_manager_and_vendor_admins(app, demo):
    with app.app_context():
        acme, umbrella = account("C-10001"), account("C-10004")
        manager, manager2 = user("manager@vendor.test"), user("manager2@vendor.test")
        start, end = quarter()
        review = reviews.create(manager, acme.id, start, end)
        db.session.commit()
        with pytest.raises(DomainError):  # not one of manager2's accounts
            reviews.create(manager2, acme.id, start, end)
        db.session.rollback()
        with pytest.raises(NotFound):
            reviews.review_for(manager2, review.id)
        assert reviews.review_for(user("admin@vendor.test"), review.id) == review
        with pytest.raises(Forbidden):
            reviews.review_for(user("planner@vendor.test"), review.id)
        assert [r.id for r in reviews.reviews_of(manager2)] == []
        assert reviews.create(manager2, umbrella.id, start, end).account_id == umbrella.id


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        ("", "2026-03-31", "start", "first day as a date"),
        ("2026-01-01", "31.03.2026", "end", "last day as a date"),
        ("2026-03-01", "2026-02-01", "end", "comes before"),
        ("1999-01-01", "1999-03-31", "start", "2000"),
        ("2024-01-01", "2025-06-30", "end", "at most a year"),
        ("{future}", "{future}", "start", "must have begun"),
    ],
)
def test_a_bad_review_period_is_refused_beside_its_field(login_as, app, start, end, field, message):
    future = (TODAY + timedelta(days=3)).isoformat()
    with app.app_context():
        acme_id = account("C-10001").id
    manager = login_as("manager@vendor.test")
    response = manager.post(
        "/reviews/new",
        {
            "account": str(acme_id),
            "start": start.format(future=future),
            "end": end.format(future=future),
        },
    )
    assert response.status_code == 422
    assert (
        message in soup(response).select_one(f"#{field}").find_next("p", class_="error").get_text()
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RelationshipReview)) == 0


def test_a_review_needs_an_account_of_ones_own_and_one_per_period(login_as, app):
    with app.app_context():
        acme_id, umbrella_id = account("C-10001").id, account("C-10004").id
    start, end = (d.isoformat() for d in quarter())
    manager = login_as("manager@vendor.test")
    for choice in ("", "abc", str(umbrella_id), "99999999999999999999"):
        response = manager.post("/reviews/new", {"account": choice, "start": start, "end": end})
        assert response.status_code == 422, choice
    made = manager.post("/reviews/new", {"account": str(acme_id), "start": start, "end": end})
    assert made.status_code == 303
    again = manager.post("/reviews/new", {"account": str(acme_id), "start": start, "end": end})
    assert again.status_code == 422 and "already has a review" in again.get_data(as_text=True)


def test_unshared_reviews_are_404_for_the_customer_shared_ones_take_comments(login_as, app):
    with app.app_context():
        manager = user("manager@vendor.test")
        start, end = quarter()
        review = reviews.create(manager, account("C-10001").id, start, end)
        db.session.commit()
        review_id = review.id
    buyer = login_as("buyer@acme.test")
    other = login_as("buyer@globex.test")
    assert buyer.get(f"/reviews/{review_id}").status_code == 404
    assert "No reviews yet" in buyer.get("/reviews").get_data(as_text=True)
    vendor = login_as("manager@vendor.test")
    # Sharing needs the assessment first.
    vendor.post(f"/reviews/{review_id}/share", {}, page=f"/reviews/{review_id}")
    assert buyer.get(f"/reviews/{review_id}").status_code == 404
    bad = vendor.post(
        f"/reviews/{review_id}/assessment",
        {"trend": "great", "actions": "x"},
        page=f"/reviews/{review_id}",
    )
    assert bad.status_code == 422 and "improving, stable or deteriorating" in bad.get_data(
        as_text=True
    )
    too_long = vendor.post(
        f"/reviews/{review_id}/assessment",
        {"trend": "stable", "actions": "x" * 5001},
        page=f"/reviews/{review_id}",
    )
    assert too_long.status_code == 422
    with app.app_context():
        assert db.session.get(RelationshipReview, review_id).trend is None
    saved = vendor.post(
        f"/reviews/{review_id}/assessment",
        {
            "trend": "stable",
            "neglected": "Drawings",
            "comparison": "Best of three",
            "actions": "Visit in May",
        },
        page=f"/reviews/{review_id}",
    )
    assert saved.status_code == 303
    assert (
        vendor.post(f"/reviews/{review_id}/share", {}, page=f"/reviews/{review_id}").status_code
        == 303
    )
    page = soup(buyer.get(f"/reviews/{review_id}"))
    assert "Visit in May" in page.get_text() and "Best of three" in page.get_text()
    assert other.get(f"/reviews/{review_id}").status_code == 404
    with app.app_context():
        told = db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "review_shared")
        )
        acme_users = db.session.scalar(
            select(func.count()).select_from(User).where(User.account_id == account("C-10001").id)
        )
        assert told == acme_users  # every one of Acme's users
    empty = buyer.post(
        f"/reviews/{review_id}/comments", {"body": "   "}, page=f"/reviews/{review_id}"
    )
    assert empty.status_code == 422 and "Write a comment first" in empty.get_data(as_text=True)
    assert other.post(f"/reviews/{review_id}/comments", {"body": "hi"}, page="/").status_code == 404
    sent = buyer.post(
        f"/reviews/{review_id}/comments", {"body": "Agreed."}, page=f"/reviews/{review_id}"
    )
    assert sent.status_code == 303
    with app.app_context():
        assert [c.body for c in db.session.scalars(select(ReviewComment))] == ["Agreed."]
        assert (
            db.session.scalar(
                select(Notification.user_id).where(Notification.kind == "review_commented")
            )
            == user("manager@vendor.test").id
        )
    vendor_page = soup(vendor.get(f"/reviews/{review_id}"))
    assert "Agreed." in vendor_page.get_text()
    assert vendor_page.select_one(".print-only") is not None


def test_due_reviews_are_reminded_once_each(app, demo):
    with app.app_context():
        for a in db.session.scalars(select(CustomerAccount)):
            a.created_at = at(TODAY - timedelta(days=800))
        start, end = quarter()
        # Acme's quarter is reviewed: not due.
        reviews.create(user("manager@vendor.test"), account("C-10001").id, start, end)
        db.session.commit()
        due = {a.number for a, _, _ in reviews.due_reviews(TODAY)}
        assert due == {"C-10002", "C-10003", "C-10004", "C-10005"}
        assert reviews.remind_due_reviews(TODAY) == 4
        assert reviews.remind_due_reviews(TODAY) == 0
        told = db.session.execute(
            select(User.email, func.count())
            .join(Notification, Notification.user_id == User.id)
            .where(Notification.kind == "review_due")
            .group_by(User.email)
        ).all()
        assert dict(told) == {
            "manager@vendor.test": 1,
            "manager2@vendor.test": 2,
            "dewi@vendor.test": 1,  # PT Nusantara Teknik
        }
        link = db.session.scalar(
            select(Notification.link).where(Notification.kind == "review_due").limit(1)
        )
        assert link.startswith("/reviews/new?account=")


def test_a_reviews_figures_set_the_period_beside_the_one_before(app, demo):
    """Hand-worked: Q2 2026 against Q1 2026 (the quarter before, not 91 days before). Promises: 10
    lines, 9 kept, 1 late by 6 days in Q2; 5 lines, 3 kept, 2 late by 8 days in all
    before. Two ratings in Q2 (4 and 2), one before it."""
    with app.app_context():
        acme, manager = account("C-10001"), user("manager@vendor.test")
        buyer = user("buyer@acme.test")
        start, end = date(2026, 4, 1), date(2026, 6, 30)
        db.session.add_all(
            [
                PromiseLedgerDay(
                    account_id=acme.id,
                    day=date(2026, 5, 4),
                    lines=10,
                    on_time=9,
                    in_full=10,
                    on_time_in_full=9,
                    changes=1,
                    slip_days=2,
                    late_lines=1,
                    late_days=6,
                ),
                PromiseLedgerDay(
                    account_id=acme.id,
                    day=date(2026, 2, 10),
                    lines=5,
                    on_time=3,
                    in_full=5,
                    on_time_in_full=3,
                    changes=3,
                    slip_days=4,
                    late_lines=2,
                    late_days=8,
                ),
            ]
        )
        ratings.rate(buyer, "4", "", now=at(date(2026, 4, 20)))
        ratings.rate(buyer, "2", "", now=at(date(2026, 6, 30)))
        ratings.rate(buyer, "5", "", now=at(date(2026, 3, 31)))
        review = reviews.create(manager, acme.id, start, end)
        db.session.commit()
        result = figures.review_figures(manager, review, date(2026, 11, 30), utcnow())
        assert result.previous.period.start == date(2026, 1, 1)
        assert result.previous.period.end == date(2026, 3, 31)
        assert (result.current.promises.lines, result.previous.promises.lines) == (10, 5)
        assert result.current.average_rating == 3.0
        changes = {c.label: (c.now, c.before, c.direction) for c in result.changes}
        assert changes["On time, in full"] == ("90 %", "60 %", "better")
        assert changes["Promised dates changed"] == ("1", "3", "better")
        assert changes["Late lines arrived, on average"] == ("6.0 days", "4.0 days", "worse")
        assert changes["Complaints"] == ("0", "0", "same")
        # A chosen period that is no quarter sits beside as many days before it.
        may = reviews.create(manager, acme.id, date(2026, 5, 1), date(2026, 5, 31))
        before = figures.review_figures(manager, may, date(2026, 11, 30), utcnow()).previous
        assert (before.period.start, before.period.end) == (date(2026, 3, 31), date(2026, 4, 30))


def test_the_review_charts_the_period_internal_ones_for_the_vendor_only(login_as, app):
    from portal.relationship.models import Snapshot

    with app.app_context():
        acme = account("C-10001")
        start, end = quarter()
        review = reviews.create(user("manager@vendor.test"), acme.id, start, end)
        review.trend, review.actions = "stable", "Visit"
        # Three daily snapshots in the quarter (the relationship area's daily job).
        for n, day in enumerate((start, start + timedelta(days=40), end)):
            values = {"order_rhythm": 10 + n, "silence": 5, "volume": 90, "promises": 80 + n,
                      "responsiveness": 100}  # fmt: skip
            db.session.add(
                Snapshot(
                    account_id=acme.id,
                    day=day,
                    score=70 + n,
                    status="amber",
                    signals={k: {"value": v, "status": "green"} for k, v in values.items()},
                )
            )
        db.session.commit()
        review_id = review.id
    vendor = login_as("manager@vendor.test")
    page = soup(vendor.get(f"/reviews/{review_id}"))
    titles = [t.text for t in page.select(".review-charts svg title")]
    assert titles[0].startswith("Relationship score of Acme Industrial")
    assert [t.split(" of ")[0] for t in titles[1:]] == [
        "Promises",
        "Volume",
        "Order rhythm",
        "Silence",
    ]
    assert all(svg.select_one("path.line") for svg in page.select(".review-charts svg"))
    # Shared, the customer sees only the vendor's own promises, never the score or its
    # order rhythm and silence.
    vendor.post(f"/reviews/{review_id}/share", {}, page=f"/reviews/{review_id}")
    buyer = soup(login_as("buyer@acme.test").get(f"/reviews/{review_id}"))
    titles = [t.text.split(" of ")[0] for t in buyer.select(".review-charts svg title")]
    assert titles == ["Promises", "Responsiveness"]
    assert "Relationship score" not in buyer.get_text()
    assert "Order rhythm" not in buyer.get_text() and "Silence" not in buyer.get_text()


def test_orders_against_forecast_are_drawn_as_bars_per_month(app, demo):
    from types import SimpleNamespace

    with app.app_context():
        start, end = quarter()
        review = reviews.create(user("manager@vendor.test"), account("C-10001").id, start, end)
        db.session.commit()
        months = [(start, 100, 50), (start.replace(month=start.month + 1), 200, 0)]
        drawn = figures.review_charts(review, SimpleNamespace(months=months), True)
        assert drawn.score is None and drawn.signals == []  # no snapshot in the period
        bars = drawn.orders.bars
        # Two bars for the first month, on one scale to the largest value (200): the
        # forecast of 100 is half the height of the forecast of 200; 0 ordered is no height.
        assert [(b["series"], b["value"]) for b in bars] == [(0, 100), (1, 50), (0, 200), (1, 0)]
        assert bars[0]["h"] * 2 == pytest.approx(bars[2]["h"]) and bars[3]["h"] == 0
        assert [label["text"] for label in drawn.orders.labels] == [
            start.strftime("%b %Y"),
            start.replace(month=start.month + 1).strftime("%b %Y"),
        ]
