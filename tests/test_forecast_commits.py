"""The vendor's commitments against published forecasts: bad input on every form,
exceptions worked out by hand, mismatches, the buyers' notification, and who sees
which account's commitments."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.catalog.models import Product
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db
from portal.forecasts import commits, drafts, service, uploads, versions
from portal.forecasts.commits import CommitEntry
from portal.forecasts.models import ForecastCommit, ForecastCommitInForce, ForecastEvent
from portal.forecasts.months import add_months
from portal.notifications.models import Notification

from .support import soup

TODAY = date.today()
THIS_MONTH = TODAY.replace(day=1)


def month(n: int = 0) -> str:
    return f"{add_months(THIS_MONTH, n):%Y-%m}"


def first(n: int) -> date:
    return add_months(THIS_MONTH, n)


def person(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def publish(email: str, quantities: dict[str, dict[int, int]], comment: str = ""):
    """Publish a version: {sku: {month offset: quantity}}; products are added as needed."""
    buyer = person(email)
    grid = drafts.grid(buyer, TODAY)
    present = {row.product.sku for row in grid.rows}
    for sku, by_month in quantities.items():
        if sku not in present:
            drafts.add_product(buyer, sku, TODAY)
        pid = db.session.scalar(select(Product.id).where(Product.sku == sku))
        for n, quantity in by_month.items():
            drafts.save_cell(buyer, pid, month(n), str(quantity), TODAY)
    return versions.publish(buyer, comment, TODAY)


@pytest.fixture
def world(app, catalog, ids):
    """Acme with version 1 of two products (A: 100 in month 0, 50 in month 1; B: 10)."""
    with app.app_context():
        skus = db.session.scalars(
            select(Product.sku).where(Product.status == "active").order_by(Product.sku).limit(3)
        ).all()
        a, b, c = skus
        version = publish("buyer@acme.test", {a: {0: 100, 1: 50}, b: {0: 10}}).id
        pid = dict(db.session.execute(select(Product.sku, Product.id)).all())
    return {
        **ids,
        "a": pid[a],
        "b": pid[b],
        "c": pid[c],
        "skus": (a, b, c),
        "version": version,
    }


def entry(pid, n, quantity, reason=None, text=None) -> CommitEntry:
    return CommitEntry(str(pid), month(n), quantity, reason, text)


# --- committing ---------------------------------------------------------------------------------


def test_a_planner_commits_and_a_commit_below_forecast_needs_a_reason(app, world):
    with app.app_context():
        planner = person("planner@vendor.test")
        result = commits.commit(
            planner,
            world["acme"],
            [
                entry(world["a"], 0, "80", "capacity"),
                entry(world["a"], 1, "60"),  # above forecast: no reason needed, none kept
                entry(world["b"], 0, "10", "material"),  # equal: a reason is dropped
            ],
        )
        assert (result.written, result.below) == (3, 1)
        rows = {
            (c.product_id, f"{c.month:%Y-%m}"): (c.quantity, c.forecast_quantity, c.reason)
            for c in db.session.scalars(select(ForecastCommit))
        }
        assert rows == {
            (world["a"], month(0)): (80, 100, "capacity"),
            (world["a"], month(1)): (60, 50, None),
            (world["b"], month(0)): (10, 10, None),
        }
        event = db.session.scalar(select(ForecastEvent).where(ForecastEvent.kind == "committed"))
        assert event.detail == {"cells": 3, "below": 1} and event.after == "v1"


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (("a", 0, "-5"), "cannot be negative"),
        (("a", 0, "lots"), "whole number"),
        (("a", 0, "2.5"), "whole number"),
        (("a", 0, ""), "Give the committed quantity"),
        (("a", 0, "1000000000"), "At most"),
        (("a", 40, "5"), "outside version 1's months"),
        (("a", "soon", "5"), "outside version 1's months"),
        (("c", 0, "5"), "is not in version 1"),  # a real product, not in the forecast
        (("999999", 0, "5"), "is not in version 1"),
        (("x", 0, "5"), "is not in version 1"),
        (("a", 0, "90"), "choose a reason"),
        (("a", 0, "90", "weather"), "choose a reason"),
        (("a", 0, "90", "other"), "Say what the other reason is"),
        (("a", 0, "90", "other", "   "), "Say what the other reason is"),
        (("a", 0, "90", "other", "x" * 301), "under 300"),
    ],
)
def test_bad_commitments_are_refused_and_nothing_is_written(app, world, cell, message):
    pid, n, *rest = cell
    pid = world.get(pid, pid) if pid in ("a", "c") else pid
    when = month(n) if isinstance(n, int) else n
    with app.app_context():
        good = entry(world["b"], 0, "10")
        bad = CommitEntry(str(pid), when, *rest)
        with pytest.raises(commits.CommitRefused) as refused:
            commits.commit(person("planner@vendor.test"), world["acme"], [good, bad])
        assert any(message in m for m in refused.value.errors.values()), refused.value.errors
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(ForecastCommit)) == 0


def test_a_cell_given_twice_and_an_empty_commit_are_refused(app, world):
    with app.app_context():
        planner = person("planner@vendor.test")
        with pytest.raises(commits.CommitRefused, match="1 problem"):
            commits.commit(
                planner, world["acme"], [entry(world["b"], 0, "10"), entry(world["b"], 0, "11")]
            )
        db.session.rollback()
        with pytest.raises(DomainError, match="nothing to commit"):
            commits.commit(planner, world["acme"], [])


def test_who_may_commit(app, world):
    with app.app_context():
        for email in ("manager@vendor.test", "buyer@acme.test", "engineer@vendor.test"):
            with pytest.raises(Forbidden):
                commits.commit(person(email), world["acme"], [entry(world["b"], 0, "10")])
            with pytest.raises(Forbidden):
                commits.commit_all_as_forecast(person(email), world["acme"])
        admin = person("admin@vendor.test")
        assert commits.commit(admin, world["acme"], [entry(world["b"], 0, "10")]).written == 1
        with pytest.raises(NotFound):
            commits.commit_all_as_forecast(admin, 10**9)
        with pytest.raises(DomainError, match="no forecast"):
            commits.commit_all_as_forecast(admin, world["globex"])


def test_commit_all_as_forecast_writes_only_what_changed(app, world):
    with app.app_context():
        planner = person("planner@vendor.test")
        result = commits.commit_all_as_forecast(planner, world["acme"])
        assert (result.written, result.below) == (24, 0)  # 2 products × 12 months
        assert commits.commit_all_as_forecast(planner, world["acme"]).written == 0
        commits.commit(planner, world["acme"], [entry(world["a"], 0, "70", "lead_time")])
        assert commits.commit_all_as_forecast(planner, world["acme"]).written == 1
        history = db.session.scalars(
            select(ForecastCommit.quantity)
            .where(ForecastCommit.product_id == world["a"], ForecastCommit.month == first(0))
            .order_by(ForecastCommit.id)
        ).all()
        assert history == [100, 70, 100]  # every commitment kept, the newest in force
        # One notice per buyer for the one action that went below forecast.
        told = db.session.scalars(
            select(Notification.user_id).where(Notification.kind == "commit_mismatch")
        ).all()
        assert len(told) == len(set(told)) > 0


def _newest_per_cell() -> dict[tuple[int, int, date], tuple[int, int, int]]:
    """The commitments in force as the commit page used to work them out: the newest
    row of every (account, product, month), over every commitment ever written."""
    newest = (
        select(func.max(ForecastCommit.id))
        .group_by(ForecastCommit.account_id, ForecastCommit.product_id, ForecastCommit.month)
        .scalar_subquery()
    )
    return {
        (c.account_id, c.product_id, c.month): (c.id, c.quantity, c.forecast_quantity)
        for c in db.session.scalars(select(ForecastCommit).where(ForecastCommit.id.in_(newest)))
    }


def _in_force_table() -> dict[tuple[int, int, date], tuple[int, int, int]]:
    return {
        (r.account_id, r.product_id, r.month): (r.commit_id, r.quantity, r.forecast_quantity)
        for r in db.session.scalars(select(ForecastCommitInForce))
    }


def test_the_in_force_table_is_the_newest_commitment_of_every_cell(app, world):
    """After commits, re-commits, "commit all as forecast", a new version and another
    account's commits, the table the commit page reads holds exactly the newest row of
    every cell, and its quantities are that row's."""
    with app.app_context():
        planner = person("planner@vendor.test")
        acme, a, b = world["acme"], world["a"], world["b"]
        steps = [
            lambda: commits.commit(planner, acme, [entry(a, 0, "80", "capacity")]),
            lambda: commits.commit(planner, acme, [entry(a, 0, "80", "capacity")]),  # same
            lambda: commits.commit(
                planner, acme, [entry(a, 0, "90", "material"), entry(b, 0, "12")]
            ),  # fmt: skip
            lambda: commits.commit_all_as_forecast(planner, acme),
            lambda: commits.commit(planner, acme, [entry(a, 1, "0", "other", "Strike")]),
            lambda: publish("buyer@acme.test", {world["skus"][0]: {0: 120, 2: 30}}),
            lambda: commits.commit_all_as_forecast(planner, acme),
            lambda: commits.commit(planner, acme, [entry(a, 2, "10", "lead_time")]),
            lambda: publish("buyer@globex.test", {world["skus"][1]: {0: 9}}),
            lambda: commits.commit_all_as_forecast(planner, world["globex"]),
            lambda: commits.commit_all_as_forecast(planner, acme),
        ]
        for number, step in enumerate(steps):
            step()
            assert _in_force_table() == _newest_per_cell(), f"after step {number}"
        assert len({key[0] for key in _in_force_table()}) == 2  # both accounts
        # Re-committed cells kept their history; only the newest is in force.
        assert db.session.scalar(select(func.count()).select_from(ForecastCommit)) > len(
            _in_force_table()
        )


