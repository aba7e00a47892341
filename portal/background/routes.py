"""The vendor admins' "Background work" page: the queue, the workers, failures, the schedule."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.roles import Role
from portal.errors import DomainError, NotFound
from portal.htmx import render_page
from portal.security import requires

from . import service

bp = Blueprint("background", __name__)


@bp.get("/background")
@requires(Role.ADMIN)
def index():
    """Queue length, each worker's last heartbeat, failed jobs and e-mail, the schedule."""
    return render_page("background/index.html", "content", overview=service.overview(current_app))


@bp.post("/background/failures/<int:failure_id>/retry")
@requires(Role.ADMIN)
def retry(failure_id: int):
    """Queue a failed job again."""
    try:
        failure = service.retry(current_user, failure_id)
    except NotFound:
        abort(404)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("%(name)s is queued again.", name=failure.task_name), "success")
    return redirect(url_for("background.index"), code=303)
