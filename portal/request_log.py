"""One log line per request, and a request id that ties log lines, error pages and proxies together.

Each request gets an id: a sane incoming `X-Request-Id` (set by the reverse
proxy, so its access log and ours match) or a new random one. It goes back in
the `X-Request-Id` response header, onto every log record written while the
request runs (`request_id`), and onto the 500 page.

When the request ends, `portal.request` logs one line: method, path, endpoint,
status, duration in ms, user id, account id, client address. What is never
logged: headers (Authorization, Cookie), form fields, and the values of query
parameters whose names look like secrets (`token`, `password`, `key`, ...).

Output: the `portal` logger writes to stderr, a readable line by default and one
JSON object per line when `PORTAL_LOG_JSON=1` (for a log shipper). Records also
propagate to the root logger, so a deployment's own logging config still sees them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

from flask import Flask, g, has_request_context, request
from flask_login import user_logged_out

log = logging.getLogger("portal.request")

# What an incoming X-Request-Id may look like: a UUID, a proxy's hex id, a
# trace id. Anything else (too long, spaces, control characters that could
# forge log lines) is replaced by our own.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")
# Query parameter names whose values stay out of the log.
SECRET_NAME = re.compile(
    r"token|passw|secret|key|auth|session|cookie|code|signature|sig$|otp|nonce", re.I
)
REDACTED = "[redacted]"
# Attributes every LogRecord has; anything else on a record was passed in `extra`.
_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def request_id() -> str | None:
    """The current request's id (None outside a request)."""
    if not has_request_context():
        return None
    return g.get("request_id")


def safe_path() -> str:
    """The request's path with its query string, secret-looking values replaced."""
    query = request.query_string.decode("latin-1")
    if not query:
        return request.path
    pairs = parse_qsl(query, keep_blank_values=True)
    cleaned = [(k, REDACTED if SECRET_NAME.search(k) else v) for k, v in pairs]
    return f"{request.path}?{urlencode(cleaned)}"


def _start() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    # 16 hex digits: unique enough to find one request, short enough to read out on the phone.
    g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex[:16]
    g.request_started = time.perf_counter()


def _remember_who_signed_out(_app, user) -> None:
    # After logout the request has no user any more; the line should still say who it was.
    g.request_log_user = (user.id, user.account_id)


def _who() -> tuple[int | None, int | None]:
    remembered = g.get("request_log_user")
    if remembered:
        return remembered
    # Flask-Login keeps the user it loaded for this request here. Reading it
    # (rather than current_user) never loads a user just for the log line.
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None, None
    return user.id, user.account_id


def _finish(response):
    response.headers["X-Request-Id"] = g.get("request_id", "")
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    user_id, account_id = _who()
    fields = {
        "method": request.method,
        "path": safe_path(),
        "endpoint": request.endpoint,
        "status": response.status_code,
        "duration_ms": duration_ms,
        "user_id": user_id,
        "account_id": account_id,
        "remote_addr": request.remote_addr,
    }
    level = logging.ERROR if response.status_code >= 500 else logging.INFO
    log.log(
        level,
        "%s %s %s %sms endpoint=%s user=%s account=%s ip=%s",
        fields["method"],
        fields["path"],
        fields["status"],
        fields["duration_ms"],
        fields["endpoint"],
        user_id if user_id is not None else "-",
        account_id if account_id is not None else "-",
        fields["remote_addr"],
        extra={"request": fields},
    )
    return response


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and the
    request's fields for `portal.request` lines; a traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update(getattr(record, "request", {}))
        for name, value in vars(record).items():
            if name not in _RECORD_FIELDS and name != "request":
                entry.setdefault(name, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (test runners replace it)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def _handler() -> logging.Handler:
    """The portal's one stderr handler, created once per process."""
    portal_logger = logging.getLogger("portal")
    for handler in portal_logger.handlers:
        if isinstance(handler, StderrHandler):
            return handler
    handler = StderrHandler()
    handler.addFilter(RequestIdFilter())
    portal_logger.addHandler(handler)
    return handler


def configure_logging(app: Flask) -> None:
    """Send `portal.*` records to stderr (JSON with LOG_JSON): request lines at INFO,
    everything else from LOG_LEVEL up (WARNING by default: INFO would print every
    e-mail the demo data sends when no SMTP server is configured)."""
    level = str(app.config.get("LOG_LEVEL") or "WARNING").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise RuntimeError(
            f"PORTAL_LOG_LEVEL is {level!r}; use DEBUG, INFO, WARNING, ERROR or CRITICAL."
        )
    logging.getLogger("portal").setLevel(level)
    log.setLevel(logging.INFO)
    handler = _handler()
    handler.setFormatter(
        JsonFormatter() if app.config.get("LOG_JSON") else logging.Formatter(TEXT_FORMAT)
    )


def install(app: Flask) -> None:
    """Request ids and the per-request log line. Install before anything else that
    adds after_request hooks: Flask runs them in reverse, so this one runs last and
    measures the whole request."""
    configure_logging(app)
    app.before_request(_start)
    app.after_request(_finish)
    user_logged_out.connect(_remember_who_signed_out, app)
