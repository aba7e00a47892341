"""The REST API's order detail and line-level actions: promises and their changes,
cancelling one line while the page allows it, asking for a cancellation once it is
confirmed — each through the services the order page uses, in the audit trail."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.catalog.models import Product
from portal.extensions import db, utcnow
from portal.fulfilment.models import CancellationRequest
from portal.ordering.models import Order

from .api_support import assert_problem, bearer, make_token


@pytest.fixture
def token(app, catalog):
    return make_token(app)


@pytest.fixture
def placed(app, client, token, ids):
    """A three-line order placed through the API; its number."""
    with app.app_context():
        skus = db.session.scalars(
            select(Product.sku)
            .where(
                Product.status == "active",
                Product.min_order_qty == 1,
                Product.order_multiple == 1,
            )
            .order_by(Product.sku)
            .limit(3)
        ).all()
    response = client.post(
        "/api/v1/orders",
        json={
            "lines": [{"sku": sku, "quantity": 2} for sku in skus],
            "po_number": "PO-LINES",
            "ship_to_address_id": ids["acme_address"],
        },
        headers=bearer(token, **{"Idempotency-Key": str(uuid.uuid4())}),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["number"]


def confirm(app, number: str, *, change_line_1: bool = False) -> None:
    """The desk confirms every line (and moves line 1's promise once)."""
    from portal.fulfilment import confirmations

    today = utcnow().date()
    with app.app_context():
        desk = db.session.scalar(select(User).where(User.email == "fulfilment@vendor.test"))
        order = db.session.scalar(select(Order).where(Order.number == number))
        promise = today + timedelta(days=20)
        confirmations.confirm(
            desk,
            order,
            [confirmations.LineDecision(line.id, promise) for line in order.lines],
            today,
        )
        if change_line_1:
            line = next(li for li in order.lines if li.line_no == 1)
            confirmations.change_promise(
                desk,
                order,
                line.id,
                new_date=promise + timedelta(days=7),
                reason="capacity",
                text="Press down",
                today=today,
            )


def test_one_order_carries_promises_changes_and_what_may_be_cancelled(app, client, token, placed):
    fresh = client.get(f"/api/v1/orders/{placed}", headers=bearer(token)).get_json()
    assert [line["may_cancel"] for line in fresh["lines"]] == [True, True, True]
    assert all(line["promised_ship_date"] is None for line in fresh["lines"])
    confirm(app, placed, change_line_1=True)
    body = client.get(f"/api/v1/orders/{placed}", headers=bearer(token)).get_json()
    first = body["lines"][0]
    assert first["may_cancel"] is False and first["may_request_cancellation"] is True
    assert first["first_promised_ship_date"] != first["promised_ship_date"]
    (change,) = first["promise_changes"]
    assert change["before"] == first["first_promised_ship_date"]
    assert change["after"] == first["promised_ship_date"]
    assert (change["reason"], change["reason_label"], change["text"]) == (
        "capacity",
        "Capacity",
        "Press down",
    )
    assert body["lines"][1]["promise_changes"] == []


def test_a_line_is_cancelled_while_the_page_allows_it(app, client, token, placed):
    reader = make_token(app, scopes=["orders:read"])
    url = f"/api/v1/orders/{placed}/lines/2/cancel"
    body = assert_problem(client.post(url, headers=bearer(reader)), 403)
    assert "orders:write" in body["detail"]
    response = client.post(url, headers=bearer(token))
    assert response.status_code == 200
    order = response.get_json()
    assert [line["status"] for line in order["lines"]] == ["open", "cancelled", "open"]
    assert order["status"] == "placed"
    # The total is the open lines' (as the page's cancel leaves it).
    open_total = sum(float(li["line_total"]) for li in order["lines"] if li["status"] == "open")
    assert float(order["total"]) == pytest.approx(open_total)
    again = assert_problem(client.post(url, headers=bearer(token)), 422)
    assert "cancelled" in again["detail"] and "nothing is left" in again["detail"]
    assert_problem(
        client.post(f"/api/v1/orders/{placed}/lines/9/cancel", headers=bearer(token)), 404
    )
    # An open line is cancelled directly, not asked for.
    ask = client.post(
        f"/api/v1/orders/{placed}/lines/1/cancellation-request",
        json={"reason": "Too early"},
        headers=bearer(token),
    )
    assert f"/api/v1/orders/{placed}/lines/1/cancel" in assert_problem(ask, 422)["detail"]


def _audit_events(app, action: str) -> list[dict]:
    """The audit trail's entries of `action`: who, which account, what, and the detail."""
    with app.app_context():
        return [
            {
                "actor": event.actor.email,
                "account": event.account.number,
                "target": event.target,
                "detail": event.detail,
            }
            for event in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        ]


def _token_id(app, token: str) -> int:
    from portal.api import tokens
    from portal.api.models import ApiToken

    with app.app_context():
        return db.session.scalar(
            select(ApiToken.id).where(ApiToken.token_hash == tokens.hash_token(token))
        )


def test_a_whole_order_cancelled_through_the_api_is_in_the_audit_trail(app, client, token, placed):
    """One entry naming the token's person, Acme, the order and the token; the refused
    second cancel (nothing left to cancel) writes none."""
    assert client.post(f"/api/v1/orders/{placed}/cancel", headers=bearer(token)).status_code == 200
    assert_problem(client.post(f"/api/v1/orders/{placed}/cancel", headers=bearer(token)), 422)
    assert _audit_events(app, "api_order_cancelled") == [
        {
            "actor": "buyer@acme.test",
            "account": "C-10001",
            "target": f"order:{placed}",
            "detail": {"api_token": _token_id(app, token)},
        }
    ]
    assert _audit_events(app, "api_order_line_cancelled") == []


def test_a_line_cancelled_through_the_api_is_in_the_audit_trail(app, client, token, placed):
    """One entry naming the token's person, Acme, the order, the line and its SKU, and the
    token; the refused second cancel of that line writes none."""
    url = f"/api/v1/orders/{placed}/lines/2/cancel"
    cancelled = client.post(url, headers=bearer(token))
    assert cancelled.status_code == 200
    sku = cancelled.get_json()["lines"][1]["sku"]
    assert_problem(client.post(url, headers=bearer(token)), 422)
    assert _audit_events(app, "api_order_line_cancelled") == [
        {
            "actor": "buyer@acme.test",
            "account": "C-10001",
            "target": f"order:{placed}",
            "detail": {"api_token": _token_id(app, token), "line_no": 2, "sku": sku},
        }
    ]
    assert _audit_events(app, "api_order_cancelled") == []


def test_a_confirmed_line_is_refused_with_the_way_to_ask(app, client, token, placed):
    confirm(app, placed)
    refused = assert_problem(
        client.post(f"/api/v1/orders/{placed}/lines/1/cancel", headers=bearer(token)), 422
    )
    assert refused["type"] == "/api/v1/problems/business-rule"
    assert f"/api/v1/orders/{placed}/lines/1/cancellation-request" in refused["detail"]
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == placed))
        assert {line.status for line in order.lines} == {"confirmed"}
    ask = f"/api/v1/orders/{placed}/lines/1/cancellation-request"
    missing = assert_problem(client.post(ask, json={}, headers=bearer(token)), 422)
    assert "reason" in missing["errors"]
    asked = client.post(ask, json={"reason": "Project stopped"}, headers=bearer(token))
    assert asked.status_code == 201
    (request,) = asked.get_json()["lines"][0]["cancellation_requests"]
    assert request["status"] == "pending" and request["reason"] == "Project stopped"
    assert asked.get_json()["lines"][0]["may_request_cancellation"] is False
    twice = assert_problem(client.post(ask, json={"reason": "Again"}, headers=bearer(token)), 422)
    assert "already has a cancellation request" in twice["detail"]
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(CancellationRequest)) == 1
        assert db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "api_cancellation_requested")
        )


def test_another_accounts_order_line_is_404(app, client, token, placed):
    globex = make_token(app, email="buyer@globex.test")
    for url, body in [
        (f"/api/v1/orders/{placed}/lines/1/cancel", None),
        (f"/api/v1/orders/{placed}/lines/1/cancellation-request", {"reason": "Mine now"}),
    ]:
        assert_problem(client.post(url, json=body, headers=bearer(globex)), 404)
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == placed))
        assert {line.status for line in order.lines} == {"open"}
