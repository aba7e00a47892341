"""The order path for a reader of Indonesian: the cart and its htmx fragment, the
checkout's form messages, the order list's filter fragment and the order page, with
amounts and dates the Indonesian way; an English reader's pages stay as they were."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.catalog.models import Category, ContractPrice, Product, Stock
from portal.extensions import db
from portal.ordering import service as ordering
from portal.ordering.models import CartLine

from .support import soup

TODAY = date.today()
# Indonesian month abbreviations, written out by hand (CLDR's, which Babel uses).
BULAN = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]


def tanggal(day: date) -> str:
    return f"{day.day:02d} {BULAN[day.month - 1]} {day.year}"


@pytest.fixture
def cart(app, demo):
    """Acme's buyer, reading Indonesian, with 300 bolts at the contract price (0.30) and
    12 valves at list price (100.00), 10 of them in stock: 90.00 + 1,200.00 = 1,290.00."""
    with app.app_context():
        category = Category(name="Parts")
        bolt = Product(
            sku="FST-M8x30-A2",
            name="Hex bolt M8x30 A2",
            category=category,
            list_price=Decimal("0.40"),
            lead_time_days=14,
            min_order_qty=100,
            order_multiple=100,
            stock=Stock(on_hand=1000),
        )
        valve = Product(
            sku="HYD-VLV-1/2 NC",
            name="Solenoid valve G1/2",
            category=category,
            list_price=Decimal("100.00"),
            lead_time_days=14,
            stock=Stock(on_hand=10),
        )
        db.session.add_all([bolt, valve])
        buyer = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
        buyer.language = "id"
        buyer.account.approval_limit = None
        db.session.flush()
        db.session.add(
            ContractPrice(
                account_id=buyer.account_id,
                product_id=bolt.id,
                min_quantity=1,
                unit_price=Decimal("0.30"),
                valid_from=TODAY - timedelta(days=9),
            )
        )
        ordering.add_to_cart(buyer, [(bolt.id, 300), (valve.id, 12)])
        db.session.commit()
        return {"bolt_line": db.session.scalar(select(CartLine.id).where(CartLine.product == bolt))}


def test_the_cart_and_its_htmx_fragment_are_indonesian(app, login_as, cart):
    buyer = login_as("buyer@acme.test")
    page = soup(buyer.client.get("/cart"))
    assert page.select_one("h1").get_text() == "Keranjang"
    assert [th.get_text(" ", strip=True) for th in page.select("#cart thead th")] == [
        "SKU",
        "Produk",
        "Jumlah",
        "Harga satuan",
        "Subtotal baris",
        "Tindakan",
    ]
    assert page.select_one("#cart tfoot .total").get_text() == "€1.290,00"
    valve = page.select("#cart tbody tr")[1]
    # 10 in stock, the other 2 after the 14 days' lead time.
    assert valve.select_one(".muted").get_text() == (
        f"10 tersedia sekarang, sisanya dikirim sekitar {tanggal(TODAY + timedelta(days=14))}"
    )
    assert "kontrak" in page.select("#cart tbody tr")[0].get_text()
    for quantity, message in [
        ("abc", "FST-M8x30-A2: isi jumlah dengan bilangan bulat."),
        ("150", "FST-M8x30-A2: pesan dalam kelipatan 100."),
        ("0", "FST-M8x30-A2: pemesanan minimum 100."),
    ]:
        fragment = buyer.post(
            f"/cart/lines/{cart['bolt_line']}",
            {"quantity": quantity},
            page="/cart",
            headers={"HX-Request": "true"},
        )
        assert fragment.status_code == 200
        assert soup(fragment).select_one("[role=alert]").get_text(strip=True) == message
    fragment = soup(
        buyer.post(
            f"/cart/lines/{cart['bolt_line']}",
            {"quantity": "1200"},
            page="/cart",
            headers={"HX-Request": "true"},
        )
    )
    assert fragment.select_one("html") is None  # the block alone
    # 1,200 bolts at 0.30 = 360.00; with the valves 1,560.00.
    assert fragment.select_one("tfoot .total").get_text() == "€1.560,00"
    assert "Hapus" in fragment.select_one("#cart tbody").get_text()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("po_number", "", "Kolom ini wajib diisi."),
        ("po_number", "P" * 51, "Tidak boleh lebih dari 50 karakter."),
        ("requested_date", "2026-13-45", "Tanggal tidak valid: gunakan kalender atau format"),
    ],
)
def test_checkout_form_messages_are_indonesian(app, login_as, cart, field, value, message):
    buyer = login_as("buyer@acme.test")
    page = soup(buyer.client.get("/checkout"))
    form = {
        "po_number": "PO-4711",
        "ship_to_id": page.select_one("#ship_to_id option")["value"],
        "requested_date": "",
        "notes": "",
        "idempotency_key": page.select_one("input[name=idempotency_key]")["value"],
    } | {field: value}
    response = buyer.post("/checkout", form)
    assert response.status_code == 422
    assert message in soup(response).select_one(f"#{field}-error").get_text()


def test_a_date_before_the_earliest_is_refused_in_indonesian(app, login_as, cart):
    buyer = login_as("buyer@acme.test")
    page = soup(buyer.client.get("/checkout"))
    # The valves' last 2 come after the 14 days' lead time: nothing can arrive earlier.
    earliest = TODAY + timedelta(days=14)
    assert page.select_one("#requested_date-hint").get_text() == (
        f"Paling cepat: {tanggal(earliest)}. Kosongkan untuk secepatnya."
    )
    form = {
        "po_number": "PO-4711",
        "ship_to_id": page.select_one("#ship_to_id option")["value"],
        "requested_date": (earliest - timedelta(days=1)).isoformat(),
        "idempotency_key": page.select_one("input[name=idempotency_key]")["value"],
    }
    response = buyer.post("/checkout", form)
    assert response.status_code == 422
    assert soup(response).select_one("#requested_date-error").get_text() == (
        f"Tanggal paling cepat adalah {tanggal(earliest)}."
    )


def place(buyer) -> str:
    page = soup(buyer.client.get("/checkout"))
    response = buyer.post(
        "/checkout",
        {
            "po_number": "PO-4711",
            "ship_to_id": page.select_one("#ship_to_id option")["value"],
            "idempotency_key": page.select_one("input[name=idempotency_key]")["value"],
        },
    )
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[1]


def test_the_order_page_and_the_order_list_are_indonesian(app, login_as, cart):
    buyer = login_as("buyer@acme.test")
    number = place(buyer)
    page = soup(buyer.client.get(f"/orders/{number}"))
    assert page.select_one(".flash").get_text() == f"Pesanan {number} telah dibuat."
    assert page.select_one("h1").get_text(" ", strip=True) == (
        f"Pesanan {number} Dibuat, menunggu konfirmasi"
    )
    facts = {
        dt.get_text(): dt.find_next_sibling("dd").get_text(" ", strip=True)
        for dt in page.select(".facts dt")
    }
    assert facts["Total"] == "€1.290,00"
    assert facts["Tanggal yang diminta"] == "Secepatnya"
    assert facts["Nomor PO"] == "PO-4711"
    bolts, valves = page.select("#lines-heading ~ table tbody tr")
    assert bolts.select("td")[3].get_text(strip=True) == "300 pc"
    assert bolts.select("td")[5].get_text(strip=True) == "€90,00"
    assert "dari stok, sekitar" in bolts.select("td")[6].get_text()
    assert "10 dari stok; seluruhnya sekitar" in valves.select("td")[6].get_text()
    assert (
        page.select_one(".print-only")
        .get_text()
        .startswith(f"{app.config['VENDOR_NAME']} · Konfirmasi pesanan · dicetak ")
    )

    # The order list's filter answers htmx with its block, in the person's language.
    listed = soup(buyer.client.get("/orders?status=placed", headers={"HX-Request": "true"}))
    assert listed.select_one("p.muted").get_text(" ", strip=True).startswith("1 pesanan ·")
    assert listed.select_one("tbody .badge").get_text() == "Dibuat, menunggu konfirmasi"
    none = soup(buyer.client.get("/orders?q=nothing", headers={"HX-Request": "true"}))
    assert none.select_one(".empty").get_text() == "Tidak ada pesanan yang cocok."
    filters = soup(buyer.client.get("/orders"))
    assert [o.get_text() for o in filters.select("#status option")][:3] == [
        "Semua",
        "Menunggu persetujuan",
        "Dibuat, menunggu konfirmasi",
    ]


def test_an_english_reader_sees_the_same_order_in_english(app, login_as, cart):
    number = place(login_as("buyer@acme.test"))
    with app.app_context():
        db.session.scalar(select(User).where(User.email == "approver@acme.test")).language = "en"
        db.session.commit()
    page = soup(login_as("approver@acme.test").client.get(f"/orders/{number}"))
    assert page.select_one("h1").get_text(" ", strip=True) == (
        f"Order {number} Placed, awaiting confirmation"
    )
    assert page.select_one(".facts .total").get_text() == "1,290.00 EUR"
    assert [li.get_text(" ", strip=True).split(" — ")[0] for li in page.select(".timeline li")][
        0
    ].endswith("Order placed")
