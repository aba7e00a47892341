"""The commit page of an account: the planners' grid (latest version against the one
before, exceptions flagged, commitments to type), and the same page read-only for
account managers and for the account's own buyers (commitments and mismatches)."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db
from portal.htmx import render_page
from portal.security import requires

from . import commits, service
from .months import month_label

bp = Blueprint("forecast_commits", __name__)

READERS = (*commits.CUSTOMER_READERS, *service.VENDOR_READERS)
QUANTITY_FIELD = re.compile(r"^q-(\d{1,10})-(\d{4}-\d{2})$")


def _page(account_id: int, status: int = 200, **context):
    try:
        board = commits.board(current_user, account_id)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    can_commit = current_user.is_vendor_staff and current_user.has_role(*commits.COMMITTERS)
    # Read after `board`, which has checked that the viewer may see this account.
    own_threshold = commits.agreed_threshold(account_id) if current_user.is_vendor_staff else None
    return render_page(
        "forecasts/commits.html",
        "board",
        status=status,
        board=board,
        can_commit=can_commit,
        vendor_view=current_user.is_vendor_staff,
        own_threshold=own_threshold,
        reasons=commits.REASONS,
        month_label=month_label,
        month_labels=[month_label(m) for m in board.months],
        month_names=[m.strftime("%b %Y") for m in board.months],
        errors=context.pop("errors", {}),
        typed=context.pop("typed", {}),
        **context,
    )


@bp.get("/forecasts/accounts/<int:account_id>/commits")
@requires(*READERS)
def board(account_id: int):
    """The account's latest forecast with the vendor's commitments and mismatches."""
    return _page(account_id)


def _entries(form) -> list[commits.CommitEntry]:
    """One entry per quantity field (q-<product>-<month>), with its row's reason."""
    entries = []
    for name in form:
        match = QUANTITY_FIELD.match(name)
        if match:
            pid, month = match.groups()
            entries.append(
                commits.CommitEntry(
                    pid,
                    month,
                    form.get(name, "")[:30],
                    form.get(f"reason-{pid}", "")[:20],
                    form.get(f"note-{pid}", "")[: commits.MAX_REASON_TEXT + 1],
                )
            )
    return entries


@bp.post("/forecasts/accounts/<int:account_id>/commits")
@requires(*commits.COMMITTERS)
def commit(account_id: int):
    """Commit the quantities typed in the grid: every cell or none."""
    try:
        result = commits.commit(
            current_user,
            account_id,
            _entries(request.form),
            answering=request.form.get("version_id"),
        )
    except NotFound:
        abort(404)
    except commits.CommitRefused as refused:
        db.session.rollback()
        # A cell of the grid gets its message beside it; anything else (a product or
        # month the grid does not show) is listed above the grid.
        errors, stray = {}, []
        for key, message in refused.errors.items():
            if isinstance(key, tuple) and isinstance(key[1], date):
                errors[f"{key[0]}-{month_label(key[1])}"] = message
            else:
                stray.append(message)
        return _page(
            account_id,
            status=422,
            errors=errors,
            typed=request.form,
            refused=refused.message,
            stray=stray,
        )
    except DomainError as error:
        db.session.rollback()
        return _page(account_id, status=422, refused=error.message, stray=[])
    flash(_committed_message(result), "success")
    return redirect(url_for("forecast_commits.board", account_id=account_id), code=303)


def _committed_message(result: commits.CommitResult) -> str:
    if not result.written:
        return f"Nothing changed: the commitments already answer version {result.version.number}."
    text = f"{result.written:,} commitments saved against version {result.version.number}."
    if result.below:
        text += f" {result.below:,} below forecast; the account's buyers are told."
    return text


@bp.post("/forecasts/accounts/<int:account_id>/commits/all")
@requires(*commits.COMMITTERS)
def commit_all(account_id: int):
    """Commit every cell of the latest version at its forecast."""
    try:
        result = commits.commit_all_as_forecast(
            current_user, account_id, answering=request.form.get("version_id")
        )
    except NotFound:
        abort(404)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_committed_message(result), "success")
    return redirect(url_for("forecast_commits.board", account_id=account_id), code=303)


@bp.post("/forecasts/accounts/<int:account_id>/threshold")
@requires(*commits.THRESHOLD_EDITORS)
def threshold(account_id: int):
    """Agree on the account's exception threshold (blank: the default)."""
    try:
        percent = commits.set_threshold(current_user, account_id, request.form.get("threshold"))
    except NotFound:
        abort(404)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(f"Changes above {percent}% are flagged for this account.", "success")
    return redirect(url_for("forecast_commits.board", account_id=account_id), code=303)
