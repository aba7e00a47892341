"""Shared forecasts: the draft grid cell by cell, publishing immutable versions,
templates and all-or-nothing uploads, and who reads which account's versions."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.catalog.models import Product
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db
from portal.forecasts import drafts, service, uploads, versions
from portal.forecasts.models import ForecastCell, ForecastEvent, ForecastVersion
from portal.forecasts.months import add_months, parse_month
from portal.notifications.models import Notification

from .damaged_files import DAMAGED, row_counts
from .support import soup

TODAY = date.today()
THIS_MONTH = TODAY.replace(day=1)


def month(n: int = 0) -> str:
    return f"{add_months(THIS_MONTH, n):%Y-%m}"


def workbook(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.fixture
def world(app, catalog, ids):
    """Acme's buyer and admin, Globex's buyer, three active products and a discontinued one."""
    with app.app_context():
        active = db.session.scalars(
            select(Product.sku).where(Product.status == "active").order_by(Product.sku).limit(3)
        ).all()
        gone = db.session.scalar(
            select(Product.sku).where(Product.status == "discontinued").limit(1)
        )
    return {**ids, "skus": list(active), "discontinued": gone}


def person(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def product(sku: str) -> Product:
    return db.session.scalar(select(Product).where(Product.sku == sku))


def out_of_band(html) -> dict:
    """The cells an htmx answer swaps in elsewhere, by id (wrapped in <template>, as
    htmx 2 wants for table cells)."""
    from bs4 import BeautifulSoup

    return {
        td["id"]: td
        for template in html.select("template")
        for td in BeautifulSoup(template.decode_contents(), "html.parser").select("td[id]")
    }


def draft_cells(account_id: int) -> dict:
    draft = db.session.scalar(
        select(ForecastVersion).where(
            ForecastVersion.account_id == account_id, ForecastVersion.number == 0
        )
    )
    if draft is None:
        return {}
    return {
        (pid, f"{m:%Y-%m}"): q
        for pid, m, q in db.session.execute(
            select(ForecastCell.product_id, ForecastCell.month, ForecastCell.quantity).where(
                ForecastCell.version_id == draft.id
            )
        )
    }


# --- typed values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-3", "cannot be negative"),
        ("1.5", "whole number"),
        ("12,5", "whole number"),
        ("abc", "whole number"),
        ("1e3", "whole number"),
        ("١٢", "whole number"),  # Arabic-Indic digits: isdigit() but not ours
        ("=2*50", "whole number"),
        ("1000000000", "At most"),
    ],
)
def test_bad_quantities_are_refused_with_a_reason(typed, message):
    with pytest.raises(DomainError, match=message):
        service.parse_quantity(typed)


@pytest.mark.parametrize(("typed", "value"), [("", 0), (" 12 ", 12), ("0", 0), ("1 200", 1200)])
def test_quantities_as_people_type_them(typed, value):
    assert service.parse_quantity(typed) == value


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("2026-12", date(2026, 12, 1)),
        ("2026-12-01", date(2026, 12, 1)),
        ("2026-12-01T00:00:00", date(2026, 12, 1)),
        ("12/2026", date(2026, 12, 1)),
        ("2026-13", None),
        ("2026-12-15", None),
        ("Dec", None),
        ("", None),
    ],
)
def test_months_as_files_write_them(typed, value):
    assert parse_month(typed) == value


# --- the draft grid -----------------------------------------------------------------------------


def test_a_buyer_builds_a_draft_with_totals_and_publishes_it(app, world):
    sku_a, sku_b, _ = world["skus"]
    with app.app_context():
        buyer = person("buyer@acme.test")
        a = drafts.add_product(buyer, sku_a, TODAY)
        b = drafts.add_product(buyer, sku_b.lower(), TODAY)  # any case finds it
        drafts.save_cell(buyer, a.id, month(0), "10", TODAY)
        drafts.save_cell(buyer, a.id, month(1), "15", TODAY)
        result = drafts.save_cell(buyer, b.id, month(0), "7", TODAY)
        assert (result.row_total, result.month_total, result.grand_total) == (7, 17, 32)
        grid = drafts.grid(buyer, TODAY)
        assert len(grid.months) == 12 and grid.months[0] == THIS_MONTH
        assert [row.product.sku for row in grid.rows] == sorted([sku_a, sku_b])
        assert grid.total == 32
        version = versions.publish(buyer, "  First plan  ", TODAY)
        assert (version.number, version.comment, version.cells_changed) == (1, "First plan", 3)
        assert version.total_quantity == 32
        assert drafts.grid(buyer, TODAY).draft is None


def test_a_new_draft_starts_from_the_latest_version_which_never_changes(app, world):
    sku_a = world["skus"][0]
    with app.app_context():
        buyer = person("buyer@acme.test")
        a = drafts.add_product(buyer, sku_a, TODAY)
        drafts.save_cell(buyer, a.id, month(2), "40", TODAY)
        first = versions.publish(buyer, "", TODAY)
        first_cells = service.all_cells(first.id)
        drafts.save_cell(buyer, a.id, month(2), "55", TODAY)  # a new draft
        assert draft_cells(world["acme"])[(a.id, month(2))] == 55
        assert len(draft_cells(world["acme"])) == 12  # pre-filled from version 1
        assert service.all_cells(first.id) == first_cells
        second = versions.publish(buyer, "More in month 3", TODAY)
        assert (second.number, second.cells_changed) == (2, 1)
        with pytest.raises(DomainError, match="Change the forecast"):
            versions.publish(buyer, "", TODAY)


def test_two_first_edits_at_once_share_one_draft(app, world, monkeypatch):
    """The second of two requests that both saw no draft finds the first one's."""
    with app.app_context():
        drafts.add_product(person("buyer@acme.test"), world["skus"][0], TODAY)
        existing = db.session.scalar(select(ForecastVersion.id))
        real, calls = service.draft_of, []

        def stale_then_real(account_id):
            calls.append(account_id)
            return None if len(calls) == 1 else real(account_id)

        monkeypatch.setattr(drafts, "draft_of", stale_then_real)
        draft = drafts.ensure_draft(person("admin@acme.test"), world["acme"], TODAY)
        assert draft.id == existing
        drafts.save_cell(person("admin@acme.test"), draft_product(world), month(0), "3", TODAY)
        assert db.session.scalar(select(func.count()).select_from(ForecastVersion)) == 1


