"""Helpers shared by the tests: configuration, a browser-like client, HTML parsing."""

from __future__ import annotations

import email
import email.message
import email.policy
import queue
import re
import socket
import time
from contextlib import contextmanager

from bs4 import BeautifulSoup

DEMO_PASSWORD = "portal-demo"

# Cheap hashing for tests only: the algorithm is the same, the cost is not.
FAST_HASHING = {
    "PASSWORD_HASH_TIME_COST": 1,
    "PASSWORD_HASH_MEMORY_KIB": 8,
    "PASSWORD_HASH_PARALLELISM": 1,
}


def make_test_config(database_url: str, **overrides) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        **FAST_HASHING,
        **overrides,
    }


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


class Browserless:
    """A test client that acts like a person with a browser: it fetches forms before posting."""

    def __init__(self, client):
        self.client = client

    def token(self, page: str = "/login") -> str:
        response = self.client.get(page, follow_redirects=True)
        return csrf_token_from(response.get_data(as_text=True))

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, *, page: str | None = None, **kwargs):
        """POST with the CSRF token a real form would carry (taken from `page`, default `url`)."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.token(page or self._page_for(url)))
        return self.client.post(url, data=data, **kwargs)

    @staticmethod
    def _page_for(url: str) -> str:
        # Forms whose page is the same URL; action-only endpoints borrow the home page.
        return url if not re.search(r"/(logout|delete|active)$", url) else "/"

    def login(self, email: str, password: str = DEMO_PASSWORD, **kwargs):
        return self.post("/login", {"email": email, "password": password}, page="/login", **kwargs)

    def logout(self):
        return self.post("/logout", page="/")


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


class HttpPerson:
    """A signed-in person over real HTTP (one connection per request), for tests
    that need parallel requests against the live server."""

    def __init__(self, base_url: str):
        import urllib.parse

        address = urllib.parse.urlsplit(base_url)
        self.host, self.port = address.hostname, address.port
        self.cookie = ""

    def request(self, method: str, path: str, form: dict | None = None):
        import http.client
        import urllib.parse

        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            text = response.read().decode()
            cookie = response.getheader("Set-Cookie")
            if cookie:
                self.cookie = cookie.split(";", 1)[0]
            return response.status, response.getheader("Location"), text
        finally:
            conn.close()

    def login(self, email: str, password: str = DEMO_PASSWORD) -> int:
        _, _, page = self.request("GET", "/login")
        status, _, _ = self.request(
            "POST",
            "/login",
            {"csrf_token": csrf_token_from(page), "email": email, "password": password},
        )
        return status


@contextmanager
def scratch_database(tmp_path, name: str):
    """The URL of a new, empty database (no tables), dropped afterwards: a SQLite file
    under tmp_path, or a database of its own on PORTAL_TEST_DATABASE_URL's server."""
    import os
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server_url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not server_url:
        yield f"sqlite:///{tmp_path / (name + '.sqlite3')}"
        return
    database = f"portal_{name}_{uuid.uuid4().hex[:10]}"
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield make_url(server_url).set(database=database).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        server.dispose()


# --- a real SMTP server for the e-mail tests ---------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """aiosmtpd handler: accepts each message into a queue; addresses listed in `answers`
    get that reply to RCPT TO instead (e.g. "550 5.1.1 No such user")."""

    def __init__(self):
        self.messages: queue.Queue[email.message.EmailMessage] = queue.Queue()
        self.answers: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.answers:
            return self.answers[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.put(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def next(self, timeout: float = 10):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no mail arrived within {timeout} s") from None

    def all(self, wait: float = 0.5) -> list:
        """Everything that arrived, waiting `wait` seconds for stragglers."""
        time.sleep(wait)
        found = []
        while not self.messages.empty():
            found.append(self.messages.get())
        return found


class MailServer:
    """A real SMTP server on a fixed port that a test can stop and start again."""

    def __init__(self):
        self.port = free_port()
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def set_language(app, email: str, language: str) -> None:
    """The person reads the portal (and its files) in `language` from their next request."""
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.extensions import db

    with app.app_context():
        db.session.scalar(select(User).where(User.email == email)).language = language
        db.session.commit()
