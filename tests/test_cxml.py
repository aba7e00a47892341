"""cXML: order requests (new, update, delete), refusals as cXML statuses with nothing
saved, repeats by payloadID, confirmations and ship notices posted to a real local
HTTP server (and retried while it is down), PunchOut, and the vendor admins' page.

The sample documents are in tests/cxml/."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET  # noqa: N817 - reading our own documents
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.cxml import demo as cxml_demo
from portal.cxml import outbound
from portal.cxml.models import CxmlInbound, CxmlMessage, CxmlOrder, PunchOutSession
from portal.extensions import db, utcnow
from portal.ordering.models import CartLine, Order

from .cxml_support import SAMPLES, count, make_products, sample, status
from .support import free_port, soup


@pytest.fixture
def cxml(app, demo):
    """Demo people, Acme's cXML credentials (ACME-PROC / acme-cxml-demo), two products."""
    with app.app_context():
        cxml_demo.load()
    make_products(app)
    return app


def post(client, document: bytes, path: str = "/cxml/order"):
    return client.post(path, data=document, content_type="text/xml")


def _orders(app) -> list[Order]:
    with app.app_context():
        return list(db.session.scalars(select(Order).order_by(Order.id)))


# --- new orders -------------------------------------------------------------------------------


def test_a_new_order_is_placed_through_the_ordering_service(cxml, client):
    response = post(client, sample("order_new.xml"))
    assert response.status_code == 200
    code, message = status(response)
    assert code == 200, message
    with cxml.app_context():
        order = db.session.scalars(select(Order)).one()
        assert order.po_number == "PO-CX-1001"
        assert order.placed_by.email == "buyer@acme.test"
        assert order.ship_to_text.startswith("Main plant")
        assert "gate 3" in order.notes
        assert [(line.sku, line.quantity) for line in order.lines] == [
            ("CX-100", 10),
            ("CX-200", 5),
        ]
        # The account's prices, not the document's (CX-100: list price 12).
        assert order.lines[0].unit_price == 12
        assert order.number in message
        link = db.session.scalars(select(CxmlOrder)).one()
        assert link.order_ref == "PO-CX-1001"
        assert link.line_numbers == {"1": "1", "2": "2"}


def test_a_repeat_of_the_payload_id_is_answered_as_before_and_creates_nothing(cxml, client):
    first = post(client, sample("order_new.xml"))
    again = post(client, sample("order_new.xml"))
    assert first.get_data() == again.get_data()
    with cxml.app_context():
        assert count(Order) == 1
        assert count(CxmlInbound) == 1


def test_the_same_payload_id_with_another_document_is_a_conflict(cxml, client):
    post(client, sample("order_new.xml"))
    changed = post(client, sample("order_new.xml", {'quantity="10"': 'quantity="20"'}))
    assert status(changed)[0] == 409
    with cxml.app_context():
        assert count(Order) == 1


def test_a_new_order_id_twice_is_a_conflict(cxml, client):
    post(client, sample("order_new.xml"))
    second = post(client, sample("order_new.xml", {"1733000000.1234": "1733000000.9999"}))
    code, message = status(second)
    assert code == 409 and "update" in message
    with cxml.app_context():
        assert count(Order) == 1


def test_parallel_repeats_make_one_order(cxml, database_url):
    """Ten copies of one document at once (threads, each its own client): one order."""
    document = sample("order_new.xml")

    def send(_):
        return status(post(cxml.test_client(), document))[0]

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(send, range(10)))
    assert set(codes) <= {200, 409}, codes
    assert 200 in codes
    with cxml.app_context():
        assert count(Order) == 1
        assert count(CxmlOrder) == 1


# --- refusals: a cXML status, nothing saved ----------------------------------------------------

