"""The commit page of an account: the planners' grid (latest version against the one
before, exceptions flagged, commitments to type), and the same page read-only for
account managers and for the account's own buyers (commitments and mismatches)."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db
from portal.formatting import number
from portal.htmx import is_htmx, render_fragment, render_page
from portal.security import requires

from . import commits, grid_view, service
from .months import month_label

bp = Blueprint("forecast_commits", __name__)

READERS = (*commits.CUSTOMER_READERS, *service.VENDOR_READERS)
QUANTITY_FIELD = re.compile(r"^q-(\d{1,10})-(\d{4}-\d{2})$")


def _board(account_id: int, **options) -> commits.Board:
    try:
        return commits.board(current_user, account_id, **options)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)


def _grid_context(board: commits.Board, errors: dict | None = None, typed=None) -> dict:
    """What the grid's template needs: the board, and its batch of rows as finished
    texts (grid_view: a batch has 720 cells)."""
    can_commit = current_user.is_vendor_staff and current_user.has_role(*commits.COMMITTERS)
    vendor_view = current_user.is_vendor_staff
    return {
        "board": board,
        "can_commit": can_commit,
        "vendor_view": vendor_view,
        "reasons": commits.REASONS,
        "reason_names": [(code, str(name)) for code, name in commits.REASONS.items()],
        "rows": grid_view.commit_rows(
            board,
            editable=can_commit,
            vendor_view=vendor_view,
            errors=errors or {},
            typed=typed if typed is not None else {},
        ),
    }


def _page(account_id: int, status: int = 200, *, rows: int = commits.BATCH, **context):
    """The commit page; `rows`: how many products to show from the first (a refused
    commit shows again every row it posted, with what was typed)."""
    everything = request.args.get("mismatches") == "all"
    board = _board(
        account_id,
        after=_after_key(),
        limit=rows,
        mismatches=None if everything else commits.MISMATCH_LIMIT,
    )
    # Read after `board`, which has checked that the viewer may see this account.
    own_threshold = commits.agreed_threshold(account_id) if current_user.is_vendor_staff else None
    return render_page(
        "forecasts/commits.html",
        "board",
        status=status,
        own_threshold=own_threshold,
        mismatch_rows=grid_view.mismatch_rows(board),
        **_grid_context(board, context.pop("errors", {}), context.pop("typed", {})),
        **context,
    )


def _after_key() -> str | None:
    """The keyset position of a batch: a product's SKU key (at most 64 characters)."""
    after = request.args.get("after")
    return after[:64] if after is not None else None


@bp.get("/forecasts/accounts/<int:account_id>/commits")
@requires(*READERS)
def board(account_id: int):
    """The account's latest forecast with the vendor's commitments and mismatches: the
    first rows by SKU. `?after=<SKU key>` continues after that product: htmx asks for
    the next batch of rows alone (as the person scrolls or moves down past the last
    row); without JavaScript the link gives the page again from there.
    `?mismatches=all` lists every mismatch rather than the first ones."""
    after = _after_key()
    if after is not None and is_htmx():
        board = _board(account_id, after=after, summary=False)
        return render_fragment("forecasts/commits.html", "rows", **_grid_context(board))
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
            rows=max(commits.BATCH, _posted_products(request.form)),
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


def _posted_products(form) -> int:
    """How many products' rows the form posted: the rows loaded on the page, the
    first ones by SKU, which a refused commit shows again."""
    return len({m.group(1) for name in form if (m := QUANTITY_FIELD.match(name))})


def _committed_message(result: commits.CommitResult) -> str:
    if not result.written:
        return _(
            "Nothing changed: the commitments already answer version %(number)s.",
            number=result.version.number,
        )
    text = _(
        "%(count)s commitments saved against version %(number)s.",
        count=number(result.written),
        number=result.version.number,
    )
    if result.below:
        text += " " + _(
            "%(count)s below forecast; the account's buyers are told.", count=number(result.below)
        )
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
        flash(
            _("Changes above %(percent)s%% are flagged for this account.", percent=percent),
            "success",
        )
    return redirect(url_for("forecast_commits.board", account_id=account_id), code=303)
