"""Two app hosts over one PostgreSQL database and one Redis: the portal behind a load balancer.

Two gunicorn servers run as separate processes on their own ports, each with an
instance folder of its own, so nothing passes between them except what a real
deployment shares: the database, Redis, the secret key in their environment and
the attachments volume. One person's cookie jar is used against both ports (a
browser keeps cookies per host name, not per port, so it would do the same) and
shows:

- a sign-in on one host works on the other;
- signing out on one ends the session on both, even for a copy of the old cookie;
- failed sign-ins count across both hosts;
- one idempotency key submitted through both hosts, one after the other and in
  parallel, makes exactly one order;
- one worker, a third process with an instance folder of its own, sends each
  e-mail the hosts wrote to the outbox exactly once (to a real SMTP server on a
  local port), woken through Redis.

PostgreSQL is the server at PORTAL_TEST_DATABASE_URL (default: the one `make
test-postgres` uses); the test creates and drops a database of its own there.
Redis is PORTAL_TEST_REDIS_URL (default database 15 on the local server), emptied
before and after. Without them the tests skip with the reason, except in CI
(CI=true), where they fail: a CI machine has both.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from portal import create_app
from portal.accounts.service import GENERIC_SIGN_IN_ERROR
from portal.extensions import db

from .support import DEMO_PASSWORD, FAST_HASHING, MailServer, csrf_token_from, make_test_config

pytestmark = pytest.mark.hosts

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SERVER_URL = os.environ.get("PORTAL_TEST_DATABASE_URL") or DEFAULT_SERVER_URL
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# Both hosts sign cookies and CSRF tokens with this key: a key generated into
# each host's own instance folder would make every cookie of one host worthless
# on the other (see README, "Several app hosts").
SECRET_KEY = "two-hosts-shared-secret-" + uuid.uuid4().hex
MAX_FAILURES_PER_EMAIL = 3
START_TIMEOUT_SECONDS = 60
PARALLEL = 12


def _missing(what: str) -> None:
    """Skip on a developer's machine; fail in CI, where PostgreSQL and Redis always run."""
    reason = f"the two-host test needs {what}"
    if IN_CI:
        pytest.fail(reason + " (CI=true: this never skips)", pytrace=False)
    pytest.skip(reason)


# --- Redis, spoken directly: the test only needs PING and FLUSHDB ------------------------


def redis_command(url: str, *words: str) -> str:
    """Send one command (after SELECT of the URL's database); the reply's first line."""
    address = urllib.parse.urlsplit(url)
    database = (address.path or "/0").strip("/") or "0"
    with (
        socket.create_connection(
            (address.hostname or "127.0.0.1", address.port or 6379), timeout=5
        ) as conn,
        conn.makefile("rb") as reader,
    ):

        def send(*parts: str) -> str:
            payload = f"*{len(parts)}\r\n" + "".join(
                f"${len(p.encode())}\r\n{p}\r\n" for p in parts
            )
            conn.sendall(payload.encode())
            return reader.readline().decode().rstrip("\r\n")

        if address.password:
            send("AUTH", urllib.parse.unquote(address.password))
        if (reply := send("SELECT", database)) != "+OK":
            raise OSError(f"Redis refused SELECT {database}: {reply}")
        return send(*words)


# --- the shared database -----------------------------------------------------------------


def _create_database() -> tuple[str, Callable[[], None]]:
    """An empty PostgreSQL database of its own on the server; returns its URL and a drop."""
    if not SERVER_URL.startswith("postgresql"):
        _missing(f"a PostgreSQL URL in PORTAL_TEST_DATABASE_URL, not {SERVER_URL!r}")
    server = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    name = f"portal_hosts_{uuid.uuid4().hex[:10]}"
    try:
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        server.dispose()
        _missing(f"PostgreSQL at {SERVER_URL} ({str(error.orig).strip().splitlines()[0]})")

    def drop() -> None:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()

    return make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False), drop


