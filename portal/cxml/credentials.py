"""Each customer account's cXML identity, kept by vendor admins, and checking an
inbound document's credentials against it."""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from portal.accounts import passwords
from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.audit import service as audit
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow

from .documents import Credential, CxmlError
from .models import CxmlCredential

SECRET_MIN_LENGTH = 12


def require_vendor_admin(user: User) -> None:
    if not (user.is_vendor_staff and user.has_role(Role.ADMIN)):
        raise Forbidden("Only the vendor's admins keep cXML credentials.")


def vendor_credential() -> Credential:
    """The vendor's own cXML identity (From and Sender of what we send)."""
    config = current_app.config
    return Credential(config["CXML_DOMAIN"], config["CXML_IDENTITY"])


def customer_credential(credential: CxmlCredential) -> Credential:
    return Credential(credential.domain, credential.identity)


def credentials(viewer: User) -> dict[int, CxmlCredential]:
    """Every account's credentials by account id (vendor admins only)."""
    require_vendor_admin(viewer)
    return {c.account_id: c for c in db.session.scalars(select(CxmlCredential))}


def credential_of(account_id: int) -> CxmlCredential | None:
    return db.session.scalar(select(CxmlCredential).where(CxmlCredential.account_id == account_id))


def buyers_of(account: CustomerAccount) -> list[User]:
    """Who orders can be placed as: the account's active buyers."""
    return [u for u in account.users if u.active and u.has_role(Role.BUYER)]


def procurement_user(credential: CxmlCredential, email: str) -> User:
    """Who a PunchOut session opens for: the active buyer of the credential's account
    with this e-mail address, or the credential's acting user when none is named.

    An address that is not an active buyer of the account (unknown, another account's,
    deactivated, without the buyer role) is refused with Status 403, never replaced by
    another identity: the session, its cart and the audit trail must be the person's.
    403 because cXML 1.2 defines it as "the user has insufficient privileges to execute
    this request"; cXML has no 404, and 401 is about the Sender's credentials, which
    were good. The same answer for every case, so that a purchasing system cannot learn
    which addresses exist in other accounts.
    """
    if not email:
        return credential.acting_user
    found = db.session.scalar(
        select(User).where(
            User.account_id == credential.account_id, User.email == email.strip().lower()
        )
    )
    if found is None or not found.active or not found.has_role(Role.BUYER):
        raise CxmlError(
            403,
            f"{email} is not an active buyer of this account on the portal; ask the "
            "account's administrator to add them as a buyer, or send another address.",
        )
    return found


@dataclass(frozen=True)
class CredentialInput:
    domain: str
    identity: str
    shared_secret: str  # empty: keep the stored one
    acting_user_id: int
    outbound_url: str