def test_the_kept_counts_are_counted_afresh_after_each_change(app, world):
    """The page's counts are kept per account; after a commit, a new version and a new
    threshold the page shows what counting every cell again gives, never the kept row
    of before."""
    from portal.forecasts.models import ForecastCommitSummary

    with app.app_context():
        planner = person("planner@vendor.test")
        acme, a = world["acme"], world["a"]

        def shown_and_fresh():
            shown = commits.board(planner, acme).summary
            latest = service.latest_published(acme)
            previous = versions.previous_of(latest)
            fresh = commits._count(
                planner, acme, latest, previous, commits._months(latest),
                commits.threshold_of(acme),
            )  # fmt: skip
            return shown, fresh

        steps = [
            lambda: None,
            lambda: commits.commit(planner, acme, [entry(a, 0, "80", "capacity")]),
            lambda: commits.commit_all_as_forecast(planner, acme),
            lambda: publish("buyer@acme.test", {world["skus"][0]: {0: 130, 1: 10}}),
            lambda: commits.commit(planner, acme, [entry(a, 1, "5", "material")]),
            lambda: commits.set_threshold(planner, acme, "500"),
        ]
        seen = []
        for number, step in enumerate(steps):
            step()
            shown, fresh = shown_and_fresh()
            assert shown == fresh, f"after step {number}"
            assert commits.board(planner, acme).summary == fresh  # read from the kept row
            seen.append(fresh)
        assert db.session.scalar(select(func.count()).select_from(ForecastCommitSummary)) == 1
        # The steps did change the counts: the test compares something.
        assert len({(c.below, c.not_committed, c.exceptions) for c in seen}) >= 4


