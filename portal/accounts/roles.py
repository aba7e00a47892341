"""The roles a user can hold, and which side of the relationship each belongs to."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Role(StrEnum):
    # customer side
    BUYER = "buyer"
    APPROVER = "approver"
    CUSTOMER_ADMIN = "customer_admin"
    # vendor side
    ACCOUNT_MANAGER = "account_manager"
    PLANNER = "planner"
    ENGINEER = "engineer"
    FULFILMENT = "fulfilment"
    SERVICE = "service"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])

    @property
    def is_customer_role(self) -> bool:
        return self in CUSTOMER_ROLES


ROLE_LABELS = {
    Role.BUYER: _l("Buyer"),
    Role.APPROVER: _l("Approver"),
    Role.CUSTOMER_ADMIN: _l("Customer admin"),
    Role.ACCOUNT_MANAGER: _l("Account manager"),
    Role.PLANNER: _l("Planner"),
    Role.ENGINEER: _l("Engineer"),
    Role.FULFILMENT: _l("Fulfilment"),
    Role.SERVICE: _l("Service"),
    Role.ADMIN: _l("Vendor admin"),
}

CUSTOMER_ROLES = frozenset({Role.BUYER, Role.APPROVER, Role.CUSTOMER_ADMIN})
VENDOR_ROLES = frozenset(Role) - CUSTOMER_ROLES
