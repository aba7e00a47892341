"""Reading and writing cXML 1.2 documents; no database, no Flask.

Reading is safe: defusedxml refuses entity declarations (billion laughs) and external
entities; a DOCTYPE naming the cXML DTD is accepted but never fetched (expat does not
load external DTDs), so required elements are checked here in code instead of by the
DTD. Writing uses ElementTree, which escapes every text and attribute value.
"""

from __future__ import annotations

import re
import secrets
import socket
import xml.etree.ElementTree as ET  # noqa: N817 - writing only; reading goes through defusedxml
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

CXML_VERSION = "1.2.014"
DOCTYPE = f'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/{CXML_VERSION}/cXML.dtd">'
# The largest document read: a 1,000-line order is about 1 MB.
MAX_BYTES = 5 * 1024 * 1024

# cXML status codes (cXML User's Guide, "Status"), with the text each carries.
STATUS_TEXT = {
    200: "OK",
    201: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    406: "Not Acceptable",
    409: "Conflict",
    450: "Not Implemented",
    500: "Internal Server Error",
}

# Units of the catalogue as UN/CEFACT codes (what cXML's UnitOfMeasure carries).
UNITS = {
    "pc": "EA",
    "pcs": "EA",
    "piece": "EA",
    "each": "EA",
    "m": "MTR",
    "kg": "KGM",
    "l": "LTR",
    "box": "BX",
    "pack": "PK",
    "set": "SET",
    "roll": "RO",
    "pair": "PR",
}


def unit_code(unit: str) -> str:
    return UNITS.get(unit.strip().lower(), unit.strip().upper()[:3] or "EA")