def test_commit_all_at_150_products_and_24_months_is_a_few_statements(app, world):
    """3,600 cells in one action: a fixed handful of statements, one executemany
    (timings belong in bench/, not here)."""
    from sqlalchemy import event

    from portal.forecasts.models import ForecastCell

    with app.app_context():
        acme = world["acme"]
        service.set_horizon(person("admin@acme.test"), acme, "24")
        skus = db.session.scalars(
            select(Product.sku).where(Product.status == "active").order_by(Product.sku).limit(150)
        ).all()
        buyer = person("buyer@acme.test")
        from openpyxl import Workbook

        book = Workbook()
        book.active.append(["SKU", "Product", *(month(n) for n in range(24))])
        for sku in skus:
            book.active.append([sku, "", *range(1, 25)])
        import io

        data = io.BytesIO()
        book.save(data)
        uploads.upload(buyer, data.getvalue(), TODAY)
        versions.publish(buyer, "", TODAY)
        statements = []
        listener = lambda *args: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        result = commits.commit_all_as_forecast(person("planner@vendor.test"), acme)
        event.remove(db.engine, "before_cursor_execute", listener)
        assert result.written == len(skus) * 24
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(ForecastCell)
                .where(ForecastCell.version_id == result.version.id)
            )
            == len(skus) * 24
        )
        assert len(statements) <= 12, len(statements)  # the rows go in one executemany