def _migrate_and_load(url: str):
    """Alembic to head, then the demo people and catalog (as the `demo` and `catalog`
    fixtures load them). Returns the app the test uses to look at the database."""
    from flask_migrate import upgrade

    from portal import demo as demo_data
    from portal.catalog import demo as catalog_demo

    app = create_app(make_test_config(url))
    with app.app_context():
        upgrade()
        demo_data.load_people()
        catalog_demo.load(random.Random(4242), date.today())
        db.session.commit()
    return app


# --- the hosts ---------------------------------------------------------------------------


@dataclass
class Host:
    """One gunicorn process and what it wrote to its log."""

    name: str
    process: subprocess.Popen
    log_path: Path
    port: int = 0

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_process(
    name: str, command: list[str], env: dict[str, str], workdir: Path
) -> tuple[subprocess.Popen, Path]:
    """Start `command` from the repository root with `env`; stdout and stderr go to a log
    file in `workdir` (a pipe nobody reads would fill up and stall the process)."""
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, log_path


def stop_process(process: subprocess.Popen, graceful: int = signal.SIGTERM) -> None:
    """SIGTERM (gunicorn's graceful stop; SIGINT for the worker), then SIGKILL if it
    lingers."""
    if process.poll() is None:
        process.send_signal(graceful)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def host_environment(
    database_url: str, instance: Path, attachments: Path, mail_port: int
) -> dict[str, str]:
    """What a deployment sets on every host and on the worker: the same database, Redis,
    secret key and mail server; the instance folder is each process's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    env.update(
        PORTAL_DATABASE_URL=database_url,
        PORTAL_REDIS_URL=REDIS_URL,
        PORTAL_SECRET_KEY=SECRET_KEY,
        PORTAL_INSTANCE_PATH=str(instance),
        PORTAL_ATTACHMENT_DIR=str(attachments),
        PORTAL_MAIL_SERVER="127.0.0.1",
        PORTAL_MAIL_PORT=str(mail_port),
        PORTAL_MAIL_USE_TLS="false",
        PORTAL_LOGIN_MAX_FAILURES_PER_EMAIL=str(MAX_FAILURES_PER_EMAIL),
        # Every request comes from 127.0.0.1: only the per-e-mail count is under test.
        PORTAL_LOGIN_MAX_FAILURES_PER_ADDRESS="1000",
        PYTHONUNBUFFERED="1",
        **{f"PORTAL_{key}": str(value) for key, value in FAST_HASHING.items()},
    )
    return env


def start_gunicorn(name: str, env: dict[str, str], workdir: Path) -> Host:
    """`gunicorn -w 1` on a port the kernel picks (no race for a "free" port)."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--no-control-socket",
        "--workers",
        "1",
        # Threads, so parallel requests to one host really overlap.
        "--threads",
        "4",
        "--bind",
        "127.0.0.1:0",
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        "wsgi:app",
    ]
    process, log_path = start_process(name, command, env, workdir)
    return Host(name, process, log_path)


