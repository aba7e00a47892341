"""The API door: flask-smorest on the portal's plain Flask app, bearer tokens, scopes,
problem+json errors and rate limits.

Why flask-smorest and not APIFlask: the portal is a plain `Flask` app (`PortalFlask`)
made of blueprints. flask-smorest's `Api` binds to any Flask app and documents
ordinary blueprints; APIFlask documents and validates only under its own `APIFlask`
application class (its `APIBlueprint` registered on a plain Flask app gets no
OpenAPI document and no error handling), so using it would mean changing the
application class of every page for the sake of one area. flask-smorest's
app-wide error handler is switched off here: pages keep their HTML errors, and the
API answers problem+json through its blueprint's own handlers.

Authentication is `Authorization: Bearer <token>` alone: the session cookie is
never read under /api (so CSRF does not apply, and the blueprint is exempt).
"""

from __future__ import annotations

import hashlib
import http
import json
from collections.abc import Callable
from functools import partial, wraps
from typing import Any

from flask import Flask, current_app, g, make_response, request
from flask_limiter import Limiter
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException, InternalServerError, default_exceptions

from portal.errors import DomainError
from portal.extensions import begin_writing, csrf, db, utcnow
from portal.security import client_address

from . import idempotency, problems
from . import tokens as token_service

SCOPE_ATTR = "_portal_api_scope"


class PortalApi(Api):
    """flask-smorest's Api with problem+json errors and no app-wide error handler."""

    from .schemas import Problem as ERROR_SCHEMA  # noqa: N811

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        # The pages' HTML error handlers stay; the API blueprint has its own.
        pass

    def _register_responses(self):
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response = {"description": status.phrase, "schema": self.ERROR_SCHEMA}
            prepare_response(response, self.spec, problems.PROBLEM_MIME)
            self.spec.components.response(status.name, response, lazy=True)


bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Products, contract prices, availability, orders, forecasts and service "
    "requests of the token's account.",
)


def _token_key() -> str:
    """Rate limits count per token: the presented token's hash (or the address without one)."""
    header = request.headers.get("Authorization", "")
    if header:
        return "api-token:" + hashlib.sha256(header.encode()).hexdigest()[:32]
    return "api-anonymous:" + (client_address() or "")


def needs_scope(scope: str) -> Callable:
    """The scope the token must hold for this view (checked before its input is read)."""

    def decorator(view):
        setattr(view, SCOPE_ATTR, scope)
        return view

    return decorator


def api_user():
    """The user the request's token acts as."""
    return g.api_token.user


def _unauthorized(detail: str):
    return problems.problem(
        401,
        kind="token-required",
        detail=detail,
        headers={"WWW-Authenticate": 'Bearer realm="portal-api"'},
    )


@bp.before_request
def _authenticate():
    """Bearer token only; a session cookie alone is refused like no credentials at all."""
    header = request.headers.get("Authorization", "")
    scheme, _, text = header.partition(" ")
    if scheme.lower() != "bearer" or not text.strip():
        return _unauthorized("Send `Authorization: Bearer <token>`; cookies are not accepted.")
    now, address = utcnow(), client_address()
    try:
        token = token_service.authenticate(text.strip(), now)
        if token_service.needs_last_use_update(token, now, address):
            # A GET writes here: on SQLite its transaction takes the write lock, and the
            # token is read again inside it (it may have been revoked meanwhile).
            begin_writing()
            token = token_service.authenticate(text.strip(), now)
            token_service.record_use(token, now, address)
            db.session.commit()
    except token_service.TokenRefused as refused:
        return _unauthorized(refused.reason)
    g.api_token = token
    view = current_app.view_functions.get(request.endpoint or "")
    scope = getattr(view, SCOPE_ATTR, None)
    if scope and scope not in token.scope_list:
        from portal.audit import service as audit

        # As a page's 403 is (portal.security): who, from where, what was asked for.
        audit.record_alone(
            "access_denied",
            actor=token.user,
            client_address=address,
            target=f"{request.method} {request.path}"[:300],
            detail={"reason": f"API token lacks {scope}", "api_token": token.id},
        )
        return problems.problem(
            403,
            kind="scope-missing",
            detail=f"This token lacks the scope {scope}.",
        )
    return None


def idempotency_key_parameter(what: str) -> dict:
    """The `Idempotency-Key` header of an idempotent view, for its OpenAPI operation."""
    return {
        "in": "header",
        "name": "Idempotency-Key",
        "required": True,
        "description": f"A new unique key (a UUID) per {what}; a retry sends the same key "
        "and gets the first answer.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 60},
    }


