"""Signing in and out, passwords, sessions that really end, throttling, the audit trail."""

import time

import pytest
from sqlalchemy import func, select

from portal.accounts.models import AuthSession, LoginFailure, User
from portal.audit.models import AuditEvent
from portal.extensions import db, utcnow

from .support import DEMO_PASSWORD, Browserless, HttpPerson, soup


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_sign_in_lands_on_the_home_page_of_the_role(browser_like, demo):
    response = browser_like.login("buyer@acme.test")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    home = soup(browser_like.client.get("/"))
    assert home.h1.get_text(strip=True) == "Acme Industrial"
    vendor = Browserless(browser_like.client.application.test_client())
    vendor.login("manager@vendor.test")
    assert soup(vendor.client.get("/")).h1.get_text(strip=True) == "What you owe"


def test_email_is_matched_regardless_of_case_and_spaces(browser_like, demo):
    assert browser_like.login("  Buyer@ACME.test ").status_code == 303


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("buyer@acme.test", "wrong-password-123"),
        ("nobody@acme.test", DEMO_PASSWORD),  # unknown e-mail: the same answer
        ("buyer@acme.test", DEMO_PASSWORD.upper()),
    ],
)
def test_wrong_credentials_get_one_message_and_no_session(browser_like, demo, email, password):
    response = browser_like.login(email, password)
    assert response.status_code == 401
    alert = soup(response).select_one("[role=alert]")
    assert alert.get_text(strip=True) == "The e-mail address or password is incorrect."
    assert browser_like.client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"email": "", "password": ""}, "email", "This field is required."),
        ({"email": "buyer@acme.test", "password": ""}, "password", "This field is required."),
        ({"email": "a" * 250 + "@x.test", "password": "x"}, "email", "longer than 254"),
        ({"email": "buyer@acme.test", "password": "p" * 129}, "password", "longer than 128"),
    ],
)
def test_bad_sign_in_forms_show_the_error_beside_the_field(
    browser_like, demo, form, field, message
):
    response = browser_like.post("/login", form)
    assert response.status_code == 422
    error = soup(response).select_one(f"#{field}-error")
    assert error is not None and message in error.get_text()


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("/orders?status=placed", "/orders?status=placed"),
        ("https://evil.example/steal", "/"),
        ("//evil.example/steal", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("\\\\evil.example", "/"),
    ],
)
def test_next_only_returns_to_this_site(browser_like, demo, next_url, lands_on):
    from urllib.parse import quote

    browser_like.client.get("/login")
    response = browser_like.post(
        f"/login?next={quote(next_url, safe='')}",
        {"email": "buyer@acme.test", "password": DEMO_PASSWORD},
        page="/login",
    )
    assert response.status_code == 303
    assert response.headers["Location"] == lands_on


