"""Versioned static URLs, so browsers and proxies may keep static files for a year.

`url_for('static', filename='css/portal.css')` becomes `/static/css/portal.css?v=<10 hex>`,
the start of the file's SHA-256. A changed file gets a new URL, so a long cache
lifetime never serves yesterday's CSS after a deployment. A request carrying the
current version is answered with `Cache-Control: public, max-age=31536000, immutable`
(the reverse proxy in docs/deploy/nginx.conf does the same for /static/); without
it, or with an old one, the browser revalidates as before.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from flask import Flask, current_app, request

ONE_YEAR = 365 * 24 * 3600
_versions: dict[tuple[str, int, int], str] = {}
_paths: dict[tuple[str | None, str], str | None] = {}
_UNKNOWN = object()
MAX_NAMES = 2000


def version_of(filename: str) -> str | None:
    """The first 10 hex digits of the static file's SHA-256 (None if there is no such file).

    Cached per file, size and modification time: one stat per URL built, a hash
    only when the file changed (a developer editing CSS sees the new URL at once).
    """
    path = _paths.get((current_app.static_folder, filename), _UNKNOWN)
    if path is _UNKNOWN:
        path = _resolve(current_app.static_folder, filename)
        # Bounded: a request for /static/<any name> asks too, and names are the client's.
        if len(_paths) < MAX_NAMES:
            _paths[(current_app.static_folder, filename)] = path
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (path, stat.st_mtime_ns, stat.st_size)
    version = _versions.get(key)
    if version is None:
        version = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]
        _versions[key] = version
    return version


def _resolve(static_folder: str | None, filename: str) -> str | None:
    """The file's real path, None if it lies outside the static folder. Resolving walks
    every component with a system call each (a quarter of the base layout's URLs' cost),
    so it is done once per name: a name's place does not change while the process runs,
    its content may (the stat above catches that)."""
    folder = Path(static_folder or "").resolve()
    path = (folder / filename).resolve()
    return str(path) if path.is_relative_to(folder) else None


def _add_version(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = version_of(values["filename"])
        if version:
            values["v"] = version


def _cache_versioned(response):
    if request.endpoint == "static" and response.status_code == 200:
        wanted = request.args.get("v")
        if wanted and wanted == version_of(request.view_args.get("filename", "")):
            response.cache_control.public = True
            response.cache_control.max_age = ONE_YEAR
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
    return response


def install(app: Flask) -> None:
    app.url_defaults(_add_version)
    app.after_request(_cache_versioned)