# --- mismatches and the buyers' notification ----------------------------------------------------


def test_a_commit_below_forecast_tells_the_accounts_buyers_once(app, world):
    with app.app_context():
        commits.commit(
            person("planner@vendor.test"),
            world["acme"],
            [
                entry(world["a"], 0, "80", "capacity"),
                entry(world["a"], 1, "10", "other", "Tooling change in that month"),
            ],
        )
        told = db.session.execute(
            select(User.email, Notification.text, Notification.link)
            .join(Notification, Notification.user_id == User.id)
            .where(Notification.kind == "commit_mismatch")
        ).all()
        # Each buyer of Acme once (its customer admin is a buyer too); never Globex's, never
        # the planner.
        from portal.accounts.roles import Role
        from portal.accounts.service import people_with_role

        buyers = sorted(u.email for u in people_with_role(Role.BUYER, world["acme"]))
        assert sorted(e for e, _, _ in told) == buyers
        assert {"admin@acme.test", "buyer@acme.test"} <= set(buyers)
        assert "for 2 product-months" in told[0][1]
        assert told[0][2] == f"/forecasts/accounts/{world['acme']}/commits"


def test_mismatches_are_below_forecast_or_a_forecast_changed_since(app, world):
    a, b = world["a"], world["b"]
    with app.app_context():
        planner = person("planner@vendor.test")
        commits.commit_all_as_forecast(planner, world["acme"])
        commits.commit(planner, world["acme"], [entry(a, 0, "80", "capacity")])
        board = commits.board(planner, world["acme"])
        statuses = {
            (row.product.id, f"{c.month:%Y-%m}"): c.status for row in board.rows for c in row.cells
        }
        assert statuses[(a, month(0))] == "below"
        assert statuses[(a, month(1))] == "ok"
        # The customer lowers B's month 0 and raises A's month 1 in version 2.
        sku_a, sku_b, _ = world["skus"]
        publish("buyer@acme.test", {sku_a: {1: 70}, sku_b: {0: 4}})
        board = commits.board(planner, world["acme"])
        cells = {(row.product.id, f"{c.month:%Y-%m}"): c for row in board.rows for c in row.cells}
        assert cells[(a, month(0))].status == "below"
        assert cells[(a, month(1))].status == "below"  # committed 50 against 70 now
        assert cells[(b, month(0))].status == "forecast_changed"  # 10 committed for 10, now 4
        assert cells[(b, month(1))].status == "ok"
        assert len(board.mismatches) == 3


# --- exceptions ---------------------------------------------------------------------------------


