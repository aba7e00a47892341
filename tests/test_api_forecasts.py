"""The REST API's forecasts: the draft replaced as JSON (each bad cell named, nothing
saved on error), published, read back — through the forecast area's functions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.catalog.models import Product
from portal.extensions import db, utcnow
from portal.forecasts.models import ForecastCell, ForecastEvent, ForecastVersion
from portal.forecasts.months import add_months, first_of_month

from .api_support import assert_problem, bearer, make_token


@pytest.fixture
def token(app, catalog):
    return make_token(app)


@pytest.fixture
def months() -> list[str]:
    start = first_of_month(utcnow().date())
    return [f"{add_months(start, n):%Y-%m}" for n in range(3)]


@pytest.fixture
def skus(app, catalog) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Product.sku).where(Product.status == "active").order_by(Product.sku).limit(3)
            )
        )


def discontinued_sku(app) -> str | None:
    with app.app_context():
        return db.session.scalar(
            select(Product.sku).where(Product.status == "discontinued").limit(1)
        )


def cells(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ForecastCell))


def test_put_a_draft_then_publish_it(app, client, token, skus, months):
    assert (
        client.get("/api/v1/forecasts/draft", headers=bearer(token)).get_json()["started"] is False
    )
    body = {
        "rows": [
            {"sku": skus[0].lower(), "quantities": {months[0]: 10, months[2]: 30}},
            {"sku": skus[1], "quantities": {months[1]: 5}},
        ]
    }
    put = client.put("/api/v1/forecasts/draft", json=body, headers=bearer(token))
    assert put.status_code == 200, put.get_json()
    draft = put.get_json()
    assert draft["started"] is True and draft["months"][:3] == months
    first = next(row for row in draft["rows"] if row["sku"] == skus[0])
    assert first["quantities"][months[0]] == 10 and first["quantities"][months[1]] == 0
    assert first["total"] == 40
    # A second put replaces the whole draft: skus[1] leaves it.
    body = {"rows": [{"sku": skus[2], "quantities": {months[0]: 7}}]}
    draft = client.put("/api/v1/forecasts/draft", json=body, headers=bearer(token)).get_json()
    assert [row["sku"] for row in draft["rows"]] == [skus[2]]
    assert client.get("/api/v1/forecasts/draft", headers=bearer(token)).get_json() == draft
    published = client.post(
        "/api/v1/forecasts/publish", json={"comment": "From the ERP"}, headers=bearer(token)
    )
    assert published.status_code == 201, published.get_json()
    version = published.get_json()
    assert version["number"] == 1 and version["comment"] == "From the ERP"
    assert version["total_quantity"] == 7
    assert published.headers["Location"].endswith("/api/v1/forecasts/versions/1")
    listed = client.get("/api/v1/forecasts/versions", headers=bearer(token)).get_json()
    assert [v["number"] for v in listed["items"]] == [1]
    one = client.get("/api/v1/forecasts/versions/1", headers=bearer(token)).get_json()
    assert one["rows"][0]["sku"] == skus[2] and one["rows"][0]["quantities"][months[0]] == 7
    # Publishing again with no draft is the page's refusal, as a problem.
    again = assert_problem(
        client.post("/api/v1/forecasts/publish", json={}, headers=bearer(token)), 422
    )
    assert "Change the forecast" in again["detail"]
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("api_forecast%"))
        ).all()
        assert sorted(actions) == [
            "api_forecast_draft_replaced",
            "api_forecast_draft_replaced",
            "api_forecast_published",
        ]
        # The forecast's own history has the events the pages write too.
        kinds = db.session.scalars(select(ForecastEvent.kind)).all()
        assert {"draft_started", "replaced", "published"} <= set(kinds)


def test_every_bad_cell_is_named_and_nothing_is_saved(app, client, token, skus, months):
    """Type errors, months, SKUs: all in one answer."""
    client.put(
        "/api/v1/forecasts/draft",
        json={"rows": [{"sku": skus[0], "quantities": {months[0]: 1}}]},
        headers=bearer(token),
    )
    before = cells(app)
    far = "2999-01"
    rows = [
        {"sku": skus[0], "quantities": {months[0]: 5, "2026-13": 1, far: 2, months[1]: -4}},
        {"sku": "NOPE-404", "quantities": {months[0]: 1}},
        {"sku": skus[0], "quantities": {}},
        {"sku": skus[1], "quantities": {months[1]: 3}},
    ]
    gone = discontinued_sku(app)
    if gone:
        rows.append({"sku": gone, "quantities": {months[0]: 1}})
    response = client.put("/api/v1/forecasts/draft", json={"rows": rows}, headers=bearer(token))
    body = assert_problem(response, 422)
    errors = body["errors"]
    assert "not a month" in errors["rows.0.quantities.2026-13"][0]
    assert "outside the horizon" in errors[f"rows.0.quantities.{far}"][0]
    assert "whole number" in errors[f"rows.0.quantities.{months[1]}"][0]
    assert "no product" in errors["rows.1.sku"][0]
    assert "already on row 0" in errors["rows.2.sku"][0]
    if gone:
        assert "discontinued" in errors["rows.4.sku"][0]
    assert not any(key.startswith("rows.3") for key in errors)
    assert cells(app) == before
    with app.app_context():
        replaced = select(func.count()).where(ForecastEvent.kind == "replaced")
        assert db.session.scalar(replaced) == 1


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"sku": "X", "quantities": {"2026-12": -1}}, "rows.0.quantities.2026-12"),
        ({"sku": "X", "quantities": {"2026-12": "12"}}, "rows.0.quantities.2026-12"),
        ({"sku": "X", "quantities": {"2026-12": 1.5}}, "rows.0.quantities.2026-12"),
        ({"sku": "X", "quantities": {"2026-12": 10**12}}, "rows.0.quantities.2026-12"),
        ({"sku": "", "quantities": {}}, "rows.0.sku"),
        ({"quantities": {}}, "rows.0.sku"),
        ({"sku": "X", "quantities": {}, "colour": "red"}, "rows.0.colour"),
    ],
)
def test_badly_typed_cells_name_their_field(app, client, token, row, field):
    response = client.put("/api/v1/forecasts/draft", json={"rows": [row]}, headers=bearer(token))
    errors = assert_problem(response, 422)["errors"]
    assert field in errors, errors
    assert cells(app) == 0


def test_scopes_and_roles(app, client, catalog, months):
    reader = make_token(app, scopes=["forecasts:read"])
    body = {"rows": []}
    problem = assert_problem(
        client.put("/api/v1/forecasts/draft", json=body, headers=bearer(reader)), 403
    )
    assert problem["type"] == "/api/v1/problems/scope-missing"
    assert_problem(client.post("/api/v1/forecasts/publish", json={}, headers=bearer(reader)), 403)
    writer = make_token(app, scopes=["forecasts:write"])
    assert_problem(client.get("/api/v1/forecasts/draft", headers=bearer(writer)), 403)
    assert_problem(client.get("/api/v1/forecasts/versions", headers=bearer(writer)), 403)
    # An approver (no buyer role) does not edit the forecast on the page either.
    approver = make_token(app, email="approver@acme.test")
    refused = assert_problem(
        client.put("/api/v1/forecasts/draft", json=body, headers=bearer(approver)), 403
    )
    assert "Buyers and customer admins" in refused["detail"]


def test_another_accounts_version_is_404(app, client, token, skus, months):
    client.put(
        "/api/v1/forecasts/draft",
        json={"rows": [{"sku": skus[0], "quantities": {months[0]: 4}}]},
        headers=bearer(token),
    )
    client.post("/api/v1/forecasts/publish", json={}, headers=bearer(token))
    globex = make_token(app, email="buyer@globex.test")
    assert_problem(client.get("/api/v1/forecasts/versions/1", headers=bearer(globex)), 404)
    assert client.get("/api/v1/forecasts/versions", headers=bearer(globex)).get_json() == {
        "items": []
    }
    assert client.get("/api/v1/forecasts/draft", headers=bearer(globex)).get_json()["rows"] == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ForecastVersion)) == 1