REFUSALS = [
    pytest.param(sample("malformed.xml"), 400, "not well-formed", id="malformed XML"),
    pytest.param(sample("billion_laughs.xml"), 400, "entities", id="billion laughs"),
    pytest.param(sample("external_entity.xml"), 400, "entities", id="external entity"),
    pytest.param(b"", 400, "no body", id="empty body"),
    pytest.param(b"<order/>", 400, "not <cXML>", id="not cXML"),
    pytest.param(
        sample("order_new.xml", {"<SharedSecret>acme-cxml-demo": "<SharedSecret>guess-again-1"}),
        401,
        "do not match",
        id="wrong secret",
    ),
    pytest.param(
        sample("order_new.xml", {"<SharedSecret>acme-cxml-demo</SharedSecret>": ""}),
        401,
        "do not match",
        id="no secret",
    ),
    pytest.param(
        sample(
            "order_new.xml",
            {
                "<Identity>ACME-PROC</Identity></Credential>\n    </From>": (
                    "<Identity>SOMEONE-ELSE</Identity></Credential>\n    </From>"
                ),
                "<Identity>ACME-PROC</Identity>\n        <SharedSecret>": (
                    "<Identity>SOMEONE-ELSE</Identity>\n        <SharedSecret>"
                ),
            },
        ),
        401,
        "do not match",
        id="unknown identity",
    ),
    pytest.param(
        sample("order_new.xml", {"<Identity>NORTHWIND</Identity>": "<Identity>ACME</Identity>"}),
        400,
        "addressed to ACME",
        id="addressed to someone else",
    ),
    pytest.param(
        sample("order_new.xml", {"<SupplierPartID>CX-200": "<SupplierPartID>NO-SUCH-SKU"}),
        400,
        "no product NO-SUCH-SKU",
        id="unknown SKU",
    ),
    pytest.param(
        sample("order_new.xml", {'quantity="10"': 'quantity="ten"'}),
        400,
        "“ten” is not a number",
        id="quantity not a number",
    ),
    pytest.param(
        sample("order_new.xml", {'quantity="10"': 'quantity="2.5"'}),
        400,
        "whole number",
        id="fractional quantity",
    ),
    pytest.param(
        sample("order_new.xml", {'quantity="5"': 'quantity="7"'}),
        406,
        "multiples of 5",
        id="not in the order multiple",
    ),
    pytest.param(
        sample("order_new.xml", {'<Money currency="EUR">12.00': '<Money currency="USD">12.00'}),
        406,
        "not USD",
        id="another currency",
    ),
    pytest.param(
        sample("order_new.xml", {'type="new"': 'type="quote"'}),
        450,
        "not supported",
        id="unknown type",
    ),
    pytest.param(sample("punchout_setup.xml"), 400, "takes a OrderRequest", id="wrong door"),
]


@pytest.mark.parametrize(("document", "code", "words"), REFUSALS)
def test_refusals_are_cxml_errors_and_save_nothing(cxml, client, document, code, words):
    response = post(client, document)
    assert response.status_code == 200
    got, message = status(response)
    assert (got, words in message) == (code, True), message
    with cxml.app_context():
        assert count(Order) == 0
        assert count(CxmlOrder) == 0
        assert count(CxmlInbound) == 0
        assert count(CartLine) == 0


def test_a_bomb_is_refused_quickly_without_expanding(cxml, client):
    import time

    started = time.perf_counter()
    post(client, sample("billion_laughs.xml"))
    assert time.perf_counter() - started < 5  # not a timing test: a bomb would take minutes


def test_a_get_or_an_unknown_path_gets_a_cxml_answer(cxml, client):
    for response in (client.get("/cxml/order"), client.post("/cxml/nothing", data=b"<x/>")):
        assert status(response)[0] == 400


# --- update and delete --------------------------------------------------------------------------


def test_update_drops_a_line_of_an_unconfirmed_order(cxml, client):
    post(client, sample("order_new.xml"))
    code, message = status(post(client, sample("order_update.xml")))
    assert code == 200, message
    with cxml.app_context():
        order = db.session.scalars(select(Order)).one()
        assert [(line.sku, line.status) for line in order.lines] == [
            ("CX-100", "open"),
            ("CX-200", "cancelled"),
        ]
        assert order.total == 120


def test_update_cannot_change_a_quantity(cxml, client):
    post(client, sample("order_new.xml"))
    code, message = status(
        post(client, sample("order_update.xml", {'quantity="10"': 'quantity="20"'}))
    )
    assert code == 406 and "only removing lines" in message
    with cxml.app_context():
        assert all(line.status == "open" for line in db.session.scalars(select(Order)).one().lines)


def test_delete_cancels_an_unconfirmed_order(cxml, client):
    post(client, sample("order_new.xml"))
    code, message = status(post(client, sample("order_delete.xml")))
    assert code == 200, message
    with cxml.app_context():
        assert db.session.scalars(select(Order)).one().status == "cancelled"


def test_update_and_delete_of_a_confirmed_order_are_refused(cxml, client):
    post(client, sample("order_new.xml"))
    _confirm(cxml)
    for name in ("order_update.xml", "order_delete.xml"):
        code, message = status(post(client, sample(name)))
        assert code == 409 and "no longer" in message
    with cxml.app_context():
        assert db.session.scalars(select(Order)).one().status == "confirmed"


def test_delete_of_an_unknown_order_is_refused(cxml, client):
    code, message = status(post(client, sample("order_delete.xml")))
    assert code == 406 and "no order with orderID" in message


# --- outbound: confirmations and ship notices -------------------------------------------------


