"""The main navigation per role: only pages the role may open, each page it may use one
or two clicks away, and the current page marked (portal.formatting.NAVIGATION)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal import demo as demo_data
from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import CUSTOMER_ROLES, Role
from portal.extensions import db
from portal.security import PUBLIC_ATTR, ROLES_ATTR

from .support import DEMO_PASSWORD, Browserless, soup

# Pages a person never opens from the navigation: pieces of other pages that htmx asks
# for, the REST API and its documents, pages that only make sense with a query (two
# products compared, reached from a product page) and the checkout, which the cart
# offers once it holds lines.
NOT_PAGES = {
    "ordering.checkout",
    "ordering.pad_row",
    "ordering.suggest",
    "forecasts.suggest",
    "ideas.products",
    "notifications.bell",
    "equipment.compare",
    "home.healthz",
}


def one_role_person(app, role: Role) -> Browserless:
    """A person holding `role` alone (a customer role at Acme), signed in."""
    email = f"only-{role.value.replace('_', '-')}@nav.test"
    with app.app_context():
        account = None
        if role in CUSTOMER_ROLES:
            account = db.session.scalar(
                select(CustomerAccount).where(CustomerAccount.number == "C-10001")
            )
        person = User(
            email=email,
            name=f"Only {role.label}",
            account=account,
            password_hash=demo_data.password_hash(),
        )
        person.roles = [role]
        db.session.add(person)
        db.session.commit()
    client = Browserless(app.test_client())
    assert client.login(email, DEMO_PASSWORD).status_code == 303
    return client


def bar(page) -> list[str | tuple[str, list[str]]]:
    """The bar as a person reads it: a link's text, or a group's name with its links."""
    entries = []
    for item in page.select("nav.mainnav > ul > li"):
        button = item.find("button", recursive=False)
        if button is None:
            entries.append(item.a.get_text(strip=True))
        else:
            links = [a.get_text(strip=True) for a in item.select("ul a")]
            entries.append((button.get_text(strip=True), links))
    return entries


def pages_the_role_may_open(app, role: Role) -> set[str]:
    """Every page without parameters in the URL map that lets `role` in."""
    urls = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint in NOT_PAGES:
            continue
        if rule.endpoint.startswith(("api.", "api_docs.", "static")):
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, PUBLIC_ATTR, False):
            continue
        roles = getattr(view, ROLES_ATTR, None)
        if roles is None or role in roles:
            urls.add(rule.rule)
    return urls


def links_in(page, selector: str) -> set[str]:
    return {a["href"].split("?")[0].split("#")[0] for a in page.select(f"{selector} a[href]")}


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_the_navigation_holds_only_pages_the_role_may_open_and_reaches_the_rest(app, demo, role):
    """Each link of the bar, its menus and the user menu opens for a person holding this
    role alone; and every page the role may open is one or two clicks away: in the bar
    (one), in a menu (two: open it, follow the link) or on a page the bar links to."""
    person = one_role_person(app, role)
    home = soup(person.get("/"))
    top = {a["href"] for a in home.select("nav.mainnav > ul > li > a, a.bell")}
    menus = links_in(home, "nav.mainnav .navgroup ul") | links_in(home, ".usermenu-panel")
    for url in top | menus:
        assert person.get(url).status_code == 200, url
    on_page = {url: links_in(soup(person.get(url)), "main") for url in top | menus}
    within_two = top | menus | set().union(*(on_page[url] for url in top))
    pages = pages_the_role_may_open(app, role)
    for url in sorted(pages):
        # A page below another ("/service/new" below "/service") is that area's own:
        # its area's page links to it. Every other page is a place of its own.
        areas = [p for p in pages if p != "/" and url.startswith(p + "/")]
        area = max(areas, key=len, default=None)
        if area is None:
            assert url in within_two, f"{url} is more than two clicks away"
        else:
            assert url in on_page.get(area, set()) | within_two, f"{url} not linked from {area}"


def test_the_group_of_the_current_page_is_marked(login_as):
    page = soup(login_as("buyer@acme.test").get("/equipment"))
    group = page.select_one('nav.mainnav button[aria-current="true"]')
    assert group.get_text(strip=True) == "After the sale"
    current = page.select('nav.mainnav [aria-current="page"]')
    assert [a.get_text(strip=True) for a in current] == ["Equipment"]
    assert current[0].find_parent("ul")["id"] == group["aria-controls"]


def test_a_group_of_one_link_is_that_link(login_as):
    """The approver has no forecasts: "Planning" would open a menu of one, so the bar
    shows "Plans" itself."""
    entries = bar(soup(login_as("approver@acme.test").get("/")))
    assert "Plans" in entries
    assert "Planning" not in [entry[0] for entry in entries if isinstance(entry, tuple)]


@pytest.mark.parametrize(
    ("email", "path"),
    [
        ("planner@vendor.test", "/forecasts/inbox"),
        ("buyer@acme.test", "/forecasts"),
    ],
)
def test_a_pages_tab_says_what_its_heading_says(login_as, email, path):
    """A person with several tabs open finds the page by the words it is headed with
    (the service page's own test, in test_service.py, checks its menu entry too)."""
    page = soup(login_as(email).get(path))
    assert page.title.get_text(strip=True).split(" · ")[0] == page.h1.get_text(strip=True)
