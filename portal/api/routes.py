"""API tokens pages: customer admins manage their account's tokens, vendor admins all."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal.accounts.roles import Role
from portal.errors import DomainError, NotFound
from portal.extensions import db, utcnow
from portal.security import client_address, requires

from . import tokens
from .forms import TokenForm
from .models import SCOPES

bp = Blueprint("api_tokens", __name__)


def _page(form: TokenForm, created: tokens.CreatedToken | None = None, status: int = 200):
    return render_template(
        "api/tokens.html",
        form=form,
        tokens=tokens.tokens_for(current_user),
        created=created,
        scopes=SCOPES,
        now=utcnow(),
    ), status


def _form() -> TokenForm:
    form = TokenForm()
    form.user_id.choices = [
        SelectChoice(
            u.id,
            f"{u.name} <{u.email}>"
            + (f" — {u.account.number} {u.account.name}" if current_user.is_vendor_staff else ""),
        )
        for u in tokens.token_users(current_user)
    ]
    return form


@bp.get("/api-tokens")
@requires(Role.ADMIN, Role.CUSTOMER_ADMIN)
def index():
    """The tokens this admin manages, and the form for a new one."""
    return _page(_form())


@bp.post("/api-tokens")
@requires(Role.ADMIN, Role.CUSTOMER_ADMIN)
def create():
    """Create a token and show it once (in this answer only; it is never stored)."""
    form = _form()
    if not form.validate_on_submit():
        return _page(form, status=422)
    from portal.accounts.models import User

    acting_as = db.session.get(User, form.user_id.data)
    if acting_as is None:
        abort(404)
    try:
        created = tokens.create(
            current_user,
            acting_as=acting_as,
            name=form.name.data,
            scopes=form.scopes.data,
            days=form.days.data,
            now=utcnow(),
            client_address=client_address(),
        )
    except NotFound:
        db.session.rollback()
        abort(404)
    except DomainError as error:
        db.session.rollback()
        error.attach_to(form)
        return _page(form, status=422)
    return _page(_form(), created=created, status=201)


@bp.post("/api-tokens/<int:token_id>/revoke")
@requires(Role.ADMIN, Role.CUSTOMER_ADMIN)
def revoke(token_id: int):
    """Revoke a token: its next request is refused."""
    try:
        token = tokens.revoke(current_user, token_id, utcnow(), client_address())
    except NotFound:
        abort(404)
    flash(_("Token “%(name)s” revoked.", name=token.name), "success")
    return redirect(url_for("api_tokens.index"), code=303)
