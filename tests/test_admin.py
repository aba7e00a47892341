"""Vendor admins manage accounts, addresses and users; customer admins manage their own team."""

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Address, CustomerAccount, User
from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.extensions import db

from .support import Browserless, soup

NEW_ACCOUNT = {
    "number": "c-20001",
    "name": "Hooli Hardware",
    "status": "active",
    "timezone": "Europe/Paris",
    "account_manager_id": "",
}
NEW_ADDRESS = {
    "kind": "shipping",
    "label": "Dock 4",
    "recipient": "Receiving",
    "line1": "Quai 12",
    "line2": "",
    "postal_code": "69002",
    "city": "Lyon",
    "region": "",
    "country": "fr",
    "is_default": "y",
}
STRONG = "granite lantern orbit 77"


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def field_error(response, field: str) -> str:
    node = soup(response).select_one(f"#{field}-error")
    assert node is not None, f"no error beside {field}"
    return node.get_text()


# --- accounts ---------------------------------------------------------------------


def test_admin_creates_an_account_and_the_audit_log_says_so(app, login_as, ids):
    admin = login_as("admin@vendor.test")
    data = NEW_ACCOUNT | {"account_manager_id": str(ids["users"]["manager@vendor.test"])}
    response = admin.post("/accounts/new", data)
    assert response.status_code == 303
    with app.app_context():
        account = db.session.scalar(
            select(CustomerAccount).where(CustomerAccount.number == "C-20001")
        )
        assert account.name == "Hooli Hardware"
        assert account.account_manager.email == "manager@vendor.test"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account_created"))
        assert event.account_id == account.id
        assert event.actor.email == "admin@vendor.test"
    page = soup(admin.client.get(response.headers["Location"]))
    assert "Hooli Hardware" in page.h1.get_text()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"number": ""}, "number", "required"),
        ({"number": "C-10001"}, "number", "already in use"),
        ({"number": "c-10001"}, "number", "already in use"),  # numbers are upper-cased
        ({"number": "C 1/2"}, "number", "letters, digits and dashes"),
        ({"name": ""}, "name", "required"),
        ({"name": "x" * 201}, "name", "longer than 200"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Not a valid choice"),
        ({"status": "deleted"}, "status", "Not a valid choice"),
        ({"account_manager_id": "999999"}, "account_manager_id", "Not a valid choice"),
    ],
)
def test_bad_account_forms_say_what_is_wrong_and_save_nothing(
    app, login_as, ids, changes, field, message
):
    admin = login_as("admin@vendor.test")
    before = count(app, CustomerAccount)
    response = admin.post("/accounts/new", NEW_ACCOUNT | changes)
    assert response.status_code == 422
    assert message in field_error(response, field)
    assert count(app, CustomerAccount) == before


def test_planner_cannot_be_made_account_manager(app, login_as, ids):
    admin = login_as("admin@vendor.test")
    response = admin.post(
        "/accounts/new", NEW_ACCOUNT | {"account_manager_id": str(ids["planner"])}
    )
    assert response.status_code == 422
    assert "Not a valid choice" in field_error(response, "account_manager_id")


def test_editing_an_account_keeps_before_and_after_in_the_audit_log(app, login_as, ids):
    admin = login_as("admin@vendor.test")
    form = soup(admin.client.get(f"/accounts/{ids['acme']}/edit")).select_one("#account-form")
    data = {field["name"]: field.get("value", "") for field in form.select("input")}
    data |= {
        select_["name"]: select_.select_one("option[selected]")["value"]
        for select_ in form.select("select")
        if select_.select_one("option[selected]")
    }
    data["name"] = "Acme Industrial GmbH"
    del data["csrf_token"]
    assert admin.post(f"/accounts/{ids['acme']}/edit", data).status_code == 303
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account_updated"))
        assert event.detail == {
            "before": {"name": "Acme Industrial"},
            "after": {"name": "Acme Industrial GmbH"},
        }


# --- addresses --------------------------------------------------------------------