def test_exception_flags_worked_by_hand():
    m0, m1, m2 = first(0), first(1), first(2)
    old = {(1, m0): 100, (1, m1): 0, (1, m2): 10, (2, m0): 5}
    new = {
        (1, m0): 120,  # +20 %: not above 20 %
        (1, m1): 1,  # from 0: |1 − 0| / max(0, 1) = 100 %
        (1, m2): 7,  # −30 %
        (2, m0): 6,  # +20 %: not above
        (2, m1): 9,  # product 2 had no m1 cell in a compared month: counts from 0
        (3, m0): 1,  # a new product
        (1, first(5)): 500,  # a month the old version did not cover
    }
    flagged, new_products = commits.exception_flags(new, old, 20, old_months=[m0, m1, m2])
    assert flagged == {(1, m1), (1, m2), (2, m1)}
    assert new_products == {3}
    flagged, _ = commits.exception_flags(new, old, 19, old_months=[m0, m1, m2])
    assert flagged == {(1, m0), (1, m1), (1, m2), (2, m0), (2, m1)}


def test_the_board_flags_exceptions_against_the_accounts_threshold(app, world):
    sku_a, sku_b, sku_c = world["skus"]
    with app.app_context():
        publish("buyer@acme.test", {sku_a: {0: 125, 1: 40}, sku_c: {0: 3}})
        planner = person("planner@vendor.test")
        board = commits.board(planner, world["acme"])
        assert board.threshold == 20  # the configured default
        flagged = {
            (row.product.sku, f"{c.month:%Y-%m}")
            for row in board.rows
            for c in row.cells
            if c.exception
        }
        assert flagged == {(sku_a, month(0))}  # +25 %; 50 → 40 is −20 %, not above
        assert [row.product.sku for row in board.rows if row.is_new] == [sku_c]
        assert commits.set_threshold(planner, world["acme"], "30") == 30
        assert commits.board(planner, world["acme"]).exceptions == 0
        assert commits.set_threshold(planner, world["acme"], " 15 % ") == 15
        assert commits.board(planner, world["acme"]).exceptions == 2
        assert commits.set_threshold(planner, world["acme"], "") == 20  # back to the default


@pytest.mark.parametrize("typed", ["0", "1001", "abc", "12.5", "-5", "２０", "1e2"])
def test_bad_thresholds_are_refused(app, world, typed):
    with app.app_context(), pytest.raises(DomainError, match="whole percentage"):
        commits.set_threshold(person("planner@vendor.test"), world["acme"], typed)


def test_who_sets_the_threshold(app, world):
    with app.app_context():
        for email in ("manager@vendor.test", "admin@acme.test"):
            with pytest.raises(Forbidden):
                commits.set_threshold(person(email), world["acme"], "10")
        assert commits.set_threshold(person("admin@vendor.test"), world["acme"], "10") == 10


# --- pages and who sees what --------------------------------------------------------------------


def test_the_planner_commits_through_the_page_with_a_reason(app, world, login_as):
    a, b = world["a"], world["b"]
    url = f"/forecasts/accounts/{world['acme']}/commits"
    planner = login_as("planner@vendor.test")
    page = soup(planner.get(url))
    grid = page.select_one("table.commit-grid")
    assert grid.select_one(f"#q-{a}-{month(0)}")["value"] == "100"  # pre-filled from forecast
    assert page.select_one("label[for=threshold]") is not None
    form = {f"q-{a}-{month(0)}": "60", f"q-{b}-{month(0)}": "10"}
    refused = planner.post(url, form, page=url)
    assert refused.status_code == 422
    html = soup(refused)
    assert "choose a reason" in html.select_one(f"#e-{a}-{month(0)}").text
    assert html.select_one(f"#q-{a}-{month(0)}")["value"] == "60"  # what was typed stays
    stray = planner.post(url, {**form, f"q-{a}-{month(30)}": "5"}, page=url)
    assert "outside version 1's months" in soup(stray).select_one(".form-errors li").text
    done = planner.post(url, {**form, f"reason-{a}": "material"}, page=url)
    assert done.status_code == 303
    html = soup(planner.get(url))
    assert "1 below forecast" in html.select_one("#commit-summary").text
    assert html.select_one(f"#reason-{a} option[selected]")["value"] == "material"
    row = html.select_one("#mismatches tbody tr")
    assert "40 below" in row.text and "Material" in row.text


