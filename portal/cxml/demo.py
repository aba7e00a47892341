"""Demo cXML credentials: Acme's purchasing system is ACME-PROC (NetworkID) with the
shared secret `acme-cxml-demo`; orders are placed as Acme's buyer. No outbound URL
(there is no purchasing system to receive confirmations in the demo)."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts import passwords
from portal.accounts.models import CustomerAccount, User
from portal.extensions import db, utcnow

from .models import CxmlCredential

ACME_IDENTITY = "ACME-PROC"
ACME_DOMAIN = "NetworkID"
ACME_SHARED_SECRET = "acme-cxml-demo"


def load() -> dict[str, int]:
    acme = db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == "C-10001"))
    buyer = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
    if acme is None or buyer is None:
        return {"cxml_credentials": 0}
    db.session.add(
        CxmlCredential(
            account_id=acme.id,
            domain=ACME_DOMAIN,
            identity=ACME_IDENTITY,
            secret_hash=passwords.hash_password(ACME_SHARED_SECRET),
            acting_user_id=buyer.id,
            outbound_url=None,
            updated_at=utcnow(),
        )
    )
    db.session.commit()
    return {"cxml_credentials": 1}