def draft_product(world) -> int:
    return product(world["skus"][0]).id


@pytest.mark.parametrize(
    ("product_id", "month_text", "quantity", "message"),
    [
        ("first", "soon", "5", "not in the forecast horizon"),
        ("x", "now", "5", "Add the product"),
        (None, "2099-01", "5", "not in the forecast horizon"),
        ("999999", "now", "5", "Add the product"),
        ("first", "now", "-1", "cannot be negative"),
        ("first", "now", "2.5", "whole number"),
        ("other", "now", "5", "Add the product"),  # a real product, not in the forecast
    ],
)
def test_bad_cells_are_refused(app, world, product_id, month_text, quantity, message):
    with app.app_context():
        buyer = person("buyer@acme.test")
        first = drafts.add_product(buyer, world["skus"][0], TODAY)
        ids = {"first": first.id, "other": product(world["skus"][1]).id}
        chosen = ids.get(product_id, product_id)
        when = month(0) if month_text == "now" else month_text
        with pytest.raises(DomainError, match=message):
            drafts.save_cell(buyer, chosen, when, quantity, TODAY)


@pytest.mark.parametrize(
    ("sku", "message"),
    [
        ("", "Give the product"),
        ("NO-SUCH-SKU", "no product with the SKU"),
        ("discontinued", "discontinued"),
        ("twice", "already in the forecast"),
    ],
)
def test_adding_a_product_refuses(app, world, sku, message):
    with app.app_context():
        buyer = person("buyer@acme.test")
        drafts.add_product(buyer, world["skus"][0], TODAY)
        sku = {"discontinued": world["discontinued"], "twice": world["skus"][0]}.get(sku, sku)
        with pytest.raises(DomainError, match=message):
            drafts.add_product(buyer, sku, TODAY)


def test_copying_the_first_month_across(app, world):
    with app.app_context():
        buyer = person("admin@acme.test")
        a = drafts.add_product(buyer, world["skus"][0], TODAY)
        drafts.save_cell(buyer, a.id, month(0), "9", TODAY)
        drafts.fill_row(buyer, a.id, TODAY)
        cells = draft_cells(world["acme"])
        assert [cells[(a.id, month(n))] for n in range(12)] == [9] * 12
        with pytest.raises(DomainError):
            drafts.fill_row(buyer, "nonsense", TODAY)


def test_vendor_staff_and_approvers_do_not_edit_the_draft(app, world):
    with app.app_context():
        for email in ("planner@vendor.test", "admin@vendor.test", "approver@acme.test"):
            with pytest.raises(Forbidden):
                drafts.add_product(person(email), world["skus"][0], TODAY)


