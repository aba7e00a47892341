"""Access control in one place: login by default, roles, tenant scoping, headers.

- Every endpoint requires a signed-in user unless its view is marked `@public`.
- `@requires(*roles)` answers 403 when the user holds none of the roles.
- `scoped()` is the only way to query customer-owned rows: a customer user
  only ever sees rows of their own account; vendor staff see all accounts.
  Another account's id therefore looks exactly like a missing one: 404.
- `@passive` views (a page polling on its own) do not count as activity for
  the idle timeout.
"""

from __future__ import annotations

import time
from functools import cache, wraps
from typing import TYPE_CHECKING, Any, TypeVar

from flask import abort, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.orm import joinedload

from portal.extensions import (
    WRITES_ATTR,
    begin_writing,
    db,
    end_read_transaction,
    forget_write_intent,
    login_manager,
    utcnow,
)

if TYPE_CHECKING:
    from flask import Flask

    from portal.accounts.models import User

T = TypeVar("T")

PUBLIC_ATTR = "_portal_public"
ROLES_ATTR = "_portal_roles"
PASSIVE_ATTR = "_portal_passive"


def public(view):
    """Mark a view as reachable without signing in."""
    setattr(view, PUBLIC_ATTR, True)
    return view


def passive(view):
    """Mark a view that a page calls on its own (polling) as no sign of the user's activity:
    it never postpones the idle timeout, so a page left open still signs out."""
    setattr(view, PASSIVE_ATTR, True)
    return view


def writes(view):
    """Mark a GET view that changes state (opening a notification marks it read).

    On SQLite its transaction then takes the write lock from the start, as a
    POST's does, instead of failing when another request writes meanwhile.
    """
    setattr(view, WRITES_ATTR, True)
    return view


def requires(*roles):
    """Allow the view only to users holding at least one of `roles` (else 403)."""
    from portal.accounts.roles import Role

    wanted = frozenset(Role(r) for r in roles)

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.roles & wanted:
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapper, ROLES_ATTR, wanted)
        return wrapper

    return decorator


def scoped(query: Select, model: type, viewer: User) -> Select:
    """Restrict a query of customer-owned rows to what `viewer` may see.

    The model names its tenant column in `tenant_column`; a model without one
    is refused, so an unscoped read of customer data cannot slip through.
    """
    return _tenant_scope(query, model, viewer.is_vendor_staff, viewer.account_id)


# The viewer's account in a statement scoped by `scoped_once`.
TENANT_ACCOUNT = "tenant_account_id"


def scoped_once(query: Select, model: type, vendor_staff: bool) -> Select:
    """`scoped` for a statement built once per process (building a page's statement and
    its cache key can cost more than running it): the same rule, with a customer's
    account a bound parameter whose value `tenant_values(viewer)` gives per request."""
    return _tenant_scope(query, model, vendor_staff, bindparam(TENANT_ACCOUNT, type_=Integer))


def tenant_values(viewer: User) -> dict:
    """The values a statement of `scoped_once(..., viewer.is_vendor_staff)` is run with."""
    return {} if viewer.is_vendor_staff else {TENANT_ACCOUNT: viewer.account_id}


def _tenant_scope(query: Select, model: type, vendor_staff: bool, account) -> Select:
    column_name = getattr(model, "tenant_column", None)
    if column_name is None:
        raise TypeError(f"{model.__name__} has no tenant_column; it cannot be scoped")
    if vendor_staff:
        return query
    return query.where(getattr(model, column_name) == account)


def get_scoped_or_404(model: type[T], object_id: Any, viewer: User, *options) -> T:
    """Load one customer-owned row by primary key, or 404 if the viewer may not see it."""
    query = scoped(select(model), model, viewer).where(model.id == object_id)  # type: ignore[attr-defined]
    if options:
        query = query.options(*options)
    obj = db.session.scalar(query)
    if obj is None:
        if not viewer.is_vendor_staff and db.session.get(model, object_id) is not None:
            # It exists, but in another account: answer 404 as for a missing
            # object, and keep the attempt in the audit trail.
            from portal.audit import service as audit

            audit.record_alone(
                "access_denied",
                actor=viewer,
                client_address=client_address(),
                target=f"{model.__tablename__}:{object_id}",
                detail={"reason": "another account's object"},
            )
        abort(404)
    return obj


def client_address() -> str | None:
    """The client's address: the socket peer, or what trusted proxies say (ProxyFix)."""
    return request.remote_addr


TOKEN_DOORS = "portal.token_doors"