class Receiver:
    """A purchasing system's cXML address: a real HTTP server on a local port, in a thread."""

    def __init__(self, port: int | None = None, answer_code: int = 200):
        self.port = port or free_port()
        self.documents: list[bytes] = []
        self.answer_code = answer_code
        self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cxml/inbound"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.documents.append(body)
                answer = (
                    '<?xml version="1.0"?><cXML payloadID="r@acme" timestamp="2026-11-30T10:00:00">'
                    f'<Response><Status code="{receiver.answer_code}" text="OK"/></Response></cXML>'
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def receiver():
    found = Receiver().start()
    yield found
    found.stop()


def _set_outbound_url(app, url: str) -> None:
    from portal.cxml.models import CxmlCredential

    with app.app_context():
        credential = db.session.scalars(select(CxmlCredential)).one()
        credential.outbound_url = url
        db.session.commit()


def _confirm(app, *, split: bool = False, decline_second: bool = False) -> date:
    from portal.fulfilment import confirmations

    promise = date.today() + timedelta(days=12)
    with app.app_context():
        desk = db.session.scalar(select(User).where(User.email == "fulfilment@vendor.test"))
        order = db.session.scalars(select(Order)).one()
        first, second = sorted(order.lines, key=lambda line: line.line_no)
        decisions = [
            confirmations.LineDecision(
                first.id,
                promise,
                later_quantity=4 if split else None,
                later_promised_on=promise + timedelta(days=10) if split else None,
            ),
            confirmations.LineDecision(
                second.id,
                promise if not decline_second else None,
                decline_reason="Discontinued at the maker" if decline_second else "",
            ),
        ]
        confirmations.confirm(desk, order, decisions, date.today())
    return promise


def _ship(app) -> None:
    from portal.fulfilment import shipments

    with app.app_context():
        desk = db.session.scalar(select(User).where(User.email == "fulfilment@vendor.test"))
        order = db.session.scalars(select(Order)).one()
        first = min(order.lines, key=lambda line: line.line_no)
        shipments.ship(
            desk,
            order,
            {first.id: 6},
            carrier="DHL",
            tracking="JD0140",
            shipped_on=date.today(),
            today=date.today(),
        )


def _messages(app) -> list[CxmlMessage]:
    with app.app_context():
        return list(db.session.scalars(select(CxmlMessage).order_by(CxmlMessage.id)))


def _deliver(app, now=None):
    with app.app_context():
        return outbound.deliver_due(now=now)


VOLATILE = ("payloadID", "timestamp", "noticeDate", "confirmID")


def _normalised(document: bytes | str, **dates: str) -> str:
    """The document with its per-send values (ids, times) blanked, dates filled in."""
    text = document.decode() if isinstance(document, bytes) else document
    for name, value in dates.items():
        text = text.replace("{" + name + "}", value)
    root = ET.fromstring(text.encode())  # the DOCTYPE names the DTD; expat never loads it
    for element in root.iter():
        for name in VOLATILE:
            if name in element.attrib:
                element.set(name, "*")
        if element.text is not None:
            element.text = element.text.strip() or None
        element.tail = None
    return ET.canonicalize(ET.tostring(root, encoding="unicode"))


def test_a_confirmation_is_posted_to_the_account_with_line_dates(cxml, client, receiver):
    _set_outbound_url(cxml, receiver.url)
    post(client, sample("order_new.xml"))
    promise = _confirm(cxml, split=True, decline_second=True)
    (message,) = _messages(cxml)
    assert (message.kind, message.state) == ("ConfirmationRequest", "queued")
    report = _deliver(cxml)
    assert report.sent == 1
    (received,) = receiver.documents
    expected = (SAMPLES / "expected_confirmation.xml").read_text()
    assert _normalised(received) == _normalised(
        expected,
        first=promise.isoformat(),
        later=(promise + timedelta(days=10)).isoformat(),
    )
    (message,) = _messages(cxml)
    assert (message.state, message.attempts, message.last_status) == (
        "sent",
        1,
        "HTTP 200, cXML 200",
    )


def test_a_promise_change_sends_a_new_confirmation(cxml, client, receiver):
    from portal.fulfilment import confirmations

    _set_outbound_url(cxml, receiver.url)
    post(client, sample("order_new.xml"))
    promise = _confirm(cxml)
    with cxml.app_context():
        desk = db.session.scalar(select(User).where(User.email == "fulfilment@vendor.test"))
        order = db.session.scalars(select(Order)).one()
        line = min(order.lines, key=lambda line: line.line_no)
        confirmations.change_promise(
            desk,
            order,
            line.id,
            new_date=promise + timedelta(days=3),
            reason="material",
            text="",
            today=date.today(),
        )
    assert [m.cause for m in _messages(cxml)] == ["confirmation", "confirmation"]
    _deliver(cxml)
    later = ET.fromstring(receiver.documents[1])
    dates = [s.get("deliveryDate") for s in later.iter("ConfirmationStatus")]
    assert dates == [(promise + timedelta(days=3)).isoformat(), promise.isoformat()]


def test_a_shipment_sends_a_ship_notice(cxml, client, receiver):
    _set_outbound_url(cxml, receiver.url)
    post(client, sample("order_new.xml"))
    _confirm(cxml)
    _ship(cxml)
    assert [m.kind for m in _messages(cxml)] == ["ConfirmationRequest", "ShipNoticeRequest"]
    _deliver(cxml)
    expected = (SAMPLES / "expected_ship_notice.xml").read_text()
    assert _normalised(receiver.documents[1]) == _normalised(
        expected, today=date.today().isoformat(), shipment=_shipment_id(cxml)
    )


def _shipment_id(app) -> str:
    from portal.fulfilment.models import Shipment

    with app.app_context():
        order = db.session.scalars(select(Order)).one()
        return f"{order.number}-S{db.session.scalars(select(Shipment.id)).one()}"


def test_orders_from_the_pages_and_accounts_without_an_address_send_nothing(cxml, client):
    post(client, sample("order_new.xml"))  # no outbound URL set
    _confirm(cxml)
    assert _messages(cxml) == []


def test_a_receiver_that_is_down_is_retried_until_it_answers(cxml, client):
    down = Receiver()  # its port is free: nothing listens yet
    _set_outbound_url(cxml, down.url)
    post(client, sample("order_new.xml"))
    _confirm(cxml)
    report = _deliver(cxml)
    assert (report.sent, report.retrying) == (0, 1)
    (message,) = _messages(cxml)
    assert (message.state, message.attempts, message.last_status) == ("queued", 1, "no connection")
    assert message.next_attempt_at > utcnow()
    assert _deliver(cxml).sent == 0  # not due again yet
    down.start()
    try:
        report = _deliver(cxml, now=utcnow() + timedelta(minutes=2))
        assert report.sent == 1
        assert len(down.documents) == 1
    finally:
        down.stop()
    (message,) = _messages(cxml)
    assert (message.state, message.attempts) == ("sent", 2)


def test_a_refusal_by_the_receiver_fails_at_once_and_an_admin_sends_it_again(
    cxml, client, login_as
):
    refusing = Receiver(answer_code=401).start()
    try:
        _set_outbound_url(cxml, refusing.url)
        post(client, sample("order_new.xml"))
        _confirm(cxml)
        assert _deliver(cxml).failed == 1
        (message,) = _messages(cxml)
        assert (message.state, message.last_status) == ("failed", "HTTP 200, cXML 401")
        admin = login_as("admin@vendor.test")
        page = soup(admin.get("/integrations/cxml"))
        assert "cXML 401" in page.select_one("table:nth-of-type(2), section:nth-of-type(2)").text
        refusing.answer_code = 200
        response = admin.post(
            f"/integrations/cxml/messages/{message.id}/retry", {}, page="/integrations/cxml"
        )
        assert response.status_code == 303
        assert _deliver(cxml).sent == 1
    finally:
        refusing.stop()


def test_a_rolled_back_desk_change_sends_nothing(cxml, client, receiver):
    from portal.errors import DomainError
    from portal.fulfilment import confirmations

    _set_outbound_url(cxml, receiver.url)
    post(client, sample("order_new.xml"))
    with cxml.app_context():
        desk = db.session.scalar(select(User).where(User.email == "fulfilment@vendor.test"))
        order = db.session.scalars(select(Order)).one()
        with pytest.raises(DomainError):  # the second line has no decision
            confirmations.confirm(
                desk,
                order,
                [confirmations.LineDecision(order.lines[0].id, date.today() + timedelta(days=5))],
                date.today(),
            )
        db.session.rollback()
    assert _messages(cxml) == []


# --- PunchOut ---------------------------------------------------------------------------------


def _start_url(client, document: bytes | None = None) -> str:
    response = post(client, document or sample("punchout_setup.xml"), "/cxml/punchout")
    code, message = status(response)
    assert code == 200, message
    root = ET.fromstring(response.get_data())
    return root.find("Response/PunchOutSetupResponse/StartPage/URL").text


_SETUPS = iter(range(1_000_000))


def _fresh_setup() -> bytes:
    """The sample PunchOutSetupRequest with a payloadID of its own."""
    return sample("punchout_setup.xml", {"1733000300.3456": f"1733000300.n{next(_SETUPS)}"})


def _product_id(app, sku: str) -> int:
    from portal.catalog.models import Product

    with app.app_context():
        return db.session.scalar(select(Product.id).where(Product.sku == sku))


def _accept(browser, app, sku: str, quantity: int):
    """The quick order's "Add to cart" of one checked line, as the page posts it."""
    form = {"add": "0", "product-0": str(_product_id(app, sku)), "quantity-0": str(quantity)}
    added = browser.post("/order/accept", form, page="/order")
    assert added.headers["Location"] == "/cart", added.get_data(as_text=True)[:300]


def _cart_lines(app, email: str) -> dict[tuple[str, str], int]:
    """Every cart line of the person: (cart name, SKU) → quantity."""
    from portal.catalog.models import Product

    with app.app_context():
        rows = db.session.execute(
            select(CartLine.cart_name, Product.sku, CartLine.quantity)
            .join(Product, Product.id == CartLine.product_id)
            .join(User, User.id == CartLine.user_id)
            .where(User.email == email)
        ).all()
    return {(cart, sku): quantity for cart, sku, quantity in rows}


def test_punchout_opens_a_session_that_returns_its_cart(cxml, client):
    from .support import Browserless

    url = _start_url(client)
    path = urlsplit(url).path
    browser = Browserless(cxml.test_client())
    opened = browser.client.get(path)
    assert opened.status_code == 303 and opened.headers["Location"] == "/order"
    # The terminal at the account's prices, no checkout.
    _accept(browser, cxml, "CX-100", 3)
    cart = browser.get("/cart")
    page = soup(cart)
    assert page.find("button", string="Return to your purchasing system") is not None
    assert page.find("a", string="Checkout") is None
    assert browser.get("/checkout").headers["Location"] == "/cart"
    assert browser.get("/orders").headers["Location"] == "/cart"
    returned = browser.post("/punchout/return", {}, page="/cart")
    assert returned.status_code == 200
    form = soup(returned).find("form", id="punchout-return")
    assert form["action"] == "https://proc.acme.example/punchout/return"
    assert "form-action https://proc.acme.example" in returned.headers["Content-Security-Policy"]
    message = form.find("input", attrs={"name": "cxml-urlencoded"})["value"]
    expected = (SAMPLES / "expected_punchout_order_message.xml").read_text()
    assert _normalised(message) == _normalised(expected)
    # The session ended and the cart is empty; the start URL works once only.
    assert browser.client.get("/cart").status_code == 302
    with cxml.app_context():
        assert count(CartLine) == 0
        assert count(Order) == 0
    assert cxml.test_client().get(path).status_code == 404


def test_a_punchout_keeps_its_own_cart_and_leaves_the_users_cart_alone(cxml, client, login_as):
    """Bea has CX-100 × 2 and CX-200 × 10 in her own cart; her purchasing system opens a
    PunchOut as her, she adds CX-100 × 3 there and returns it: the message carries the
    PunchOut's line only, and her own cart is as she left it, during and after."""
    from .support import Browserless

    own = login_as("buyer@acme.test")
    _accept(own, cxml, "CX-100", 2)
    _accept(own, cxml, "CX-200", 10)
    mine = {("", "CX-100"): 2, ("", "CX-200"): 10}
    assert _cart_lines(cxml, "buyer@acme.test") == mine
    punchout = Browserless(cxml.test_client())
    assert punchout.client.get(urlsplit(_start_url(client)).path).status_code == 303
    assert _cart_lines(cxml, "buyer@acme.test") == mine
    # The PunchOut's cart starts empty: none of her own lines are offered back.
    assert soup(punchout.get("/cart")).select("#cart tbody tr") == []
    _accept(punchout, cxml, "CX-100", 3)
    with cxml.app_context():
        session_id = db.session.scalars(select(PunchOutSession.id)).one()
    assert _cart_lines(cxml, "buyer@acme.test") == {
        **mine,
        (f"punchout:{session_id}", "CX-100"): 3,
    }
    # Meanwhile her own browser shows her own cart, and the PunchOut shows its own.
    own_rows = soup(own.get("/cart")).select("#cart tbody tr")
    assert ["CX-100" in own_rows[0].text, "CX-200" in own_rows[1].text] == [True, True]
    assert len(own_rows) == 2
    (row,) = soup(punchout.get("/cart")).select("#cart tbody tr")
    assert "CX-100" in row.text
    # Removing the PunchOut's line by the id of one of her own lines finds nothing.
    with cxml.app_context():
        own_line = db.session.scalar(select(CartLine.id).where(CartLine.cart_name == ""))
    removed = punchout.post(f"/cart/lines/{own_line}", {"remove": "1"}, page="/cart")
    assert removed.status_code == 404
    assert _cart_lines(cxml, "buyer@acme.test")[("", "CX-100")] == 2
    returned = punchout.post("/punchout/return", {}, page="/cart")
    message = soup(returned).find("input", attrs={"name": "cxml-urlencoded"})["value"]
    expected = (SAMPLES / "expected_punchout_order_message.xml").read_text()
    assert _normalised(message) == _normalised(expected)  # CX-100 × 3 alone
    assert _cart_lines(cxml, "buyer@acme.test") == mine
    own_rows = soup(own.get("/cart")).select("#cart tbody tr")
    assert len(own_rows) == 2


def test_carts_of_punchouts_never_returned_are_purged_by_the_schedule(cxml, client, login_as):
    from portal import jobs

    from .support import Browserless

    own = login_as("buyer@acme.test")
    _accept(own, cxml, "CX-100", 2)
    for _ in range(2):  # one abandoned long ago, one still open
        punchout = Browserless(cxml.test_client())
        punchout.client.get(urlsplit(_start_url(client, _fresh_setup())).path)
        _accept(punchout, cxml, "CX-200", 5)
    with cxml.app_context():
        old, new = db.session.scalars(
            select(CartLine).where(CartLine.cart_name != "").order_by(CartLine.id)
        ).all()
        hours = cxml.config["SESSION_ABSOLUTE_HOURS"]
        old.added_at = utcnow() - timedelta(hours=hours, days=1, minutes=1)
        own_line = db.session.scalar(select(CartLine).where(CartLine.cart_name == ""))
        own_line.added_at = utcnow() - timedelta(days=400)  # an own cart is kept however old
        db.session.commit()
        still_open = new.cart_name
        job = next(j for j in jobs.jobs_of(cxml.config) if j.name == "purge_cxml_answers")
        assert job.run() == 1
    assert _cart_lines(cxml, "buyer@acme.test") == {
        ("", "CX-100"): 2,
        (still_open, "CX-200"): 5,
    }


def test_punchout_edit_puts_the_items_in_the_cart_and_inspect_allows_no_change(cxml, client):
    from .support import Browserless

    items = (
        '<ItemOut quantity="4" lineNumber="1"><ItemID><SupplierPartID>CX-100</SupplierPartID>'
        "</ItemID></ItemOut>"
    )
    for operation in ("edit", "inspect"):
        document = sample(
            "punchout_setup.xml",
            {
                'operation="create"': f'operation="{operation}"',
                "1733000300.3456": f"1733000300.{operation}",
                "      <Contact": f"      {items}\n      <Contact",
            },
        )
        browser = Browserless(cxml.test_client())
        opened = browser.client.get(urlsplit(_start_url(client, document)).path)
        assert opened.headers["Location"] == "/cart"
        page = soup(browser.get("/cart"))
        assert "CX-100" in page.select_one("#cart table").text
        with cxml.app_context():
            line_id = db.session.scalar(select(CartLine.id))
        changed = browser.post(f"/cart/lines/{line_id}", {"remove": "1"}, page="/cart")
        if operation == "inspect":
            assert changed.headers["Location"] == "/cart"
            with cxml.app_context():
                assert count(CartLine) == 1
        browser.post("/punchout/return", {}, page="/cart")


def test_an_expired_start_url_opens_nothing(cxml, client):
    url = _start_url(client)
    with cxml.app_context():
        session = db.session.scalars(select(PunchOutSession)).one()
        session.start_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert cxml.test_client().get(urlsplit(url).path).status_code == 404


def test_a_repeated_setup_request_gets_a_fresh_url_for_the_same_session(cxml, client):
    first = _start_url(client)
    second = _start_url(client)
    assert first != second
    with cxml.app_context():
        assert count(PunchOutSession) == 1
    assert cxml.test_client().get(urlsplit(first).path).status_code == 404
    assert cxml.test_client().get(urlsplit(second).path).status_code == 303


FORM_POST = "<URL>https://proc.acme.example/punchout/return</URL>"


@pytest.mark.parametrize(
    ("url", "outbound", "code", "words"),
    [
        pytest.param("http://proc.acme.example/return", None, 400, "https", id="http"),
        pytest.param("ftp://proc.acme.example/return", None, 400, "BrowserFormPost", id="ftp"),
        pytest.param("javascript:alert(1)", None, 400, "BrowserFormPost", id="javascript"),
        pytest.param(
            "https://buyer:pw@proc.acme.example/return", None, 400, "user name", id="userinfo"
        ),
        pytest.param("https://proc.acme.example:99999/r", None, 400, "not a valid", id="port"),
        pytest.param("http://192.168.1.20/return", None, 400, "https", id="http on a LAN"),
        pytest.param(
            "https://cart-collector.example/return",
            "https://proc.acme.example/cxml/inbound",
            403,
            "proc.acme.example",
            id="another host than the account's",
        ),
        pytest.param(
            "https://proc.acme.example.evil.example/return",
            "https://proc.acme.example/cxml/inbound",
            403,
            "proc.acme.example",
            id="a host that starts like the account's",
        ),
    ],
)
def test_a_browser_form_post_url_that_is_not_allowed_opens_nothing(
    cxml, client, url, outbound, code, words
):
    if outbound:
        _set_outbound_url(cxml, outbound)
    document = sample("punchout_setup.xml", {FORM_POST: f"<URL>{url}</URL>"})
    response = post(client, document, "/cxml/punchout")
    assert response.status_code == 200  # a cXML answer, not an HTML page
    got, message = status(response)
    assert (got, words in message) == (code, True), message
    assert ET.fromstring(response.get_data()).find(".//StartPage") is None
    with cxml.app_context():
        assert count(PunchOutSession) == 0
        assert count(CxmlInbound) == 0


@pytest.mark.parametrize(
    ("url", "outbound"),
    [
        ("https://proc.acme.example/punchout/return", None),
        ("https://PROC.acme.example:8443/punchout/return", "https://proc.acme.example/cxml"),
        ("http://127.0.0.1:8765/return", None),
        ("http://localhost/return", None),
    ],
)
def test_an_allowed_browser_form_post_url_opens_a_session(cxml, client, url, outbound):
    if outbound:
        _set_outbound_url(cxml, outbound)
    _start_url(client, sample("punchout_setup.xml", {FORM_POST: f"<URL>{url}</URL>"}))
    with cxml.app_context():
        assert db.session.scalars(select(PunchOutSession.browser_form_post)).one() == url


def test_in_production_http_to_this_machine_is_refused_too(cxml, client):
    cxml.config["ENV"] = "production"
    document = sample("punchout_setup.xml", {FORM_POST: "<URL>http://127.0.0.1:8765/r</URL>"})
    got, message = status(post(client, document, "/cxml/punchout"))
    assert (got, "https" in message) == (400, True), message
    with cxml.app_context():
        assert count(PunchOutSession) == 0


def test_a_setup_request_with_a_wrong_secret_opens_nothing(cxml, client):
    document = sample("punchout_setup.xml", {"<SharedSecret>acme-cxml-demo": "<SharedSecret>x"})
    assert status(post(client, document, "/cxml/punchout"))[0] == 401
    with cxml.app_context():
        assert count(PunchOutSession) == 0


USER_EMAIL = '<Extrinsic name="UserEmail">buyer@acme.test</Extrinsic>'
CONTACT = '<Contact role="endUser"><Name xml:lang="en">Bea Buyer</Name></Contact>'


def _setup_naming(user_email: str | None, contact_email: str | None = None) -> bytes:
    """The sample setup request naming its user by UserEmail and/or Contact (None: not)."""
    extrinsic = f'<Extrinsic name="UserEmail">{user_email}</Extrinsic>' if user_email else ""
    contact = (
        CONTACT.replace("</Contact>", f"<Email>{contact_email}</Email></Contact>")
        if contact_email
        else CONTACT
    )
    return sample("punchout_setup.xml", {USER_EMAIL: extrinsic, CONTACT: contact})


def _punchout_user(app) -> tuple[str, str]:
    """The e-mail of the one PunchOut session's user and of its audit entry's actor."""
    from portal.audit.models import AuditEvent

    with app.app_context():
        session = db.session.scalars(select(PunchOutSession)).one()
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "punchout_started")
        ).one()
        return session.user.email, event.actor.email