def test_customer_admin_adds_an_address_to_their_own_account(app, login_as, ids):
    admin = login_as("admin@acme.test")
    response = admin.post(f"/accounts/{ids['acme']}/addresses/new", NEW_ADDRESS)
    assert response.status_code == 303
    with app.app_context():
        address = db.session.scalar(select(Address).where(Address.label == "Dock 4"))
        assert address.account_id == ids["acme"]
        assert address.country == "FR"
        defaults = db.session.scalars(
            select(Address).where(
                Address.account_id == ids["acme"],
                Address.kind == "shipping",
                Address.is_default.is_(True),
            )
        ).all()
        assert [a.label for a in defaults] == ["Dock 4"]  # the old default gave way


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"line1": ""}, "line1", "required"),
        ({"country": "France"}, "country", "two-letter code"),
        ({"postal_code": "9" * 21}, "postal_code", "longer than 20"),
        ({"kind": "pickup"}, "kind", "Not a valid choice"),
        ({"label": ""}, "label", "required"),
    ],
)
def test_bad_addresses_are_refused_beside_the_field(app, login_as, ids, changes, field, message):
    admin = login_as("admin@acme.test")
    before = count(app, Address)
    response = admin.post(f"/accounts/{ids['acme']}/addresses/new", NEW_ADDRESS | changes)
    assert response.status_code == 422
    assert message in field_error(response, field)
    assert count(app, Address) == before


def test_an_address_cannot_be_reached_through_another_accounts_url(app, login_as, ids):
    """Acme's address id under Globex's account URL is not found, even for a vendor admin."""
    admin = login_as("admin@vendor.test")
    url = f"/accounts/{ids['globex']}/addresses/{ids['acme_address']}/edit"
    assert admin.client.get(url).status_code == 404
    response = admin.post(
        f"/accounts/{ids['globex']}/addresses/{ids['acme_address']}/delete", page="/"
    )
    assert response.status_code == 404
    assert count(app, Address, Address.id == ids["acme_address"]) == 1


def test_removing_an_address(app, login_as, ids):
    admin = login_as("admin@acme.test")
    response = admin.post(f"/accounts/{ids['acme']}/addresses/{ids['acme_address']}/delete")
    assert response.status_code == 303
    assert count(app, Address, Address.id == ids["acme_address"]) == 0
    assert count(app, AuditEvent, AuditEvent.action == "address_deleted") == 1


# --- users ------------------------------------------------------------------------


def new_user(**changes) -> dict:
    return {
        "name": "Nina New",
        "email": "nina@acme.test",
        "roles": ["buyer"],
        "timezone": "",
        "password": STRONG,
    } | changes


def test_customer_admin_creates_a_buyer_in_their_own_account(app, login_as, ids):
    admin = login_as("admin@acme.test")
    response = admin.post("/users/new", new_user())
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "nina@acme.test"))
        assert user.account_id == ids["acme"]
        assert user.roles == {Role.BUYER}
    assert Browserless(app.test_client()).login("nina@acme.test", STRONG).status_code == 303


def test_mass_assignment_cannot_pick_the_account_or_a_vendor_role(app, login_as, ids):
    """Extra fields that try to set an account, an active flag or a vendor role change nothing."""
    admin = login_as("admin@acme.test")
    response = admin.post(
        "/users/new", new_user(account_id=str(ids["globex"]), active="0", is_vendor_staff="1")
    )
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "nina@acme.test"))
        assert (user.account_id, user.active) == (ids["acme"], True)
    response = admin.post("/users/new", new_user(email="vera@acme.test", roles=["admin"]))
    assert response.status_code == 422
    assert "not a valid choice" in field_error(response, "roles")
    assert count(app, User, User.email == "vera@acme.test") == 0


def test_editing_a_user_ignores_fields_that_are_not_on_the_form(app, login_as, ids):
    admin = login_as("admin@acme.test")
    response = admin.post(
        f"/users/{ids['acme_buyer']}/edit",
        {
            "name": "Bea Buyer",
            "email": "buyer@acme.test",
            "roles": ["buyer", "approver"],
            "timezone": "Europe/Berlin",
            "account_id": str(ids["globex"]),
            "active": "0",
            "password_hash": "x",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        user = db.session.get(User, ids["acme_buyer"])
        assert user.account_id == ids["acme"]
        assert user.active is True
        assert user.password_hash != "x"
        assert user.roles == {Role.BUYER, Role.APPROVER}
        assert user.timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "BUYER@acme.test"}, "email", "already exists"),
        ({"email": "not-an-email"}, "email", "Invalid email"),
        ({"email": ""}, "email", "required"),
        ({"roles": []}, "roles", "at least one role"),
        ({"password": "short"}, "password", "at least 12"),
        ({"password": "qwertyuiop123"}, "password", "too common"),
        ({"password": "n" * 129}, "password", "at most 128"),
        ({"name": ""}, "name", "required"),
        ({"timezone": "Nowhere/Land"}, "timezone", "Not a valid choice"),
    ],
)
def test_bad_user_forms_are_refused_beside_the_field(app, login_as, ids, changes, field, message):
    admin = login_as("admin@acme.test")
    before = count(app, User)
    response = admin.post("/users/new", new_user(**changes))
    assert response.status_code == 422
    assert message in field_error(response, field)
    assert count(app, User) == before


