"""REST API v1: the token's account's forecast — the draft as a whole (read, replace)
and publishing it, and the published versions.

Through the forecast area's own functions (`whole_draft`, `versions`): the same
horizon, quantity rules, events and vendor notification as the grid and uploads.
"""

from __future__ import annotations

from flask import make_response, url_for

from portal.audit import service as audit
from portal.errors import NotFound
from portal.extensions import db
from portal.forecasts import service as forecasts
from portal.forecasts import versions, whole_draft
from portal.forecasts.models import ForecastVersion
from portal.security import client_address

from . import problems
from . import schemas as s
from .door import api_user, bp, needs_scope
from .v1 import documents_problems, today, token_id


def _month(month) -> str:
    return f"{month:%Y-%m}"


def _rows_json(rows) -> list[dict]:
    return [
        {
            "sku": row.product.sku,
            "name": row.product.name,
            "quantities": {_month(m): q for m, q in row.quantities.items()},
            "total": sum(row.quantities.values()),
        }
        for row in rows
    ]


def _draft_json(draft: whole_draft.Draft) -> dict:
    return {
        "started": draft.started,
        "months": [_month(m) for m in draft.months],
        "rows": _rows_json(draft.rows),
    }


def _version_json(version: ForecastVersion) -> dict:
    return {
        "number": version.number,
        "published_at": version.published_at,
        "comment": version.comment or "",
        "first_month": _month(version.first_month),
        "horizon_months": version.horizon_months,
        "cells_changed": version.cells_changed,
        "total_quantity": version.total_quantity,
    }


@bp.get("/forecasts/draft")
@bp.response(200, s.ForecastDraftOut)
@documents_problems(403)
@needs_scope("forecasts:read")
def forecast_draft():
    """The account's forecast draft over the horizon's months (as the forecast page)."""
    return _draft_json(whole_draft.read(api_user(), today()))


@bp.put("/forecasts/draft")
@bp.arguments(s.ForecastDraftIn)
@bp.response(200, s.ForecastDraftOut)
@documents_problems(403, 422)
@needs_scope("forecasts:write")
def put_forecast_draft(data: dict):
    """Replace the draft with these rows: products × months. A month left out of a row is
    0, a product left out leaves the draft. Every bad cell is named in `errors`
    (`rows.3.quantities.2027-01`) and nothing is saved then. Publish it afterwards."""
    user = api_user()
    rows = [(row["sku"], row["quantities"]) for row in data["rows"]]
    try:
        draft = whole_draft.replace(user, rows, today())
    except whole_draft.CellsRefused as refused:
        db.session.rollback()
        return problems.problem(
            422, kind="invalid-input", detail=refused.message, errors=refused.errors
        )
    audit.record_alone(
        "api_forecast_draft_replaced",
        actor=user,
        client_address=client_address(),
        target=f"account:{user.account_id}",
        detail={"api_token": token_id(), "products": len(draft.rows)},
    )
    return _draft_json(draft)


@bp.post("/forecasts/publish")
@bp.arguments(s.PublishIn)
@bp.response(201, s.ForecastVersionOut)
@documents_problems(403, 422)
@needs_scope("forecasts:write")
def publish_forecast(data: dict):
    """Publish the draft as the account's next version; the vendor's planners are told."""
    user = api_user()
    version = versions.publish(user, data["comment"], today())
    audit.record_alone(
        "api_forecast_published",
        actor=user,
        client_address=client_address(),
        target=f"account:{user.account_id}",
        detail={"api_token": token_id(), "version": version.number},
    )
    response = make_response(s.ForecastVersionOut().dump(_version_json(version)), 201)
    response.headers["Location"] = url_for("api.forecast_version", number=version.number)
    return response


@bp.get("/forecasts/versions")
@bp.response(200, s.ForecastVersionList)
@documents_problems(403)
@needs_scope("forecasts:read")
def forecast_versions():
    """The account's published versions, newest first."""
    user = api_user()
    forecasts.editor(user)  # who may edit the forecast reads its versions here
    return {"items": [_version_json(v) for v in versions.versions_of(user, user.account_id)]}


@bp.get("/forecasts/versions/<int:number>")
@bp.response(200, s.ForecastVersionDetailOut)
@documents_problems(403, 404)
@needs_scope("forecasts:read")
def forecast_version(number: int):
    """One published version (by its number) with its quantities."""
    user = api_user()
    forecasts.editor(user)
    found = db.session.scalar(
        versions.published(user).where(
            ForecastVersion.account_id == user.account_id, ForecastVersion.number == number
        )
    )
    if found is None:
        raise NotFound(f"There is no forecast version {number}.")
    cells = forecasts.all_cells(found.id)
    products = forecasts.products_by_id({pid for pid, _ in cells})
    months = sorted({m for _, m in cells})
    by_product: dict[int, dict] = {}
    for (pid, month), quantity in cells.items():
        by_product.setdefault(pid, {})[month] = quantity
    rows = [
        whole_draft.DraftRow(products[pid], {m: by_month.get(m, 0) for m in months})
        for pid, by_month in by_product.items()
    ]
    rows.sort(key=lambda row: row.product.sku_key)
    return {
        **_version_json(found),
        "months": [_month(m) for m in months],
        "rows": _rows_json(rows),
    }
