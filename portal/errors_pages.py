"""Error pages in the portal's style. A 500 shows the request's id (portal.request_log) and
logs the traceback with it, so the id a person reads out matches the log lines."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, g, render_template, request
from flask.globals import _cv_request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from portal.assets import version_of

log = logging.getLogger("portal.errors")


# Built URLs: (host, script root, endpoint, its values with their types, a static
# file's version) -> URL. The rules do not change while the process runs, so neither
# does what they build for the same values; the host and script root (a proxy's prefix)
# are in the key, a static file's version too (portal.assets: a changed file, a new URL).
# Bounded, emptied when full: the Host header and some values are the client's.
_BUILT: dict[tuple, str] = {}
_MAX_BUILT = 8192
_SIMPLE = (str, int, type(None))


class PortalFlask(Flask):
    def url_for(
        self,
        endpoint: str,
        /,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values,
    ) -> str:
        """Flask's url_for, with the URLs it built kept: every page builds 20-70 of
        them (navigation, user menu, bell, static files, a link per row) at 6-35 µs
        each, the same ones on every view. Anchors, methods, external URLs, relative
        endpoints and values other than text and numbers are built as usual."""
        if (
            _anchor is not None
            or _method is not None
            or _scheme is not None
            or _external is not None
            or endpoint.startswith(".")
            or (context := _cv_request.get(None)) is None
            or not all(type(value) in _SIMPLE for value in values.values())
        ):
            return super().url_for(
                endpoint,
                _anchor=_anchor,
                _method=_method,
                _scheme=_scheme,
                _external=_external,
                **values,
            )
        # The context variable, not the request proxy: the proxy's lookup alone cost
        # a third of a kept URL.
        environ = context.request.environ
        key = (
            environ.get("HTTP_HOST"),
            environ.get("SCRIPT_NAME", ""),
            endpoint,
            # The type too: 1 and True are equal keys but not the same URL.
            tuple(sorted((name, type(value), value) for name, value in values.items())),
            version_of(values.get("filename") or "") if endpoint == "static" else None,
        )
        url = _BUILT.get(key)
        if url is None:
            url = super().url_for(endpoint, **values)
            if len(_BUILT) >= _MAX_BUILT:
                _BUILT.clear()
            _BUILT[key] = url
        return url

    def log_exception(self, exc_info) -> None:
        # The id links what the person sees to the traceback and the request's log line.
        g.error_id = g.get("request_id") or uuid.uuid4().hex[:16]
        log.error(
            "unhandled error %s on %s %s",
            g.error_id,
            request.method,
            request.path,
            exc_info=exc_info,
        )


DOORS = "portal.error_doors"


def answer_errors_under(app: Flask, prefix: str, handler) -> None:
    """Let a door answer its own routing errors (404, 405) under a path prefix: the REST
    API answers problem+json, not an HTML page, even where no route matched."""
    app.extensions.setdefault(DOORS, []).append((prefix, handler))


def _door(error):
    from flask import current_app

    for prefix, handler in current_app.extensions.get(DOORS, []):
        if request.path.startswith(prefix):
            return handler(error)
    return None


def _not_found(error):
    if (answer := _door(error)) is not None:
        return answer
    return render_template("errors/404.html"), 404


def _method_not_allowed(error):
    if (answer := _door(error)) is not None:
        return answer
    return render_template(
        "errors/error.html",
        title=_("Not allowed"),
        message=_("This page cannot be used that way."),
    ), 405


def _csrf_failed(_error):
    return render_template(
        "errors/error.html",
        title=_("The form expired"),
        message=_(
            "The form was open too long or did not come from this portal. "
            "Go back, reload the page and try again; nothing was changed."
        ),
    ), 400


def _bad_request(_error):
    return render_template(
        "errors/error.html",
        title=_("Bad request"),
        message=_("The request could not be understood."),
    ), 400


def _too_large(_error):
    from flask import current_app

    from portal.formatting import filesize

    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit:
        message = _(
            "What you sent is larger than the portal accepts (at most %(size)s at once), so "
            "nothing was saved. Go back and send a smaller file, or fewer files at a time.",
            size=filesize(limit),
        )
    else:
        message = _(
            "What you sent is larger than the portal accepts, so nothing was saved. Go back "
            "and send a smaller file, or fewer files at a time."
        )
    return render_template(
        "errors/error.html",
        title=_("Too large"),
        message=message,
    ), 413


def _server_error(_error):
    from portal.extensions import db

    db.session.rollback()
    error_id = g.get("error_id") or g.get("request_id") or uuid.uuid4().hex[:16]
    return render_template("errors/500.html", error_id=error_id), 500


def install(app: Flask) -> None:
    app.register_error_handler(404, _not_found)
    app.register_error_handler(405, _method_not_allowed)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_error_handler(400, _bad_request)
    app.register_error_handler(413, _too_large)
    app.register_error_handler(500, _server_error)