def test_publishing_refuses_an_empty_draft_and_a_long_comment(app, world):
    with app.app_context():
        buyer = person("buyer@acme.test")
        drafts.add_product(buyer, world["skus"][0], TODAY)
        with pytest.raises(DomainError, match="under 2,000"):
            versions.publish(buyer, "x" * 2001, TODAY)
        db.session.rollback()
        draft = db.session.scalar(select(ForecastVersion))
        db.session.execute(ForecastCell.__table__.delete())
        db.session.commit()
        assert draft is not None
        with pytest.raises(DomainError, match="at least one product"):
            versions.publish(buyer, "", TODAY)


def test_publishing_tells_planners_and_the_account_manager(app, world):
    with app.app_context():
        buyer = person("buyer@acme.test")
        a = drafts.add_product(buyer, world["skus"][0], TODAY)
        drafts.save_cell(buyer, a.id, month(0), "3", TODAY)
        version = versions.publish(buyer, "", TODAY)
        told = set(
            db.session.scalars(
                select(User.email)
                .join(Notification, Notification.user_id == User.id)
                .where(Notification.kind == "forecast_published")
            )
        )
        assert told == {"planner@vendor.test", "manager@vendor.test"}
        link = db.session.scalar(select(Notification.link).limit(1))
        assert link == f"/forecasts/versions/{version.id}"
        kinds = db.session.scalars(select(ForecastEvent.kind).order_by(ForecastEvent.id)).all()
        assert kinds == ["draft_started", "product_added", "cell", "published"]


# --- the horizon --------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["0", "25", "abc", "", "12.5", "-1"])
def test_bad_horizons_are_refused(app, world, typed):
    with app.app_context(), pytest.raises(DomainError, match="1 to 24 months"):
        service.set_horizon(person("admin@acme.test"), world["acme"], typed)


def test_the_horizon_is_the_customer_admins_or_the_vendor_admins(app, world):
    with app.app_context():
        assert service.set_horizon(person("admin@acme.test"), world["acme"], "18") == 18
        assert len(service.window(world["acme"], TODAY)) == 18
        assert service.set_horizon(person("admin@vendor.test"), world["acme"], "24") == 24
        with pytest.raises(Forbidden):
            service.set_horizon(person("buyer@acme.test"), world["acme"], "6")
        with pytest.raises(Forbidden):
            service.set_horizon(person("planner@vendor.test"), world["acme"], "6")
        with pytest.raises(NotFound):
            service.set_horizon(person("admin@acme.test"), world["globex"], "6")


def test_a_month_beyond_the_horizon_is_refused(app, world):
    with app.app_context():
        admin = person("admin@acme.test")
        service.set_horizon(admin, world["acme"], "3")
        a = drafts.add_product(admin, world["skus"][0], TODAY)
        assert len(draft_cells(world["acme"])) == 3
        with pytest.raises(DomainError, match="horizon"):
            drafts.save_cell(admin, a.id, month(3), "1", TODAY)


# --- pages --------------------------------------------------------------------------------------


def test_a_cell_saves_through_htmx_and_answers_the_totals(app, world, login_as):
    with app.app_context():
        a = drafts.add_product(person("buyer@acme.test"), world["skus"][0], TODAY)
        product_id = a.id
    buyer = login_as("buyer@acme.test")
    page = soup(buyer.get("/forecasts"))
    assert page.select_one(f"#q-{product_id}-{month(0)}")["inputmode"] == "numeric"
    response = buyer.post(
        "/forecasts/cells",
        {"product_id": product_id, "month": month(0), "quantity": "12"},
        page="/forecasts",
        headers={"HX-Request": "true"},
    )
    html = soup(response)
    assert html.select_one("td.fc-cell.is-saved input")["value"] == "12"
    totals = out_of_band(html)
    assert totals[f"row-total-{product_id}"].text == "12"
    assert totals[f"month-total-{month(0)}"].text == "12"
    assert totals["grand-total"]["hx-swap-oob"] == "true"


