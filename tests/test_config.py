"""Configuration: defaults, instance/config.py, PORTAL_* variables, production mode."""

import pytest

from portal import create_app


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """An empty instance folder, and no PORTAL_* variables from the environment."""
    import os

    for name in list(os.environ):
        if name.startswith("PORTAL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    return tmp_path


def test_defaults_use_sqlite_in_the_instance_folder_and_generate_a_secret(instance):
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'portal.sqlite3'}"
    key_file = instance / "secret_key"
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(app.config["SECRET_KEY"]) == 64
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    # The same key on the next start, so sessions survive a restart.
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_a_generated_key_on_a_database_server_warns_that_hosts_need_one_key(
    instance, monkeypatch, caplog
):
    """Each host would generate its own key into its own instance folder, and refuse
    the other hosts' cookies (tests/test_two_hosts.py sets one shared key)."""
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://u@db.invalid/portal")
    with caplog.at_level("WARNING", logger="portal"):
        create_app()
    assert "give them all the same PORTAL_SECRET_KEY" in caplog.text
    caplog.clear()
    monkeypatch.setenv("PORTAL_SECRET_KEY", "x" * 40)
    with caplog.at_level("WARNING", logger="portal"):
        create_app()
    assert "PORTAL_SECRET_KEY" not in caplog.text


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(instance):
    from sqlalchemy import text

    from portal.extensions import db

    app = create_app()
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()


def test_instance_config_then_environment_override_the_defaults(instance, monkeypatch):
    (instance / "config.py").write_text(
        "VENDOR_NAME = 'Instance Vendor'\nSESSION_IDLE_MINUTES = 10\n"
    )
    app = create_app()
    assert app.config["VENDOR_NAME"] == "Instance Vendor"
    assert app.config["SESSION_IDLE_MINUTES"] == 10
    monkeypatch.setenv("PORTAL_SESSION_IDLE_MINUTES", "5")
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://u@db.invalid/portal")
    app = create_app()
    assert app.config["SESSION_IDLE_MINUTES"] == 5
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.invalid/portal"
    assert app.config["VENDOR_NAME"] == "Instance Vendor"


@pytest.mark.parametrize("key", [None, "", "dev", "change-me", "too-short-1234"])
def test_production_refuses_to_start_without_a_real_secret_key(instance, monkeypatch, key):
    monkeypatch.setenv("PORTAL_ENV", "production")
    if key is not None:
        monkeypatch.setenv("PORTAL_SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="real secret key"):
        create_app()
    assert not (instance / "secret_key").exists()


def test_production_marks_cookies_secure_and_sends_hsts(instance, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "k" * 48)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