def idempotent(view):
    """Run a creating view at most once per `Idempotency-Key` (portal.api.idempotency).

    Keys are an account's, across every idempotent view: the request's method and path
    are part of what a key stands for, so a key used for an order and sent again to open
    a service request is refused as reused (422), never answered with the order.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return problems.problem(
                400,
                kind="idempotency-key-missing",
                detail="Send an Idempotency-Key header (a new UUID per request, the same "
                "on a retry).",
                errors={"Idempotency-Key": ["Missing data for required field."]},
            )
        if len(key) > 60 or not key.isascii() or not key.isprintable():
            return problems.problem(
                400,
                kind="invalid-input",
                detail="The Idempotency-Key is 1 to 60 printable ASCII characters.",
                errors={"Idempotency-Key": ["1 to 60 printable ASCII characters."]},
            )
        user, now = api_user(), utcnow()
        fingerprint = idempotency.request_hash(request.method, request.path, request.get_data())
        claim = idempotency.claim(user.account_id, key, fingerprint, now)
        if claim.conflict == "reused":
            return problems.problem(
                422,
                kind="idempotency-key-reused",
                detail="This Idempotency-Key was used for a different request.",
            )
        if claim.conflict == "in-use":
            return problems.problem(
                409,
                kind="idempotency-key-in-use",
                detail="A request with this Idempotency-Key is still running; retry shortly.",
            )
        if claim.replay is not None:
            status, stored = claim.replay
            response = current_app.response_class(
                json.dumps(stored["body"]), status=status, mimetype=stored["mimetype"]
            )
            for name, value in stored.get("headers", {}).items():
                response.headers[name] = value
            response.headers["Idempotent-Replayed"] = "true"
            return response
        try:
            response = make_response(view(*args, **kwargs))
        except DomainError as error:
            response = problems.from_domain_error(error)
        except HTTPException as error:
            if (error.code or 500) >= 500:
                idempotency.give_back(claim.record)
                raise
            response = problems.from_http_exception(error)
        except Exception:
            idempotency.give_back(claim.record)
            raise
        if response.status_code >= 500:
            idempotency.give_back(claim.record)
            return response
        stored = {
            "mimetype": response.mimetype,
            "body": response.get_json(silent=True),
            "headers": {k: v for k, v in response.headers.items() if k == "Location"},
        }
        idempotency.complete(claim.record, response.status_code, stored, utcnow())
        return response

    return wrapper


def _http_error(error: HTTPException):
    if isinstance(error, InternalServerError):
        return _server_error(error)
    return problems.from_http_exception(error)


# By code, not only by class: Flask prefers the app's handler for a code (the HTML
# pages' 403, 404, ...) over a blueprint's handler for a base class.
bp.register_error_handler(HTTPException, _http_error)
for _code in default_exceptions:
    bp.register_error_handler(_code, _http_error)


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    db.session.rollback()
    return problems.from_domain_error(error)


def _server_error(_error):
    from flask import g as request_globals

    db.session.rollback()
    error_id = request_globals.get("error_id") or request_globals.get("request_id") or ""
    return problems.problem(
        500, detail=f"Something went wrong on our side (error {error_id}); nothing was saved."
    )


def _routing_error(error: HTTPException) -> Any:
    """404 and 405 under /api before any view is known: problem+json, not the HTML page."""
    return problems.from_http_exception(error)


def spec_of(app: Flask) -> dict:
    """The app's OpenAPI document."""
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def _limit_only_the_api(app: Flask, limiter: Limiter, name: str) -> None:
    """Run the limiter's three hooks for the API's requests only. Installed for every
    request, they cost each page tens of µs (the request filter answers "not limited"
    only after the view's name, the limiter's context and its exemptions are looked up,
    and the context is reset at the end) for nothing. Moved before the blueprint is
    registered, so they still run before the API's own authentication."""

    def is_limiters(hook) -> bool:
        # Bound methods for the checks, a partial of the class's method for the headers.
        return getattr(hook, "__self__", None) is limiter or (
            isinstance(hook, partial) and limiter in hook.args
        )

    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        mine = [hook for hook in hooks[None] if is_limiters(hook)]
        if len(mine) != 1:  # a Flask-Limiter that hooks in differently: stop, do not guess
            raise RuntimeError(f"Flask-Limiter's hooks not found as expected: {mine}")
        hooks[None].remove(mine[0])
        hooks.setdefault(name, []).insert(0, mine[0])


def init_app(app: Flask) -> None:
    """Bind flask-smorest, the limiter and the API blueprint to the app.

    Each app gets its own Api and Limiter (tests build many apps in one process;
    a shared one would mix their documents and counts).
    """
    from portal import errors_pages, security

    from . import v1, v1_forecasts, v1_service  # noqa: F401  (their views join bp)

    app.config.setdefault("API_TITLE", "Portal API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("API_RATE_LIMIT", "600 per minute")
    # Redis when configured: one count across every worker and host. Without Redis the
    # count is kept per process (README, "Rate limits").
    redis_url = str(app.config.get("REDIS_URL") or "")
    # A URL that is not Redis's is reported by the job queue at start-up (portal.jobs);
    # the limiter then counts per process rather than stop the app from starting.
    is_redis = redis_url.startswith(("redis://", "rediss://", "unix://"))
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url if is_redis else "memory://")
    # Redis down: count in this process meanwhile, never refuse or fail the request.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "portal-api")
    api = PortalApi(
        app,
        spec_kwargs={
            "info": {
                "description": "The portal's REST API. Authenticate with "
                "`Authorization: Bearer <token>`; errors are application/problem+json "
                "(RFC 9457)."
            },
        },
    )
    from .schemas import Money

    # Money travels as a decimal string (never a float): say so in the document.
    api.register_field(Money, "string", "decimal")
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
    limiter = Limiter(key_func=_token_key, headers_enabled=True)
    limiter.init_app(app)
    limiter.limit(lambda: app.config["API_RATE_LIMIT"])(bp)
    # Only the API has limits: the pages skip the limiter's lookups altogether.
    limiter.request_filter(lambda: request.blueprint != bp.name)
    _limit_only_the_api(app, limiter, bp.name)
    csrf.exempt(bp)
    security.token_door(app, bp)
    api.register_blueprint(bp)
    errors_pages.answer_errors_under(app, "/api/", _routing_error)
    app.register_blueprint(v1.docs_bp)