def test_the_buyer_reads_commitments_and_mismatches_of_its_own_account_only(app, world, login_as):
    with app.app_context():
        commits.commit(
            person("planner@vendor.test"),
            world["acme"],
            [entry(world["a"], 0, "80", "capacity"), entry(world["b"], 0, "10")],
        )
        sku_b = world["skus"][1]
        publish("buyer@globex.test", {sku_b: {0: 9}})
        commits.commit_all_as_forecast(person("planner@vendor.test"), world["globex"])
    buyer = login_as("buyer@acme.test")
    html = soup(buyer.get(f"/forecasts/accounts/{world['acme']}/commits"))
    assert html.select_one("table.commit-grid input") is None  # read-only
    assert "cm-exception" not in str(html)  # the planners' flags are theirs
    row = html.select_one("#mismatches tbody tr")
    assert "20 below" in row.text and "Capacity" in row.text
    link = soup(buyer.get("/forecasts")).find("a", string="Commitments and mismatches")
    assert link["href"] == f"/forecasts/accounts/{world['acme']}/commits"
    # Globex's page is not there for Acme's buyer, nor Acme's for Globex's.
    assert buyer.get(f"/forecasts/accounts/{world['globex']}/commits").status_code == 404
    globex = login_as("buyer@globex.test")
    assert globex.get(f"/forecasts/accounts/{world['acme']}/commits").status_code == 404
    html = soup(globex.get(f"/forecasts/accounts/{world['globex']}/commits"))
    assert "Capacity" not in html.text and "No mismatches" in html.text
    with app.app_context():
        with pytest.raises(NotFound):
            commits.board(person("buyer@globex.test"), world["acme"])
        # Scoping, not only the account check: Globex's buyer reads no Acme row.
        seen = commits.current_commits(
            person("buyer@globex.test"), world["acme"], [first(n) for n in range(12)]
        )
        assert seen == {}


def test_account_managers_read_their_accounts_only_and_approvers_not_at_all(app, world, login_as):
    url = f"/forecasts/accounts/{world['acme']}/commits"
    manager = soup(login_as("manager@vendor.test").get(url))
    assert manager.select_one("table.commit-grid") is not None
    assert manager.select_one("#commit-form") is None
    assert login_as("manager2@vendor.test").get(url).status_code == 404
    assert login_as("approver@acme.test").get(url).status_code == 403


def test_exceptions_are_flagged_on_the_planners_page_and_not_the_buyers(app, world, login_as):
    sku_a, _, sku_c = world["skus"]
    with app.app_context():
        publish("buyer@acme.test", {sku_a: {0: 125}, sku_c: {0: 3}})
    url = f"/forecasts/accounts/{world['acme']}/commits"
    planner = soup(login_as("planner@vendor.test").get(url))
    flagged = planner.select("td.cm-exception")
    assert len(flagged) == 1 + 12  # A's month 0 (+25 %), and C's row, new in version 2
    assert "was 100" in planner.select_one(f"#f-{world['a']}-{month(0)}").text
    assert "changed by more than 20%" in planner.select_one(".facts").text
    buyer = soup(login_as("buyer@acme.test").get(url))
    assert buyer.select("td.cm-exception") == [] and "was 100" not in buyer.text


def test_the_inbox_links_each_version_to_its_commit_page(app, world, login_as):
    html = soup(login_as("planner@vendor.test").get("/forecasts/inbox"))
    link = html.select_one("#inbox tbody tr").find("a", string="Commitments")
    assert link["href"] == f"/forecasts/accounts/{world['acme']}/commits"


def test_bad_thresholds_through_the_page_are_flashed_and_nothing_changes(app, world, login_as):
    url = f"/forecasts/accounts/{world['acme']}/threshold"
    planner = login_as("planner@vendor.test")
    page = f"/forecasts/accounts/{world['acme']}/commits"
    response = planner.post(url, {"threshold": "-3"}, page=page, follow_redirects=True)
    assert "whole percentage" in soup(response).select_one(".flash-error").text
    assert soup(response).select_one("#threshold")["value"] == ""
    response = planner.post(url, {"threshold": "35"}, page=page, follow_redirects=True)
    assert soup(response).select_one("#threshold")["value"] == "35"


