"""The REST API: products and orders through a token, problem+json, idempotency, limits,
and the OpenAPI document (validated as 3.1 and fuzzed with schemathesis)."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from urllib import request as urlrequest
from urllib.error import HTTPError

import pytest
from sqlalchemy import func, select

from portal.api.models import ApiIdempotencyKey
from portal.audit.models import AuditEvent
from portal.catalog.models import Product
from portal.extensions import db
from portal.ordering.models import CartLine, Order

from .api_support import assert_problem, bearer, make_token


@pytest.fixture
def token(app, catalog):
    return make_token(app)


@pytest.fixture
def skus(app, catalog) -> list[str]:
    """SKUs of active products orderable by one unit, with stock."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(Product.sku)
                .where(
                    Product.status == "active",
                    Product.min_order_qty == 1,
                    Product.order_multiple == 1,
                )
                .order_by(Product.sku)
            )
        )


def order_body(ids, skus, n=2, **extra):
    return {
        "lines": [{"sku": sku, "quantity": 1} for sku in skus[:n]],
        "po_number": "PO-API-1",
        "ship_to_address_id": ids["acme_address"],
        **extra,
    }


def post_order(client, token, body, key=None):
    headers = bearer(token)
    if key is not False:
        headers["Idempotency-Key"] = key or str(uuid.uuid4())
    return client.post("/api/v1/orders", json=body, headers=headers)


# --- products -------------------------------------------------------------------------------


def test_product_search_carries_the_accounts_contract_price(app, client, token, catalog):
    from portal.catalog.models import ContractPrice

    with app.app_context():
        price = db.session.scalars(
            select(ContractPrice).where(ContractPrice.min_quantity == 1).limit(1)
        ).first()
        product = db.session.get(Product, price.product_id)
        sku, account_id = product.sku, price.account_id
        from portal.accounts.models import User

        email = db.session.scalar(
            select(User.email).where(User.account_id == account_id).order_by(User.id).limit(1)
        )
    own = make_token(app, email=email, scopes=["catalog:read"])
    found = client.get(f"/api/v1/products/{sku.lower()}", headers=bearer(own)).get_json()
    assert found["sku"] == sku
    assert found["is_contract_price"] is True
    assert found["price_breaks"]
    assert isinstance(found["unit_price"], str)
    assert found["availability"]["summary"]
    page = client.get(
        "/api/v1/products", query_string={"q": sku, "per_page": 5}, headers=bearer(own)
    ).get_json()
    assert page["items"][0]["sku"] == sku
    assert page["page"] == 1
    everything = client.get("/api/v1/products", query_string={"per_page": 200}, headers=bearer(own))
    assert everything.get_json()["next_page"] == 2


