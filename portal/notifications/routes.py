"""The bell in the header and the list page. Each user only ever sees their own rows."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.accounts.roles import Role
from portal.errors import DomainError, NotFound
from portal.htmx import is_htmx, render_page, trigger
from portal.params import database_int
from portal.security import passive, request_may_write, requires

from . import outbox, preferences, service
from .forms import preferences_form

bp = Blueprint("notifications", __name__)

PAGE_SIZE = 50
MAX_PAGE = 1000
# Ids are 32-bit integers: a larger number is no notification (and would
# overflow SQLite's binding instead of finding nothing).
MAX_ID = 2**31 - 1


@bp.app_context_processor
def _bell_context() -> dict:
    """`unread_notifications()` for the bell in base.html: a function, so the COUNT runs
    only when a page draws the bell, not for every htmx fragment."""
    return {"unread_notifications": _viewer_unread_count}


def _viewer_unread_count() -> int:
    if not current_user.is_authenticated:
        return 0
    # Counted with the sign-in session at the start of the request (portal.security);
    # a request that may change notifications counts again.
    loaded = current_user.unread_notifications_at_load
    if loaded is not None and not request_may_write():
        return loaded
    return service.unread_count(current_user)


@bp.get("/notifications")
def index():
    """The viewer's notifications, newest first, 50 to a page."""
    return _list_page(_page())


@bp.get("/notifications/bell")
@passive
def bell():
    """The bell alone, for the header's polling (which does not count as activity)."""
    return render_template("notifications/_bell.html")


@bp.post("/notifications/<int:notification_id>/read")
def read(notification_id: int):
    """Mark one notification read."""
    try:
        service.mark_read(current_user, notification_id)
    except NotFound:
        abort(404)
    return _after_change(_("Marked as read."))


@bp.post("/notifications/read-all")
def read_all():
    """Mark every notification the viewer was shown as read."""
    up_to = request.form.get("up_to", type=database_int)
    if up_to is not None:
        up_to = max(0, min(up_to, MAX_ID))
    marked = service.mark_all_read(current_user, up_to=up_to)
    return _after_change(
        ngettext(
            "%(num)d notification marked as read.",
            "%(num)d notifications marked as read.",
            marked,
        )
    )


@bp.post("/notifications/<int:notification_id>/open", endpoint="open")
def open_notification(notification_id: int):
    """Mark a notification read and go to what it is about."""
    try:
        link = service.open_notification(current_user, notification_id)
    except NotFound:
        abort(404)
    if not service.is_local_path(link):
        # Never an open redirect, whatever a row says: only paths inside the portal.
        flash(_("This notification has no page to open."), "error")
        return redirect(url_for("notifications.index"), code=303)
    return redirect(link, code=303)


@bp.route("/notifications/settings", methods=["GET", "POST"])
def settings():
    """The viewer's choice per kind of notification: e-mail at once, daily digest, none."""
    form = preferences_form(preferences.of(current_user))
    if form.validate_on_submit():
        try:
            preferences.save(current_user, form.choices())
        except DomainError as error:
            error.attach_to(form)
        else:
            flash(_("Your e-mail settings are saved."), "success")
            return redirect(url_for("notifications.settings"), code=303)
    topics: dict[str, list] = {}
    for kind, (topic, _label) in preferences.KINDS.items():
        topics.setdefault(topic, []).append(form[kind])
    return render_page(
        "notifications/settings.html",
        "form",
        form=form,
        topics=topics,
        deliveries=preferences.DELIVERY_LABELS,
        status=422 if form.errors else 200,
    )


@bp.post("/notifications/outbox/<int:message_id>/resend")
@requires(Role.ADMIN)
def resend(message_id: int):
    """Put a failed e-mail back in the queue (vendor admins, from "Background work")."""
    try:
        message = outbox.resend(current_user, message_id)
    except NotFound:
        abort(404)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(
            _("The e-mail to %(recipient)s is queued again.", recipient=message.recipient),
            "success",
        )
    return redirect(url_for("background.index"), code=303)


def _page() -> int:
    """The list page asked for (query string, or the form the button sits in)."""
    page = request.values.get("page", 1, type=database_int)
    return max(1, min(page, MAX_PAGE))


def _list_page(page: int) -> Response:
    rows = service.recent(current_user, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    shown = rows[:PAGE_SIZE]
    return render_page(
        "notifications/index.html",
        "list",
        notifications=shown,
        # Each sentence written now, in the viewer's language and zone.
        texts={note.id: service.text_of(note) for note in shown},
        has_older=len(rows) > PAGE_SIZE,
        page=page,
        page_size=PAGE_SIZE,
        unread=service.unread_count(current_user),
    )


def _after_change(message: str) -> Response:
    """htmx gets the list back and the bell is told to refresh; a plain form a redirect."""
    page = _page()
    if is_htmx():
        return trigger(_list_page(page), service.CHANGED_EVENT)
    flash(message, "success")
    args = {"page": page} if page > 1 else {}
    return redirect(url_for("notifications.index", **args), code=303)