def test_a_bad_cell_keeps_what_was_typed_with_the_reason(app, world, login_as):
    with app.app_context():
        product_id = drafts.add_product(person("buyer@acme.test"), world["skus"][0], TODAY).id
    buyer = login_as("buyer@acme.test")
    response = buyer.post(
        "/forecasts/cells",
        {"product_id": product_id, "month": month(0), "quantity": "lots"},
        page="/forecasts",
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200  # htmx swaps it in
    html = soup(response)
    cell_input = html.select_one("td.fc-cell.has-error input")
    assert cell_input["value"] == "lots" and cell_input["aria-invalid"] == "true"
    assert "whole number" in html.select_one(".cell-error").text
    assert out_of_band(html) == {}


def test_adding_an_unknown_sku_shows_the_reason_beside_the_field(app, world, login_as):
    buyer = login_as("buyer@acme.test")
    response = buyer.post("/forecasts/products", {"sku": "NOPE-1"}, page="/forecasts")
    assert response.status_code == 422
    assert "no product with the SKU" in soup(response).select_one("#sku-error").text
    response = buyer.post(
        "/forecasts/products",
        {"sku": world["skus"][0]},
        page="/forecasts",
        headers={"HX-Request": "true"},
    )
    html = soup(response)
    assert html.select_one("#forecast-grid tbody th .sku").text == world["skus"][0]


def test_sku_suggestions_for_the_add_field(app, world, login_as):
    html = soup(login_as("admin@acme.test").get(f"/forecasts/suggest?sku={world['skus'][0][:4]}"))
    assert world["skus"][0] in [o["data-value"] for o in html.select("[role=option]")]


def test_versions_are_shown_beside_the_previous_with_changes_marked(app, world, login_as):
    with app.app_context():
        buyer = person("buyer@acme.test")
        a = drafts.add_product(buyer, world["skus"][0], TODAY)
        drafts.save_cell(buyer, a.id, month(0), "10", TODAY)
        drafts.save_cell(buyer, a.id, month(1), "10", TODAY)
        versions.publish(buyer, "", TODAY)
        drafts.save_cell(buyer, a.id, month(0), "14", TODAY)
        drafts.save_cell(buyer, a.id, month(1), "4", TODAY)
        second = versions.publish(buyer, "Shifted", TODAY).id
    html = soup(login_as("planner@vendor.test").get(f"/forecasts/versions/{second}"))
    row = html.select_one("table.compare tbody tr")
    up, down = row.select("td.fc-up"), row.select("td.fc-down")
    assert [c.text.split()[0] for c in up] == ["14"] and "10" in up[0].select_one(".fc-was").text
    assert [c.text.split()[0] for c in down] == ["4"]


def test_the_vendor_inbox_and_who_reads_which_account(app, world, login_as):
    with app.app_context():
        for email, sku in (("buyer@acme.test", 0), ("buyer@globex.test", 1)):
            user = person(email)
            p = drafts.add_product(user, world["skus"][sku], TODAY)
            drafts.save_cell(user, p.id, month(0), "5", TODAY)
            versions.publish(user, f"from {email}", TODAY)
        acme_version = db.session.scalar(
            select(ForecastVersion.id).where(ForecastVersion.account_id == world["acme"])
        )
    rows = soup(login_as("planner@vendor.test").get("/forecasts/inbox")).select("#inbox tbody tr")
    assert [r.select("td")[1].text for r in rows] == ["Globex Manufacturing", "Acme Industrial"]
    assert rows[0].select("td")[4].text == "1"
    # manager2 manages neither Acme nor Globex: an empty inbox, and 404 for a version.
    manager2 = login_as("manager2@vendor.test")
    assert not soup(manager2.get("/forecasts/inbox")).select("#inbox tbody tr")
    assert manager2.get(f"/forecasts/versions/{acme_version}").status_code == 404
    assert manager2.get(f"/forecasts/accounts/{world['acme']}/versions").status_code == 404
    # Another customer's buyer: 404, as for a version that does not exist.
    globex = login_as("buyer@globex.test")
    assert globex.get(f"/forecasts/versions/{acme_version}").status_code == 404
    assert globex.get(f"/forecasts/accounts/{world['acme']}/versions").status_code == 404
    assert login_as("buyer@acme.test").get(f"/forecasts/versions/{acme_version}").status_code == 200


def test_drafts_are_never_shown_to_the_vendor(app, world, login_as):
    with app.app_context():
        drafts.add_product(person("buyer@acme.test"), world["skus"][0], TODAY)
        draft = db.session.scalar(select(ForecastVersion.id))
    assert login_as("admin@vendor.test").get(f"/forecasts/versions/{draft}").status_code == 404


# --- templates and uploads ----------------------------------------------------------------------


def _order(world, sku: str, quantity: int = 2) -> None:
    from portal.ordering import service as ordering

    buyer = person("buyer@acme.test")
    address = next(a for a in buyer.account.addresses if a.kind == "shipping")
    ordering.add_to_cart(buyer, [(product(sku).id, quantity)])
    ordering.place_order(
        buyer,
        po_number="PO-F",
        ship_to_id=address.id,
        requested_date=None,
        notes="",
        idempotency_key=f"f-{sku}",
        today=TODAY,
    )


@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_templates_hold_recent_orders_and_the_draft_and_upload_back_clean(app, world, layout, fmt):
    ordered, drafted, _ = world["skus"]
    with app.app_context():
        _order(world, ordered)
        buyer = person("buyer@acme.test")
        d = drafts.add_product(buyer, drafted, TODAY)
        drafts.save_cell(buyer, d.id, month(1), "33", TODAY)
        data, name = uploads.template(buyer, layout, fmt, TODAY)
        assert name.endswith(f".{fmt}") and layout in name
        if fmt == "xlsx":
            sheet = load_workbook(io.BytesIO(data)).active
            rows = [
                [("" if v is None else str(v)) for v in r]
                for r in sheet.iter_rows(values_only=True)
            ]
        else:
            rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        if layout == "wide":
            assert rows[0][:3] == ["SKU", "Product", month(0)] and len(rows[0]) == 14
            by_sku = {r[0]: r for r in rows[1:]}
            assert by_sku[drafted][3] == "33" and by_sku[ordered][2] == "0"
        else:
            assert rows[0] == ["SKU", "Product", "Month", "Quantity"]
            assert [drafted, product(drafted).name, month(1), "33"] in rows
            assert len(rows) == 1 + 2 * 12
        result = uploads.upload(buyer, data, TODAY)
        assert (result.layout, result.products, result.cells) == (layout, 2, 24)
        assert draft_cells(world["acme"])[(d.id, month(1))] == 33


def test_a_clean_wide_upload_replaces_rows_and_a_long_one_single_cells(app, world):
    a, b, _ = world["skus"]
    with app.app_context():
        buyer = person("buyer@acme.test")
        data = csv_bytes(
            [["SKU", "Product", month(0), month(1)], [a, "x", "5", "6"], [b, "", "", "1"]]
        )
        assert uploads.upload(buyer, data, TODAY).cells == 4
        cells = draft_cells(world["acme"])
        pa, pb = product(a).id, product(b).id
        assert (cells[(pa, month(0))], cells[(pa, month(1))], cells[(pb, month(0))]) == (5, 6, 0)
        assert len(cells) == 24  # every month of each row
        long = workbook([["sku", "month", "qty"], [a.lower(), month(1), 60]])
        assert uploads.upload(buyer, long, TODAY).layout == "long"
        cells = draft_cells(world["acme"])
        assert (cells[(pa, month(0))], cells[(pa, month(1))]) == (5, 60)


def test_an_upload_that_starts_a_draft_keeps_the_rest_of_the_latest_version(app, world):
    a, b, _ = world["skus"]
    with app.app_context():
        buyer = person("buyer@acme.test")
        pa, pb = (drafts.add_product(buyer, sku, TODAY).id for sku in (a, b))
        drafts.save_cell(buyer, pa, month(0), "4", TODAY)
        drafts.save_cell(buyer, pa, month(1), "5", TODAY)
        drafts.save_cell(buyer, pb, month(0), "6", TODAY)
        versions.publish(buyer, "", TODAY)
        uploads.upload(buyer, csv_bytes([["SKU", "Month", "Quantity"], [a, month(1), "50"]]), TODAY)
        cells = draft_cells(world["acme"])
        assert (cells[(pa, month(0))], cells[(pa, month(1))], cells[(pb, month(0))]) == (4, 50, 6)
        assert len(cells) == 24


def _refused(buyer, data: bytes) -> list[tuple[int | None, str]]:
    with pytest.raises(uploads.UploadRefused) as refused:
        uploads.upload(buyer, data, TODAY)
    db.session.rollback()
    return [(e.row, e.reason) for e in refused.value.errors]


def test_every_bad_row_is_named_and_nothing_is_applied(app, world):
    a, b, _ = world["skus"]
    with app.app_context():
        buyer = person("buyer@acme.test")
        drafts.add_product(buyer, a, TODAY)
        before = draft_cells(world["acme"])
        data = csv_bytes(
            [
                ["SKU", "Month", "Quantity"],
                [a, month(0), "5"],  # fine, yet not applied
                ["NO-SUCH", month(0), "5"],
                [world["discontinued"], month(0), "5"],
                [b, month(40), "5"],
                [b, month(1), "-2"],
                [b, month(2), "2.5"],
                [a, month(0), "7"],
                [b, "soon", "1"],
                [b, month(3), ""],
            ]
        )
        errors = _refused(buyer, data)
        reasons = dict(errors)
        assert [row for row, _ in errors] == [3, 4, 5, 6, 7, 8, 9, 10]
        assert "no product with SKU" in reasons[3]
        assert "discontinued" in reasons[4]
        assert "outside the horizon" in reasons[5]
        assert "not a whole number" in reasons[6] and "not a whole number" in reasons[7]
        assert "already on row 2" in reasons[8]
        assert "not a month" in reasons[9]
        assert "missing" in reasons[10]
        assert draft_cells(world["acme"]) == before


def test_wide_files_name_bad_columns_and_duplicate_rows(app, world):
    a, b, _ = world["skus"]
    with app.app_context():
        buyer = person("buyer@acme.test")
        header_errors = _refused(
            buyer, workbook([["SKU", "Product", month(0), month(30), "Total"], [a, "", 1, 2, 3]])
        )
        assert [row for row, _ in header_errors] == [1, 1]
        assert "outside the horizon" in header_errors[0][1] and "Column 5" in header_errors[1][1]
        rows = _refused(
            buyer,
            workbook([["SKU", "Product", month(0)], [a, "", 1], [b, "", "x"], [a, "", 2]]),
        )
        assert rows == [
            (3, f"{b} {month(0)}: “x” is not a whole number of 0 or more."),
            (4, f"{a} is already on row 2."),
        ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "Choose a file"),
        (b"SKU|Month|Quantity\nA|2026-01|1\n", "not a header this portal knows"),
        ("SKU;Month;Quantity\n".encode("utf-16"), "neither a CSV text file nor an XLSX"),
        (b"SKU,Month,Quantity\n\x81\x8d,\x90,1\n", "neither UTF-8 nor Windows-1252"),
        (b"PK\x03\x04 not really a zip", "not a valid XLSX"),
        (b"x" * (5 * 1024 * 1024 + 1), "larger than 5 MB"),
        (b"SKU,Month,Quantity\n", "no forecast rows"),
    ],
)
def test_unreadable_files_are_refused(app, world, data, reason):
    with app.app_context():
        errors = _refused(person("buyer@acme.test"), data)
        assert reason in errors[0][1]


