"""Uploaded XLSX files are read safely; exports cannot carry formulas."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from portal.ordering.quick_order import read_upload
from portal.spreadsheets import SpreadsheetError, read_rows, read_xlsx, xlsx_bytes

from .damaged_files import DAMAGED, GOOD
from .support import soup


def workbook(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rezip(data: bytes, replace: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    """The same workbook with some parts replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as target:
        for item in source.infolist():
            target.writestr(item.filename, replace.get(item.filename, source.read(item.filename)))
        for name in replace.keys() - set(source.namelist()):
            target.writestr(name, replace[name])
    return out.getvalue()


def test_reads_the_first_sheet_as_text():
    data = workbook(
        [
            ["SKU", "Qty"],
            ["EQ-PMP-300 X", 2],
            ["BRG-6204-2RS", 3.0],
            [None, None],
            ["FST-M8", "=2*50"],
        ]
    )
    assert read_xlsx(data) == [
        (1, ["SKU", "Qty"]),
        (2, ["EQ-PMP-300 X", "2"]),
        (3, ["BRG-6204-2RS", "3"]),
        (5, ["FST-M8", "=2*50"]),
    ]


def test_zip_bomb_is_refused_without_inflating_it():
    bomb = rezip(workbook([["A", 1]]), {"xl/worksheets/sheet2.xml": b"0" * (60 * 1024 * 1024)})
    assert len(bomb) < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(SpreadsheetError, match="unpacks to more than|compressed suspiciously"):
            read_xlsx(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Refused from the zip directory alone: the 60 MB sheet was never unpacked in memory
    # (a deterministic check, unlike a timing).
    assert peak < 10 * 1024 * 1024


def test_high_compression_ratio_alone_is_refused():
    dense = rezip(workbook([["A", 1]]), {"xl/worksheets/sheet2.xml": b"x" * (5 * 1024 * 1024)})
    with pytest.raises(SpreadsheetError, match="compressed suspiciously"):
        read_xlsx(dense)


def test_xml_entities_are_refused():
    data = workbook([["A", 1]])
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    with pytest.raises(SpreadsheetError, match="XML entities"):
        read_xlsx(rezip(data, {"xl/worksheets/sheet1.xml": evil}))


@pytest.mark.parametrize("data", [b"PK\x03\x04garbage", b"PK\x03\x04" + b"\x00" * 100])
def test_broken_workbooks_get_a_clear_message(data):
    with pytest.raises(SpreadsheetError, match="not a valid XLSX"):
        read_xlsx(data)


@pytest.mark.parametrize(("data", "name", "message"), DAMAGED)
@pytest.mark.parametrize("reader", [read_rows, read_upload], ids=["imports", "quick-order"])
def test_every_damaged_file_is_refused_with_its_message(reader, data, name, message):
    """Whatever breaks inside zipfile, zlib, the XML parser, openpyxl or the csv module,
    both readers of uploaded files answer with the file's message (a ValueError, which
    every upload turns into a message beside the form), never with another exception."""
    with pytest.raises(ValueError, match=message):
        reader(data)


def test_the_undamaged_workbook_behind_the_damaged_ones_reads():
    rows = read_rows(GOOD)
    assert rows[0] == (1, ["SKU", "Quantity"]) and rows[-1] == (301, ["PART-00299", "6"])
    assert len(read_upload(GOOD)) == 300


def test_exports_store_formula_text_as_text():
    data = xlsx_bytes(["PO"], [['=HYPERLINK("http://evil")'], ["+1"], ["plain"]])
    sheet = load_workbook(io.BytesIO(data)).active
    values = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert values == ['\'=HYPERLINK("http://evil")', "'+1", "plain"]
    assert all(cell.data_type == "s" for row in sheet.iter_rows(min_row=2) for cell in row)


def test_quick_order_from_an_xlsx_upload(login_as, app, demo):
    from decimal import Decimal

    from portal.catalog.models import Category, Product, Stock
    from portal.extensions import db

    with app.app_context():
        product = Product(
            sku="XL-1",
            name="Sheet part",
            category=Category(name="X"),
            list_price=Decimal("2.00"),
            stock=Stock(on_hand=9),
        )
        db.session.add(product)
        db.session.commit()
    data = workbook([["Article", "Quantity"], ["xl-1", 4], ["XL-1", "=2+2"], ["XL-2", 1.5]])
    buyer = login_as("buyer@acme.test")
    response = buyer.post(
        "/order", {"upload": (io.BytesIO(data), "order.xlsx")}, content_type="multipart/form-data"
    )
    rows = soup(response).select("#review tbody tr")
    texts = [r.get_text(" ", strip=True) for r in rows]
    assert "OK" in texts[0] and "8.00 EUR" in texts[0]
    assert "formula" in texts[1]
    assert "whole number" in texts[2]