def test_an_unknown_sku_is_a_404_problem(client, token):
    body = assert_problem(client.get("/api/v1/products/NOPE-0", headers=bearer(token)), 404)
    assert "NOPE-0" in body["detail"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "abc"}, "per_page"),
        ({"page": "-1"}, "page"),
        ({"quantity": "0"}, "quantity"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_search_input_names_its_field(client, token, query, field):
    response = client.get("/api/v1/products", query_string=query, headers=bearer(token))
    body = assert_problem(response, 422)
    assert field in body["errors"], body


# --- placing orders -----------------------------------------------------------------------


def test_an_order_through_the_api(app, client, token, ids, skus):
    with app.app_context():
        carts_before = db.session.scalar(select(func.count()).select_from(CartLine))
    requested = (date.today() + timedelta(days=60)).isoformat()
    response = post_order(client, token, order_body(ids, skus, 3, requested_date=requested))
    assert response.status_code == 201, response.get_json()
    placed = response.get_json()
    assert response.headers["Location"] == f"/api/v1/orders/{placed['number']}"
    assert [line["sku"] for line in placed["lines"]] == skus[:3]
    assert placed["requested_date"] == requested
    assert placed["po_number"] == "PO-API-1"
    one = client.get(response.headers["Location"], headers=bearer(token)).get_json()
    assert one == placed
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert order.placed_by.email == "buyer@acme.test"
        # The buyer's own cart in the browser is untouched.
        assert db.session.scalar(select(func.count()).select_from(CartLine)) == carts_before
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_order_placed"))
        assert event.target == f"order:{order.number}"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "X"}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "", "quantity": 1}]}, "lines.0.sku"),
        ({"lines": [{"sku": "X", "quantity": "two"}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "X", "quantity": 0}]}, "lines.0.quantity"),
        ({"po_number": ""}, "po_number"),
        ({"po_number": None}, "po_number"),
        ({"ship_to_address_id": "home"}, "ship_to_address_id"),
        ({"requested_date": "31.12.2030"}, "requested_date"),
        ({"colour": "red"}, "colour"),
        ({"notes": "a\x00b"}, "notes"),
        ({"lines": [{"sku": "A\x00", "quantity": 1}]}, "lines.0.sku"),
    ],
)
def test_bad_order_input_names_each_field(app, client, token, ids, skus, change, field):
    body = {**order_body(ids, skus), **change}
    problem = assert_problem(post_order(client, token, body), 422)
    assert field in problem["errors"], problem
    with app.app_context():
        assert db.session.scalar(select(Order)) is None


def test_unknown_skus_and_bad_quantities_are_named_by_line(app, client, token, ids, skus):
    body = order_body(ids, skus)
    body["lines"] = [
        {"sku": skus[0], "quantity": 1},
        {"sku": "NOPE-0", "quantity": 1},
        {"sku": skus[0], "quantity": 2},
        {"sku": skus[1], "quantity": 2_000_000},
    ]
    problem = assert_problem(post_order(client, token, body), 422)
    assert set(problem["errors"]) == {"lines.1.sku", "lines.2.sku", "lines.3.quantity"}
    with app.app_context():
        assert db.session.scalar(select(Order)) is None


def test_another_accounts_address_is_refused(app, client, token, ids, skus):
    from portal.accounts.models import Address

    with app.app_context():
        globex_address = db.session.scalar(
            select(Address.id).where(Address.account_id == ids["globex"]).limit(1)
        )
    body = order_body(ids, skus, ship_to_address_id=globex_address)
    problem = assert_problem(post_order(client, token, body), 422)
    assert "ship_to_id" in problem["errors"] or "ship_to_address_id" in problem["errors"]


def test_a_token_acting_as_an_approver_cannot_order(app, client, ids, skus, catalog):
    approver = make_token(app, email="approver@acme.test")
    assert_problem(post_order(client, approver, order_body(ids, skus)), 403)


# --- idempotency ----------------------------------------------------------------------------


def test_a_missing_idempotency_key_is_400(client, token, ids, skus):
    problem = assert_problem(post_order(client, token, order_body(ids, skus), key=False), 400)
    assert "Idempotency-Key" in problem["errors"]


