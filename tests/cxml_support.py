"""Helpers for the cXML tests: sample documents from tests/cxml/, the products they
order, and reading a cXML answer."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: N817 - reading our own answers only
from pathlib import Path

from sqlalchemy import func, select

from portal.extensions import db

SAMPLES = Path(__file__).parent / "cxml"


def sample(name: str, changes: dict[str, str] | None = None) -> bytes:
    """A sample document of tests/cxml/, with literal text replaced (old → new)."""
    text = (SAMPLES / name).read_text()
    for old, new in (changes or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


def status(response) -> tuple[int, str]:
    """The cXML Status code and its message of an answer."""
    assert response.mimetype == "text/xml", response.get_data(as_text=True)[:300]
    root = ET.fromstring(response.get_data())
    element = root.find("Response/Status")
    return int(element.get("code")), (element.text or "")


def make_products(app) -> None:
    """CX-100 and CX-200, in stock, that the sample documents order."""
    from portal.catalog.models import Category, Product, Stock

    with app.app_context():
        category = Category(name="Fasteners")
        db.session.add_all(
            [
                Product(
                    sku="CX-100",
                    name="Hex bolt M8",
                    category=category,
                    list_price=12,
                    lead_time_days=10,
                    stock=Stock(on_hand=1000),
                ),
                Product(
                    sku="CX-200",
                    name="Bearing 6204",
                    category=category,
                    list_price=10,
                    lead_time_days=10,
                    min_order_qty=5,
                    order_multiple=5,
                    stock=Stock(on_hand=1000),
                ),
            ]
        )
        db.session.commit()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def many_lines(n: int, payload_id: str, order_id: str, skus: list[str]) -> bytes:
    """An OrderRequest of `n` lines (the benchmark's document)."""
    items = "\n".join(
        f'      <ItemOut quantity="{1 + i % 3}" lineNumber="{i + 1}">'
        f"<ItemID><SupplierPartID>{skus[i]}</SupplierPartID></ItemID>"
        '<ItemDetail><UnitPrice><Money currency="EUR">1.00</Money></UnitPrice>'
        '<Description xml:lang="en">Part</Description><UnitOfMeasure>EA</UnitOfMeasure>'
        '<Classification domain="UNSPSC">31161500</Classification></ItemDetail></ItemOut>'
        for i in range(n)
    )
    text = (SAMPLES / "order_new.xml").read_text()
    head, _, rest = text.partition("      <ItemOut")
    tail = rest[rest.rindex("</ItemOut>") + len("</ItemOut>") :]
    text = head + items.lstrip() + tail
    text = text.replace("1733000000.1234@proc.acme.example", payload_id)
    return text.replace('orderID="PO-CX-1001"', f'orderID="{order_id}"').encode()