def wait_until_serving(host: Host) -> None:
    """Read the port from gunicorn's "Listening at" line, then wait for /healthz."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not host.port:
        if match := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", host.log):
            host.port = int(match[1])
        elif host.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"host {host.name} did not start:\n{host.log}", pytrace=False)
        else:
            time.sleep(0.1)
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", host.port, timeout=5)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            body = response.read()
            conn.close()
            if response.status == 200:
                return
            problem = f"{response.status} {body[:200]!r}"
        except OSError as error:
            problem = repr(error)
        if host.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"host {host.name} is not healthy ({problem}):\n{host.log}", pytrace=False)
        time.sleep(0.2)


@dataclass
class Deployment:
    """Two hosts and a worker over one database; `app` reads that database from the
    test; `mail` is the SMTP server the worker delivers to."""

    app: object
    a: Host
    b: Host
    worker: Host
    mail: MailServer
    database_url: str
    workdir: Path


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, request):
    """Two running hosts over a fresh database, stopped however the tests end; the
    database is dropped and the Redis database emptied after them."""
    try:
        reply = redis_command(REDIS_URL, "PING")
    except OSError as error:
        _missing(f"Redis at {REDIS_URL} ({error})")
    assert reply == "+PONG", reply
    redis_command(REDIS_URL, "FLUSHDB")

    database_url, drop_database = _create_database()
    request.addfinalizer(drop_database)
    request.addfinalizer(lambda: redis_command(REDIS_URL, "FLUSHDB"))
    app = _migrate_and_load(database_url)
    request.addfinalizer(lambda: _dispose(app))

    mail = MailServer()
    mail.start()
    request.addfinalizer(mail.stop)

    workdir = tmp_path_factory.mktemp("hosts")
    attachments = workdir / "shared-attachments"
    hosts = []
    for name in ("a", "b"):
        env = host_environment(database_url, workdir / f"instance-{name}", attachments, mail.port)
        host = start_gunicorn(name, env, workdir)
        hosts.append(host)
        request.addfinalizer(lambda process=host.process: stop_process(process))
    # The worker's instance folder is its own too: a queue left on the SQLite default
    # (a file there) would never hear the hosts' nudges, and the mail would only leave
    # with the schedule's minute, or not within the test at all.
    env = host_environment(database_url, workdir / "instance-worker", attachments, mail.port)
    process, log_path = start_process(
        "worker", [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], env, workdir
    )
    worker = Host("worker", process, log_path)
    request.addfinalizer(lambda: stop_process(worker.process, signal.SIGINT))
    for host in hosts:
        wait_until_serving(host)
    return Deployment(app, hosts[0], hosts[1], worker, mail, database_url, workdir)


def _dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def host_logs(deployment):
    """After each test, print what each host logged during it: pytest shows it beside
    a failed test (and keeps it to itself for a passing one)."""
    hosts = (deployment.a, deployment.b, deployment.worker)
    offsets = {host.name: len(host.log) for host in hosts}
    yield
    for host in hosts:
        state = "running" if host.process.poll() is None else f"exited {host.process.returncode}"
        print(f"----- host {host.name} (port {host.port}, {state}) during this test -----")
        print(host.log[offsets[host.name] :])


# --- one person, one cookie jar, two hosts -----------------------------------------------


@dataclass
class Person:
    """A browser's cookie jar for 127.0.0.1, used against either host."""

    cookie: str = ""

    def request(self, host: Host, method: str, path: str, form: dict | None = None):
        """One request on a fresh connection; returns (status, Location, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", host.port, timeout=60)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            text_ = response.read().decode()
            if cookie := response.getheader("Set-Cookie"):
                self.cookie = cookie.split(";", 1)[0]
            return response.status, response.getheader("Location"), text_
        finally:
            conn.close()

    def get(self, host: Host, path: str):
        return self.request(host, "GET", path)

    def post(self, host: Host, path: str, form: dict, *, page: str = "/"):
        """POST with the CSRF token of `page` as fetched from the same host."""
        _, _, html = self.get(host, page)
        return self.request(host, "POST", path, {"csrf_token": csrf_token_from(html), **form})

    def sign_in(self, host: Host, email: str, password: str = DEMO_PASSWORD):
        return self.post(host, "/login", {"email": email, "password": password}, page="/login")


def signed_in_name(html: str) -> str | None:
    """The name in the page header's user menu, or None on a signed-out page."""
    name = BeautifulSoup(html, "html.parser").select_one(".usermenu-name")
    return name.get_text(strip=True) if name else None


def sign_in_error(html: str) -> str:
    alert = BeautifulSoup(html, "html.parser").select_one(".form-errors[role=alert]")
    return alert.get_text(" ", strip=True) if alert else ""


# --- the tests ---------------------------------------------------------------------------


