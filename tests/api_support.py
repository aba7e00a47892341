"""Helpers for the API tests: tokens made through the service, bearer headers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.api import tokens
from portal.extensions import db, utcnow

ALL_SCOPES = [
    "catalog:read",
    "orders:read",
    "orders:write",
    "forecasts:read",
    "forecasts:write",
    "service:read",
    "service:write",
]


def make_token(app, email: str = "buyer@acme.test", scopes=None, days: int = 30) -> str:
    """A token acting as `email`, made by the command line's path (no admin)."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        created = tokens.create(
            None, acting_as=user, name="test", scopes=scopes or ALL_SCOPES, days=days, now=utcnow()
        )
        return created.text


def bearer(token: str, **headers) -> dict:
    return {"Authorization": f"Bearer {token}", **headers}


def expire(app, token_text: str) -> None:
    from portal.api.models import ApiToken

    with app.app_context():
        token = db.session.scalar(
            select(ApiToken).where(ApiToken.token_hash == tokens.hash_token(token_text))
        )
        token.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()


def assert_problem(response, status: int) -> dict:
    """The response is problem+json with the RFC 9457 members; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["title"] and isinstance(body["detail"], str) and body["type"]
    return body