def test_vendor_admin_cannot_give_a_customer_user_a_vendor_role(app, login_as, ids):
    admin = login_as("admin@vendor.test")
    response = admin.post(
        "/users/new", new_user(account_id=str(ids["acme"]), roles=["buyer", "planner"])
    )
    assert response.status_code == 422
    assert "cannot be given to a customer" in field_error(response, "roles")
    response = admin.post(
        "/users/new", new_user(email="vic@vendor.test", account_id="", roles=["buyer"])
    )
    assert "cannot be given to vendor staff" in field_error(response, "roles")


def test_vendor_admin_creates_vendor_staff(app, login_as):
    admin = login_as("admin@vendor.test")
    response = admin.post(
        "/users/new",
        new_user(email="vic@vendor.test", account_id="", roles=["planner", "engineer"]),
    )
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "vic@vendor.test"))
        assert user.is_vendor_staff and user.roles == {Role.PLANNER, Role.ENGINEER}


def test_customer_admin_sees_only_their_own_team(app, login_as):
    admin = login_as("admin@acme.test")
    emails = {
        cell.get_text()
        for cell in soup(admin.client.get("/users")).select("#results tbody td:nth-of-type(2)")
    }
    assert "buyer@acme.test" in emails
    assert all(e.endswith("@acme.test") for e in emails)


def test_admins_cannot_lock_themselves_out(app, login_as, ids):
    admin = login_as("admin@acme.test")
    response = admin.post(
        f"/users/{ids['acme_admin']}/active",
        {"active": "0"},
        page=f"/users/{ids['acme_admin']}/edit",
    )
    assert response.status_code == 303
    assert (
        "cannot deactivate yourself"
        in soup(admin.client.get(response.headers["Location"])).select_one(".flashes").get_text()
    )
    response = admin.post(
        f"/users/{ids['acme_admin']}/edit",
        {"name": "Ada", "email": "admin@acme.test", "roles": ["buyer"], "timezone": ""},
    )
    assert response.status_code == 422
    assert "own admin role" in field_error(response, "roles")
    with app.app_context():
        assert db.session.get(User, ids["acme_admin"]).has_role(Role.CUSTOMER_ADMIN)


def test_reactivated_user_can_sign_in_again(app, login_as, ids):
    admin = login_as("admin@acme.test")
    admin.post(f"/users/{ids['acme_buyer']}/active", {"active": "0"})
    admin.post(f"/users/{ids['acme_buyer']}/active", {"active": "1"})
    assert Browserless(app.test_client()).login("buyer@acme.test").status_code == 303
    with app.app_context():
        actions = list(
            db.session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.target == f"user:{ids['acme_buyer']}")
                .order_by(AuditEvent.id)
            )
        )
    assert actions == ["user_deactivated", "user_reactivated"]


@pytest.mark.parametrize(
    ("value", "message"),
    [("-5", "between 0 and"), ("lots", "Not a valid decimal"), ("1e12", "between 0 and")],
)
def test_bad_approval_limits_are_refused_and_change_nothing(app, login_as, ids, value, message):
    admin = login_as("admin@acme.test")
    url = f"/accounts/{ids['acme']}/approval-limit"
    response = admin.post(url, {"approval_limit": value}, page=f"/accounts/{ids['acme']}")
    flash = soup(admin.client.get(response.headers["Location"])).select_one(".flash-error")
    assert message in flash.get_text()
    with app.app_context():
        assert db.session.get(CustomerAccount, ids["acme"]).approval_limit is None


def test_customer_admin_sets_and_clears_the_approval_limit(app, login_as, ids):
    admin = login_as("admin@acme.test")
    url = f"/accounts/{ids['acme']}/approval-limit"
    admin.post(url, {"approval_limit": "2500.00"}, page=f"/accounts/{ids['acme']}")
    with app.app_context():
        assert db.session.get(CustomerAccount, ids["acme"]).approval_limit == 2500
    admin.post(url, {"approval_limit": ""}, page=f"/accounts/{ids['acme']}")
    with app.app_context():
        assert db.session.get(CustomerAccount, ids["acme"]).approval_limit is None
        changes = db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "account_updated")
        ).all()
    assert [c["after"] for c in changes] == [
        {"approval_limit": "2500.00"},
        {"approval_limit": None},
    ]