def save(
    admin: User, account: CustomerAccount, data: CredentialInput, *, client_address: str | None
) -> CxmlCredential:
    """Set or change an account's cXML credentials; the secret is stored as a hash only."""
    require_vendor_admin(admin)
    domain, identity = data.domain.strip(), data.identity.strip()
    if not re.fullmatch(r"[A-Za-z0-9._:-]{1,40}", domain):
        raise DomainError("A domain is a word such as NetworkID or DUNS.", field="domain")
    if not identity or len(identity) > 100:
        raise DomainError("Enter the identity (at most 100 characters).", field="identity")
    clash = db.session.scalar(
        select(CxmlCredential).where(
            func.lower(CxmlCredential.domain) == domain.lower(),
            func.lower(CxmlCredential.identity) == identity.lower(),
            CxmlCredential.account_id != account.id,
        )
    )
    if clash is not None:
        raise DomainError(
            f"{domain} {identity} is already the identity of {clash.account.name}.",
            field="identity",
        )
    user = next((u for u in buyers_of(account) if u.id == data.acting_user_id), None)
    if user is None:
        raise DomainError("Choose an active buyer of this account.", field="acting_user_id")
    url = data.outbound_url.strip()
    if url and (not re.match(r"^https?://[^\s/]+", url) or len(url) > 500 or " " in url):
        raise DomainError(
            "Enter an http or https address (or leave it empty).", field="outbound_url"
        )
    existing = credential_of(account.id)
    secret = data.shared_secret
    if existing is None and not secret:
        raise DomainError("Set the shared secret.", field="shared_secret")
    if secret and len(secret) < SECRET_MIN_LENGTH:
        raise DomainError(
            f"The shared secret needs at least {SECRET_MIN_LENGTH} characters.",
            field="shared_secret",
        )
    credential = existing or CxmlCredential(account_id=account.id)
    credential.domain, credential.identity = domain, identity
    credential.acting_user_id = user.id
    credential.outbound_url = url or None
    credential.updated_at, credential.updated_by_id = utcnow(), admin.id
    if secret:
        credential.secret_hash = passwords.hash_password(secret)
    db.session.add(credential)
    audit.record(
        "cxml_credentials_saved",
        actor=admin,
        account_id=account.id,
        client_address=client_address,
        target=f"account:{account.number}",
        detail={
            "domain": domain,
            "identity": identity,
            "acting_as": user.email,
            "outbound_url": url,
            "secret_changed": bool(secret),
        },
    )
    db.session.commit()
    return credential


# Shared secrets verified in this process: (credential id, stored hash) → HMAC of the secret
# under the app's secret key. Argon2 at the portal's password cost takes about half a
# second here, too long for every document of a busy integration; the first document per
# process pays it, later ones compare an HMAC. Only an acceleration: a changed secret has
# a new stored hash (so no old entry matches), and every process can rebuild its own.
_VERIFIED: OrderedDict[tuple[int, str], bytes] = OrderedDict()
_VERIFIED_MAX = 256
_VERIFIED_LOCK = threading.Lock()


def _mac(secret: str) -> bytes:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"cxml-shared-secret\0" + secret.encode(), hashlib.sha256).digest()


def verify_secret(credential: CxmlCredential, secret: str) -> bool:
    """Whether `secret` is the credential's shared secret (Argon2 once per process)."""
    if not secret:
        return False
    key, mac = (credential.id, credential.secret_hash), _mac(secret)
    with _VERIFIED_LOCK:
        known = _VERIFIED.get(key)
    if known is not None and hmac.compare_digest(known, mac):
        return True
    if not passwords.verify_password(credential.secret_hash, secret):
        return False
    with _VERIFIED_LOCK:
        _VERIFIED[key] = mac
        _VERIFIED.move_to_end(key)
        while len(_VERIFIED) > _VERIFIED_MAX:
            _VERIFIED.popitem(last=False)
    return True


def authenticate(sender_from: Credential, sender: Credential) -> CxmlCredential:
    """The credentials the document's From names, when its Sender's SharedSecret matches;
    CxmlError(401) otherwise (the same answer for an unknown identity and a wrong secret)."""
    found = None
    for party in (sender_from, sender):
        found = db.session.scalar(
            select(CxmlCredential).where(
                func.lower(CxmlCredential.domain) == party.domain.lower(),
                func.lower(CxmlCredential.identity) == party.identity.lower(),
            )
        )
        if found is not None:
            break
    secret = sender.shared_secret
    if found is None:
        passwords.burn_verification_time(secret)
        raise CxmlError(401, "The From credential and SharedSecret do not match an account.")
    if not verify_secret(found, secret):
        raise CxmlError(401, "The From credential and SharedSecret do not match an account.")
    if found.account.status == "closed":
        raise CxmlError(403, "This customer account is closed.")
    if not found.acting_user.active:
        raise CxmlError(403, "The user orders are placed as is deactivated; ask the vendor.")
    return found


def get_account(admin: User, account_id: int) -> CustomerAccount:
    require_vendor_admin(admin)
    account = db.session.get(CustomerAccount, account_id)
    if account is None:
        raise NotFound("No such account.")
    return account
