"""Serving an attachment to whoever may see it; the maintenance command.

Areas upload through their own forms (calling `service.store` and
`service.attach`); this blueprint only sends files. A file is always a
download, never shown in the portal's origin: `Content-Disposition:
attachment`, `nosniff` and a sandboxing CSP keep a hostile PDF or text file
from running as a page of the portal.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import click
from flask import Blueprint, Response, abort, request
from flask.blueprints import BlueprintSetupState
from flask_login import current_user
from werkzeug.wsgi import wrap_file

from portal.errors import NotFound
from portal.extensions import utcnow
from portal.security import client_address

from . import service

bp = Blueprint("attachments", __name__)
log = logging.getLogger("portal.attachments")


@bp.record_once
def _check_settings(state: BlueprintSetupState) -> None:
    """Refuse a storage folder the web server would hand out by itself; warn about a
    request limit that would cut off files before their own limit can explain."""
    app = state.app
    configured = app.config.get("ATTACHMENT_DIR")
    root = (Path(configured) if configured else Path(app.instance_path) / "attachments").resolve()
    static = Path(app.static_folder or "").resolve()
    if app.static_folder and root.is_relative_to(static):
        raise RuntimeError(
            f"ATTACHMENT_DIR ({root}) is inside the static folder ({static}): the files "
            "would be served to anyone. Choose a folder outside it."
        )
    request_limit = app.config.get("MAX_CONTENT_LENGTH")
    if request_limit and request_limit <= app.config["ATTACHMENT_MAX_BYTES"]:
        log.warning(
            "MAX_CONTENT_LENGTH (%s) is not above ATTACHMENT_MAX_BYTES (%s): uploads near "
            "the limit get the generic 'too large' page instead of the attachment message",
            request_limit,
            app.config["ATTACHMENT_MAX_BYTES"],
        )


@bp.get("/attachments/<int:attachment_id>")
def download(attachment_id: int):
    """The file, as a download, for a viewer who may see it (else 404)."""
    try:
        attachment = service.get_for(current_user, attachment_id, client_address=client_address())
        stream = service.open_stream(attachment)
    except NotFound:
        abort(404)
    response = Response(wrap_file(request.environ, stream), direct_passthrough=True)
    response.content_length = os.fstat(stream.fileno()).st_size
    content_type = attachment.content_type
    response.headers["Content-Type"] = (
        f"{content_type}; charset=utf-8" if content_type.startswith("text/") else content_type
    )
    response.headers["Content-Disposition"] = content_disposition(attachment.original_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Should a browser render it after all, it runs in a sandbox without scripts,
    # without the portal's origin and without loading anything.
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def content_disposition(name: str) -> str:
    """`attachment` with the UTF-8 name (RFC 6266/5987) and an ASCII fallback for old
    clients: "Maße.pdf" falls back to "Mae.pdf", "図面.pdf" to "attachment.pdf"."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem, ext = _ascii(stem).strip(" ._"), _ascii(ext)
    fallback = (stem or "attachment") + (f".{ext}" if ext else "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9 ._()-]", "_", text)


@bp.cli.command("sweep")
@click.option("--hours", default=24, show_default=True, help="Leave anything newer alone.")
def sweep(hours: int) -> None:
    """Delete uploads never linked to anything and files without a row."""
    removed = service.discard_unlinked(utcnow() - timedelta(hours=hours))
    click.echo(f"{removed} file{'s' if removed != 1 else ''} removed.")
