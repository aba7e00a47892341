"""PunchOut in Chromium: a purchasing system's setup request opens a session of the
terminal; the buyer orders by quick order and returns the cart, which the browser posts
as a PunchOutOrderMessage to the purchasing system (a real HTTP server of the test)."""

from __future__ import annotations

import threading
import urllib.request
import xml.etree.ElementTree as ET  # noqa: N817 - reading our own documents
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect

from portal.cxml import demo as cxml_demo

from ..cxml_support import make_products, sample
from ..support import free_port


class PurchasingSystem:
    """BrowserFormPost: records the form the browser posts and shows a page."""

    def __init__(self):
        self.port = free_port()
        self.forms: list[dict[str, list[str]]] = []
        system = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                system.forms.append(parse_qs(body))
                page = (
                    b"<!doctype html><title>Requisition</title>"
                    b'<link rel="icon" href="data:,"><h1>Cart received</h1>'
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/punchout/return"


@pytest.fixture
def purchasing_system():
    system = PurchasingSystem()
    yield system
    system.server.shutdown()
    system.server.server_close()


def test_a_punchout_session_returns_its_cart(
    app, live_server, page, purchasing_system, console_errors
):
    with app.app_context():
        cxml_demo.load()
    make_products(app)
    own_cart = put_in_own_cart(app, "buyer@acme.test", "CX-200", 10)
    document = sample(
        "punchout_setup.xml",
        {"https://proc.acme.example/punchout/return": purchasing_system.url},
    )
    request = urllib.request.Request(
        f"{live_server.url}/cxml/punchout",
        data=document,
        headers={"Content-Type": "text/xml"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        start_url = (
            ET.fromstring(answer.read()).find("Response/PunchOutSetupResponse/StartPage/URL").text
        )
    page.goto(start_url)
    expect(page.get_by_role("heading", name="Quick order")).to_be_visible()
    page.get_by_label("SKU, row 1", exact=True).fill("CX-100")
    page.get_by_label("Quantity, row 1", exact=True).fill("3")
    page.get_by_role("button", name="Check lines").click()
    expect(page.locator("#review tbody .line-status")).to_have_text(["OK"])
    # The navigation holds the buying pages only.
    expect(page.locator(".mainnav a")).to_have_text(["Quick order", "Cart", "Catalog"])
    page.get_by_role("button", name="Add ticked lines to cart").click()
    # The PunchOut's own cart: the buyer's own CX-200 is not in it.
    expect(page.locator("#cart tbody tr")).to_have_count(1)
    expect(page.locator("#cart tbody tr")).to_contain_text("CX-100")
    # No checkout in a PunchOut session: the way back instead.
    expect(page.get_by_role("link", name="Checkout")).to_have_count(0)
    page.get_by_role("button", name="Return to your purchasing system").click()
    expect(page.get_by_role("heading", name="Cart received")).to_be_visible()
    (form,) = purchasing_system.forms
    message = ET.fromstring(form["cxml-urlencoded"][0].encode())
    assert message.findtext("Message/PunchOutOrderMessage/BuyerCookie") == "REQ-7731-c0ffee"
    (item,) = message.iter("ItemIn")
    assert (item.get("quantity"), item.findtext("ItemID/SupplierPartID")) == ("3", "CX-100")
    # The buyer's own cart is as it was.
    assert own_cart() == [("CX-200", 10)]
    assert console_errors == []


def put_in_own_cart(app, email: str, sku: str, quantity: int):
    """Put a line in the person's own cart (as the pages do); returns a reader of that cart."""
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.catalog.models import Product
    from portal.extensions import db, utcnow
    from portal.ordering import service as ordering

    def read():
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            rows = ordering.cart(user, utcnow().date()).rows
            return [(row.line.product.sku, row.line.quantity) for row in rows]

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        product = db.session.scalar(select(Product).where(Product.sku == sku))
        ordering.add_to_cart(user, [(product.id, quantity)])
    assert read() == [(sku, quantity)]
    return read