def test_a_version_published_while_the_planner_looked_is_not_answered_blind(app, world, login_as):
    sku_a = world["skus"][0]
    url = f"/forecasts/accounts/{world['acme']}/commits"
    planner = login_as("planner@vendor.test")
    shown = soup(planner.get(url)).select_one("#commit-form input[name=version_id]")["value"]
    assert shown == str(world["version"])
    with app.app_context():
        publish("buyer@acme.test", {sku_a: {0: 300}})
        with pytest.raises(commits.StaleVersion):
            commits.commit_all_as_forecast(
                person("planner@vendor.test"), world["acme"], answering=shown
            )
    form = {"version_id": shown, f"q-{world['a']}-{month(0)}": "100"}
    response = planner.post(url, form, page=url)
    assert response.status_code == 422
    html = soup(response)
    assert "Version 2 was published since" in html.select_one(".form-errors").text
    assert html.select_one(f"#q-{world['a']}-{month(0)}")["value"] == "300"  # the new figure
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ForecastCommit)) == 0


# --- large grids: batches of rows ----------------------------------------------------------------


def _wide(rows: list[list]) -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _two_versions_of_120_products(acme: int) -> list[str]:
    """Two versions of 110 and 120 products × 3 of the 12 months; the second changes
    16 cells by far and adds 10 products. Then a planner commits all, and two cells
    below the forecast."""
    buyer = person("buyer@acme.test")
    skus = db.session.scalars(
        select(Product.sku).where(Product.status == "active").order_by(Product.sku_key).limit(120)
    ).all()
    header = ["SKU", "Product", month(0), month(1), month(2)]
    uploads.upload(buyer, _wide([header, *([s, "", 10, 20, 30] for s in skus[:110])]), TODAY)
    versions.publish(buyer, "", TODAY)
    rows = [[s, "", 10 + (n % 7 == 0) * 50, 20, 30] for n, s in enumerate(skus)]
    uploads.upload(buyer, _wide([header, *rows]), TODAY)
    versions.publish(buyer, "", TODAY)
    planner = person("planner@vendor.test")
    commits.commit_all_as_forecast(planner, acme)
    far = db.session.scalar(select(Product.id).where(Product.sku == skus[100]))
    near = db.session.scalar(select(Product.id).where(Product.sku == skus[1]))
    commits.commit(planner, acme, [entry(far, 1, "5", "capacity"), entry(near, 2, "1", "material")])
    return skus


def test_the_commit_grid_comes_in_batches_with_counts_of_the_whole_grid(app, world):
    """Keyset batches meet every product once; the counts of the first screen (worked
    out in the database) are those of every cell of every row."""
    from sqlalchemy import event

    with app.app_context():
        acme = world["acme"]
        skus = _two_versions_of_120_products(acme)
        planner = person("planner@vendor.test")
        everything = commits.board(planner, acme, limit=10_000)
        all_cells = [c for row in everything.rows for c in row.cells]
        seen, after, batches = [], None, 0
        statements = []
        listener = lambda *args: statements.append(1)  # noqa: E731
        while True:
            statements.clear()
            event.listen(db.engine, "before_cursor_execute", listener)
            board = commits.board(planner, acme, after=after, limit=50)
            event.remove(db.engine, "before_cursor_execute", listener)
            assert len(statements) <= 20, len(statements)  # whatever the rows
            batches += 1
            assert board.summary.products == 120
            for status in ("below", "forecast_changed", "not_committed"):
                assert board.count(status) == sum(c.status == status for c in all_cells)
            assert board.exceptions == sum(row.exceptions for row in everything.rows) == 16
            assert board.new_products == sum(row.is_new for row in everything.rows) == 10
            assert len(board.mismatches) == board.mismatch_count == 2
            seen += [(row.product.sku, [c.status for c in row.cells]) for row in board.rows]
            if board.next_after is None:
                break
            after = board.next_after
        assert batches == 3 and [sku for sku, _ in seen] == list(skus)
        assert seen == [(row.product.sku, [c.status for c in row.cells]) for row in everything.rows]
        assert board.count("below") == 2 and board.count("not_committed") == 0
        # Only the first mismatches are listed unless all are asked for.
        assert len(commits.board(planner, acme, mismatches=1).mismatches) == 1