@pytest.mark.parametrize(("data", "name", "message"), DAMAGED)
def test_damaged_files_uploaded_through_the_page_get_their_message_and_change_nothing(
    app, demo, login_as, data, name, message
):
    from werkzeug.datastructures import FileStorage

    buyer = login_as("buyer@acme.test")
    before = row_counts(app)
    response = buyer.post(
        "/forecasts/upload",
        {"file": FileStorage(io.BytesIO(data), filename=name)},
        page="/forecasts",
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    refusal = soup(response).select_one(".upload-errors")
    assert "Nothing was changed" in refusal.get_text()
    assert re.search(message, refusal.select_one("li").get_text())
    assert row_counts(app) == before


def test_a_zip_bomb_and_xml_entities_are_refused(app, world):
    clean = workbook([["SKU", "Month", "Quantity"], [world["skus"][0], month(0), 1]])
    source = zipfile.ZipFile(io.BytesIO(clean))

    def rezip(replace: dict[str, bytes]) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                target.writestr(item.filename, replace.get(item.filename, source.read(item)))
            for name in replace.keys() - set(source.namelist()):
                target.writestr(name, replace[name])
        return out.getvalue()

    bomb = rezip({"xl/media/padding.bin": b"\0" * (30 * 1024 * 1024)})
    assert len(bomb) < 100_000
    sheet = source.read("xl/worksheets/sheet1.xml").decode()
    entity = sheet.replace(
        "<worksheet",
        '<!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><worksheet',
        1,
    )
    entities = rezip({"xl/worksheets/sheet1.xml": entity.encode()})
    with app.app_context():
        buyer = person("buyer@acme.test")
        assert (
            "zip bomb" in _refused(buyer, bomb)[0][1]
            or "unpacks to more" in _refused(buyer, bomb)[0][1]
        )
        assert "XML entities" in _refused(buyer, entities)[0][1]
        assert draft_cells(world["acme"]) == {}


def test_errors_are_capped_but_counted(app, world):
    rows = [["SKU", "Month", "Quantity"]] + [[f"NOPE-{n}", month(0), "1"] for n in range(120)]
    with app.app_context(), pytest.raises(uploads.UploadRefused) as refused:
        uploads.upload(person("buyer@acme.test"), csv_bytes(rows, ";"), TODAY)
    assert len(refused.value.errors) == uploads.MAX_ERRORS_SHOWN
    assert refused.value.total == 120


def test_an_upload_through_the_page_lists_each_row_then_applies_a_clean_file(app, world, login_as):
    from werkzeug.datastructures import FileStorage

    a = world["skus"][0]
    buyer = login_as("buyer@acme.test")
    bad = csv_bytes([["SKU", "Month", "Quantity"], [a, month(0), "-1"], ["NOPE", month(0), "1"]])
    response = buyer.post(
        "/forecasts/upload",
        {"file": FileStorage(io.BytesIO(bad), filename="bad.csv")},
        page="/forecasts",
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    items = [li.text for li in soup(response).select(".upload-errors li")]
    assert items[0].startswith("Row 2:") and items[1].startswith("Row 3:")
    good = csv_bytes([["SKU", "Month", "Quantity"], [a, month(0), "8"]], "\t")
    response = buyer.post(
        "/forecasts/upload",
        {"file": FileStorage(io.BytesIO(good), filename="good.csv")},
        page="/forecasts",
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    page = soup(buyer.get("/forecasts"))
    assert page.select_one("#grand-total").text == "8"
    assert "1 cells of 1 products" in page.select_one(".flash-success").text


def test_template_downloads_are_attachments(app, world, login_as):
    buyer = login_as("buyer@acme.test")
    response = buyer.get("/forecasts/template.csv?layout=long")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert buyer.get("/forecasts/template.csv?layout=diagonal").status_code == 404
    xlsx = buyer.get("/forecasts/template.xlsx")
    assert xlsx.data[:2] == b"PK"


def test_the_grid_is_fast_to_read_at_a_realistic_size(app, world):
    """150 products × 24 months: the page's grid is read in a few statements."""
    from sqlalchemy import event

    with app.app_context():
        admin = person("admin@acme.test")
        service.set_horizon(admin, world["acme"], "24")
        skus = db.session.scalars(
            select(Product.sku).where(Product.status == "active").order_by(Product.sku).limit(150)
        ).all()
        header = ["SKU", "Product", *(month(n) for n in range(24))]
        uploads.upload(admin, workbook([header] + [[s, "", *range(24)] for s in skus]), TODAY)
        statements = []
        listener = lambda *args: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        grid = drafts.grid(admin, TODAY)
        event.remove(db.engine, "before_cursor_execute", listener)
        # The first batch of rows; the totals of the whole grid.
        assert len(grid.rows) == drafts.BATCH and grid.products == len(skus)
        assert grid.total == len(skus) * sum(range(24))
        assert len(statements) <= 10  # a fixed number, whatever the size
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", listener)
        drafts.grid(admin, TODAY, after=grid.next_after, limit=100)
        event.remove(db.engine, "before_cursor_execute", listener)
        assert len(statements) <= 10  # and for any batch, whatever its size


def test_the_grid_comes_in_batches_that_hold_every_row_once(app, world, login_as):
    """Keyset batches: walking the grid batch by batch meets every product once, in
    SKU order, each with its own cells; every batch carries the whole grid's totals;
    a cell saved in a row far from the first screen changes them."""
    with app.app_context():
        admin = person("admin@acme.test")
        skus = db.session.scalars(
            select(Product.sku)
            .where(Product.status == "active")
            .order_by(Product.sku_key)
            .limit(120)
        ).all()
        header = ["SKU", "Product", month(0), month(1)]
        rows = [[sku, "", n, 1] for n, sku in enumerate(skus)]
        uploads.upload(admin, workbook([header, *rows]), TODAY)
        seen, after, batches = [], None, 0
        while True:
            grid = drafts.grid(admin, TODAY, after=after, limit=50)
            batches += 1
            assert grid.products == 120
            assert grid.month_totals[THIS_MONTH] == sum(range(120))
            assert grid.total == sum(range(120)) + 120
            seen += [(row.product.sku, row.quantities[THIS_MONTH]) for row in grid.rows]
            if grid.next_after is None:
                break
            after = grid.next_after
        assert batches == 3 and [n for _, n in seen] == list(range(120))
        assert [sku for sku, _ in seen] == list(skus)
        far = db.session.scalar(select(Product.id).where(Product.sku == skus[100]))
    buyer = login_as("admin@acme.test")
    page = soup(buyer.get("/forecasts"))
    n = drafts.BATCH
    assert len(page.select("#forecast-grid tbody input[data-cell]")) == n * 12
    more = page.select_one("tr[data-more-rows] a[data-more]")
    assert more.text == "Show the next products"
    # htmx asks for the next batch: the rows alone (and the row that loads the one after).
    response = buyer.get(more["hx-get"], headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    batch = soup(response)
    assert batch.select_one("h1") is None and batch.select_one("tfoot") is None
    names = [th.select_one(".sku").text for th in batch.select("th[scope=row]")]
    assert names == list(skus[n : 2 * n])
    # Without JavaScript the link gives the page from there, totals of the whole grid.
    page = soup(buyer.get(more["href"]))
    assert page.select_one("#forecast-grid tbody th[scope=row] .sku").text == skus[n]
    assert page.select_one("#grand-total").text == f"{sum(range(120)) + 120:,}"
    last = soup(buyer.get(f"/forecasts?after={skus[99]}", headers={"HX-Request": "true"}))
    assert len(last.select("th[scope=row]")) == 20 and last.select_one("[data-more]") is None
    # A cell of the 101st row, never on the first screen: its totals are the grid's.
    saved = soup(
        buyer.post(
            "/forecasts/cells",
            data={"product_id": far, "month": month(1), "quantity": "1001"},
            page="/forecasts",
            headers={"HX-Request": "true"},
        )
    )
    # (the totals come in <template>s for htmx to swap out of band)
    assert saved.select_one(".saved-mark")
    assert saved.find(id=f"month-total-{month(1)}").decode_contents() == f"{120 + 1000:,}"
    assert saved.find(id="grand-total").decode_contents() == f"{sum(range(120)) + 120 + 1000:,}"
    # "Copy →" on that row (htmx): the row alone comes back for its place, with the
    # totals of the whole grid; the first screen is not sent again.
    filled = soup(
        buyer.post(
            "/forecasts/fill", data={"product_id": far}, page="/forecasts",
            headers={"HX-Request": "true"},
        )
    )  # fmt: skip
    assert [th.select_one(".sku").text for th in filled.select("th[scope=row]")] == [skus[100]]
    assert filled.select_one(f"#row-total-{far}").text == "1,200"
    assert filled.select_one("#forecast-grid") is None and filled.select_one("[data-more]") is None
    assert filled.find(id="grand-total").decode_contents() == f"{8260 - 1101 + 1200:,}"
    assert "copied to every month" in filled.find(id="grid-notice").decode_contents()
    # Whatever is given as the position, nothing breaks.
    for after in ("", "zzzz", "'; drop table product; --", "x" * 500):
        batch = buyer.get(f"/forecasts?after={after}", headers={"HX-Request": "true"})
        assert batch.status_code == 200
        assert buyer.get(f"/forecasts?after={after}").status_code == 200


# --- headers in either language -------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_indonesian_buyers_templates_have_indonesian_headers(app, world, login_as, fmt):
    from .support import set_language

    set_language(app, "buyer@acme.test", "id")
    buyer = login_as("buyer@acme.test")
    headers = {}
    for layout in ("wide", "long"):
        data = buyer.get(f"/forecasts/template.{fmt}?layout={layout}").data
        if fmt == "xlsx":
            headers[layout] = [c.value for c in next(load_workbook(io.BytesIO(data)).active.rows)]
        else:
            headers[layout] = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    # Months stay ISO (2026-12) in every language: they read back whatever the locale.
    assert headers["wide"][:3] == ["SKU", "Produk", month(0)]
    assert headers["long"] == ["SKU", "Produk", "Bulan", "Jumlah"]


@pytest.mark.parametrize(
    "header", [["SKU", "Product", "Month", "Quantity"], ["SKU", "Produk", "Bulan", "Jumlah"]]
)
def test_an_upload_takes_english_and_indonesian_headers(app, world, header):
    a = world["skus"][0]
    with app.app_context():
        buyer = person("buyer@acme.test")
        result = uploads.upload(buyer, csv_bytes([header, [a, "", month(1), "7"]]), TODAY)
        assert (result.layout, result.cells) == ("long", 1)
        assert draft_cells(world["acme"])[(product(a).id, month(1))] == 7


def test_a_misspelt_upload_header_names_the_column_and_changes_nothing(app, world):
    a = world["skus"][0]
    before = row_counts(app)
    with app.app_context():
        buyer = person("buyer@acme.test")
        [(row, reason)] = _refused(
            buyer, csv_bytes([["SKU", "Produk", "Bulan", "Jumlh"], [a, "", month(1), "7"]])
        )
        assert row == 1
        assert "the column Quantity is missing (name it “Quantity” or “Jumlah”)" in reason
        assert "“Jumlh”: not a column this import knows" in reason
        [(row, reason)] = _refused(buyer, csv_bytes([["SKUU", month(0)], [a, "7"]]))
        assert row == 1 and "The first column is named “SKU”" in reason
    assert row_counts(app) == before