def test_a_sign_in_on_one_host_works_on_the_other(deployment):
    person = Person()
    status, _, _ = person.sign_in(deployment.a, "buyer@acme.test")
    assert status == 303

    status, _, html = person.get(deployment.b, "/")
    assert status == 200
    assert signed_in_name(html) == "Bea Buyer"
    # A form fetched on one host is accepted by the other (CSRF token, same key).
    _, _, page = person.get(deployment.a, "/")
    status, location, _ = person.request(
        deployment.b, "POST", "/logout", {"csrf_token": csrf_token_from(page)}
    )
    assert (status, urllib.parse.urlsplit(location).path) == (303, "/login")


def test_signing_out_on_one_host_ends_the_session_on_both(deployment):
    person = Person()
    assert person.sign_in(deployment.a, "admin@acme.test")[0] == 303
    assert signed_in_name(person.get(deployment.a, "/orders")[2]) == "Ada Acme-Admin"
    old_cookie = person.cookie

    status, location, _ = person.post(deployment.b, "/logout", {})
    assert (status, urllib.parse.urlsplit(location).path) == (303, "/login")

    status, location, _ = person.get(deployment.a, "/orders")
    assert status == 302 and urllib.parse.urlsplit(location).path == "/login"
    # Even the cookie as it was before signing out is worthless on the other host:
    # the session was revoked in the database, not just forgotten by the browser.
    replayed = Person(cookie=old_cookie)
    status, location, _ = replayed.get(deployment.a, "/orders")
    assert status == 302 and urllib.parse.urlsplit(location).path == "/login"


def test_failed_sign_ins_count_across_both_hosts(deployment):
    person = Person()
    hosts = [deployment.a, deployment.b]
    for attempt in range(MAX_FAILURES_PER_EMAIL):
        status, _, html = person.sign_in(hosts[attempt % 2], "planner@vendor.test", "wrong-guess")
        assert status == 401
        assert sign_in_error(html) == GENERIC_SIGN_IN_ERROR, (attempt, sign_in_error(html))
    # The next attempt, on either host and even with the right password, is paused.
    for host in hosts:
        status, _, html = person.sign_in(host, "planner@vendor.test")
        assert status == 401
        assert "Too many failed sign-in attempts" in sign_in_error(html), host.name
    status, _, _ = person.get(deployment.a, "/")
    assert status == 302


def _fill_cart(app, email: str) -> int:
    """Put a product in the buyer's cart (on the shared database); returns its id."""
    from portal.accounts.models import User
    from portal.catalog.models import Product
    from portal.ordering import service

    with app.app_context():
        buyer = db.session.scalar(select(User).where(User.email == email))
        product_id = db.session.scalar(
            select(Product.id)
            .where(
                Product.status == "active",
                Product.min_order_qty == 1,
                Product.order_multiple == 1,
            )
            .order_by(Product.id)
        )
        service.add_to_cart(buyer, [(product_id, 2)])
        db.session.commit()
        db.session.remove()
    return product_id


def _checkout_form(person: Person, host: Host, po_number: str) -> dict:
    status, _, page = person.get(host, "/checkout")
    assert status == 200, page[:300]
    return {
        "csrf_token": csrf_token_from(page),
        "idempotency_key": re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)[
            1
        ],
        "ship_to_id": re.search(r'<option (?:selected )?value="(\d+)"', page)[1],
        "po_number": po_number,
        "notes": "",
        "requested_date": "",
    }


def _orders_with_po(app, po_number: str) -> list[str]:
    from portal.ordering.models import Order

    with app.app_context():
        numbers = list(db.session.scalars(select(Order.number).where(Order.po_number == po_number)))
        db.session.remove()
    return numbers


