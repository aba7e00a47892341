"""Vendor admins keep the catalog: products, stock, imports, contract prices."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from portal.accounts.models import CustomerAccount
from portal.audit.models import AuditEvent
from portal.catalog.models import Category, ContractPrice, Product, Stock
from portal.extensions import db

from .damaged_files import DAMAGED, row_counts
from .support import soup

PRODUCT = {
    "sku": "NEW-1/A",
    "name": "New part",
    "category": "Valves",
    "unit": "pc",
    "pack_size": "1",
    "min_order_qty": "10",
    "order_multiple": "5",
    "lead_time_days": "7",
    "list_price": "12.50",
    "status": "active",
    "replacement_sku": "",
    "yearly_service_cost": "",
    "yearly_consumables_cost": "",
    "on_hand": "40",
    "description": "A new part",
}


@pytest.fixture
def existing(app, demo) -> int:
    with app.app_context():
        product = Product(
            sku="OLD-1",
            name="Old part",
            category=Category(name="Valves"),
            list_price=Decimal("3.00"),
            stock=Stock(on_hand=10, reserved=4),
        )
        db.session.add(product)
        db.session.commit()
        return product.id


def test_admin_creates_a_product_with_stock(app, login_as, existing):
    admin = login_as("admin@vendor.test")
    response = admin.post("/catalog/products/new", PRODUCT)
    assert response.status_code == 303
    with app.app_context():
        product = db.session.scalar(select(Product).where(Product.sku_key == "NEW-1/A"))
        assert (product.list_price, product.stock.on_hand, product.category.name) == (
            Decimal("12.50"),
            40,
            "Valves",
        )
        assert (
            db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()))
            == "product_created"
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sku": "old-1"}, "already exists"),
        ({"list_price": "-1"}, "between 0 and"),
        ({"min_order_qty": "12"}, "multiple of the order multiple"),
        ({"order_multiple": "0"}, "between 1 and"),
        ({"list_price": "abc"}, "Not a valid decimal"),
        ({"name": ""}, "required"),
        ({"status": "gone"}, "Not a valid choice"),
    ],
)
def test_bad_product_forms_save_nothing(app, login_as, existing, changes, message):
    admin = login_as("admin@vendor.test")
    before = count(app, Product)
    response = admin.post("/catalog/products/new", PRODUCT | changes)
    assert response.status_code == 422
    assert message in soup(response).select_one("#product-form").get_text()
    assert count(app, Product) == before


def test_on_hand_cannot_drop_below_what_orders_reserved(app, login_as, existing):
    admin = login_as("admin@vendor.test")
    response = admin.post(
        f"/catalog/products/{existing}/edit",
        PRODUCT | {"sku": "OLD-1", "min_order_qty": "1", "order_multiple": "1", "on_hand": "3"},
    )
    assert response.status_code == 422
    assert "4 are reserved" in soup(response).select_one("#on_hand-error").get_text()


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def upload(admin, content: bytes, name: str = "products.csv"):
    return admin.post(
        "/catalog/import",
        {"kind": "products", "upload": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_import_creates_and_updates_products(app, login_as, existing):
    admin = login_as("admin@vendor.test")
    csv = (
        b"sku;name;category;list_price;on_hand;lead_time_days\n"
        b"old-1;;;4,20;;21\n"
        b"IMP-1;Imported part;Seals;1.05;100;\n"
    )
    response = upload(admin, csv)
    assert "1 new product, 1 updated" in soup(response).select_one("#import-result").get_text()
    with app.app_context():
        old = db.session.get(Product, existing)
        assert (old.list_price, old.lead_time_days, old.name) == (Decimal("4.20"), 21, "Old part")
        new = db.session.scalar(select(Product).where(Product.sku_key == "IMP-1"))
        assert new.stock.on_hand == 100 and new.category.name == "Seals"


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        (b"sku,name,colour\nA,B,red\n", 1, "“colour”: not a column this import knows"),
        (b"name,list_price\nA,1\n", 1, "the column SKU is missing"),
        (b"sku,name,category,list_price\nNEW-9,Part,Cat,\n", 2, "needs a list price"),
        (b"sku,name,category,list_price\nNEW-9,Part,Cat,1.999\n", 2, "at most two decimals"),
        (b"sku,name,category,list_price,on_hand\nNEW-9,Part,Cat,1,2.5\n", 2, "not a whole number"),
        (b"sku,list_price\nOLD-1,-3\n", 2, "cannot be negative"),
        (b"sku,on_hand\nOLD-1,1\n", 2, "below the 4 reserved"),
        (b"sku,status\nOLD-1,gone\n", 2, "active or discontinued"),
        (b"sku,list_price\nOLD-1,1\nold-1,2\n", 3, "already appears on line 2"),
        (b"sku,list_price\n,1\n", 2, "no SKU"),
    ],
)
def test_bad_imports_apply_nothing_and_name_every_bad_line(
    app, login_as, existing, content, line, problem
):
    admin = login_as("admin@vendor.test")
    before = count(app, Product)
    response = upload(admin, content)
    assert response.status_code == 422
    assert "Nothing was imported" in soup(response).select_one("[role=alert]").get_text()
    rows = [
        [td.get_text() for td in tr.select("td")]
        for tr in soup(response).select("#import-result tbody tr")
    ]
    assert any(int(n) == line and problem in text for n, text in rows), rows
    assert count(app, Product) == before
    with app.app_context():
        assert db.session.get(Product, existing).list_price == Decimal("3.00")


def test_one_bad_row_stops_the_good_ones(app, login_as, existing):
    admin = login_as("admin@vendor.test")
    response = upload(admin, b"sku,name,category,list_price\nGOOD-1,Good,Cat,1\nBAD-1,Bad,Cat,x\n")
    assert response.status_code == 422
    assert count(app, Product, Product.sku_key == "GOOD-1") == 0


def test_import_from_xlsx_and_refusals_of_bad_files(app, login_as, existing):
    book = Workbook()
    book.active.append(["SKU", "Name", "Category", "List price"])
    book.active.append(["XLS-1", "From a sheet", "Cables", 2.5])
    buffer = io.BytesIO()
    book.save(buffer)
    admin = login_as("admin@vendor.test")
    response = upload(admin, buffer.getvalue(), "products.xlsx")
    assert "1 new product" in soup(response).select_one("#import-result").get_text()
    for content, message in (
        (b"", "missing or empty"),
        (b"PK\x03\x04junk", "not a valid XLSX"),
        (b"\x00\x00", "neither a CSV"),
    ):
        response = upload(admin, content)
        assert message in soup(response).select_one("[role=alert]").get_text()


@pytest.mark.parametrize(("content", "name", "message"), DAMAGED)
@pytest.mark.parametrize("kind", ["products", "prices"])
def test_damaged_files_get_their_message_and_import_nothing(
    app, login_as, existing, kind, content, name, message
):
    admin = login_as("admin@vendor.test")
    before = row_counts(app)
    response = admin.post(
        "/catalog/import",
        {"kind": kind, "upload": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert re.search(message, soup(response).select_one("[role=alert]").get_text())
    assert row_counts(app) == before


def test_contract_prices_are_added_by_admins_and_seen_by_their_account_only(
    app, login_as, existing
):
    with app.app_context():
        acme = db.session.scalar(
            select(CustomerAccount.id).where(CustomerAccount.number == "C-10001")
        )
    admin = login_as("admin@vendor.test")
    form = {
        "sku": "old-1",
        "min_quantity": "10",
        "unit_price": "2.40",
        "valid_from": "2026-01-01",
        "valid_until": "",
    }
    assert (
        admin.post(f"/catalog/prices/{acme}/add", form, page=f"/catalog/prices/{acme}").status_code
        == 303
    )
    for changes, message in (
        ({"sku": "NOPE"}, "No product has the SKU"),
        ({"valid_until": "2025-01-01"}, "before its start"),
        ({"unit_price": "-1"}, "between 0 and"),
        ({}, "already exists"),
    ):
        response = admin.post(
            f"/catalog/prices/{acme}/add", form | changes, page=f"/catalog/prices/{acme}"
        )
        assert response.status_code == 422
        assert message in soup(response).get_text()
    buyer = login_as("buyer@acme.test")
    page = soup(buyer.client.get(f"/catalog/prices/{acme}"))
    assert "2.40 EUR" in page.select_one("table").get_text()
    assert not page.select("form[method=post] button.primary")  # buyers only look
    assert (
        buyer.post(f"/catalog/prices/{acme}/add", form, page=f"/catalog/prices/{acme}").status_code
        == 403
    )
    assert login_as("buyer@globex.test").client.get(f"/catalog/prices/{acme}").status_code == 404
    assert count(app, ContractPrice) == 1


def test_edit_form_is_filled_from_the_product(login_as, existing):
    page = soup(login_as("admin@vendor.test").client.get(f"/catalog/products/{existing}/edit"))
    assert page.select_one("#category")["value"] == "Valves"
    assert page.select_one("#on_hand")["value"] == "10"
    assert page.select_one("#sku")["value"] == "OLD-1"


def test_contract_price_import_all_or_nothing(app, login_as, existing):
    admin = login_as("admin@vendor.test")

    def send(text: str):
        return admin.post(
            "/catalog/import",
            {"kind": "prices", "upload": (io.BytesIO(text.encode()), "p.csv")},
            content_type="multipart/form-data",
        )

    bad = send(
        "account_number,sku,min_quantity,unit_price,valid_from,valid_until\n"
        "C-10001,OLD-1,1,2.50,2026-01-01,\n"
        "C-99999,OLD-1,1,2.50,2026-01-01,\n"
        "C-10001,NOPE,1,2.50,2026-01-01,\n"
        "C-10001,OLD-1,0,-1,01.01.2026,\n"
        "C-10002,OLD-1,1,2.50,2026-02-01,2026-01-01\n"
    )
    problems = [
        (int(tr.select("td")[0].get_text()), tr.select("td")[1].get_text())
        for tr in soup(bad).select("#import-result tbody tr")
    ]
    assert (3, "no customer account C-99999") in problems
    assert (4, "no product with the SKU NOPE") in problems
    assert (5, "min quantity must be at least 1") in problems
    assert (5, "unit price cannot be negative") in problems
    assert any(line == 5 and "not a date" in text for line, text in problems)
    assert (6, "valid until is before valid from") in problems
    assert count(app, ContractPrice) == 0
    good = send(
        "account_number;sku;min_quantity;unit_price;valid_from\n"
        "c-10001;old-1;1;2,50;2026-01-01\nC-10001;OLD-1;10;2,30;2026-01-01\n"
    )
    assert "2 new price breaks" in soup(good).select_one("#import-result").get_text()
    again = send(
        "account_number,sku,min_quantity,unit_price,valid_from\nC-10001,OLD-1,10,2.20,2026-01-01\n"
    )
    assert "0 new price breaks, 1 updated" in soup(again).select_one("#import-result").get_text()
    with app.app_context():
        assert sorted(db.session.scalars(select(ContractPrice.unit_price))) == [
            Decimal("2.20"),
            Decimal("2.50"),
        ]


def test_an_import_without_saying_what_it_holds_is_refused_clearly(login_as, existing):
    admin = login_as("admin@vendor.test")
    response = admin.post(
        "/catalog/import",
        {"kind": "orders", "upload": (io.BytesIO(b"sku\nOLD-1\n"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "The file holds" in soup(response).select_one("[role=alert]").get_text()


# --- headers in either language -------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "SKU;Name;Category;List price;Stock on hand;Lead time (days)",
        "SKU;Nama;Kategori;Harga daftar;Stok tersedia;Waktu tunggu (hari)",
        "sku;NAMA;kategori;harga_daftar;stok tersedia;lead_time_days",
    ],
)
def test_the_product_import_takes_english_and_indonesian_headers(app, login_as, existing, header):
    response = upload(
        login_as("admin@vendor.test"), f"{header}\nIMP-2;Katup;Seals;1,05;7;9\n".encode()
    )
    assert "1 new product" in soup(response).select_one("#import-result").get_text()
    with app.app_context():
        new = db.session.scalar(select(Product).where(Product.sku_key == "IMP-2"))
        assert (new.name, new.list_price, new.stock.on_hand, new.lead_time_days) == (
            "Katup",
            Decimal("1.05"),
            7,
            9,
        )


def _problems(response) -> list[tuple[int, str]]:
    return [
        (int(tr.select("td")[0].get_text()), tr.select("td")[1].get_text())
        for tr in soup(response).select("#import-result tbody tr")
    ]


def test_a_misspelt_product_header_is_named_in_the_readers_language(app, login_as, existing):
    from .support import set_language

    set_language(app, "admin@vendor.test", "id")
    admin = login_as("admin@vendor.test")
    before = count(app, Product)
    response = upload(admin, b"SKU;Nama;Kategori;Harga dafter\nIMP-3;Katup;Seals;1\n")
    assert response.status_code == 422
    [(line, problem)] = _problems(response)
    assert line == 1
    assert "“Harga dafter”: bukan kolom yang dikenal impor ini" in problem
    assert "Harga daftar" in problem and "Stok tersedia" in problem  # the columns, in Indonesian
    response = upload(admin, b"Nama;Harga daftar\nKatup;1\n")
    assert _problems(response) == [(1, "kolom SKU tidak ada (beri nama “SKU”)")]
    assert count(app, Product) == before


def _send_prices(admin, text: str):
    return admin.post(
        "/catalog/import",
        {"kind": "prices", "upload": (io.BytesIO(text.encode()), "p.csv")},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    "header",
    [
        "Account number,SKU,Minimum quantity,Unit price,Valid from,Valid until,Currency",
        "Nomor akun,SKU,Jumlah minimum,Harga satuan,Berlaku mulai,Berlaku sampai,Mata uang",
    ],
)
def test_the_contract_price_import_takes_english_and_indonesian_headers(
    app, login_as, existing, header
):
    response = _send_prices(
        login_as("admin@vendor.test"), f"{header}\nC-10001,OLD-1,5,2.40,2026-01-01,,EUR\n"
    )
    assert "1 new price break" in soup(response).select_one("#import-result").get_text()
    with app.app_context():
        assert db.session.scalar(select(ContractPrice.min_quantity)) == 5


def test_a_misspelt_contract_price_header_names_the_column_and_its_headers(app, login_as, existing):
    admin = login_as("admin@vendor.test")
    response = _send_prices(
        admin,
        "Nomor akun,SKU,Jumlah minimum,Harga satuaan,Berlaku mulai\n"
        "C-10001,OLD-1,5,2.40,2026-01-01\n",
    )
    assert response.status_code == 422
    [(line, problem)] = _problems(response)
    assert line == 1
    assert "the column Unit price is missing (name it “Unit price” or “Harga satuan”)" in problem
    assert "“Harga satuaan”: not a column this import knows" in problem
    assert count(app, ContractPrice) == 0