def token_door(app: Flask, blueprint) -> None:
    """Mark a blueprint that authenticates every request itself with a bearer token
    (the REST API): signing in does not apply there, and the session cookie is not read."""
    app.extensions.setdefault(TOKEN_DOORS, set()).add(blueprint.name)


def _is_public_endpoint() -> bool:
    from flask import current_app

    if request.endpoint is None:  # 404 before routing: let the error handler answer
        return True
    if request.blueprint in current_app.extensions.get(TOKEN_DOORS, ()):
        return True
    if request.endpoint == "static" or request.endpoint.endswith(".static"):
        return True
    return _view_is(PUBLIC_ATTR)


def _view_is(attr: str) -> bool:
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, attr, False))


@cache
def _session_statement() -> Select:
    """The sign-in loader's statement, built once per process: building it and its
    cache key cost as much as running it. Only the token's hash and the time are
    bound per request, so nothing read from the database is kept between requests."""
    from portal.accounts.models import AuthSession, User
    from portal.notifications import service as notifications

    return (
        select(AuthSession, notifications.unread_count_of(AuthSession.user_id))
        .options(
            joinedload(AuthSession.user).joinedload(User.role_rows),
            joinedload(AuthSession.user).joinedload(User.account),
        )
        .where(
            AuthSession.token_hash == bindparam("token_hash"),
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > bindparam("now"),
        )
    )


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """Resolve the session cookie's token to a live sign-in session and its user.

    One statement per request: the session, its user with roles and account, and the
    bell's unread count. Read on every request, never cached: a revoked session is
    refused on the very next one."""
    from portal.accounts.models import AuthSession

    row = (
        db.session.execute(
            _session_statement(),
            {"token_hash": AuthSession.hash_token(token), "now": utcnow()},
        )
        .unique()
        .first()
    )
    if row is None:
        return None
    auth_session, unread = row
    if not auth_session.user.active:
        return None
    if auth_session.user.account is not None and auth_session.user.account.status == "closed":
        return None
    user = auth_session.user
    user.current_auth_session = auth_session
    user.current_auth_session_token = token
    user.unread_notifications_at_load = unread or 0
    return user


def request_may_write() -> bool:
    """Whether this request may change state: not GET/HEAD/OPTIONS, or a view marked
    `@writes`. Other requests never write (on SQLite they cannot: see extensions), so
    what they read at their start stays true for them to the end."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        return True
    return _view_is(WRITES_ATTR)


@login_manager.unauthorized_handler
def _unauthorized():
    from portal.htmx import client_redirect, is_htmx

    login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
    if is_htmx():
        # A fragment request must not swap the login page into a table cell.
        return client_redirect(login_url, status=401)
    flash("Please sign in to continue.", "info")
    return redirect(login_url)


def _enforce_login_and_idle_timeout():
    if _is_public_endpoint():
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    from flask import current_app

    now = int(time.time())
    idle_limit = current_app.config["SESSION_IDLE_MINUTES"] * 60
    last_seen = session.get("seen", now)
    if now - last_seen > idle_limit:
        from portal.accounts import service as accounts_service

        begin_writing()
        accounts_service.end_session(
            current_user._get_current_object(), reason="idle", client_address=client_address()
        )
        logout_user()
        session.clear()
        flash("You were signed out after a period of inactivity. Please sign in again.", "info")
        return login_manager.unauthorized()
    # The cookie is rewritten at most once a minute, not on every request.
    if now - session.get("seen", 0) >= 60 and not _view_is(PASSIVE_ATTR):
        session["seen"] = now
    return None


def _security_headers(response):
    from flask import current_app

    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'self'; object-src 'none'"
    )
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "static":
        # Pages hold customer data: browsers and proxies must not keep copies.
        response.headers.setdefault("Cache-Control", "no-store")
    if current_app.config["ENV"] == "production":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _audit_denial(error):
    """Record a 403 with who, which account, where and what was asked for."""
    from flask import render_template

    from portal.audit import service as audit

    if current_user.is_authenticated:
        audit.record_alone(
            "access_denied",
            actor=current_user._get_current_object(),
            client_address=client_address(),
            target=f"{request.method} {request.path}"[:300],
        )
    return render_template("errors/403.html"), 403


def install(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    # Sessions are invalidated on the server (AuthSession); no remember-me cookie.
    login_manager.session_protection = "basic"
    app.before_request(_enforce_login_and_idle_timeout)
    app.after_request(_security_headers)
    app.teardown_request(forget_write_intent)
    app.teardown_request(end_read_transaction)
    app.register_error_handler(403, _audit_denial)
