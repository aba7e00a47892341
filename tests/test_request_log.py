"""Request logs: one line per request with a request id, and never a secret in them."""

from __future__ import annotations

import json
import logging

import pytest

from portal.request_log import JsonFormatter, RequestIdFilter
from portal.security import public

from .support import DEMO_PASSWORD, Browserless, csrf_token_from, soup

NEW_PASSWORD = "granite lantern orbit 77"
WRONG_PASSWORD = "copper valve ledger 12"
BEARER = "pat_live_5up3r53cr3tT0k3nV4lu3"


def request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "portal.request"]


def everything_logged(caplog) -> str:
    """Every captured record as both formats would write it (text and JSON), tracebacks too."""
    text = logging.Formatter("%(name)s %(message)s %(request_id)s")
    as_json = JsonFormatter()
    stamp = RequestIdFilter()
    out = []
    for record in caplog.records:
        stamp.filter(record)
        out.append(text.format(record))
        out.append(as_json.format(record))
    return "\n".join(out)


def test_sign_in_password_change_and_a_bearer_request_leave_no_secret_in_the_log(app, demo, caplog):
    person = Browserless(app.test_client())
    with caplog.at_level(logging.DEBUG):
        assert person.login("buyer@acme.test", WRONG_PASSWORD).status_code == 401
        assert person.login("buyer@acme.test").status_code == 303
        cookie = person.client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
        with person.client.session_transaction() as session:
            session_token = session["_user_id"]
        page = person.get("/password").get_data(as_text=True)
        changed = person.client.post(
            "/password",
            data={
                "csrf_token": csrf_token_from(page),
                "current_password": DEMO_PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
        )
        assert changed.status_code == 303
        new_cookie = person.client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
        api_like = person.client.get(
            f"/orders?page=1&access_token={BEARER}&password={NEW_PASSWORD}",
            headers={"Authorization": f"Bearer {BEARER}", "Accept": "application/json"},
        )
        assert api_like.status_code == 200
    logged = everything_logged(caplog)
    for secret in (
        DEMO_PASSWORD,
        NEW_PASSWORD,
        WRONG_PASSWORD,
        app.config["SECRET_KEY"],
        cookie,
        new_cookie,
        session_token,
        BEARER,
    ):
        assert secret not in logged, f"{secret!r} is in the log"
    lines = request_lines(caplog)
    assert [r.request["endpoint"] for r in lines].count("auth.login") == 4  # 2 forms, 2 posts
    assert lines[-1].request["path"] == (
        "/orders?page=1&access_token=%5Bredacted%5D&password=%5Bredacted%5D"
    )


def test_one_line_per_request_says_who_what_and_how_long(app, demo, ids, caplog):
    person = Browserless(app.test_client())
    person.login("buyer@acme.test")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="portal.request"):
        response = person.get("/orders?status=open")
    [line] = request_lines(caplog)
    fields = line.request
    assert fields["method"] == "GET"
    assert fields["path"] == "/orders?status=open"
    assert fields["endpoint"] == "ordering.orders"
    assert fields["status"] == 200
    assert fields["user_id"] == ids["acme_buyer"]
    assert fields["account_id"] == ids["acme"]
    assert fields["duration_ms"] > 0
    assert line.request_id == response.headers["X-Request-Id"]
    assert len(response.headers["X-Request-Id"]) == 16


def test_sign_out_line_still_names_who_signed_out(app, demo, ids, caplog):
    person = Browserless(app.test_client())
    person.login("buyer@acme.test")
    with caplog.at_level(logging.INFO, logger="portal.request"):
        assert person.logout().status_code == 303
    line = [r for r in request_lines(caplog) if r.request["endpoint"] == "auth.logout"][0]
    assert line.request["user_id"] == ids["acme_buyer"]


def test_anonymous_request_has_no_user(client, caplog):
    with caplog.at_level(logging.INFO, logger="portal.request"):
        client.get("/healthz")
    [line] = request_lines(caplog)
    assert line.request["user_id"] is None and line.request["account_id"] is None


def test_a_sane_incoming_request_id_is_kept(client, caplog):
    with caplog.at_level(logging.INFO, logger="portal.request"):
        response = client.get("/healthz", headers={"X-Request-Id": "f3a1c2e4-proxy-77"})
    assert response.headers["X-Request-Id"] == "f3a1c2e4-proxy-77"
    assert request_lines(caplog)[0].request_id == "f3a1c2e4-proxy-77"


@pytest.mark.parametrize(
    "incoming",
    [
        "has spaces in it",
        "tab\there",
        "fake\x1b[31mred",
        "x" * 200,
        '{"json": 1}',
        "<script>",
        "",
    ],
)
def test_a_strange_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", headers={"X-Request-Id": incoming})
    assert response.headers["X-Request-Id"] != incoming
    assert len(response.headers["X-Request-Id"]) == 16


def test_json_lines_when_asked(database_url, tmp_path, capsys):
    from portal import create_app

    from .support import make_test_config

    app = create_app(
        make_test_config(database_url, LOG_JSON=True, ATTACHMENT_DIR=str(tmp_path / "a"))
    )
    capsys.readouterr()
    app.test_client().get("/healthz?token=abc", headers={"X-Request-Id": "req-42"})
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    [line] = [x for x in lines if x["logger"] == "portal.request"]
    assert line["request_id"] == "req-42"
    assert line["path"] == "/healthz?token=%5Bredacted%5D"
    assert line["status"] == 200 and line["endpoint"] == "home.healthz"
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")


@pytest.mark.own_app
def test_the_500_page_shows_the_id_of_the_logged_request(app, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @public
    def explode():
        raise RuntimeError("boom")

    app.add_url_rule("/explode", "explode", explode)
    with caplog.at_level(logging.INFO):
        response = app.test_client().get("/explode")
    shown = soup(response).select_one(".error-id code").get_text()
    [line] = request_lines(caplog)
    assert line.request["status"] == 500 and line.levelname == "ERROR"
    assert line.request_id == shown == response.headers["X-Request-Id"]
    traceback = next(r for r in caplog.records if r.name == "portal.errors")
    assert traceback.request_id == shown