def test_the_commit_page_sends_rows_in_batches_and_commits_the_rows_posted(app, world, login_as):
    with app.app_context():
        acme = world["acme"]
        skus = _two_versions_of_120_products(acme)
        ids = dict(db.session.execute(select(Product.sku, Product.id)).all())
    planner = login_as("planner@vendor.test")
    url = f"/forecasts/accounts/{acme}/commits"
    page = soup(planner.get(url))
    n = commits.BATCH
    assert len(page.select("table.commit-grid tbody th[scope=row]")) == n
    assert "2 below forecast" in page.select_one("#commit-summary").text
    assert "Commits the rows loaded above (120 products" in page.text
    more = page.select_one("tr[data-more-rows] a[data-more]")
    batch = soup(planner.get(more["hx-get"], headers={"HX-Request": "true"}))
    assert batch.select_one("#commit-summary") is None and batch.select_one("form") is None
    assert [th.select_one(".sku").text for th in batch.select("th[scope=row]")] == skus[n : 2 * n]
    assert batch.select_one(f"#q-{ids[skus[100]]}-{month(1)}") is None
    # The form as the page posts it with 100 rows loaded: a bad cell far down refuses
    # it all and shows every posted row again, as typed.
    form = {"version_id": page.select_one("input[name=version_id]")["value"]}
    for sku in skus[:100]:
        for n in range(3):
            form[f"q-{ids[sku]}-{month(n)}"] = "500"
    form[f"q-{ids[skus[80]]}-{month(0)}"] = "lots"
    refused = planner.post(url, form, page=url)
    assert refused.status_code == 422
    again = soup(refused)
    assert len(again.select("table.commit-grid tbody th[scope=row]")) == 100
    assert again.select_one(f"#q-{ids[skus[80]]}-{month(0)}")["value"] == "lots"
    assert again.select_one(f"#e-{ids[skus[80]]}-{month(0)}") is not None
    # Corrected, it commits the posted rows and leaves the rows not loaded as they were.
    form[f"q-{ids[skus[80]]}-{month(0)}"] = "500"
    assert planner.post(url, form, page=url).status_code == 303
    with app.app_context():
        board = commits.board(person("planner@vendor.test"), acme, limit=10_000)
        by_sku = {row.product.sku: row for row in board.rows}
        assert [c.commit.quantity for c in by_sku[skus[99]].cells[:3]] == [500, 500, 500]
        assert by_sku[skus[100]].cells[1].commit.quantity == 5  # not posted: unchanged
        assert board.count("below") == 1


def test_counts_take_months_a_row_has_no_cell_for_as_forecasts_of_zero(app, world):
    """A horizon lengthened after rows were written leaves them without cells in the
    new months: the grid shows 0 there, and the counts of the whole grid (worked out in
    the database) agree with the cells shown."""
    sku_a, _, _ = world["skus"]
    with app.app_context():
        acme = world["acme"]
        service.set_horizon(person("admin@acme.test"), acme, "18")
        publish("buyer@acme.test", {sku_a: {0: 90}})
        planner = person("planner@vendor.test")
        commits.commit_all_as_forecast(planner, acme)
        commits.commit(planner, acme, [entry(world["b"], 15, "3")])
        board = commits.board(planner, acme)
        assert len(board.months) == 18
        cells = [c for row in board.rows for c in row.cells]
        assert len(cells) == 2 * 18
        for status in ("below", "forecast_changed", "not_committed"):
            assert board.count(status) == sum(c.status == status for c in cells), status
        assert board.count("not_committed") == 2 * 6 - 1  # the new months, but B's 16th