def test_a_repeat_returns_the_stored_answer(app, client, token, ids, skus):
    first = post_order(client, token, order_body(ids, skus), key="order-1")
    again = post_order(client, token, order_body(ids, skus), key="order-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_the_same_key_with_another_body_is_422(app, client, token, ids, skus):
    post_order(client, token, order_body(ids, skus), key="order-1")
    other = order_body(ids, skus, po_number="PO-OTHER")
    problem = assert_problem(post_order(client, token, other, key="order-1"), 422)
    assert problem["type"].endswith("idempotency-key-reused")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_the_same_key_while_the_first_runs_is_409(app, client, token, ids, skus):
    from portal.api import idempotency
    from portal.extensions import utcnow

    body = order_body(ids, skus)
    raw = json.dumps(body).encode()
    with app.app_context():
        # The first request has claimed the key and not finished.
        claim = idempotency.claim(
            ids["acme"],
            "order-1",
            idempotency.request_hash("POST", "/api/v1/orders", raw),
            utcnow(),
        )
        assert claim.record is not None
    response = client.post(
        "/api/v1/orders",
        data=raw,
        content_type="application/json",
        headers=bearer(token, **{"Idempotency-Key": "order-1"}),
    )
    assert assert_problem(response, 409)["type"].endswith("idempotency-key-in-use")


def test_a_refused_order_is_answered_the_same_on_retry(app, client, token, ids, skus):
    body = order_body(ids, skus, ship_to_address_id=999_999)
    first = post_order(client, token, body, key="bad-1")
    again = post_order(client, token, body, key="bad-1")
    assert first.status_code == again.status_code == 422
    assert again.get_json() == first.get_json()
    with app.app_context():
        assert db.session.scalar(select(ApiIdempotencyKey.state)) == "done"


def test_fifty_parallel_creates_with_one_key_make_one_order(app, live_server, catalog, ids, skus):
    token = make_token(app)
    body = json.dumps(order_body(ids, skus, 5)).encode()

    def create(_):
        req = urlrequest.Request(
            f"{live_server.url}/api/v1/orders",
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
    numbers = {answer["number"] for status, answer in results if status == 201}
    assert len(numbers) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    # Once the first has finished, every retry gets its answer.
    status, answer = create(0)
    assert status == 201 and answer["number"] in numbers


# --- reading and cancelling orders ----------------------------------------------------------


def test_the_order_list_pages_by_cursor_and_filters(app, client, token, ids, skus):
    numbers = []
    for n in range(5):
        body = order_body(ids, skus[n:], 1, po_number=f"PO-{n}")
        numbers.append(post_order(client, token, body).get_json()["number"])
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/orders", query_string=query, headers=bearer(token)).get_json()
        seen += [order["number"] for order in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(numbers))
    found = client.get(
        "/api/v1/orders", query_string={"po_number": "PO-3"}, headers=bearer(token)
    ).get_json()
    assert [o["number"] for o in found["items"]] == [numbers[3]]
    bad = client.get("/api/v1/orders", query_string={"cursor": "zzz"}, headers=bearer(token))
    assert "cursor" in assert_problem(bad, 422)["errors"]
    bad = client.get("/api/v1/orders", query_string={"status": "lost"}, headers=bearer(token))
    assert "status" in assert_problem(bad, 422)["errors"]


def test_another_accounts_order_is_404(app, client, token, ids, skus):
    number = post_order(client, token, order_body(ids, skus)).get_json()["number"]
    globex = make_token(app, email="buyer@globex.test")
    assert_problem(client.get(f"/api/v1/orders/{number}", headers=bearer(globex)), 404)
    assert_problem(client.post(f"/api/v1/orders/{number}/cancel", headers=bearer(globex)), 404)
    assert client.get("/api/v1/orders", headers=bearer(globex)).get_json()["items"] == []


def test_cancel_while_the_page_allows_it(app, client, token, ids, skus):
    number = post_order(client, token, order_body(ids, skus)).get_json()["number"]
    reader = make_token(app, scopes=["orders:read"])
    assert_problem(client.post(f"/api/v1/orders/{number}/cancel", headers=bearer(reader)), 403)
    cancelled = client.post(f"/api/v1/orders/{number}/cancel", headers=bearer(token))
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    again = client.post(f"/api/v1/orders/{number}/cancel", headers=bearer(token))
    assert "can no longer be cancelled" in assert_problem(again, 422)["detail"]
    # Its audit entry: tests/test_api_orders.py.


# --- errors, limits, the document ------------------------------------------------------------


def test_routing_errors_under_api_are_problems(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404)
    response = client.delete("/api/v1/products")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]
    # Pages keep their HTML error pages.
    assert client.get("/nothing-here").mimetype == "text/html"


def test_a_malformed_json_body_is_a_problem(client, token):
    response = client.post(
        "/api/v1/orders",
        data=b"{not json",
        content_type="application/json",
        headers=bearer(token, **{"Idempotency-Key": "k"}),
    )
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"


def test_the_rate_limit_answers_429_with_retry_after(database_url, tmp_path, catalog):
    from portal import create_app

    from .support import make_test_config

    limited = create_app(
        make_test_config(
            database_url,
            API_RATE_LIMIT="3 per minute",
            ATTACHMENT_DIR=str(tmp_path / "a"),
        )
    )
    token = make_token(limited)
    client = limited.test_client()
    statuses = [client.get("/api/v1/products", headers=bearer(token)).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = client.get("/api/v1/products", headers=bearer(token))
    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) > 0
    # Per token: another token still gets through.
    other = make_token(limited, email="admin@acme.test")
    assert client.get("/api/v1/products", headers=bearer(other)).status_code == 200
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_openapi_document_is_valid_3_1(client):
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation import OpenAPIV31SpecValidator

    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    validate(document, cls=OpenAPIV31SpecValidator)
    assert set(document["paths"]) == {
        "/api/v1/products",
        "/api/v1/products/{sku}",
        "/api/v1/orders",
        "/api/v1/orders/{number}",
        "/api/v1/orders/{number}/cancel",
        "/api/v1/orders/{number}/lines/{line_no}/cancel",
        "/api/v1/orders/{number}/lines/{line_no}/cancellation-request",
        "/api/v1/forecasts/draft",
        "/api/v1/forecasts/publish",
        "/api/v1/forecasts/versions",
        "/api/v1/forecasts/versions/{number}",
        "/api/v1/service-requests",
        "/api/v1/service-requests/{request_id}",
    }
    create = document["paths"]["/api/v1/orders"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in create["parameters"])
    opening = document["paths"]["/api/v1/service-requests"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in opening["parameters"])
    assert {"400", "409", "422"} <= set(opening["responses"])
    ref = create["responses"]["422"]["$ref"].rsplit("/", 1)[-1]
    assert "application/problem+json" in document["components"]["responses"][ref]["content"]


def test_the_documentation_page_lists_every_operation(client):
    from .support import soup

    page = soup(client.get("/api/v1/docs"))
    headings = [h.text for h in page.select("section.api-operation h2")]
    assert "POST /api/v1/orders" in headings
    assert "GET /api/v1/products/{sku}" in headings


def test_old_idempotency_keys_are_purged_by_the_schedule(app, client, token, ids, skus):
    from portal import jobs
    from portal.extensions import utcnow

    post_order(client, token, order_body(ids, skus), key="old")
    post_order(client, token, order_body(ids, skus, po_number="PO-2"), key="new")
    with app.app_context():
        old = db.session.scalar(select(ApiIdempotencyKey).where(ApiIdempotencyKey.key == "old"))
        old.created_at = utcnow() - timedelta(days=8)
        db.session.commit()
        job = next(j for j in jobs.jobs_of(app.config) if j.name == "purge_api_idempotency_keys")
        assert job.run() == 1
        assert db.session.scalars(select(ApiIdempotencyKey.key)).all() == ["new"]


def test_with_redis_the_limit_holds_across_processes(database_url, tmp_path, catalog):
    """Two apps (as two gunicorn workers) counting one token's requests in one Redis."""
    import os

    import redis

    from portal import create_app

    from .support import make_test_config

    url = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {url}")
    workers = [
        create_app(
            make_test_config(
                database_url,
                API_RATE_LIMIT="4 per minute",
                RATELIMIT_STORAGE_URI=url,
                ATTACHMENT_DIR=str(tmp_path / "a"),
            )
        )
        for _ in range(2)
    ]
    token = make_token(workers[0])  # a new token: its count starts at zero
    statuses = [
        workers[n % 2].test_client().get("/api/v1/products", headers=bearer(token)).status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    for worker in workers:
        with worker.app_context():
            db.session.remove()
            db.engine.dispose()
