from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user
from sqlalchemy import text

from portal import days
from portal.extensions import db, utcnow
from portal.htmx import is_htmx, render_page
from portal.ordering.models import order_status_texts
from portal.params import optional_database_int
from portal.reviews import ratings
from portal.security import public

from . import duties, service, timeline

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """Each side's own home page: vendor staff what they owe, by role; customers what
    passed between the two companies (`?page=N` of the timeline; htmx asks for the
    next page's rows alone)."""
    now = utcnow()
    user = current_user._get_current_object()  # read once: each read of the proxy costs
    if user.is_vendor_staff:
        return render_template(
            "home/vendor.html",
            # The vendor's desk counts the vendor's day (duties.vendor_home).
            home=duties.vendor_home(user, now),
            health=duties.HEALTH,
        )
    page = request.args.get("page", 1, type=optional_database_int) or 1
    happenings, older = timeline.timeline(user.account_id, page=page)
    if is_htmx():
        return render_page("home/customer.html", "timeline_page", happenings=happenings,
                           older=older, page=page)  # fmt: skip
    account = user.account
    return render_page(
        "home/customer.html",
        "timeline_page",
        account=account,
        manager=service.account_manager(account),
        statuses=order_status_texts(),
        ask_rating=ratings.should_ask(user, days.user_today(user, now)),
        happenings=happenings,
        older=older,
        page=page,
        orders=service.recent_orders(user),
        kept=service.promises_kept(user),
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
