"""Browser tests: Playwright drives Debian's Chromium against a live server.

The server runs in a thread of the test process on the test's app and
database, so each test starts from the same demo data. Playwright never
downloads a browser; a missing /usr/bin/chromium fails the run (install it with
scripts/install-chromium), it is never silently skipped.
"""

from __future__ import annotations

import os

import pytest

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")


def pytest_collection_modifyitems(items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-chromium (Debian's chromium).")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--headless",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def base_url():
    """Replaces pytest-playwright's fallback (deprecated under pytest 9); the live
    server's address goes into browser_context_args below instead."""
    return None


@pytest.fixture
def browser_context_args(browser_context_args, live_server):
    return {
        **browser_context_args,
        "base_url": live_server.url,
        "viewport": {"width": 1280, "height": 800},
    }


@pytest.fixture
def console_errors(page):
    """Errors the page logs (CSP violations among them); a test asserts there are none."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def try_sign_in(page, email: str, password: str) -> None:
    """Sign in afresh: whoever was signed in before in this browser is not any more."""
    # A response still in flight (a redirect's page, a flash being consumed) could
    # set the old session cookie again after it is cleared: let it land first.
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page, email: str, password: str = "portal-demo") -> None:
    try_sign_in(page, email, password)
    # Wait for the signed-in page: a `goto` right after the click could cut the
    # sign-in short and leave the next page at the login form.
    page.wait_for_url(lambda url: "/login" not in url)
    page.wait_for_function("document.readyState === 'complete' && window.htmx !== undefined")


def go_to(page, link: str, group: str | None = None) -> None:
    """Follow a link of the main navigation, opening its group's menu first if it has one."""
    nav = page.get_by_role("navigation", name="Main")
    if group:
        nav.get_by_role("button", name=group).click()
    nav.get_by_role("link", name=link, exact=True).click()
