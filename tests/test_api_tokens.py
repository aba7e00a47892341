"""API tokens: their shape, who makes and revokes them, and how the API treats each kind."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.api import tokens
from portal.api.models import ApiToken
from portal.audit.models import AuditEvent
from portal.extensions import db

from .api_support import assert_problem, bearer, expire, make_token
from .support import soup


def test_a_token_has_prefix_random_part_and_checksum():
    text = tokens.new_token_text()
    assert re.fullmatch(r"ptl_[0-9A-Za-z]{49}", text)
    assert tokens.looks_valid(text)
    # One changed character of the random part breaks the checksum: a scanner can tell.
    changed = text[:10] + ("A" if text[10] != "A" else "B") + text[11:]
    assert not tokens.looks_valid(changed)
    assert len({tokens.new_token_text() for _ in range(100)}) == 100


def test_only_the_hash_is_stored(app, demo):
    text = make_token(app)
    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        assert token.token_hash == tokens.hash_token(text)
        assert text not in (token.hint, token.token_hash, token.name)
        assert token.hint == text[:10]


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "Send `Authorization: Bearer <token>`"),
        ("Basic dXNlcjpwYXNz", "Send `Authorization: Bearer <token>`"),
        ("Bearer ", "Send `Authorization: Bearer <token>`"),
        ("Bearer not-a-token", "malformed"),
        ("Bearer ptl_" + "A" * 49, "malformed"),  # checksum wrong
    ],
)
def test_missing_or_malformed_tokens_are_401(client, demo, header, detail):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/products", headers=headers)
    body = assert_problem(response, 401)
    assert detail in body["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_with_a_right_checksum_is_401(client, demo):
    response = client.get("/api/v1/products", headers=bearer(tokens.new_token_text()))
    assert "unknown" in assert_problem(response, 401)["detail"]


def test_an_expired_token_is_401(app, client, demo):
    text = make_token(app)
    assert client.get("/api/v1/products", headers=bearer(text)).status_code == 200
    expire(app, text)
    assert (
        "expired"
        in assert_problem(client.get("/api/v1/products", headers=bearer(text)), 401)["detail"]
    )


def test_a_token_of_a_deactivated_user_is_401(app, client, demo):
    from portal.accounts.models import User

    text = make_token(app)
    with app.app_context():
        db.session.scalar(select(User).where(User.email == "buyer@acme.test")).active = False
        db.session.commit()
    assert_problem(client.get("/api/v1/products", headers=bearer(text)), 401)


def test_a_session_cookie_is_not_accepted_on_the_api(app, login_as):
    person = login_as("buyer@acme.test")
    assert person.get("/orders").status_code == 200  # the cookie works on pages
    assert_problem(person.get("/api/v1/orders"), 401)
    response = person.client.post("/api/v1/orders", json={}, headers={"Idempotency-Key": "k"})
    assert_problem(response, 401)


@pytest.mark.parametrize(
    ("scopes", "url", "status"),
    [
        (["catalog:read"], "/api/v1/products", 200),
        (["catalog:read"], "/api/v1/orders", 403),
        (["orders:read"], "/api/v1/orders", 200),
        (["orders:read"], "/api/v1/products", 403),
        (["forecasts:write"], "/api/v1/products/X", 403),
    ],
)
def test_scopes_decide_what_a_token_reaches(app, client, demo, scopes, url, status):
    response = client.get(url, headers=bearer(make_token(app, scopes=scopes)))
    if status == 403:
        body = assert_problem(response, 403)
        assert "lacks the scope" in body["detail"]
        with app.app_context():
            denial = db.session.scalar(
                select(AuditEvent).where(AuditEvent.action == "access_denied")
            )
            assert denial.target == f"GET {url}"
    else:
        assert response.status_code == status


def test_creating_an_order_needs_orders_write(app, client, demo):
    text = make_token(app, scopes=["catalog:read", "orders:read"])
    response = client.post(
        "/api/v1/orders", json={"lines": []}, headers=bearer(text, **{"Idempotency-Key": "k1"})
    )
    assert "orders:write" in assert_problem(response, 403)["detail"]


def test_last_use_is_recorded(app, client, demo):
    text = make_token(app)
    client.get("/api/v1/products", headers=bearer(text), environ_base={"REMOTE_ADDR": "10.1.2.3"})
    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        assert token.last_used_at is not None
        assert token.last_used_address == "10.1.2.3"


# --- the pages ---------------------------------------------------------------------------------


def create_on_page(person, **fields):
    page = soup(person.get("/api-tokens"))
    user_id = fields.pop("user_id", None) or next(
        o["value"] for o in page.select("#user_id option") if "buyer@acme.test" in o.text
    )
    data = {"name": "ERP sync", "user_id": user_id, "scopes": ["catalog:read"], "days": "30"}
    data.update(fields)
    return person.post("/api-tokens", data, page="/api-tokens")


def test_a_customer_admin_creates_a_token_shown_once(app, login_as, client):
    admin = login_as("admin@acme.test")
    page = soup(admin.get("/api-tokens"))
    offered = [o.text for o in page.select("#user_id option")]
    assert any("buyer@acme.test" in text for text in offered)
    assert not any("globex" in text for text in offered)  # their own account only
    response = create_on_page(admin)
    assert response.status_code == 201
    text = soup(response).select_one("#token-text").text.strip()
    assert tokens.looks_valid(text)
    assert client.get("/api/v1/products", headers=bearer(text)).status_code == 200
    # Shown once: the list shows the hint, never the token again.
    again = admin.get("/api-tokens").get_data(as_text=True)
    assert text not in again and text[:10] in again
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "api_token_created")
        )
        assert event.detail["acting_as"] == "buyer@acme.test"
        assert text not in str(event.detail)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"scopes": []}, "scopes", "Choose at least one scope."),
        ({"days": "0"}, "days", "Number must be between 1 and 366."),
        ({"days": "367"}, "days", "Number must be between 1 and 366."),
        ({"days": ""}, "days", "This field is required."),
        ({"scopes": ["root"]}, "scopes", "'root' is not a valid choice"),
    ],
)
def test_bad_token_input_is_shown_beside_its_field(app, login_as, fields, field, message):
    admin = login_as("admin@acme.test")
    response = create_on_page(admin, **fields)
    assert response.status_code == 422
    error = soup(response).select_one(f"#{field}-error")
    assert error is not None and message in error.text
    with app.app_context():
        assert db.session.scalar(select(ApiToken)) is None


def test_a_customer_admin_cannot_make_a_token_for_another_account(app, login_as, ids):
    admin = login_as("admin@acme.test")
    globex_buyer = ids["users"]["buyer@globex.test"]
    response = create_on_page(admin, user_id=str(globex_buyer))
    assert response.status_code == 422  # not one of the choices offered
    with app.app_context():
        assert db.session.scalar(select(ApiToken)) is None


def test_a_vendor_admin_makes_tokens_for_any_account(app, login_as, ids, client):
    admin = login_as("admin@vendor.test")
    response = create_on_page(admin, user_id=str(ids["users"]["buyer@globex.test"]))
    assert response.status_code == 201


def test_a_revoked_token_is_refused_on_the_very_next_request(app, login_as, client):
    text = make_token(app)
    assert client.get("/api/v1/products", headers=bearer(text)).status_code == 200
    admin = login_as("admin@acme.test")
    with app.app_context():
        token_id = db.session.scalars(select(ApiToken.id)).one()
    assert admin.post(f"/api-tokens/{token_id}/revoke", page="/api-tokens").status_code == 303
    assert (
        "revoked"
        in assert_problem(client.get("/api/v1/products", headers=bearer(text)), 401)["detail"]
    )
    row = soup(admin.get("/api-tokens")).select_one("table.data tbody tr")
    assert "Revoked" in row.text
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token_revoked"))


def test_another_accounts_admin_cannot_revoke(app, login_as, demo):
    text = make_token(app)
    from portal import demo as demo_data  # noqa: F401
    from portal.accounts.models import CustomerAccount, User
    from portal.accounts.roles import Role

    with app.app_context():
        globex = db.session.scalar(
            select(CustomerAccount).where(CustomerAccount.number == "C-10002")
        )
        other = User(
            email="admin@globex.test",
            name="G Admin",
            account=globex,
            password_hash=demo_data.password_hash(),
        )
        other.roles = [Role.CUSTOMER_ADMIN]
        db.session.add(other)
        db.session.commit()
        token_id = db.session.scalars(select(ApiToken.id)).one()
    person = login_as("admin@globex.test")
    assert person.post(f"/api-tokens/{token_id}/revoke", page="/api-tokens").status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None
    assert text


def test_the_command_prints_the_token_alone_on_its_last_line(app, demo):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "api-token",
            "create",
            "--email",
            "buyer@acme.test",
            "--scope",
            "catalog:read",
            "--scope",
            "orders:read",
            "--days",
            "7",
        ]
    )
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert tokens.looks_valid(last)
    client = app.test_client()
    assert client.get("/api/v1/orders", headers=bearer(last)).status_code == 200
    refused = runner.invoke(
        args=[
            "api-token",
            "create",
            "--email",
            "buyer@acme.test",
            "--scope",
            "catalog:read",
            "--days",
            "400",
        ]
    )
    assert refused.exit_code != 0 and "1 to 366 days" in refused.output
