"""The terminal: quick order lines, cart, idempotent checkout, approval, cancellation."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.accounts.models import CustomerAccount, User
from portal.catalog.models import Category, ContractPrice, Product, Stock
from portal.extensions import db
from portal.ordering import quick_order
from portal.ordering.models import CartLine, Order, OrderEvent

from .damaged_files import DAMAGED, row_counts
from .support import soup

TODAY = date.today()


@pytest.fixture
def parts(app, demo):
    """Hand-made products with known rules, and an Acme contract price for the bolt."""
    with app.app_context():
        category = Category(name="Parts")

        def make(sku, name, price, on_hand, **rules):
            product = Product(
                sku=sku,
                name=name,
                category=category,
                list_price=Decimal(price),
                lead_time_days=rules.pop("lead_time_days", 14),
                **rules,
            )
            product.stock = Stock(on_hand=on_hand)
            db.session.add(product)
            return product

        bolt = make(
            "FST-M8x30-A2", "Hex bolt M8x30 A2", "0.40", 1000, min_order_qty=100, order_multiple=100
        )
        valve = make("HYD-VLV-1/2 NC", "Solenoid valve G1/2", "100.00", 10)
        new_pump = make("EQ-PMP-300 X", "Pump 300 extended", "5000.00", 0, lead_time_days=42)
        make(
            "EQ-PMP-300",
            "Pump 300",
            "4000.00",
            5,
            status="discontinued",
            replacement_sku="EQ-PMP-300 X",
        )
        db.session.flush()
        acme = db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == "C-10001"))
        db.session.add(
            ContractPrice(
                account_id=acme.id,
                product_id=bolt.id,
                min_quantity=1,
                unit_price=Decimal("0.30"),
                valid_from=TODAY - timedelta(days=9),
            )
        )
        db.session.commit()
        return {"bolt": bolt.id, "valve": valve.id, "new_pump": new_pump.id, "acme": acme.id}


# --- reading lines ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FST-M8x30-A2 200", [("FST-M8x30-A2", 200)]),
        ("FST-M8x30-A2,200\nHYD-VLV-1/2 NC;3", [("FST-M8x30-A2", 200), ("HYD-VLV-1/2 NC", 3)]),
        ("SKU\tQty\nEQ-PMP-300 X\t2\n\n", [("EQ-PMP-300 X", 2)]),  # header, tab, spaces in SKU
        ("Article;Quantity\r\nfst-m8x30-a2; 100 \r\n", [("fst-m8x30-a2", 100)]),
        ('"HYD-VLV-1/2 NC",4', [("HYD-VLV-1/2 NC", 4)]),
        ("EQ-PMP-300 X 1", [("EQ-PMP-300 X", 1)]),
    ],
)
def test_paste_formats(text, expected):
    lines = quick_order.parse_paste(text)
    assert [(line.sku, line.quantity) for line in lines] == expected
    assert all(line.problem is None for line in lines)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("FST-M8x30-A2 0", "at least 1"),
        ("FST-M8x30-A2 -5", "at least 1"),
        ("FST-M8x30-A2 1.5", "whole number"),
        ("FST-M8x30-A2,2,5", "whole number"),  # a decimal comma in a comma file: 2 then 5? no: 2
        ("FST-M8x30-A2 99999999", "too large"),
        ("FST-M8x30-A2", "no quantity"),
        (",5", "no SKU"),
        ("FST-M8x30-A2;lots", "not a quantity"),
    ],
)
def test_bad_paste_lines_say_what_is_wrong(text, problem):
    lines = quick_order.parse_paste(text)
    if problem == "whole number" and "," in text:
        # "SKU,2,5" is SKU and 2: the third cell is ignored, as a spreadsheet would.
        assert lines[0].quantity == 2
        return
    assert problem in lines[0].problem
    assert lines[0].line_no == 1


def test_too_many_lines_are_refused():
    with pytest.raises(quick_order.TooManyLines):
        quick_order.parse_paste("\n".join(f"SKU-{n} 1" for n in range(501)))


def test_checking_lines_against_the_catalog(app, parts):
    text = "\n".join(
        [
            "FST-M8x30-A2 150",  # 1: not a multiple of 100 -> 200
            "fst-m8x30-a2 100",  # 2: the same SKU: merged with line 1
            "HYD-VLV-1/2 NC 3",  # 3: fine
            "EQ-PMP-300 1",  # 4: discontinued, replaced
            "FST-M8X3O-A2 100",  # 5: a typo (letter O): unknown, with a close match
            "FST-M8x30-A2 x",  # 6: not a quantity
        ]
    )
    with app.app_context():
        checked = quick_order.check(quick_order.parse_paste(text), parts["acme"], TODAY)
        by_line = {line.line_nos[0]: line for line in checked}
        bolt = by_line[1]
        assert bolt.line_nos == [1, 2] and bolt.quantity == 250
        assert bolt.status == "adjust" and bolt.suggested_quantity == 300
        assert "multiples of 100" in bolt.message and "merged lines 1, 2" in bolt.message
        assert bolt.unit_price == Decimal("0.30")  # Acme's contract price
        assert by_line[3].status == "ok" and by_line[3].line_total == Decimal("300.00")
        pump = by_line[4]
        assert pump.status == "discontinued" and pump.replacement.sku == "EQ-PMP-300 X"
        assert pump.unit_price == Decimal("5000.00")
        typo = by_line[5]
        assert typo.status == "unknown"
        assert "FST-M8x30-A2" in [p.sku for p in typo.close_matches]
        assert by_line[6].status == "invalid"


def test_below_minimum_offers_the_minimum(app, parts):
    with app.app_context():
        (line,) = quick_order.check(quick_order.parse_paste("FST-M8x30-A2 20"), None, TODAY)
    assert line.suggested_quantity == 100 and "minimum order is 100" in line.message


# --- quick order page, upload, accept -------------------------------------------------


def test_paste_then_accept_puts_only_ticked_lines_in_the_cart(app, login_as, parts):
    buyer = login_as("buyer@acme.test")
    page = buyer.post("/order", {"paste": "HYD-VLV-1/2 NC 2\nNOPE-1 3\nFST-M8x30-A2 150"})
    rows = soup(page).select("#review tbody tr")
    statuses = [r.select_one(".line-status").get_text() for r in rows]
    assert statuses == ["OK", "Unknown SKU", "Quantity rounded"]
    ticked = [r.select_one("input[name=add]") for r in rows]
    assert ticked[0].has_attr("checked") and ticked[1] is None and not ticked[2].has_attr("checked")
    assert count(app, CartLine) == 0  # nothing before accepting
    form = {"add": ["0"], "product-0": str(parts["valve"]), "quantity-0": "2"}
    assert buyer.post("/order/accept", form, page="/order").status_code == 303
    cart = soup(buyer.client.get("/cart"))
    assert [td.get_text() for td in cart.select("#cart tbody td.sku")] == ["HYD-VLV-1/2 NC"]
    assert "200.00 EUR" in cart.select_one("tfoot").get_text()


def test_a_tampered_accept_form_adds_nothing(app, login_as, parts):
    buyer = login_as("buyer@acme.test")
    form = {
        "add": ["0", "1"],
        "product-0": str(parts["valve"]),
        "quantity-0": "1",
        "product-1": str(parts["bolt"]),
        "quantity-1": "150",
    }  # not a multiple of 100
    response = buyer.post("/order/accept", form, page="/order")
    assert response.status_code == 303
    assert count(app, CartLine) == 0
    message = soup(buyer.client.get("/order")).select_one(".flashes").get_text()
    assert "multiples of 100" in message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"PK\x03\x04 zipped", "not a valid XLSX"),
        (b"\x00\x01binary", "neither a CSV"),
        (b"x" * (1024 * 1024 + 1), "larger than 1 MB"),
    ],
)
def test_bad_uploads_are_refused_with_a_message(login_as, parts, content, message):
    import io

    buyer = login_as("buyer@acme.test")
    response = buyer.post(
        "/order", {"upload": (io.BytesIO(content), "lines.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert message in soup(response).select_one("[role=alert]").get_text()


@pytest.mark.parametrize(("content", "name", "message"), DAMAGED)
def test_damaged_files_get_their_message_and_change_nothing(
    app, login_as, parts, content, name, message
):
    """A damaged workbook or a file that is no CSV gets its message beside the form."""
    import io

    buyer = login_as("buyer@acme.test")
    before = row_counts(app)
    response = buyer.post(
        "/order", {"upload": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert re.search(message, soup(response).select_one("[role=alert]").get_text())
    assert row_counts(app) == before


def test_csv_upload_in_windows_encoding(login_as, parts):
    import io

    buyer = login_as("buyer@acme.test")
    data = "Artikel;Menge\nHYD-VLV-1/2 NC;2\nFÜR-NIX;1\n".encode("cp1252")
    response = buyer.post(
        "/order",
        {"upload": (io.BytesIO(data), "bestellung.csv")},
        content_type="multipart/form-data",
    )
    rows = soup(response).select("#review tbody tr")
    assert [r.select_one(".line-status").get_text() for r in rows] == ["OK", "Unknown SKU"]
    assert "FÜR-NIX" in rows[1].get_text()


def test_pad_row_shows_price_and_line_total(login_as, parts):
    buyer = login_as("buyer@acme.test")
    response = buyer.client.get(
        "/order/row?n=3&sku=fst-m8x30-a2&qty=200", headers={"HX-Request": "true"}
    )
    row = soup(response).select_one("td#pad-info-3")
    assert "Hex bolt" in row.get_text() and "60.00 EUR" in row.get_text()
    assert "<html" not in response.get_data(as_text=True)


def test_suggestions_list_matching_skus_with_the_buyers_price(login_as, parts):
    buyer = login_as("buyer@acme.test")
    response = buyer.client.get("/order/suggest?sku=fst", headers={"HX-Request": "true"})
    options = soup(response).select("[role=option]")
    assert [o["data-value"] for o in options] == ["FST-M8x30-A2"]
    assert "0.30 EUR" in options[0].get_text()
    assert "In stock, ships in 1 day" in options[0].get_text()


# --- cart ----------------------------------------------------------------------------


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def fill_cart(app, email: str, items: list[tuple[int, int]]) -> None:
    from portal.ordering import service

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        service.add_to_cart(user, items)


@pytest.mark.parametrize(
    ("quantity", "message"),
    [("150", "multiples of 100"), ("0", "minimum"), ("abc", "whole number"), ("", "whole number")],
)
def test_cart_quantity_changes_in_place_and_bad_ones_are_refused(
    app, login_as, parts, quantity, message
):
    fill_cart(app, "buyer@acme.test", [(parts["bolt"], 100)])
    buyer = login_as("buyer@acme.test")
    with app.app_context():
        line_id = db.session.scalar(select(CartLine.id))
    ok = buyer.post(
        f"/cart/lines/{line_id}", {"quantity": "300"}, page="/cart", headers={"HX-Request": "true"}
    )
    assert "90.00 EUR" in soup(ok).select_one("tfoot").get_text()
    bad = buyer.post(
        f"/cart/lines/{line_id}",
        {"quantity": quantity},
        page="/cart",
        headers={"HX-Request": "true"},
    )
    assert message in soup(bad).select_one("[role=alert]").get_text()
    assert count(app, CartLine, CartLine.quantity == 300) == 1


def test_cart_survives_signing_out_and_another_device(app, login_as, parts):
    fill_cart(app, "buyer@acme.test", [(parts["valve"], 1)])
    laptop = login_as("buyer@acme.test")
    laptop.logout()
    phone = login_as("buyer@acme.test")
    assert soup(phone.client.get("/cart")).select("#cart tbody tr")


def test_nobody_else_can_touch_a_cart_line(app, login_as, parts):
    fill_cart(app, "buyer@acme.test", [(parts["valve"], 1)])
    with app.app_context():
        line_id = db.session.scalar(select(CartLine.id))
    colleague = login_as("admin@acme.test")  # same account, another person
    response = colleague.post(f"/cart/lines/{line_id}", {"remove": "1"}, page="/cart")
    assert response.status_code == 404
    assert count(app, CartLine) == 1


# --- checkout -----------------------------------------------------------------------------


def checkout_form(buyer, **changes) -> dict:
    page = soup(buyer.client.get("/checkout"))
    form = {
        "po_number": "PO-4711",
        "ship_to_id": page.select_one("#ship_to_id option")["value"],
        "requested_date": "",
        "notes": "Ring at gate 2",
        "idempotency_key": page.select_one("input[name=idempotency_key]")["value"],
    }
    return form | changes


def test_checkout_places_an_order_at_the_prices_shown(app, login_as, parts):
    fill_cart(app, "buyer@acme.test", [(parts["bolt"], 300), (parts["valve"], 12)])
    buyer = login_as("buyer@acme.test")
    response = buyer.post("/checkout", checkout_form(buyer))
    assert response.status_code == 303
    number = response.headers["Location"].rsplit("/", 1)[1]
    assert number == f"{TODAY.year}-000001"
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        assert order.status == "placed" and order.po_number == "PO-4711"
        lines = {line.sku: line for line in order.lines}
        assert lines["FST-M8x30-A2"].unit_price == Decimal("0.30")  # contract, captured
        assert lines["HYD-VLV-1/2 NC"].reserved_quantity == 10  # all there was
        assert lines["HYD-VLV-1/2 NC"].estimated_ship_date == TODAY + timedelta(days=14)
        assert lines["FST-M8x30-A2"].reserved_quantity == 300
        assert order.total == Decimal("1290.00")
        stock = db.session.get(Stock, parts["valve"])
        assert (stock.on_hand, stock.reserved) == (10, 10)
        kinds = list(db.session.scalars(select(OrderEvent.kind)))
        assert kinds == ["placed"]
    assert count(app, CartLine) == 0
    page = soup(buyer.client.get(f"/orders/{number}"))
    assert "Order placed" in page.select_one(".timeline").get_text()


def test_the_same_submission_twice_makes_one_order(app, login_as, parts):
    fill_cart(app, "buyer@acme.test", [(parts["valve"], 1)])
    buyer = login_as("buyer@acme.test")
    form = checkout_form(buyer)
    first = buyer.post("/checkout", form)
    again = buyer.post("/checkout", form, page="/orders")  # a refresh or a double click
    assert first.headers["Location"] == again.headers["Location"]
    assert count(app, Order) == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"po_number": ""}, "po_number", "required"),
        ({"po_number": "P" * 51}, "po_number", "longer than 50"),
        ({"ship_to_id": "999999"}, "ship_to_id", "Not a valid choice"),
        ({"requested_date": "2000-01-01"}, "requested_date", "earliest possible"),
        ({"requested_date": "31.12.2026"}, "requested_date", "Not a valid date"),
        ({"notes": "n" * 2001}, "notes", "longer than 2000"),
    ],
)
def test_bad_checkouts_place_nothing(app, login_as, parts, changes, field, message):
    fill_cart(app, "buyer@acme.test", [(parts["valve"], 1)])
    buyer = login_as("buyer@acme.test")
    response = buyer.post("/checkout", checkout_form(buyer, **changes))
    assert response.status_code == 422
    assert message in soup(response).select_one(f"#{field}-error").get_text()
    assert count(app, Order) == 0 and count(app, CartLine) == 1
    with app.app_context():
        assert db.session.get(Stock, parts["valve"]).reserved == 0


def test_another_accounts_address_cannot_be_used(app, login_as, parts):
    from portal.accounts.models import Address

    fill_cart(app, "buyer@acme.test", [(parts["valve"], 1)])
    buyer = login_as("buyer@acme.test")
    with app.app_context():
        globex_address = db.session.scalar(
            select(Address.id)
            .join(CustomerAccount)
            .where(CustomerAccount.number == "C-10002", Address.kind == "shipping")
        )
    response = buyer.post("/checkout", checkout_form(buyer, ship_to_id=str(globex_address)))
    assert response.status_code == 422
    assert count(app, Order) == 0


def test_reused_po_number_is_warned_about(app, login_as, parts):
    fill_cart(app, "buyer@acme.test", [(parts["valve"], 1)])
    buyer = login_as("buyer@acme.test")
    buyer.post("/checkout", checkout_form(buyer))
    fill_cart(app, "buyer@acme.test", [(parts["valve"], 1)])
    form = checkout_form(buyer, po_number="po-4711", requested_date="2000-01-01")
    response = buyer.post("/checkout", form)
    assert "already used on order" in soup(response).select_one(".warning").get_text()


# --- approval and cancellation ---------------------------------------------------------


def set_limit(app, account_id, limit):
    with app.app_context():
        db.session.get(CustomerAccount, account_id).approval_limit = Decimal(limit)
        db.session.commit()


def place(app, login_as, parts, items, email="buyer@acme.test"):
    fill_cart(app, email, items)
    buyer = login_as(email)
    response = buyer.post("/checkout", checkout_form(buyer))
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[1]


def test_orders_above_the_limit_wait_for_an_approver(app, login_as, parts):
    set_limit(app, parts["acme"], "150.00")
    number = place(app, login_as, parts, [(parts["valve"], 2)])
    buyer = login_as("buyer@acme.test")
    assert "Awaiting approval" in soup(buyer.client.get(f"/orders/{number}")).h1.get_text()
    assert (
        buyer.post(
            f"/orders/{number}/decision", {"decision": "approve"}, page=f"/orders/{number}"
        ).status_code
        == 403
    )
    approver = login_as("approver@acme.test")
    refused = approver.post(
        f"/orders/{number}/decision",
        {"decision": "reject", "comment": ""},
        page=f"/orders/{number}",
    )
    assert (
        "Say why"
        in soup(approver.client.get(refused.headers["Location"])).select_one(".flashes").get_text()
    )
    approver.post(
        f"/orders/{number}/decision",
        {"decision": "approve", "comment": "Budget ok"},
        page=f"/orders/{number}",
    )
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        assert order.status == "placed" and order.decision_comment == "Budget ok"
        kinds = list(db.session.scalars(select(OrderEvent.kind).order_by(OrderEvent.id)))
        assert kinds == ["placed", "approval_requested", "approved"]


def test_rejecting_releases_the_reserved_stock(app, login_as, parts):
    set_limit(app, parts["acme"], "1.00")
    number = place(app, login_as, parts, [(parts["valve"], 4)])
    approver = login_as("approver@acme.test")
    approver.post(
        f"/orders/{number}/decision",
        {"decision": "reject", "comment": "Too early"},
        page=f"/orders/{number}",
    )
    with app.app_context():
        assert db.session.get(Stock, parts["valve"]).reserved == 0
        assert db.session.scalar(select(Order.status)) == "rejected"


def test_cancelling_a_line_then_the_order(app, login_as, parts):
    number = place(app, login_as, parts, [(parts["valve"], 4), (parts["bolt"], 100)])
    buyer = login_as("buyer@acme.test")
    with app.app_context():
        valve_line = db.session.scalar(select(Order).where(Order.number == number)).lines[0]
        valve_line_id = valve_line.id
    buyer.post(f"/orders/{number}/lines/{valve_line_id}/cancel", page=f"/orders/{number}")
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        assert order.total == Decimal("30.00") and order.status == "placed"
        assert db.session.get(Stock, parts["valve"]).reserved == 0
    buyer.post(f"/orders/{number}/cancel", page=f"/orders/{number}")
    again = buyer.post(f"/orders/{number}/cancel", page=f"/orders/{number}")
    assert (
        "can no longer be cancelled"
        in soup(buyer.client.get(again.headers["Location"])).select_one(".flashes").get_text()
    )
    with app.app_context():
        kinds = list(db.session.scalars(select(OrderEvent.kind).order_by(OrderEvent.id)))
    assert kinds == ["placed", "line_cancelled", "line_cancelled", "cancelled"]


# --- history ----------------------------------------------------------------------------


def test_order_history_filters_and_scoping(app, login_as, parts):
    first = place(app, login_as, parts, [(parts["valve"], 1)])
    second = place(app, login_as, parts, [(parts["bolt"], 100)])
    buyer = login_as("buyer@acme.test")

    def numbers(query):
        page = soup(buyer.client.get(f"/orders{query}"))
        return [a.get_text() for a in page.select("#results tbody td:first-child a")]

    assert numbers("") == [second, first]
    assert numbers("?sku=fst") == [second]
    assert numbers("?status=cancelled") == []
    assert numbers(f"?from={TODAY.isoformat()}&to={TODAY.isoformat()}") == [second, first]
    assert numbers("?from=not-a-date") == [second, first]
    globex = login_as("buyer@globex.test")
    assert not soup(globex.client.get("/orders")).select("#results tbody tr")
    assert globex.client.get(f"/orders/{first}").status_code == 404


def test_csv_export_neutralises_formulas(app, login_as, parts):
    fill_cart(app, "buyer@acme.test", [(parts["valve"], 1)])
    buyer = login_as("buyer@acme.test")
    buyer.post("/checkout", checkout_form(buyer, po_number='=HYPERLINK("http://evil")'))
    response = buyer.client.get("/orders/export.csv")
    assert response.headers["Content-Disposition"] == "attachment; filename=orders.csv"
    text = response.get_data(as_text=True)
    assert "'=HYPERLINK" in text
    assert "\n=" not in text and ",=" not in text
    workbook = buyer.client.get("/orders/export.xlsx")
    assert workbook.headers["Content-Disposition"] == "attachment; filename=orders.xlsx"
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(workbook.data)).active
    row = [cell.value for cell in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert row[3] == '\'=HYPERLINK("http://evil")'
    assert buyer.client.get("/orders/export.pdf").status_code == 404


def test_reorder_adds_lines_at_todays_prices_and_says_what_changed(app, login_as, parts):
    number = place(app, login_as, parts, [(parts["valve"], 2), (parts["bolt"], 100)])
    with app.app_context():
        valve = db.session.get(Product, parts["valve"])
        valve.list_price = Decimal("120.00")
        bolt = db.session.get(Product, parts["bolt"])
        bolt.status = "discontinued"
        db.session.commit()
    buyer = login_as("buyer@acme.test")
    response = buyer.post(f"/orders/{number}/reorder", page=f"/orders/{number}")
    assert response.headers["Location"] == "/cart"
    page = soup(buyer.client.get("/cart"))
    messages = page.select_one(".flashes").get_text()
    assert "1 line of order" in messages
    assert "price changed from 100.00 EUR to 120.00 EUR" in messages
    assert "FST-M8x30-A2 is no longer sold" in messages
    assert [td.get_text() for td in page.select("#cart tbody td.sku")] == ["HYD-VLV-1/2 NC"]


def test_order_page_prints_without_navigation(login_as, parts, app):
    number = place(app, login_as, parts, [(parts["valve"], 1)])
    page = soup(login_as("buyer@acme.test").client.get(f"/orders/{number}"))
    assert page.select_one("button[data-print]")
    assert "Order confirmation" in page.select_one(".print-only").get_text()


def test_save_the_cart_as_a_list_and_load_it_later(app, login_as, parts):
    from portal.ordering.models import SavedList

    fill_cart(app, "buyer@acme.test", [(parts["valve"], 2), (parts["bolt"], 200)])
    buyer = login_as("buyer@acme.test")
    assert (
        buyer.post("/cart/save", {"name": "  Monthly   maintenance "}, page="/cart").headers[
            "Location"
        ]
        == "/lists"
    )
    again = buyer.post("/cart/save", {"name": "monthly maintenance"}, page="/cart")
    assert (
        "already has a list"
        in soup(buyer.client.get(again.headers["Location"])).select_one(".flashes").get_text()
    )
    empty_name = buyer.post("/cart/save", {"name": "   "}, page="/cart")
    assert (
        "Give the list a name"
        in soup(buyer.client.get(empty_name.headers["Location"])).select_one(".flashes").get_text()
    )
    with app.app_context():
        saved = db.session.scalar(select(SavedList))
        saved_id = saved.id
        assert saved.name == "Monthly maintenance"
        assert [(line.product_id, line.quantity) for line in saved.lines] == [
            (parts["valve"], 2),
            (parts["bolt"], 200),
        ]
        db.session.execute(CartLine.__table__.delete())
        db.session.commit()
    colleague = login_as("admin@acme.test")  # lists are shared by the account's buyers
    assert colleague.post(f"/lists/{saved_id}/load", page="/lists").status_code == 303
    assert len(soup(colleague.client.get("/cart")).select("#cart tbody tr")) == 2
    globex = login_as("buyer@globex.test")
    assert globex.post(f"/lists/{saved_id}/load", page="/lists").status_code == 404
    assert "Monthly" not in globex.client.get("/lists").get_data(as_text=True)


def statements_for(app, client, url: str) -> int:
    from sqlalchemy import event

    seen = []
    with app.app_context():
        engine = db.engine

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def many_products(app, n: int) -> list[int]:
    with app.app_context():
        category = Category(name=f"Bulk {n}")
        products = [
            Product(
                sku=f"BULK-{n}-{i}",
                name=f"Bulk part {i}",
                category=category,
                list_price=Decimal("1.00"),
                stock=Stock(on_hand=5),
            )
            for i in range(n)
        ]
        db.session.add_all(products)
        db.session.commit()
        return [p.id for p in products]


def test_page_queries_do_not_grow_with_the_rows_shown(app, login_as, parts):
    """Cart, order page and order list issue as many SQL statements for 2 rows as for 20."""
    small, large = many_products(app, 2), many_products(app, 20)
    counts = {}
    for label, ids in (("small", small), ("large", large)):
        number = place(app, login_as, parts, [(pid, 1) for pid in ids])
        fill_cart(app, "buyer@acme.test", [(pid, 1) for pid in ids])
        buyer = login_as("buyer@acme.test")
        counts[label] = (
            statements_for(app, buyer.client, "/cart"),
            statements_for(app, buyer.client, f"/orders/{number}"),
        )
        with app.app_context():
            db.session.execute(CartLine.__table__.delete())
            db.session.commit()
    assert counts["small"] == counts["large"]
    buyer = login_as("buyer@acme.test")
    few = statements_for(app, buyer.client, "/orders")
    for _ in range(8):
        place(app, login_as, parts, [(parts["valve"], 1)])
    assert statements_for(app, buyer.client, "/orders") == few


# --- files in the reader's language ---------------------------------------------------------


@pytest.mark.parametrize("header", ["SKU;Quantity", "SKU;Jumlah", "Kode barang;Jumlah"])
def test_an_uploaded_header_in_either_language_is_skipped(login_as, parts, header):
    import io

    buyer = login_as("buyer@acme.test")
    data = f"{header}\nHYD-VLV-1/2 NC;2\n".encode()
    response = buyer.post(
        "/order", {"upload": (io.BytesIO(data), "lines.csv")}, content_type="multipart/form-data"
    )
    rows = soup(response).select("#review tbody tr")
    assert [r.select_one(".line-status").get_text() for r in rows] == ["OK"]


def test_a_misspelt_uploaded_header_says_how_to_name_the_columns(app, login_as, parts):
    import io

    buyer = login_as("buyer@acme.test")
    data = b"Barang;Jumlh\nHYD-VLV-1/2 NC;2\n"
    response = buyer.post(
        "/order", {"upload": (io.BytesIO(data), "lines.csv")}, content_type="multipart/form-data"
    )
    rows = soup(response).select("#review tbody tr")
    assert len(rows) == 2
    assert (
        "“Jumlh” is not a quantity. If this line is a header, name its columns “SKU” and "
        "“Quantity” or “Jumlah”." in rows[0].get_text()
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CartLine)) == 0


def test_an_indonesian_buyers_order_export_has_indonesian_headers(app, login_as, parts):
    import csv
    import io

    from openpyxl import load_workbook

    from .support import set_language

    fill_cart(app, "buyer@acme.test", [(parts["valve"], 1)])
    set_language(app, "buyer@acme.test", "id")
    buyer = login_as("buyer@acme.test")
    buyer.post("/checkout", checkout_form(buyer, po_number="PO-ID-1"))
    expected = ["Pesanan", "Dibuat", "Akun", "Nomor PO", "Status", "Total", "Mata uang"]
    lines = buyer.client.get("/orders/export.csv").get_data(as_text=True).lstrip("\ufeff")
    header, row, *_ = csv.reader(io.StringIO(lines))
    assert header == [*expected, "Dibuat oleh"]
    # The values stay machine-readable: an ISO date, '.' before the decimals.
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row[1]) and row[5] == "100.00"
    sheet = load_workbook(io.BytesIO(buyer.client.get("/orders/export.xlsx").data)).active
    assert [c.value for c in next(sheet.rows)] == [*expected, "Dibuat oleh"]
    set_language(app, "buyer@acme.test", "en")
    lines = buyer.client.get("/orders/export.csv").get_data(as_text=True).lstrip("\ufeff")
    assert lines.splitlines()[0].startswith("Order,Placed,Account,PO number")
