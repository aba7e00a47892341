"""Deterministic demo data, used by `make run` (through `flask demo load`) and by tests.

Everything random comes from `random.Random(42)`, so every run builds the same
portal. Later areas add their own `_load_*` steps to `load`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from sqlalchemy import func, select

from portal.accounts import passwords
from portal.accounts.models import Address, CustomerAccount, User
from portal.accounts.roles import Role
from portal.extensions import db, utcnow

DEMO_PASSWORD = "portal-demo"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    roles: tuple[Role, ...]
    account_number: str | None = None


VENDOR_STAFF = [
    DemoLogin("admin@vendor.test", "Alex Admin", (Role.ADMIN,)),
    DemoLogin("manager@vendor.test", "Morgan Manager", (Role.ACCOUNT_MANAGER,)),
    DemoLogin("planner@vendor.test", "Pat Planner", (Role.PLANNER,)),
    DemoLogin("engineer@vendor.test", "Erin Engineer", (Role.ENGINEER,)),
    DemoLogin("fulfilment@vendor.test", "Frankie Fulfilment", (Role.FULFILMENT,)),
    DemoLogin("service@vendor.test", "Sasha Service", (Role.SERVICE,)),
    # A second account manager, so "accounts you manage" differs between managers.
    DemoLogin("manager2@vendor.test", "Sam Second-Manager", (Role.ACCOUNT_MANAGER,)),
]

ACCOUNTS = [
    # number, name, timezone, manager e-mail, city, country
    ("C-10001", "Acme Industrial", "Europe/Berlin", "manager@vendor.test", "Stuttgart", "DE"),
    (
        "C-10002",
        "Globex Manufacturing",
        "America/Chicago",
        "manager@vendor.test",
        "Springfield",
        "US",
    ),
    ("C-10003", "Initech Systems", "Europe/London", "manager2@vendor.test", "Leeds", "GB"),
    ("C-10004", "Umbrella Process Labs", "Europe/Vienna", "manager2@vendor.test", "Graz", "AT"),
]

CUSTOMER_LOGINS = [
    DemoLogin("buyer@acme.test", "Bea Buyer", (Role.BUYER,), "C-10001"),
    DemoLogin("approver@acme.test", "Arno Approver", (Role.APPROVER,), "C-10001"),
    DemoLogin("admin@acme.test", "Ada Acme-Admin", (Role.CUSTOMER_ADMIN, Role.BUYER), "C-10001"),
    DemoLogin("buyer@globex.test", "Gil Globex", (Role.BUYER,), "C-10002"),
    DemoLogin("buyer@initech.test", "Ivy Initech", (Role.BUYER,), "C-10003"),
]

# The Indonesian customer: priced in rupiah, in Surabaya's zone, working in Indonesian.
# Made after the four above from its own Random, so their demo data stays as it was.
NUSANTARA = dict(
    number="C-10005",
    name="PT Nusantara Teknik",
    timezone="Asia/Jakarta",
    currency="IDR",
    default_language="id",
    city="Surabaya",
    region="Jawa Timur",
    country="ID",
)
NUSANTARA_LOGINS = [
    DemoLogin("buyer@nusantara.test", "Budi Santoso", (Role.BUYER,), "C-10005"),
    DemoLogin("admin@nusantara.test", "Sri Wahyuni", (Role.CUSTOMER_ADMIN, Role.BUYER), "C-10005"),
]
# Vendor staff who reads the portal in Indonesian, and manages the Indonesian account.
INDONESIAN_STAFF = DemoLogin("dewi@vendor.test", "Dewi Lestari", (Role.ACCOUNT_MANAGER,))

FIRST_NAMES = ["Jonas", "Mira", "Tom", "Lea", "Ravi", "Nora", "Ken", "Sofia", "Omar", "Hana"]
LAST_NAMES = ["Keller", "Novak", "Brandt", "Okafor", "Lindqvist", "Moreau", "Sato", "Weber"]
STREETS = ["Industriestraße", "Harbour Road", "Main Street", "Werkstraße", "Mill Lane"]


def demo_logins() -> list[DemoLogin]:
    """The fixed logins printed by `make run` and listed in the README."""
    return VENDOR_STAFF[:6] + [INDONESIAN_STAFF] + CUSTOMER_LOGINS + NUSANTARA_LOGINS


@cache
def _demo_password_hash(_cost_key: tuple) -> str:
    # One hash for every demo user: hashing is deliberately slow.
    return passwords.hash_password(DEMO_PASSWORD)


def password_hash() -> str:
    from flask import current_app

    c = current_app.config
    return _demo_password_hash(
        (
            c["PASSWORD_HASH_TIME_COST"],
            c["PASSWORD_HASH_MEMORY_KIB"],
            c["PASSWORD_HASH_PARALLELISM"],
        )
    )


def is_loaded() -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(User)))


def load() -> dict[str, int]:
    """Everything `make run` shows: people and accounts, then the catalog."""
    from portal.catalog import demo as catalog_demo
    from portal.contacts import demo as contacts_demo
    from portal.cxml import demo as cxml_demo
    from portal.equipment import demo as equipment_demo
    from portal.forecasts import demo as forecasts_demo
    from portal.fulfilment import demo as fulfilment_demo
    from portal.ideas import demo as ideas_demo
    from portal.notifications.service import without_nudges
    from portal.ordering import demo as ordering_demo
    from portal.plans import demo as plans_demo
    from portal.relationship import demo as relationship_demo
    from portal.reviews import demo as reviews_demo
    from portal.service import demo as service_demo

    with without_nudges():
        counts = load_people()
        counts |= catalog_demo.load(random.Random(4242), utcnow().date())
        db.session.commit()
        counts |= ordering_demo.load(random.Random(4343), utcnow().date())
        counts |= fulfilment_demo.load(random.Random(4444), utcnow().date())
        counts |= ideas_demo.load(random.Random(4545), utcnow().date())
        counts |= plans_demo.load(random.Random(4646), utcnow().date())
        counts |= forecasts_demo.load(random.Random(4646), utcnow().date())
        counts |= service_demo.load(random.Random(4747), utcnow())
        counts |= reviews_demo.load(random.Random(4848), utcnow().date())
        counts |= equipment_demo.load(random.Random(4848), utcnow())
        counts |= contacts_demo.load(random.Random(4848), utcnow().date())
        counts |= cxml_demo.load()
        counts |= relationship_demo.load(utcnow())
        _forget_demo_mail()
    return counts


def _forget_demo_mail() -> None:
    """The demo's year of history notified people as it went, and each notification
    queued its e-mail. None of that happened now: sending it when the worker starts
    would flood the inboxes (real ones, if a mail server is configured) with a year
    of old news. The in-app notifications stay."""
    from sqlalchemy import delete

    from portal.notifications.models import DigestItem, OutboxMessage

    db.session.execute(delete(OutboxMessage))
    db.session.execute(delete(DigestItem))
    db.session.commit()


def load_people() -> dict[str, int]:
    """Create the demo vendor staff, customer accounts, addresses and users.

    The demo password is shorter than the policy asks for new passwords: it is
    set here directly, for trying the portal, and never accepted from a form.
    """
    rng = random.Random(42)
    now = utcnow()
    digest = password_hash()

    def make_user(login: DemoLogin, account: CustomerAccount | None) -> User:
        user = User(
            email=login.email,
            name=login.name,
            password_hash=digest,
            account=account,
            password_changed_at=now - timedelta(days=rng.randint(30, 300)),
        )
        user.roles = login.roles
        user.last_login_at = now - timedelta(hours=rng.randint(2, 24 * 40))
        db.session.add(user)
        return user

    staff = {login.email: make_user(login, None) for login in VENDOR_STAFF}

    accounts = {}
    for number, name, tz, manager_email, city, country in ACCOUNTS:
        account = CustomerAccount(
            number=number,
            name=name,
            timezone=tz,
            account_manager=staff[manager_email],
            created_at=now - timedelta(days=rng.randint(400, 1500)),
            # Two accounts' terms measure promises on shipment, two on delivery.
            promise_basis="shipment" if number in ("C-10002", "C-10004") else "delivery",
        )
        for index, kind in enumerate(("shipping", "shipping", "billing")):
            account.addresses.append(
                Address(
                    kind=kind,
                    label=(
                        "Main plant"
                        if index == 0
                        else "Warehouse"
                        if index == 1
                        else "Accounts payable"
                    ),
                    recipient="Goods receiving" if kind == "shipping" else "Finance",
                    line1=f"{rng.choice(STREETS)} {rng.randint(1, 180)}",
                    postal_code=str(rng.randint(10000, 99999)),
                    city=city,
                    country=country,
                    is_default=index in (0, 2),
                )
            )
        db.session.add(account)
        accounts[number] = account

    for login in CUSTOMER_LOGINS:
        make_user(login, accounts[login.account_number])

    # A few more colleagues per account, so team pages look like real teams.
    extra = 0
    taken = {login.email for login in VENDOR_STAFF + CUSTOMER_LOGINS}
    for number, account in accounts.items():
        domain = account.name.split()[0].lower()
        for _ in range(rng.randint(1, 3)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{first}.{last}@{domain}.test".lower()
            if email in taken:
                continue
            taken.add(email)
            make_user(DemoLogin(email, f"{first} {last}", (Role.BUYER,), number), account)
            extra += 1
    _load_nusantara(make_user, now)
    db.session.commit()
    return {
        "vendor staff": len(staff) + 1,
        "accounts": len(accounts) + 1,
        "customer users": len(CUSTOMER_LOGINS) + extra + len(NUSANTARA_LOGINS),
    }


def _load_nusantara(make_user, now) -> CustomerAccount:
    """PT Nusantara Teknik, its users, and the vendor's Indonesian-speaking manager."""
    rng = random.Random(15)
    manager = make_user(INDONESIAN_STAFF, None)
    manager.language = "id"
    manager.timezone = "Asia/Jakarta"
    account = CustomerAccount(
        number=NUSANTARA["number"],
        name=NUSANTARA["name"],
        timezone=NUSANTARA["timezone"],
        currency=NUSANTARA["currency"],
        default_language=NUSANTARA["default_language"],
        account_manager=manager,
        created_at=now - timedelta(days=rng.randint(400, 900)),
        promise_basis="delivery",
    )
    for kind, label, recipient, line1, postal_code, default in (
        (
            "shipping",
            "Pabrik Rungkut",
            "Penerimaan barang",
            "Jl. Rungkut Industri III No. 27",
            "60293",
            True,
        ),
        (
            "shipping",
            "Gudang Margomulyo",
            "Penerimaan barang",
            "Jl. Margomulyo No. 44",
            "60183",
            False,
        ),
        (
            "billing",
            "Keuangan",
            "Bagian keuangan",
            "Jl. Rungkut Industri III No. 27",
            "60293",
            True,
        ),
    ):
        account.addresses.append(
            Address(
                kind=kind,
                label=label,
                recipient=recipient,
                line1=line1,
                postal_code=postal_code,
                city=NUSANTARA["city"],
                region=NUSANTARA["region"],
                country=NUSANTARA["country"],
                is_default=default,
            )
        )
    db.session.add(account)
    for login in NUSANTARA_LOGINS:
        make_user(login, account)
    return account
