from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import text

from portal.extensions import db
from portal.security import public

from . import service

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """Each side's own home page."""
    if current_user.is_vendor_staff:
        title, rows = service.accounts_overview(current_user)
        return render_template(
            "home/vendor.html",
            title=title,
            rows=rows,
            waiting=sum(row.waiting_orders for row in rows),
            window=service.PROMISE_WINDOW_DAYS,
        )
    return render_template(
        "home/customer.html",
        account=current_user.account,
        events=service.customer_activity(current_user),
        orders=service.recent_orders(current_user),
        kept=service.promises_kept(current_user),
    )


@bp.get("/healthz")
@public
def healthz():
    """For load balancers and monitoring: is the app up and the database reachable?"""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