def test_signed_out_user_is_sent_to_sign_in_and_back(browser_like, ids):
    response = browser_like.client.get(f"/accounts/{ids['acme']}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=/accounts/{ids['acme']}"


def test_sign_out_revokes_the_session_so_a_replayed_cookie_fails(app, browser_like, demo):
    browser_like.login("buyer@acme.test")
    stolen = browser_like.client.get_cookie("portal_session").value
    assert browser_like.logout().status_code == 303
    attacker = app.test_client()
    attacker.set_cookie("portal_session", stolen)
    assert attacker.get("/").status_code == 302
    assert audit_actions(app)[-1] == "sign_out"


def test_tampered_cookie_is_not_a_session(app, browser_like, demo):
    browser_like.login("buyer@acme.test")
    cookie = browser_like.client.get_cookie("portal_session").value
    payload, _, signature = cookie.rpartition(".")
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    other = app.test_client()
    other.set_cookie("portal_session", forged)
    assert other.get("/").status_code == 302


def test_password_change_signs_out_every_other_browser(app, login_as):
    laptop = login_as("buyer@acme.test")
    phone = login_as("buyer@acme.test")
    response = laptop.post(
        "/password",
        {
            "current_password": DEMO_PASSWORD,
            "new_password": "copper valve ledger 42",
            "confirm_password": "copper valve ledger 42",
        },
    )
    assert response.status_code == 303
    assert laptop.client.get("/").status_code == 200  # the browser that changed it stays in
    assert phone.client.get("/").status_code == 302
    fresh = Browserless(app.test_client())
    assert fresh.login("buyer@acme.test", DEMO_PASSWORD).status_code == 401
    assert fresh.login("buyer@acme.test", "copper valve ledger 42").status_code == 303
    assert "password_changed" in audit_actions(app)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field", "message"),
    [
        (
            "not-my-password",
            "copper valve ledger 42",
            "copper valve ledger 42",
            "current_password",
            "current password is incorrect",
        ),
        (DEMO_PASSWORD, "short-pass", "short-pass", "new_password", "at least 12"),
        (DEMO_PASSWORD, "x" * 129, "x" * 129, "new_password", "at most 128"),
        (DEMO_PASSWORD, "password1234", "password1234", "new_password", "too common"),
        (DEMO_PASSWORD, "bea buyer rocks!", "bea buyer rocks!", "new_password", "your name"),
        (
            DEMO_PASSWORD,
            "copper valve ledger 42",
            "copper valve ledger 43",
            "confirm_password",
            "differ",
        ),
        ("", "", "", "current_password", "required"),
    ],
)
def test_bad_password_changes_change_nothing(app, login_as, current, new, confirm, field, message):
    person = login_as("buyer@acme.test")
    response = person.post(
        "/password", {"current_password": current, "new_password": new, "confirm_password": confirm}
    )
    assert response.status_code == 422
    assert message in soup(response).select_one(f"#{field}-error").get_text()
    assert Browserless(app.test_client()).login("buyer@acme.test").status_code == 303


def test_deactivated_user_is_signed_out_at_the_next_request(app, login_as, ids):
    buyer = login_as("buyer@acme.test")
    admin = login_as("admin@acme.test")
    assert buyer.client.get("/").status_code == 200
    response = admin.post(f"/users/{ids['acme_buyer']}/active", {"active": "0"})
    assert response.status_code == 303
    assert buyer.client.get("/").status_code == 302
    again = Browserless(app.test_client()).login("buyer@acme.test")
    assert again.status_code == 401
    assert "deactivated" in soup(again).select_one("[role=alert]").get_text()


def test_idle_session_expires(app, login_as):
    person = login_as("buyer@acme.test")
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    with person.client.session_transaction() as session:
        session["seen"] = int(time.time()) - idle - 5
    response = person.client.get("/")
    assert response.status_code == 302
    assert person.client.get("/").status_code == 302  # revoked, not just logged out locally
    assert "session_expired" in audit_actions(app)


def test_recent_activity_keeps_the_session_alive(app, login_as):
    person = login_as("buyer@acme.test")
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    with person.client.session_transaction() as session:
        session["seen"] = int(time.time()) - idle + 30
    assert person.client.get("/").status_code == 200
    with person.client.session_transaction() as session:
        assert session["seen"] >= int(time.time()) - 2


def test_absolute_lifetime_ends_even_an_active_session(app, login_as):
    person = login_as("buyer@acme.test")
    with app.app_context():
        for auth_session in db.session.scalars(select(AuthSession)):
            auth_session.expires_at = utcnow()
        db.session.commit()
    assert person.client.get("/").status_code == 302


def test_session_cookie_flags(app, browser_like, demo):
    response = browser_like.login("buyer@acme.test")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over plain http; production sets it


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_state_changes_without_a_valid_csrf_token_are_refused(app, login_as, ids, token):
    admin = login_as("admin@acme.test")
    data = {"active": "0"} | ({"csrf_token": token} if token else {})
    response = admin.client.post(f"/users/{ids['acme_buyer']}/active", data=data)
    assert response.status_code == 400
    assert "form expired" in soup(response).h1.get_text()
    with app.app_context():
        assert db.session.get(User, ids["acme_buyer"]).active