@pytest.mark.parametrize(
    ("document", "person"),
    [
        pytest.param(_setup_naming("Admin@Acme.test"), "admin@acme.test", id="UserEmail"),
        pytest.param(_setup_naming(None, "admin@acme.test"), "admin@acme.test", id="Contact"),
        pytest.param(
            _setup_naming("admin@acme.test", "buyer@acme.test"),
            "admin@acme.test",
            id="UserEmail before Contact",
        ),
        pytest.param(_setup_naming(None), "buyer@acme.test", id="no one: the acting user"),
    ],
)
def test_punchout_opens_for_the_buyer_the_request_names(cxml, client, document, person):
    """Ada (Acme's admin, a buyer too) punches out from the purchasing system: the session,
    its cart and the audit trail are hers, not those of the credential's acting user (Bea);
    a request that names no one opens for the acting user."""
    from .support import Browserless

    browser = Browserless(cxml.test_client())
    assert browser.client.get(urlsplit(_start_url(client, document)).path).status_code == 303
    _accept(browser, cxml, "CX-100", 3)
    assert _punchout_user(cxml) == (person, person)
    with cxml.app_context():
        session_id = db.session.scalars(select(PunchOutSession.id)).one()
    assert _cart_lines(cxml, person) == {(f"punchout:{session_id}", "CX-100"): 3}
    returned = browser.post("/punchout/return", {}, page="/cart")
    assert soup(returned).find("form", id="punchout-return") is not None


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("buyer@globex.test", id="another account's buyer"),
        pytest.param("approver@acme.test", id="not a buyer"),
        pytest.param("nobody@acme.test", id="unknown"),
    ],
)
def test_punchout_for_someone_who_is_no_buyer_of_the_account_opens_nothing(cxml, client, email):
    """The request names a person the account's credentials may not act as: Status 403
    (cXML's "insufficient privileges"), the same words whoever it is, and no session under
    another identity."""
    response = post(client, _setup_naming(email), "/cxml/punchout")
    assert response.status_code == 200  # a cXML answer, not an HTML page
    code, message = status(response)
    assert (code, f"{email} is not an active buyer of this account" in message) == (403, True)
    assert ET.fromstring(response.get_data()).find(".//StartPage") is None
    with cxml.app_context():
        assert count(PunchOutSession) == 0
        assert count(CxmlInbound) == 0


