"""Portal: a vendor's direct ordering terminal and relationship record for its customers."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask

from . import config as default_config
from . import params
from .errors_pages import PortalFlask

log = logging.getLogger(__name__)

# Secret keys that must never run in production (placeholders people paste).
WEAK_SECRET_KEYS = {"", "dev", "change-me", "changeme", "secret", "please-change-me"}


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: configuration, database, security, areas."""
    # The instance folder (config.py, secret key, SQLite file) may live outside
    # the code, e.g. on a volume: PORTAL_INSTANCE_PATH says where.
    app = PortalFlask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("PORTAL_INSTANCE_PATH") or None,
    )
    app.config.from_object(default_config)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("PORTAL")
    else:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    # An id no database column can hold is a missing page (404), not an overflow (500);
    # a NUL character anywhere in the request is a bad request (400), never a database error.
    params.install(app)

    _configure_secrets_and_cookies(app)
    _configure_database(app)
    _configure_proxy(app)

    from .extensions import csrf, db, login_manager, migrate
    from .htmx import htmx

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)

    from . import assets, errors_pages, formatting, i18n, request_log, security

    # First: its after_request hook then runs last and times the whole request.
    request_log.install(app)
    security.install(app)
    # Before the pages: the sign-in page's language switch is read before its view runs.
    i18n.install(app)
    errors_pages.install(app)
    formatting.install(app)
    assets.install(app)

    # Importing the models registers them with SQLAlchemy (and Alembic).
    from .accounts import models as _accounts_models  # noqa: F401
    from .accounts.auth import bp as auth_bp
    from .accounts.routes import bp as accounts_bp
    from .api import models as _api_models  # noqa: F401
    from .api.routes import bp as api_tokens_bp
    from .attachments import models as _attachments_models  # noqa: F401
    from .attachments.routes import bp as attachments_bp
    from .audit import models as _audit_models  # noqa: F401
    from .background import models as _background_models  # noqa: F401
    from .background.routes import bp as background_bp
    from .catalog import models as _catalog_models  # noqa: F401
    from .catalog.routes import bp as catalog_bp
    from .contacts import models as _contacts_models  # noqa: F401
    from .contacts.routes import bp as contacts_bp
    from .cxml import models as _cxml_models  # noqa: F401
    from .cxml.routes import bp as cxml_bp
    from .cxml.routes import pages as cxml_pages_bp
    from .equipment import models as _equipment_models  # noqa: F401
    from .equipment.routes import bp as equipment_bp
    from .forecasts import models as _forecasts_models  # noqa: F401
    from .forecasts.commit_routes import bp as forecast_commits_bp
    from .forecasts.planning_routes import bp as planning_bp
    from .forecasts.routes import bp as forecasts_bp
    from .fulfilment import models as _fulfilment_models  # noqa: F401
    from .fulfilment.routes import bp as fulfilment_bp
    from .home.routes import bp as home_bp
    from .ideas import models as _ideas_models  # noqa: F401
    from .ideas.routes import bp as ideas_bp
    from .notifications import models as _notifications_models  # noqa: F401
    from .notifications.routes import bp as notifications_bp
    from .ordering import models as _ordering_models  # noqa: F401
    from .ordering.routes import bp as ordering_bp
    from .plans import models as _plans_models  # noqa: F401
    from .plans.routes import bp as plans_bp
    from .relationship import models as _relationship_models  # noqa: F401
    from .relationship.routes import bp as relationship_bp
    from .reviews import models as _reviews_models  # noqa: F401
    from .reviews.routes import bp as reviews_bp
    from .service import models as _service_models  # noqa: F401
    from .service.routes import bp as service_bp

    app.register_blueprint(home_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(ordering_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(fulfilment_bp)
    app.register_blueprint(ideas_bp)
    app.register_blueprint(attachments_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(forecasts_bp)
    app.register_blueprint(planning_bp)
    app.register_blueprint(forecast_commits_bp)
    app.register_blueprint(service_bp)
    app.register_blueprint(equipment_bp)
    app.register_blueprint(relationship_bp)
    app.register_blueprint(background_bp)
    app.register_blueprint(api_tokens_bp)
    app.register_blueprint(reviews_bp)
    app.register_blueprint(contacts_bp)

    from .api import door as api_door

    api_door.init_app(app)
    from . import errors_pages as _errors_pages
    from . import security as _security
    from .cxml import routes as cxml_routes

    # cXML documents carry their credentials: no session, no CSRF, cXML answers only.
    app.register_blueprint(cxml_bp)
    app.register_blueprint(cxml_pages_bp)
    csrf.exempt(cxml_bp)
    _security.token_door(app, cxml_bp)
    _errors_pages.answer_errors_under(app, "/cxml/", cxml_routes.routing_error)

    from . import jobs

    jobs.init_app(app)

    from .cli import register_commands

    register_commands(app)
    from .service.cli import register as register_service_commands

    register_service_commands(app)
    return app


def _configure_secrets_and_cookies(app: Flask) -> None:
    production = app.config["ENV"] == "production"
    key = app.config.get("SECRET_KEY")
    if production:
        if not key or key in WEAK_SECRET_KEYS or len(key) < 32:
            raise RuntimeError(
                "Production mode needs a real secret key: set PORTAL_SECRET_KEY (or SECRET_KEY "
                "in instance/config.py) to at least 32 random characters, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`."
            )
        app.config["SESSION_COOKIE_SECURE"] = True
    elif not key:
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))
        if app.config.get("DATABASE_URL"):
            # A database server is how several hosts share one portal, but a key
            # generated into each host's own instance folder differs per host: every
            # cookie and CSRF token of one host is then refused by the others.
            log.warning(
                "PORTAL_SECRET_KEY is not set: using the key generated in %s. If more than "
                "one host serves this database, give them all the same PORTAL_SECRET_KEY, "
                "or people are signed out whenever the load balancer switches hosts.",
                Path(app.instance_path) / "secret_key",
            )
    from datetime import timedelta

    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    # The cookie is written when its content changes (sign-in, "seen" at most once a
    # minute), not signed and sent again with every response: the server's session
    # (AuthSession) holds the lifetimes, and each rewrite cost every request its time.
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False


def _instance_secret_key(instance: Path) -> str:
    """Read instance/secret_key, creating it (mode 600) on first run."""
    path = instance / "secret_key"
    instance.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    log.info("generated a new secret key in %s", path)
    return path.read_text().strip()


def _configure_database(app: Flask) -> None:
    from .extensions import sqlite_engine_options

    url = app.config.get("DATABASE_URL") or (
        f"sqlite:///{Path(app.instance_path) / 'portal.sqlite3'}"
    )
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    if url.startswith("sqlite"):
        options = {**sqlite_engine_options(), **options}
    else:
        options.setdefault("pool_pre_ping", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _configure_proxy(app: Flask) -> None:
    proxies = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if proxies:
        # Only then is X-Forwarded-For believed, and only that many hops of it.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
