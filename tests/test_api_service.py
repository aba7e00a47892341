"""The REST API's service requests: open one (with an order line or product as its
context), list by cursor, read one with its thread — never the vendor's internal
notes — and its promise, through the service area's functions."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib import request as urlrequest
from urllib.error import HTTPError

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.api.models import ApiIdempotencyKey
from portal.audit.models import AuditEvent
from portal.catalog.models import Product
from portal.extensions import db, utcnow
from portal.service.models import ServiceRequest

from .api_support import assert_problem, bearer, make_token


@pytest.fixture
def token(app, catalog):
    return make_token(app)


@pytest.fixture
def order_number(app, client, token, ids) -> str:
    with app.app_context():
        sku = db.session.scalar(
            select(Product.sku)
            .where(Product.status == "active", Product.min_order_qty == 1)
            .order_by(Product.sku)
            .limit(1)
        )
    response = client.post(
        "/api/v1/orders",
        json={
            "lines": [{"sku": sku, "quantity": 1}],
            "po_number": "PO-SR",
            "ship_to_address_id": ids["acme_address"],
        },
        headers=bearer(token, **{"Idempotency-Key": str(uuid.uuid4())}),
    )
    return response.get_json()["number"]


def requests_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ServiceRequest))


def open_one(client, token, key=None, **extra):
    """POST a service request; a new Idempotency-Key unless `key` is given (False: none)."""
    body = {"kind": "repair", "priority": "high", "title": "Pump leaks", **extra}
    headers = bearer(token)
    if key is not False:
        headers["Idempotency-Key"] = key or str(uuid.uuid4())
    return client.post("/api/v1/service-requests", json=body, headers=headers)


def test_open_read_and_the_thread_without_internal_notes(app, client, token, order_number):
    opened = open_one(
        client,
        token,
        description="Drips **since Monday**.",
        order_line={"order_number": order_number, "line_no": 1},
    )
    assert opened.status_code == 201, opened.get_json()
    body = opened.get_json()
    assert body["reference"].startswith("SR-") and body["status"] == "new"
    assert body["order_line"] == {"order_number": order_number, "line_no": 1}
    assert body["product_sku"]  # the line's product
    assert body["promise"]["first_response"]["state"] == "due"
    assert body["promise"]["first_response"]["due_at"]
    assert opened.headers["Location"].endswith(f"/api/v1/service-requests/{body['id']}")
    from portal.service import workflow

    with app.app_context():
        staff = db.session.scalar(select(User).where(User.email == "service@vendor.test"))
        request = db.session.get(ServiceRequest, body["id"])
        workflow.post(staff, request, body="Check the seal first", internal=True, now=utcnow())
        workflow.post(staff, request, body="We send an engineer.", internal=False, now=utcnow())
        assert (
            db.session.scalar(
                select(AuditEvent).where(AuditEvent.action == "api_service_request_opened")
            ).target
            == f"service_request:{body['reference']}"
        )
    read = client.get(f"/api/v1/service-requests/{body['id']}", headers=bearer(token)).get_json()
    assert [m["body"] for m in read["messages"]] == ["We send an engineer."]
    assert read["messages"][0]["from_vendor"] is True
    assert "Check the seal" not in str(read)
    assert read["promise"]["first_response"]["state"] == "met"
    assert read["description"] == "Drips **since Monday**."


def test_the_list_pages_by_cursor_and_filters(app, client, token):
    ids = [open_one(client, token, title=f"Request {n}").get_json()["id"] for n in range(5)]
    open_one(client, token, title="A low one", priority="low")
    reader = make_token(app, scopes=["service:read"])
    seen, cursor = [], None
    while True:
        query = {"limit": 2, "priority": "high", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/service-requests", query_string=query, headers=bearer(reader))
        page = page.get_json()
        seen += [item["id"] for item in page["items"]]
        assert all(item["promise"]["resolution"]["state"] for item in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    everything = client.get("/api/v1/service-requests", headers=bearer(reader)).get_json()
    assert len(everything["items"]) == 6
    closed = client.get(
        "/api/v1/service-requests", query_string={"status": "closed"}, headers=bearer(reader)
    )
    assert closed.get_json()["items"] == []
    for query, field in [
        ({"cursor": "zzz"}, "cursor"),
        ({"status": "lost"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"colour": "red"}, "colour"),
    ]:
        response = client.get(
            "/api/v1/service-requests", query_string=query, headers=bearer(reader)
        )
        assert field in assert_problem(response, 422)["errors"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"kind": "magic"}, "kind"),
        ({"priority": "asap"}, "priority"),
        ({"title": "x"}, "title"),
        ({"title": "   \t  "}, "title"),
        ({"product_sku": "NOPE-404"}, "product_sku"),
        ({"order_line": {"order_number": "SO-0-0", "line_no": 1}}, "order_line.order_number"),
        ({"order_line": {"order_number": "x"}}, "order_line.line_no"),
        ({"shipment_id": "7"}, "shipment_id"),
        ({"shipment_id": 999999}, "shipment_id"),
        ({"secret": 1}, "secret"),
    ],
)
def test_bad_input_names_its_field_and_opens_nothing(app, client, token, extra, field):
    response = open_one(client, token, **extra)
    assert field in assert_problem(response, 422)["errors"]
    assert requests_count(app) == 0


def test_an_order_line_of_another_account_is_not_a_context(app, client, token, order_number):
    globex = make_token(app, email="buyer@globex.test")
    ref = {"order_number": order_number, "line_no": 1}
    body = assert_problem(open_one(client, globex, order_line=ref), 422)
    assert body["errors"] == {"order_line.order_number": [f"There is no order {order_number}."]}
    ref = {"order_number": order_number, "line_no": 7}
    assert (
        "order_line.line_no"
        in assert_problem(open_one(client, token, order_line=ref), 422)["errors"]
    )
    assert requests_count(app) == 0


def _ship(app, order_number: str) -> None:
    from datetime import date

    from portal.fulfilment import confirmations, shipments
    from portal.ordering.models import Order

    with app.app_context():
        desk = db.session.scalar(select(User).where(User.email == "fulfilment@vendor.test"))
        order = db.session.scalar(select(Order).where(Order.number == order_number))
        decisions = [confirmations.LineDecision(line.id, date.today()) for line in order.lines]
        confirmations.confirm(desk, order, decisions, date.today())
        shipments.ship(
            desk,
            order,
            {line.id: line.quantity for line in order.lines},
            carrier="DHL",
            tracking="JD0142",
            shipped_on=date.today(),
            today=date.today(),
        )


def test_a_shipment_of_the_order_is_a_context(app, client, token, order_number):
    _ship(app, order_number)
    order = client.get(f"/api/v1/orders/{order_number}", headers=bearer(token)).get_json()
    shipment_id = order["shipments"][0]["id"]
    opened = open_one(client, token, kind="complaint_delivery", shipment_id=shipment_id)
    assert opened.status_code == 201, opened.get_json()
    body = opened.get_json()
    # A shipment of one line stands for that line and its product.
    assert body["shipment_id"] == shipment_id
    assert body["order_line"] == {"order_number": order_number, "line_no": 1}
    assert body["product_sku"] == order["lines"][0]["sku"]
    read = client.get(f"/api/v1/service-requests/{body['id']}", headers=bearer(token))
    assert read.get_json()["shipment_id"] == shipment_id
    # Another account's token: the shipment is not one of theirs, and nothing opens.
    globex = make_token(app, email="buyer@globex.test")
    refused = assert_problem(open_one(client, globex, shipment_id=shipment_id), 422)
    assert refused["errors"] == {"shipment_id": ["That shipment is not one of the customer's."]}
    assert requests_count(app) == 1


def test_scopes_and_another_accounts_request(app, client, token):
    reader = make_token(app, scopes=["service:read"])
    body = assert_problem(open_one(client, reader), 403)
    assert "service:write" in body["detail"]
    writer = make_token(app, scopes=["service:write"])
    assert_problem(client.get("/api/v1/service-requests", headers=bearer(writer)), 403)
    assert requests_count(app) == 0
    created = open_one(client, writer).get_json()
    assert_problem(
        client.get(f"/api/v1/service-requests/{created['id']}", headers=bearer(writer)), 403
    )
    globex = make_token(app, email="buyer@globex.test")
    assert_problem(
        client.get(f"/api/v1/service-requests/{created['id']}", headers=bearer(globex)), 404
    )
    assert client.get("/api/v1/service-requests", headers=bearer(globex)).get_json()["items"] == []
    with app.app_context():
        denied = db.session.scalars(
            select(AuditEvent.target).where(AuditEvent.action == "access_denied")
        ).all()
        assert any("/api/v1/service-requests" in target for target in denied)


def test_problem_types_resolve_to_readable_pages(client, token):
    from .support import soup

    body = assert_problem(open_one(client, token, kind="magic"), 422)
    page = client.get(body["type"])
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert soup(page).select_one("h1").text == "Invalid input"
    assert_problem(client.get("/api/v1/problems/no-such-problem"), 404)


# --- Idempotency-Key (as creating an order: portal.api.door.idempotent) ---------------------


def test_a_missing_idempotency_key_is_400_and_opens_nothing(app, client, token):
    problem = assert_problem(open_one(client, token, key=False), 400)
    assert problem["type"].endswith("idempotency-key-missing")
    assert "Idempotency-Key" in problem["errors"]
    assert requests_count(app) == 0


def test_a_repeat_returns_the_stored_answer_and_opens_one(app, client, token):
    first = open_one(client, token, key="sr-1")
    again = open_one(client, token, key="sr-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert requests_count(app) == 1
    with app.app_context():
        # One request, one audit entry: the repeat did nothing.
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "api_service_request_opened")
            )
            == 1
        )


def test_the_same_key_with_another_body_is_422(app, client, token):
    open_one(client, token, key="sr-1")
    problem = assert_problem(open_one(client, token, key="sr-1", title="Another leak"), 422)
    assert problem["type"].endswith("idempotency-key-reused")
    assert requests_count(app) == 1


def test_a_key_used_for_an_order_is_not_reused_for_a_request(app, client, token, order_number):
    """Keys are the account's across both creating views: the path is part of the request."""
    with app.app_context():
        order_key = db.session.scalar(select(ApiIdempotencyKey.key))
    problem = assert_problem(open_one(client, token, key=order_key), 422)
    assert problem["type"].endswith("idempotency-key-reused")
    assert requests_count(app) == 0