class CxmlError(Exception):
    """A document we answer with a cXML error Status (code and a readable text)."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credential:
    domain: str
    identity: str
    shared_secret: str = ""


@dataclass(frozen=True)
class Envelope:
    """The parts of every inbound document: payloadID, the header and the request element."""

    payload_id: str
    sender_from: Credential
    to: Credential
    sender: Credential
    request: ET.Element
    request_kind: str  # "OrderRequest", "PunchOutSetupRequest", …


@dataclass(frozen=True)
class ItemOut:
    line_number: str
    quantity_text: str
    supplier_part_id: str
    unit_price: Decimal | None
    currency: str


@dataclass(frozen=True)
class OrderRequest:
    order_id: str
    order_date: str
    type: str  # new | update | delete
    currency: str
    ship_to_id: str
    ship_to_text: str
    comments: str
    referenced_payload_id: str
    items: list[ItemOut] = field(default_factory=list)


@dataclass(frozen=True)
class PunchOutSetupRequest:
    operation: str  # create | edit | inspect
    buyer_cookie: str
    browser_form_post: str
    items: list[ItemOut] = field(default_factory=list)
    # The person in the purchasing system who opens the session ("" when none is named).
    user_email: str = ""


def parse(data: bytes) -> Envelope:
    """The document's envelope, or CxmlError(400) saying what is wrong with it."""
    if not data.strip():
        raise CxmlError(400, "The request has no body: send a cXML document.")
    if len(data) > MAX_BYTES:
        raise CxmlError(400, f"The document is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    try:
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise CxmlError(
            400, "The document declares entities or external references, which are refused."
        ) from None
    except ET.ParseError as error:
        raise CxmlError(400, f"The document is not well-formed XML ({error}).") from None
    except (ValueError, UnicodeError) as error:
        raise CxmlError(400, f"The document cannot be read ({error}).") from None
    if root.tag != "cXML":
        raise CxmlError(400, f"The root element is <{root.tag}>, not <cXML>.")
    payload_id = (root.get("payloadID") or "").strip()
    if not payload_id or len(payload_id) > 250:
        raise CxmlError(400, "The cXML element needs a payloadID (at most 250 characters).")
    header = _required(root, "Header")
    request = _required(root, "Request")
    kinds = [child for child in request if isinstance(child.tag, str)]
    if len(kinds) != 1:
        raise CxmlError(400, "The Request element must hold exactly one request.")
    return Envelope(
        payload_id=payload_id,
        sender_from=_credential(_required(header, "From")),
        to=_credential(_required(header, "To")),
        sender=_credential(_required(header, "Sender"), with_secret=True),
        request=kinds[0],
        request_kind=kinds[0].tag,
    )


def _required(parent: ET.Element, path: str) -> ET.Element:
    found = parent.find(path)
    if found is None:
        raise CxmlError(400, f"<{parent.tag}> lacks its <{path}> element.")
    return found


def _text(element: ET.Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _credential(party: ET.Element, *, with_secret: bool = False) -> Credential:
    credential = _required(party, "Credential")
    identity = _text(credential.find("Identity"))
    if not identity:
        raise CxmlError(400, f"<{party.tag}> has a Credential without an Identity.")
    secret = ""
    if with_secret:
        secret_element = credential.find("SharedSecret")
        secret = "".join(secret_element.itertext()).strip() if secret_element is not None else ""
    return Credential((credential.get("domain") or "").strip(), identity, secret)


def _money(element: ET.Element | None) -> tuple[Decimal | None, str]:
    if element is None:
        return None, ""
    money = element.find("Money")
    if money is None:
        return None, ""
    try:
        value = Decimal(_text(money))
    except InvalidOperation:
        raise CxmlError(400, f"“{_text(money)[:40]}” is not an amount of money.") from None
    return value, (money.get("currency") or "").strip().upper()


def _items(parent: ET.Element, tag: str) -> list[ItemOut]:
    items = []
    for n, item in enumerate(parent.findall(tag), start=1):
        part = _text(item.find("ItemID/SupplierPartID"))
        price, currency = _money(item.find("ItemDetail/UnitPrice"))
        items.append(
            ItemOut(
                line_number=(item.get("lineNumber") or str(n)).strip()[:20],
                quantity_text=(item.get("quantity") or "").strip(),
                supplier_part_id=part,
                unit_price=price,
                currency=currency,
            )
        )
    return items


def order_request(envelope: Envelope) -> OrderRequest:
    element = envelope.request
    header = _required(element, "OrderRequestHeader")
    order_id = (header.get("orderID") or "").strip()
    if not order_id or len(order_id) > 100:
        raise CxmlError(400, "OrderRequestHeader needs an orderID (at most 100 characters).")
    kind = (header.get("type") or "new").strip()
    _, currency = _money(header.find("Total"))
    ship_to = header.find("ShipTo/Address")
    reference = header.find("DocumentReference")
    return OrderRequest(
        order_id=order_id,
        order_date=(header.get("orderDate") or "").strip()[:40],
        type=kind,
        currency=currency,
        ship_to_id=(ship_to.get("addressID") or "").strip() if ship_to is not None else "",
        ship_to_text=_text(ship_to)[:400] if ship_to is not None else "",
        comments=_text(header.find("Comments"))[:1500],
        referenced_payload_id=(reference.get("payloadID") or "") if reference is not None else "",
        items=_items(element, "ItemOut"),
    )


def punchout_setup_request(envelope: Envelope) -> PunchOutSetupRequest:
    element = envelope.request
    operation = (element.get("operation") or "create").strip()
    cookie = _text(element.find("BuyerCookie"))
    url = _text(element.find("BrowserFormPost/URL"))
    if not cookie or len(cookie) > 500:
        raise CxmlError(400, "PunchOutSetupRequest needs a BuyerCookie (at most 500 characters).")
    if not re.match(r"^https?://[^\s/]+", url) or len(url) > 500:
        raise CxmlError(400, "PunchOutSetupRequest needs a BrowserFormPost URL (https).")
    email = _user_email(element)
    if len(email) > 254:
        raise CxmlError(400, "The user's e-mail address is longer than 254 characters.")
    return PunchOutSetupRequest(operation, cookie, url, _items(element, "ItemOut"), email)


def _user_email(element: ET.Element) -> str:
    """Who opens the session: the Extrinsic "UserEmail" (what Ariba, Coupa and most
    purchasing systems send), else the Email of a Contact, the endUser's first; "" when
    the request names no one."""
    for extrinsic in element.findall("Extrinsic"):
        if (extrinsic.get("name") or "").strip().lower() == "useremail" and _text(extrinsic):
            return _text(extrinsic)
    contacts = sorted(element.findall("Contact"), key=lambda c: c.get("role") != "endUser")
    for contact in contacts:
        if _text(contact.find("Email")):
            return _text(contact.find("Email"))
    return ""


def quantity_of(item: ItemOut) -> int:
    """The item's quantity as a whole number, or CxmlError(400) naming the line."""
    text = item.quantity_text
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CxmlError(
            400, f"Line {item.line_number}: the quantity “{text[:20]}” is not a number."
        ) from None
    if not value.is_finite() or value != value.to_integral_value() or value <= 0:
        raise CxmlError(
            400, f"Line {item.line_number}: the quantity must be a whole number above 0."
        )
    if value > 1_000_000:
        raise CxmlError(400, f"Line {item.line_number}: the quantity is too large.")
    return int(value)


# --- writing ----------------------------------------------------------------------------------


def new_payload_id() -> str:
    """Unique per document: time, randomness and host, as the cXML guide suggests."""
    host = socket.gethostname() or "portal"
    return f"{datetime.now().timestamp():.6f}.{secrets.token_hex(8)}@{host}"


def timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def serialize(root: ET.Element) -> str:
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{DOCTYPE}\n{body}\n'


def _envelope(payload_id: str, moment: datetime) -> ET.Element:
    return ET.Element(
        "cXML",
        {"payloadID": payload_id, "timestamp": timestamp(moment), "xml:lang": "en-US"},
    )


def response(code: int, message: str, moment: datetime, *, start_url: str | None = None) -> str:
    """A cXML Response: the Status (and a PunchOut start page)."""
    root = _envelope(new_payload_id(), moment)
    answer = ET.SubElement(root, "Response")
    status = ET.SubElement(answer, "Status", {"code": str(code), "text": STATUS_TEXT.get(code, "")})
    status.text = message
    if start_url is not None:
        setup = ET.SubElement(answer, "PunchOutSetupResponse")
        ET.SubElement(ET.SubElement(setup, "StartPage"), "URL").text = start_url
    return serialize(root)


def status_of(document: bytes) -> tuple[int | None, str]:
    """The Status code and text of a cXML Response (what a receiver answered)."""
    try:
        root = SafeET.fromstring(document, forbid_dtd=False)
    except (DefusedXmlException, ET.ParseError, ValueError):
        return None, ""
    status = root.find("Response/Status")
    if status is None:
        return None, ""
    try:
        return int(status.get("code") or ""), (status.get("text") or "") + (
            f": {_text(status)}" if _text(status) else ""
        )
    except ValueError:
        return None, ""


def _party(parent: ET.Element, tag: str, credential: Credential, user_agent: str = ""):
    party = ET.SubElement(parent, tag)
    element = ET.SubElement(party, "Credential", {"domain": credential.domain})
    ET.SubElement(element, "Identity").text = credential.identity
    if user_agent:
        ET.SubElement(party, "UserAgent").text = user_agent
    return party


def _request(payload_id: str, moment: datetime, vendor: Credential, customer: Credential):
    """The envelope of a request we send: From and Sender are the vendor, To the customer."""
    root = _envelope(payload_id, moment)
    header = ET.SubElement(root, "Header")
    _party(header, "From", vendor)
    _party(header, "To", customer)
    _party(header, "Sender", vendor, "Portal")
    return root, ET.SubElement(root, "Request", {"deploymentMode": "production"})


def _order_reference(parent: ET.Element, order_ref: str, order_date: str, payload_id: str):
    attributes = {"orderID": order_ref}
    if order_date:
        attributes["orderDate"] = order_date
    reference = ET.SubElement(parent, "OrderReference", attributes)
    ET.SubElement(reference, "DocumentReference", {"payloadID": payload_id})


@dataclass(frozen=True)
class ConfirmedPart:
    """One ConfirmationStatus: a quantity of a line, accepted (with dates) or rejected."""

    quantity: int
    type: str  # accept | reject | unknown
    shipment_date: date | None = None
    delivery_date: date | None = None
    comment: str = ""


@dataclass(frozen=True)
class ConfirmedLine:
    line_number: str
    quantity: int
    unit: str
    parts: list[ConfirmedPart]


def confirmation_request(
    *,
    payload_id: str,
    moment: datetime,
    vendor: Credential,
    customer: Credential,
    confirm_id: str,
    order_ref: str,
    order_date: str,
    order_payload_id: str,
    lines: list[ConfirmedLine],
) -> str:
    """A ConfirmationRequest of type "detail" (every line's state and dates), or "reject"
    when every line was refused."""
    root, request = _request(payload_id, moment, vendor, customer)
    confirmation = ET.SubElement(request, "ConfirmationRequest")
    rejected = all(part.type == "reject" for line in lines for part in line.parts)
    ET.SubElement(
        confirmation,
        "ConfirmationHeader",
        {
            "type": "reject" if rejected else "detail",
            "noticeDate": timestamp(moment),
            "operation": "new",
            "confirmID": confirm_id,
        },
    )
    _order_reference(confirmation, order_ref, order_date, order_payload_id)
    for line in lines:
        item = ET.SubElement(
            confirmation,
            "ConfirmationItem",
            {"lineNumber": line.line_number, "quantity": str(line.quantity)},
        )
        ET.SubElement(item, "UnitOfMeasure").text = line.unit
        for part in line.parts:
            attributes = {"type": part.type, "quantity": str(part.quantity)}
            if part.shipment_date:
                attributes["shipmentDate"] = part.shipment_date.isoformat()
            if part.delivery_date:
                attributes["deliveryDate"] = part.delivery_date.isoformat()
            status = ET.SubElement(item, "ConfirmationStatus", attributes)
            ET.SubElement(status, "UnitOfMeasure").text = line.unit
            if part.comment:
                ET.SubElement(status, "Comments").text = part.comment
    return serialize(root)


@dataclass(frozen=True)
class ShippedLine:
    line_number: str
    quantity: int
    unit: str


def ship_notice_request(
    *,
    payload_id: str,
    moment: datetime,
    vendor: Credential,
    customer: Credential,
    shipment_id: str,
    shipped_on: date,
    carrier: str,
    tracking: str,
    order_ref: str,
    order_date: str,
    order_payload_id: str,
    lines: list[ShippedLine],
) -> str:
    root, request = _request(payload_id, moment, vendor, customer)
    notice = ET.SubElement(request, "ShipNoticeRequest")
    ET.SubElement(
        notice,
        "ShipNoticeHeader",
        {
            "shipmentID": shipment_id,
            "operation": "new",
            "noticeDate": timestamp(moment),
            "shipmentDate": shipped_on.isoformat(),
        },
    )
    if carrier:
        control = ET.SubElement(notice, "ShipControl")
        ET.SubElement(control, "CarrierIdentifier", {"domain": "companyName"}).text = carrier
        ET.SubElement(control, "ShipmentIdentifier").text = tracking or shipment_id
    portion = ET.SubElement(notice, "ShipNoticePortion")
    _order_reference(portion, order_ref, order_date, order_payload_id)
    for line in lines:
        item = ET.SubElement(
            portion,
            "ShipNoticeItem",
            {"lineNumber": line.line_number, "quantity": str(line.quantity)},
        )
        ET.SubElement(item, "UnitOfMeasure").text = line.unit
    return serialize(root)


@dataclass(frozen=True)
class CartItem:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    unit: str
    category: str


def punchout_order_message(
    *,
    payload_id: str,
    moment: datetime,
    vendor: Credential,
    customer: Credential,
    buyer_cookie: str,
    currency: str,
    items: list[CartItem],
    operation_allowed: str = "edit",
) -> str:
    """The cart as a PunchOutOrderMessage (a Message, not a Request: it travels through
    the user's browser to the BrowserFormPost URL)."""
    root = _envelope(payload_id, moment)
    header = ET.SubElement(root, "Header")
    _party(header, "From", vendor)
    _party(header, "To", customer)
    _party(header, "Sender", vendor, "Portal")
    message = ET.SubElement(ET.SubElement(root, "Message"), "PunchOutOrderMessage")
    ET.SubElement(message, "BuyerCookie").text = buyer_cookie
    total = sum((item.unit_price * item.quantity for item in items), Decimal("0"))
    message_header = ET.SubElement(
        message, "PunchOutOrderMessageHeader", {"operationAllowed": operation_allowed}
    )
    ET.SubElement(
        ET.SubElement(message_header, "Total"), "Money", {"currency": currency}
    ).text = f"{total:.2f}"
    for n, item in enumerate(items, start=1):
        element = ET.SubElement(
            message, "ItemIn", {"quantity": str(item.quantity), "lineNumber": str(n)}
        )
        ET.SubElement(ET.SubElement(element, "ItemID"), "SupplierPartID").text = item.sku
        detail = ET.SubElement(element, "ItemDetail")
        ET.SubElement(
            ET.SubElement(detail, "UnitPrice"), "Money", {"currency": currency}
        ).text = f"{item.unit_price:.2f}"
        ET.SubElement(detail, "Description", {"xml:lang": "en"}).text = item.name
        ET.SubElement(detail, "UnitOfMeasure").text = item.unit
        ET.SubElement(detail, "Classification", {"domain": "category"}).text = item.category
    return serialize(root)
