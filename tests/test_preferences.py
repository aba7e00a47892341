"""A person's language and time zone, chosen in their profile; the account's default
language for its users and its time zone, set by its admin (or a vendor admin). The
choice decides the next page and every htmx fragment, whatever the browser asks for."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts import service as accounts
from portal.accounts.models import CustomerAccount, User
from portal.extensions import db

from .support import soup

ENGLISH_BROWSER = {"Accept-Language": "en-GB,en;q=0.9"}


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_choosing_indonesian_changes_the_next_page_and_its_fragments(app, login_as):
    buyer = login_as("buyer@acme.test")
    assert soup(buyer.client.get("/cart", headers=ENGLISH_BROWSER)).select_one("h1").get_text() == (
        "Cart"
    )
    response = buyer.post(
        "/preferences",
        {"language": "id", "timezone": "Asia/Makassar"},
        page="/password",
        headers=ENGLISH_BROWSER,
    )
    assert response.status_code == 303
    profile = soup(buyer.client.get(response.headers["Location"], headers=ENGLISH_BROWSER))
    # The confirmation is already in the language just chosen.
    assert "Bahasa dan zona waktu Anda telah disimpan." in profile.select_one(".flash").get_text()
    assert profile.select_one("#language option[selected]")["value"] == "id"
    assert profile.select_one("#timezone option[selected]")["value"] == "Asia/Makassar"
    assert soup(buyer.client.get("/cart", headers=ENGLISH_BROWSER)).select_one("h1").get_text() == (
        "Keranjang"
    )
    # An htmx fragment follows the person, not the request's English header.
    fragment = buyer.client.get("/orders", headers=ENGLISH_BROWSER | {"HX-Request": "true"})
    assert fragment.status_code == 200
    page = soup(fragment)
    assert page.select_one("html") is None
    assert page.get_text(strip=True) == "Tidak ada pesanan yang cocok."
    with app.app_context():
        chosen = user("buyer@acme.test")
        assert (chosen.language, chosen.timezone) == ("id", "Asia/Makassar")


def test_going_back_to_the_accounts_language(app, login_as):
    with app.app_context():
        user("buyer@acme.test").language = "id"
        db.session.commit()
    buyer = login_as("buyer@acme.test")
    buyer.post("/preferences", {"language": "", "timezone": ""}, page="/password")
    assert soup(buyer.client.get("/cart", headers=ENGLISH_BROWSER)).select_one("h1").get_text() == (
        "Cart"
    )
    with app.app_context():
        assert (user("buyer@acme.test").language, user("buyer@acme.test").timezone) == (None, None)


def test_an_unknown_language_or_zone_is_refused_and_nothing_changes(app, login_as):
    buyer = login_as("buyer@acme.test")
    for values, field in (
        ({"language": "xx", "timezone": ""}, "language"),
        ({"language": "id", "timezone": "Mars/Olympus"}, "timezone"),
    ):
        response = buyer.post("/preferences", values, page="/password")
        assert response.status_code == 422
        assert soup(response).select_one(f"#{field}-error") is not None
    with app.app_context():
        assert (user("buyer@acme.test").language, user("buyer@acme.test").timezone) == (None, None)


def test_the_customer_admin_sets_the_accounts_language_and_zone_for_new_users(app, login_as, ids):
    admin = login_as("admin@acme.test")
    detail = f"/accounts/{ids['acme']}"
    response = admin.post(
        f"{detail}/preferences",
        {"default_language": "id", "timezone": "Asia/Jayapura"},
        page=detail,
    )
    assert response.status_code == 303
    with app.app_context():
        account = db.session.get(CustomerAccount, ids["acme"])
        assert (account.default_language, account.timezone) == ("id", "Asia/Jayapura")
        # A user created now has chosen nothing: they read the account's language.
        accounts.create_user(
            None,
            email="baru@acme.test",
            name="Pengguna Baru",
            roles=["buyer"],
            password="a long enough passphrase here",
            account_id=ids["acme"],
        )
        db.session.commit()
    newcomer = login_as("baru@acme.test", "a long enough passphrase here")
    assert soup(newcomer.client.get("/cart", headers=ENGLISH_BROWSER)).select_one(
        "h1"
    ).get_text() == ("Keranjang")
    # Someone who chose English keeps it.
    with app.app_context():
        user("buyer@acme.test").language = "en"
        db.session.commit()
    buyer = login_as("buyer@acme.test")
    assert soup(buyer.client.get("/cart")).select_one("h1").get_text() == "Cart"


def test_a_bad_zone_for_the_account_is_refused(app, login_as, ids):
    admin = login_as("admin@acme.test")
    detail = f"/accounts/{ids['acme']}"
    response = admin.post(
        f"{detail}/preferences", {"default_language": "id", "timezone": "Nowhere"}, page=detail
    )
    assert response.status_code == 303
    assert "Not a valid choice" in soup(admin.client.get(detail)).select_one(".flash").get_text()
    with app.app_context():
        account = db.session.get(CustomerAccount, ids["acme"])
        assert (account.default_language, account.timezone) == (None, "Europe/Berlin")