def test_one_idempotency_key_through_both_hosts_makes_one_order(deployment):
    person = Person()
    assert person.sign_in(deployment.a, "buyer@globex.test")[0] == 303
    _fill_cart(deployment.app, "buyer@globex.test")
    form = _checkout_form(person, deployment.a, "PO-TWO-HOSTS")

    # A double submission whose retry lands on the other host.
    first = person.request(deployment.a, "POST", "/checkout", form)
    again = person.request(deployment.b, "POST", "/checkout", form)
    assert first[0] == again[0] == 303
    assert first[1] == again[1]
    orders = _orders_with_po(deployment.app, "PO-TWO-HOSTS")
    assert len(orders) == 1
    assert urllib.parse.urlsplit(first[1]).path == f"/orders/{orders[0]}"
    status, _, html = person.get(deployment.b, urllib.parse.urlsplit(first[1]).path)
    assert status == 200 and "PO-TWO-HOSTS" in html


def test_one_idempotency_key_in_parallel_on_both_hosts_makes_one_order(deployment):
    from portal.catalog.models import Stock

    person = Person()
    assert person.sign_in(deployment.b, "buyer@initech.test")[0] == 303
    product_id = _fill_cart(deployment.app, "buyer@initech.test")
    with deployment.app.app_context():
        reserved_before = db.session.get(Stock, product_id).reserved
        db.session.remove()
    form = _checkout_form(person, deployment.b, "PO-PARALLEL")

    hosts = [deployment.a, deployment.b] * (PARALLEL // 2)
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(lambda h: person.request(h, "POST", "/checkout", form), hosts))
    assert {status for status, _, _ in results} == {303}, [r[:2] for r in results]
    assert len({location for _, location, _ in results}) == 1
    assert len(_orders_with_po(deployment.app, "PO-PARALLEL")) == 1
    with deployment.app.app_context():
        from portal.ordering.models import Order, OrderLine

        lines = db.session.scalars(
            select(OrderLine).join(Order).where(Order.po_number == "PO-PARALLEL")
        ).all()
        reserved_by_order = sum(line.reserved_quantity for line in lines)
        reserved_after = db.session.get(Stock, product_id).reserved
        db.session.remove()
    assert [line.quantity for line in lines] == [2]
    # Stock was reserved once, by the one order: the other submissions' reservations
    # were rolled back with them.
    assert reserved_after - reserved_before == reserved_by_order


def _outbox(app) -> list:
    from portal.notifications.models import OutboxMessage

    with app.app_context():
        found = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.remove()
    return found


def test_one_worker_sends_each_mail_of_both_hosts_once(deployment):
    """Orders placed through both hosts (each submission repeated on the other host)
    notify the desk, whose mail the worker on a third process sends, each message once."""
    placed = []
    for index, (email, first, second) in enumerate(
        [
            ("buyer@acme.test", deployment.a, deployment.b),
            ("buyer@globex.test", deployment.b, deployment.a),
            ("buyer@initech.test", deployment.a, deployment.b),
        ]
    ):
        person = Person()
        assert person.sign_in(first, email)[0] == 303
        _fill_cart(deployment.app, email)
        form = _checkout_form(person, first, f"PO-MAIL-{index}")
        assert person.request(first, "POST", "/checkout", form)[0] == 303
        assert person.request(second, "POST", "/checkout", form)[0] == 303
        placed += _orders_with_po(deployment.app, f"PO-MAIL-{index}")
    assert len(placed) == 3

    deadline = time.monotonic() + 60
    while any(row.state in ("queued", "sending") for row in _outbox(deployment.app)):
        assert time.monotonic() < deadline, "the worker left mail in the outbox"
        time.sleep(0.2)
    rows = _outbox(deployment.app)
    arrived = [message["Message-ID"] for message in deployment.mail.inbox.all(wait=2)]

    assert {row.state for row in rows} == {"sent"}
    # Every order this module placed told the desk; each such message arrived once.
    assert sum(f"{number}" in row.subject + row.body for row in rows for number in placed) >= 3
    assert sorted(arrived) == sorted(row.message_id for row in rows)
    assert len(set(arrived)) == len(arrived)
