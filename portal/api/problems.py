"""Errors of the API as `application/problem+json` (RFC 9457).

Every refusal under /api has the same shape: `type`, `title`, `status`,
`detail`, and for bad input `errors`, one entry per field (a dotted path such
as `lines.0.quantity`) with its messages.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from werkzeug.exceptions import HTTPException

from portal.errors import DomainError, Forbidden, NotFound

PROBLEM_MIME = "application/problem+json"
# Problem types this API defines; everything else is "about:blank" with the status's title.
# Each type's URI (/api/v1/problems/<name>) is a page saying what it means and what to do.
TYPES = {
    "invalid-input": "Invalid input",
    "idempotency-key-missing": "Idempotency-Key header missing",
    "idempotency-key-reused": "Idempotency-Key reused with another request",
    "idempotency-key-in-use": "A request with this Idempotency-Key is still running",
    "token-required": "A valid API token is required",
    "scope-missing": "The token lacks a scope",
    "rate-limited": "Too many requests",
    "business-rule": "The request breaks a business rule",
}
EXPLANATIONS = {
    "invalid-input": (
        422,
        "Some input is not valid. `errors` names each bad field by its path (`lines.0.quantity`, "
        "`rows.3.quantities.2027-01`) with its messages. Nothing was saved: correct every field "
        "named and send the whole request again.",
    ),
    "idempotency-key-missing": (
        400,
        "Creating requests (POST /orders, POST /service-requests) need an `Idempotency-Key` "
        "header: a new UUID per order or service request, and the same one when the request "
        "is retried.",
    ),
    "idempotency-key-reused": (
        422,
        "This key was used before for a request with another body or path. Use a new key for a "
        "new order or service request; a retry must send exactly the same body.",
    ),
    "idempotency-key-in-use": (
        409,
        "The first request with this key is still running. Wait a moment and retry with the "
        "same key: the answer will be the first request's.",
    ),
    "token-required": (
        401,
        "Send `Authorization: Bearer <token>` with a token that is not expired or revoked. "
        "Customer admins and vendor admins make tokens on the API tokens page.",
    ),
    "scope-missing": (
        403,
        "The token works but was not given the scope this operation needs (`detail` names "
        "it). Ask an admin for a token with that scope.",
    ),
    "rate-limited": (
        429,
        "This token sent more requests than its limit allows. Wait the seconds the "
        "`Retry-After` header gives, then continue.",
    ),
    "business-rule": (
        422,
        "The input is well formed, but the portal's rules refuse it now (an order already "
        "confirmed, a line with nothing left to cancel, a forecast without rows). `detail` says "
        "which rule and, where there is one, what to do instead. Nothing was changed.",
    ),
}


def problem(
    status: int,
    *,
    kind: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response."""
    from werkzeug.http import HTTP_STATUS_CODES

    body: dict[str, Any] = {
        "type": f"/api/v1/problems/{kind}" if kind else "about:blank",
        "title": title
        or (TYPES.get(kind, "") if kind else "")
        or HTTP_STATUS_CODES.get(status, ""),
        "status": status,
        "detail": detail or "",
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIME)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, path: str = "") -> dict[str, list[str]]:
    """webargs' nested messages ({"json": {"lines": {0: {"sku": [...]}}}}) as dotted paths."""
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {path or "body": list(messages)}
    if isinstance(messages, dict):
        found: dict[str, list[str]] = {}
        for key, value in messages.items():
            # webargs files messages under the location (json, query, headers): drop it.
            if not path and key in ("json", "query", "headers", "form", "view_args"):
                found.update(flatten_messages(value, ""))
                continue
            name = str(key) if key != "_schema" else "body"
            found.update(flatten_messages(value, f"{path}.{name}" if path else name))
        return found
    return {path or "body": [str(messages)]}


def from_http_exception(error: HTTPException) -> Response:
    """Any HTTP error raised under /api (webargs' 422 carries the messages per field)."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    headers = {}
    if error.response is not None:
        headers = {k: v for k, v in error.response.headers.items() if k == "Retry-After"}
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if messages:
        return problem(
            status,
            kind="invalid-input",
            detail="Some fields are not valid; see errors.",
            errors=flatten_messages(messages),
            headers=headers,
        )
    if status == 429:
        return problem(
            429,
            kind="rate-limited",
            detail=f"This token's limit is {error.description}.",
            headers=headers,
        )
    detail = error.description or ""
    if status == 404:
        detail = "There is nothing at this address, or it belongs to another account."
    return problem(status, title=error.name, detail=detail, headers=headers)


def from_domain_error(error: DomainError) -> Response:
    """A refusal by a service function: 404, 403, or 422 beside the field it names."""
    if isinstance(error, NotFound):
        return problem(404, detail=error.message)
    if isinstance(error, Forbidden):
        return problem(403, detail=error.message)
    return problem(
        422,
        kind="business-rule" if not error.field else "invalid-input",
        detail=error.message,
        errors={error.field: [error.message]} if error.field else None,
    )
