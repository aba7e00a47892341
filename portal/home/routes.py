from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import text

from portal.extensions import db, utcnow
from portal.reviews import ratings
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
    account = current_user.account
    service.load_account_manager(account)
    return render_template(
        "home/customer.html",
        account=account,
        ask_rating=ratings.should_ask(current_user, utcnow().date()),
        events=service.customer_activity(current_user),
        orders=service.recent_orders(current_user),
        kept=service.promises_kept(current_user),
    )


@bp.get("/healthz")
@public
def healthz():
    """For load balancers and monitoring: the database (503 when unreachable), the job
    queue and the age of the freshest worker heartbeat (reported, never fatal: a web
    host serves without a worker, and mail waits in the outbox)."""
    from portal import jobs
    from portal.background import service as background

    try:
        db.session.execute(text("SELECT 1"))
        heartbeat = background.heartbeat_age()
        db.session.commit()
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return jsonify(
            status="error",
            database="unreachable",
            queue=_queue_state(),
            worker_heartbeat_seconds=None,
        ), 503
    queue = _queue_state()
    worker = (
        "none"
        if heartbeat is None
        else "stale"
        if heartbeat > jobs.HEARTBEAT_STALE_SECONDS
        else "ok"
    )
    return jsonify(
        status="ok" if queue == "ok" and worker == "ok" else "degraded",
        database="ok",
        queue=queue,
        worker=worker,
        worker_heartbeat_seconds=heartbeat,
    )


def _queue_state() -> str:
    from portal import jobs

    try:
        jobs.check()
    except jobs.QueueUnavailable:
        return "unreachable"
    return "ok"