def test_htmx_requests_carry_the_csrf_token_in_a_header(app, login_as, ids):
    admin = login_as("admin@acme.test")
    token = admin.token("/")
    response = admin.client.post(
        f"/users/{ids['acme_buyer']}/active",
        data={"active": "0"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code == 303


# --- throttling -------------------------------------------------------------------


def fail(person: Browserless, email="buyer@acme.test", times=1, **kwargs):
    for _ in range(times):
        response = person.login(email, "wrong-password-123", **kwargs)
    return response


def test_repeated_failures_for_one_email_pause_sign_in_even_with_the_right_password(
    app, browser_like, demo
):
    limit = app.config["LOGIN_MAX_FAILURES_PER_EMAIL"]
    fail(browser_like, times=limit)
    response = browser_like.login("buyer@acme.test")
    assert response.status_code == 401
    message = soup(response).select_one("[role=alert]").get_text()
    assert "Too many failed sign-in attempts" in message
    assert "try again in 15 minutes" in message
    # Another user from the same address is not locked out by someone else's failures.
    assert browser_like.login("buyer@globex.test").status_code == 303


def test_lock_lifts_when_the_window_passes(app, browser_like, demo):
    fail(browser_like, times=app.config["LOGIN_MAX_FAILURES_PER_EMAIL"])
    with app.app_context():
        for failure in db.session.scalars(select(LoginFailure)):
            failure.failed_at = utcnow().replace(year=utcnow().year - 1)
        db.session.commit()
    assert browser_like.login("buyer@acme.test").status_code == 303


def test_a_success_resets_the_count_for_that_email(app, browser_like, demo):
    limit = app.config["LOGIN_MAX_FAILURES_PER_EMAIL"]
    fail(browser_like, times=limit - 1)
    assert browser_like.login("buyer@acme.test").status_code == 303
    browser_like.logout()
    fail(browser_like, times=limit - 1)
    assert browser_like.login("buyer@acme.test").status_code == 303


def test_one_address_trying_many_emails_is_paused(app, browser_like, demo):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 4
    for n in range(4):
        fail(browser_like, email=f"guess{n}@acme.test")
    response = browser_like.login("buyer@globex.test")
    assert "Too many failed" in soup(response).select_one("[role=alert]").get_text()
    other_address = browser_like.login(
        "buyer@globex.test", environ_base={"REMOTE_ADDR": "10.9.8.7"}
    )
    assert other_address.status_code == 303


def test_throttling_is_shared_between_worker_processes(app, database_url, demo):
    """Two app instances (as two gunicorn workers would be) see the same failures."""
    from portal import create_app

    from .support import make_test_config

    worker_a = Browserless(app.test_client())
    worker_b = Browserless(create_app(make_test_config(database_url)).test_client())
    limit = app.config["LOGIN_MAX_FAILURES_PER_EMAIL"]
    fail(worker_a, times=limit - 1)
    fail(worker_b)
    assert "Too many failed" in soup(worker_a.login("buyer@acme.test")).get_text()


def test_forwarded_for_header_is_ignored_unless_a_proxy_is_configured(app, database_url, demo):
    from portal import create_app

    from .support import make_test_config

    direct = Browserless(app.test_client())
    fail(direct, headers={"X-Forwarded-For": "203.0.113.9"})
    proxied_app = create_app(make_test_config(database_url, TRUSTED_PROXY_COUNT=1))
    fail(Browserless(proxied_app.test_client()), headers={"X-Forwarded-For": "203.0.113.10"})
    with app.app_context():
        keys = set(db.session.scalars(select(LoginFailure.throttle_key)))
        addresses = set(
            db.session.scalars(
                select(AuditEvent.client_address).where(AuditEvent.action == "sign_in_failed")
            )
        )
    assert "addr:127.0.0.1" in keys
    assert "addr:203.0.113.9" not in keys
    assert "addr:203.0.113.10" in keys
    assert addresses == {"127.0.0.1", "203.0.113.10"}


# --- audit ------------------------------------------------------------------------


def test_audit_trail_records_who_where_and_when_but_never_a_secret(app, login_as, ids):
    person = Browserless(app.test_client())
    fail(person)
    person.login("buyer@acme.test")
    token = person.client.get_cookie("portal_session").value
    person.client.get("/users")  # a buyer may not: access denied
    person.post(
        "/password",
        {
            "current_password": DEMO_PASSWORD,
            "new_password": "copper valve ledger 42",
            "confirm_password": "copper valve ledger 42",
        },
    )
    person.logout()
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        actions = [e.action for e in events]
        assert actions[-5:] == [
            "sign_in_failed",
            "sign_in",
            "access_denied",
            "password_changed",
            "sign_out",
        ]
        denial = events[-3]
        assert denial.actor_id == ids["acme_buyer"]
        assert denial.account_id == ids["acme"]
        assert denial.client_address == "127.0.0.1"
        assert denial.target == "GET /users"
        assert all(e.at is not None for e in events)
        dump = " ".join(f"{e.actor_email} {e.target} {e.detail} {e.client_address}" for e in events)
        user = db.session.get(User, ids["acme_buyer"])
        for secret in (
            "wrong-password-123",
            DEMO_PASSWORD,
            "copper valve ledger 42",
            token,
            user.password_hash,
        ):
            assert secret not in dump
        assert (
            db.session.scalar(
                select(func.count()).select_from(AuthSession).where(AuthSession.token_hash == token)
            )
            == 0
        )


def test_guessing_the_current_password_is_throttled_like_sign_in(app, login_as):
    person = login_as("buyer@acme.test")
    limit = app.config["LOGIN_MAX_FAILURES_PER_EMAIL"]
    for _ in range(limit):
        person.post(
            "/password",
            {
                "current_password": "guess-guess-guess",
                "new_password": "copper valve ledger 42",
                "confirm_password": "copper valve ledger 42",
            },
        )
    response = person.post(
        "/password",
        {
            "current_password": DEMO_PASSWORD,
            "new_password": "copper valve ledger 42",
            "confirm_password": "copper valve ledger 42",
        },
    )
    assert response.status_code == 422
    assert (
        "Too many wrong passwords"
        in soup(response).select_one("#current_password-error").get_text()
    )


def test_closing_an_account_ends_its_users_sessions_and_sign_ins(app, login_as, ids):
    buyer = login_as("buyer@acme.test")
    admin = login_as("admin@vendor.test")
    response = admin.post(
        f"/accounts/{ids['acme']}/edit",
        {
            "number": "C-10001",
            "name": "Acme Industrial",
            "status": "closed",
            "timezone": "Europe/Berlin",
            "account_manager_id": "",
        },
    )
    assert response.status_code == 303
    assert buyer.client.get("/").status_code == 302
    refused = Browserless(app.test_client()).login("buyer@acme.test")
    assert "account is closed" in soup(refused).select_one("[role=alert]").get_text()
    assert Browserless(app.test_client()).login("buyer@globex.test").status_code == 303


def test_reaching_for_another_accounts_object_is_a_404_and_is_audited(app, login_as, ids):
    intruder = login_as("buyer@globex.test")
    assert intruder.client.get(f"/accounts/{ids['acme']}").status_code == 404
    assert intruder.client.get("/accounts/999999").status_code == 404  # truly missing
    with app.app_context():
        denials = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "access_denied")
        ).all()
        assert [(d.target, d.actor.email) for d in denials] == [
            (f"customer_account:{ids['acme']}", "buyer@globex.test")
        ]


def test_parallel_sign_ins_all_succeed(app, live_server):
    """Sixteen people signing in at the same moment, over real HTTP: every sign-in
    writes a session and an audit row; none may fail with a locked database."""
    from concurrent.futures import ThreadPoolExecutor

    emails = ["buyer@acme.test", "approver@acme.test", "admin@acme.test", "buyer@globex.test"] * 4
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda e: HttpPerson(live_server.url).login(e), emails))
    assert statuses == [303] * 16
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuthSession)) == 16
