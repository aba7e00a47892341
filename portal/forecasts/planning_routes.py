"""The planners' analytics pages: demand across accounts for a month, the waterfall of
one product's forecast, and forecast accuracy (the vendor's, per account, and the
customer's own at /forecasts/accuracy)."""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask_babel import gettext as _
from flask_login import current_user

from portal import days
from portal.errors import NotFound
from portal.htmx import render_page
from portal.params import database_int
from portal.security import requires

from . import charts, planning, service
from .accuracy import LAGS, Figures
from .months import month_label, parse_month

bp = Blueprint("planning", __name__)


def _today():
    # The planners' desk gathers every account: the vendor's day (portal.days).
    return days.vendor_today()


def _int_arg(name: str) -> int | None:
    return request.args.get(name, type=database_int)


@bp.get("/forecasts/planning/demand")
@requires(*service.VENDOR_READERS)
def demand():
    """Per product, for one month: demand across accounts beside stock and lead time."""
    today = _today()
    months = planning.horizon(today)
    month = parse_month(request.args.get("month", "")) or months[min(1, len(months) - 1)]
    if month not in months:
        month = months[0]
    sort = request.args.get("sort", "demand")
    if sort not in planning.SORTS:
        sort = "demand"
    descending = request.args.get("dir", "desc" if sort != "sku" else "asc") != "asc"
    page = planning.demand(
        current_user,
        month,
        today,
        search=request.args.get("q", ""),
        sort=sort,
        descending=descending,
        only_short=request.args.get("short") == "1",
        page=_int_arg("page") or 1,
    )
    return render_page(
        "forecasts/demand.html",
        "results",
        page=page,
        sort=sort,
        descending=descending,
        search=request.args.get("q", "")[:64],
        only_short=request.args.get("short") == "1",
        month_label=month_label,
        sparkline=charts.sparkline,
    )


@bp.get("/forecasts/planning/products/<int:product_id>/waterfall")
@requires(*service.VENDOR_READERS)
def waterfall(product_id: int):
    """How one product's forecast for each month changed from version to version."""
    try:
        result = planning.waterfall(current_user, product_id, _int_arg("account"), _today())
    except NotFound:
        abort(404)
    return render_page(
        "forecasts/waterfall.html",
        "waterfall",
        waterfall=result,
        accounts=planning.accounts_for(current_user),
        month_label=month_label,
    )


def _accuracy_page(account_id: int | None):
    try:
        # The months that have ended are the account's own (its forecast months), not
        # the planners' desk's: None lets the service take the account's day.
        report = planning.account_accuracy(current_user, account_id, None)
    except NotFound:
        abort(404)
    figures = report.figures
    months = report.months

    def by_month(lag: int) -> list[Figures]:
        return [figures.by_month.get((m, lag), Figures()) for m in months]

    chart = charts.line_chart(
        months,
        {
            _("Ordered"): ("actual", [f.actual if f.points else None for f in by_month(1)]),
            _("Forecast 1 month ahead"): (
                "forecast",
                [f.forecast if f.points else None for f in by_month(1)],
            ),
            _("Forecast 3 months ahead"): (
                "forecast-far",
                [f.forecast if f.points else None for f in by_month(3)],
            ),
        },
    )
    wape_trend = {
        lag: charts.sparkline([f.wape for f in by_month(lag)], 160, 26, bridge=True) for lag in LAGS
    }
    return render_page(
        "forecasts/accuracy.html",
        "accuracy",
        report=report,
        lags=LAGS,
        chart=chart,
        wape_trend=wape_trend,
        by_month=by_month,
        accounts=planning.accounts_for(current_user) if current_user.is_vendor_staff else [],
        month_label=month_label,
        empty=Figures(),
        zone_note=days.zone_note(days.account_zone(report.account)),
    )


@bp.get("/forecasts/planning/accuracy")
@requires(*service.VENDOR_READERS)
def accuracy():
    """Forecast accuracy of the chosen account (vendor), or the choice of accounts."""
    account_id = _int_arg("account")
    if account_id is None:
        return render_page(
            "forecasts/accuracy.html",
            "accuracy",
            report=None,
            accounts=planning.accounts_for(current_user),
        )
    return _accuracy_page(account_id)


@bp.get("/forecasts/accuracy")
@requires(*service.EDITORS)
def own_accuracy():
    """The customer's own forecast accuracy against what it actually ordered."""
    return _accuracy_page(None)