def test_punchout_for_a_deactivated_buyer_opens_nothing(cxml, client):
    """Deactivated before the setup request: Status 403. Deactivated between the setup
    request and the start URL: the URL opens nothing."""

    def set_active(active: bool) -> None:
        with cxml.app_context():
            ada = db.session.scalar(select(User).where(User.email == "admin@acme.test"))
            ada.active = active
            db.session.commit()

    set_active(False)
    code, message = status(post(client, _setup_naming("admin@acme.test"), "/cxml/punchout"))
    assert (code, "admin@acme.test is not an active buyer" in message) == (403, True)
    with cxml.app_context():
        assert count(PunchOutSession) == 0
    set_active(True)
    url = _start_url(client, _setup_naming("admin@acme.test"))
    set_active(False)
    assert cxml.test_client().get(urlsplit(url).path).status_code == 404


# --- the vendor admins' page --------------------------------------------------------------------


def test_an_admin_sets_credentials_and_the_secret_cannot_be_read_back(cxml, login_as, ids):
    admin = login_as("admin@vendor.test")
    url = f"/integrations/cxml/accounts/{ids['globex']}"
    with cxml.app_context():
        globex_buyer = db.session.scalar(select(User.id).where(User.email == "buyer@globex.test"))
    refused = admin.post(
        url,
        {
            "domain": "NetworkID",
            "identity": "ACME-PROC",
            "shared_secret": "short",
            "acting_user_id": str(globex_buyer),
            "outbound_url": "ftp://x",
        },
    )
    assert refused.status_code == 422
    saved = admin.post(
        url,
        {
            "domain": "NetworkID",
            "identity": "GLOBEX-ERP",
            "shared_secret": "globex-secret-42",
            "acting_user_id": str(globex_buyer),
            "outbound_url": "https://erp.globex.example/cxml",
        },
    )
    assert saved.status_code == 303
    page = admin.get(url).get_data(as_text=True)
    assert "globex-secret-42" not in page
    assert "GLOBEX-ERP" in admin.get("/integrations/cxml").get_data(as_text=True)
    document = sample(
        "order_new.xml",
        {"ACME-PROC": "GLOBEX-ERP", "acme-cxml-demo": "globex-secret-42"},
    )
    with cxml.app_context():
        from portal.cxml.models import CxmlCredential

        stored = db.session.scalar(
            select(CxmlCredential).where(CxmlCredential.identity == "GLOBEX-ERP")
        )
        assert "globex-secret-42" not in stored.secret_hash
    code, message = status(post(cxml.test_client(), document))
    assert code == 200, message
    with cxml.app_context():
        assert db.session.scalars(select(Order)).one().account_id == ids["globex"]


def test_a_changed_secret_refuses_the_old_one_at_once(cxml, client, login_as, ids):
    """The process remembers a verified secret; a new secret must not let the old one in."""
    assert status(post(client, sample("order_new.xml")))[0] == 200
    admin = login_as("admin@vendor.test")
    with cxml.app_context():
        buyer = db.session.scalar(select(User.id).where(User.email == "buyer@acme.test"))
    changed = admin.post(
        f"/integrations/cxml/accounts/{ids['acme']}",
        {
            "domain": "NetworkID",
            "identity": "ACME-PROC",
            "shared_secret": "a-brand-new-secret",
            "acting_user_id": str(buyer),
            "outbound_url": "",
        },
    )
    assert changed.status_code == 303
    old = sample("order_new.xml", {"1733000000.1234": "1733000000.5555", "PO-CX-1001": "PO-2"})
    assert status(post(client, old))[0] == 401
    new = sample(
        "order_new.xml",
        {"1733000000.1234": "1733000000.6666", "acme-cxml-demo": "a-brand-new-secret"},
    )
    code, message = status(post(client, new.replace(b"PO-CX-1001", b"PO-3")))
    assert code == 200, message
