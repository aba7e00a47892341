"""The roles a user can hold, and which side of the relationship each belongs to."""

from enum import StrEnum


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
        return ROLE_LABELS[self]

    @property
    def is_customer_role(self) -> bool:
        return self in CUSTOMER_ROLES


ROLE_LABELS = {
    Role.BUYER: "Buyer",
    Role.APPROVER: "Approver",
    Role.CUSTOMER_ADMIN: "Customer admin",
    Role.ACCOUNT_MANAGER: "Account manager",
    Role.PLANNER: "Planner",
    Role.ENGINEER: "Engineer",
    Role.FULFILMENT: "Fulfilment",
    Role.SERVICE: "Service",
    Role.ADMIN: "Vendor admin",
}

CUSTOMER_ROLES = frozenset({Role.BUYER, Role.APPROVER, Role.CUSTOMER_ADMIN})
VENDOR_ROLES = frozenset(Role) - CUSTOMER_ROLES