def test_the_same_key_while_the_first_runs_is_409(app, client, token, ids):
    from portal.api import idempotency

    raw = json.dumps({"kind": "repair", "priority": "high", "title": "Pump leaks"}).encode()
    with app.app_context():
        # The first request has claimed the key and not finished.
        claim = idempotency.claim(
            ids["acme"],
            "sr-1",
            idempotency.request_hash("POST", "/api/v1/service-requests", raw),
            utcnow(),
        )
        assert claim.record is not None
    response = client.post(
        "/api/v1/service-requests",
        data=raw,
        content_type="application/json",
        headers=bearer(token, **{"Idempotency-Key": "sr-1"}),
    )
    assert assert_problem(response, 409)["type"].endswith("idempotency-key-in-use")
    assert requests_count(app) == 0


def test_a_refused_request_is_answered_the_same_on_retry(app, client, token):
    first = open_one(client, token, key="bad-1", product_sku="NOPE-404")
    again = open_one(client, token, key="bad-1", product_sku="NOPE-404")
    assert first.status_code == again.status_code == 422
    assert again.get_json() == first.get_json()
    assert "product_sku" in again.get_json()["errors"]
    assert requests_count(app) == 0


def test_fifty_parallel_opens_with_one_key_make_one_request(app, live_server, catalog):
    token = make_token(app)
    body = json.dumps({"kind": "repair", "priority": "urgent", "title": "Line stopped"}).encode()

    def create(_):
        req = urlrequest.Request(
            f"{live_server.url}/api/v1/service-requests",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": "rush-1",
            },
        )
        try:
            with urlrequest.urlopen(req, timeout=60) as response:
                return response.status, json.load(response)
        except HTTPError as error:
            return error.code, json.load(error)

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(create, range(50)))
    statuses = [status for status, _ in results]
    assert set(statuses) <= {201, 409}, statuses
    references = {answer["reference"] for status, answer in results if status == 201}
    assert len(references) == 1
    assert requests_count(app) == 1
    # Once the first has finished, every retry gets its answer.
    status, answer = create(0)
    assert status == 201 and answer["reference"] in references
