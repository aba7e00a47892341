"""Installed equipment: dates worked by hand, units made on the desk from serial
numbers, the import of units sold before the portal, who sees which unit, the
unit's page and its service history, a product's equipment terms."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from portal.accounts.models import Address, CustomerAccount, User
from portal.catalog.models import Category, Product, Stock
from portal.equipment import service as equipment
from portal.equipment.models import EquipmentSpec, EquipmentUnit, MaintenanceKitLine
from portal.errors import DomainError
from portal.extensions import db, utcnow
from portal.fulfilment import confirmations, shipments
from portal.ordering import service as ordering
from portal.ordering.models import Order
from portal.service import reading as service_reading
from portal.service import workflow

from .support import soup

TODAY = date.today()


# --- dates, by hand ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 15), 1, date(2026, 2, 15)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # February is shorter
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # a leap year
        (date(2026, 11, 30), 3, date(2027, 2, 28)),  # over the year's end
        (date(2026, 3, 31), 24, date(2028, 3, 31)),
        (date(2026, 5, 10), 0, date(2026, 5, 10)),
    ],
)
def test_months_are_added_to_the_same_day_or_the_months_last(day, months, expected):
    assert equipment.add_months(day, months) == expected


def test_warranty_runs_from_installation_else_delivery_else_not_yet():
    delivered, installed = date(2026, 1, 31), date(2026, 2, 20)
    assert equipment.warranty_end(24, installed_on=installed, delivered_on=delivered) == date(
        2028, 2, 20
    )
    assert equipment.warranty_end(12, installed_on=None, delivered_on=delivered) == date(
        2027, 1, 31
    )
    assert equipment.warranty_end(12, installed_on=None, delivered_on=None) is None


def test_next_maintenance_follows_the_last_visit_else_installation_else_delivery():
    args = {"installed_on": date(2026, 1, 10), "delivered_on": date(2026, 1, 2)}
    assert equipment.next_maintenance_due(6, last_maintenance_on=None, **args) == date(2026, 7, 10)
    assert equipment.next_maintenance_due(6, last_maintenance_on=date(2026, 8, 31), **args) == date(
        2027, 2, 28
    )
    assert equipment.next_maintenance_due(
        12, last_maintenance_on=None, installed_on=None, delivered_on=date(2026, 1, 2)
    ) == date(2027, 1, 2)
    assert equipment.next_maintenance_due(None, last_maintenance_on=None, **args) is None
    assert (
        equipment.next_maintenance_due(
            6, last_maintenance_on=None, installed_on=None, delivered_on=None
        )
        is None
    )


# --- a small world ------------------------------------------------------------------------


@pytest.fixture
def kit(app, demo):
    """A pump that is equipment (24 months' warranty, a visit every 6 months with
    two seals), the seal, and a plain part."""
    with app.app_context():
        category = Category(name="Pumps")
        made = {}
        for sku, price in (("PMP-1", "900.00"), ("SEAL-1", "4.00"), ("BOLT-1", "0.50")):
            made[sku] = Product(
                sku=sku,
                name=f"Thing {sku}",
                category=category,
                list_price=Decimal(price),
                lead_time_days=7,
                stock=Stock(on_hand=100),
            )
            db.session.add(made[sku])
        db.session.flush()
        spec = EquipmentSpec(
            product_id=made["PMP-1"].id,
            warranty_months=24,
            maintenance_interval_months=6,
            maintenance_labour_hours=Decimal("2.5"),
            maintenance_labour_rate=Decimal("90.00"),
        )
        spec.kit = [MaintenanceKitLine(part_product_id=made["SEAL-1"].id, quantity=2)]
        db.session.add(spec)
        db.session.commit()
        return {sku: p.id for sku, p in made.items()}


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def account(number: str) -> CustomerAccount:
    return db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == number))


def confirmed(kit, items: dict[str, int], buyer: str = "buyer@acme.test") -> Order:
    person = user(buyer)
    ordering.add_to_cart(person, [(kit[sku], qty) for sku, qty in items.items()])
    address = next(a for a in person.account.addresses if a.kind == "shipping")
    order, _ = ordering.place_order(
        person,
        po_number="PO-EQ",
        ship_to_id=address.id,
        requested_date=None,
        notes="",
        idempotency_key=f"eq-{items}-{buyer}",
        today=TODAY,
    )
    decisions = [confirmations.LineDecision(x.id, TODAY + timedelta(days=5)) for x in order.lines]
    confirmations.confirm(user("fulfilment@vendor.test"), order, decisions, TODAY)
    return order


def line_of(order: Order, sku: str):
    return next(x for x in order.lines if x.sku == sku)


def unit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(EquipmentUnit))


def make_unit(kit, number: str, serial: str, **values) -> EquipmentUnit:
    acc = account(number)
    site = db.session.scalar(select(Address.id).where(Address.account_id == acc.id))
    unit = EquipmentUnit(
        account_id=acc.id,
        product_id=kit["PMP-1"],
        serial=serial,
        site_id=site,
        source="imported",
        **values,
    )
    db.session.add(unit)
    db.session.commit()
    return unit


# --- the desk -----------------------------------------------------------------------------


def test_each_unit_shipped_becomes_a_unit_at_the_orders_site(app, kit):
    with app.app_context():
        order = confirmed(kit, {"PMP-1": 3, "BOLT-1": 10})
        pump, bolt = line_of(order, "PMP-1"), line_of(order, "BOLT-1")
        shipment = shipments.ship(
            user("fulfilment@vendor.test"),
            order,
            {pump.id: 2, bolt.id: 10},
            carrier="DHL",
            tracking="T1",
            shipped_on=TODAY,
            today=TODAY,
            serials={pump.id: ["sn-001", " SN-002 "]},
        )
        units = db.session.scalars(select(EquipmentUnit).order_by(EquipmentUnit.id)).all()
        assert [u.serial for u in units] == ["sn-001", "SN-002"]
        assert {u.serial_key for u in units} == {"SN-001", "SN-002"}
        assert all(
            (u.account_id, u.site_id, u.order_line_id, u.shipment_id, u.shipped_on)
            == (order.account_id, order.ship_to_id, pump.id, shipment.id, TODAY)
            for u in units
        )
        # The warranty starts when the delivery is recorded: 24 months from it.
        assert units[0].warranty_until is None
        delivered = TODAY - timedelta(days=0)
        shipments.deliver(
            user("fulfilment@vendor.test"),
            order,
            shipment,
            delivered_on=delivered,
            received={},
            today=TODAY,
        )
        db.session.refresh(units[0])
        assert units[0].delivered_on == delivered
        assert units[0].warranty_until == equipment.add_months(delivered, 24)


@pytest.mark.parametrize(
    ("serials", "message"),
    [
        ([], "enter one serial number per unit shipped (2), not 0"),
        (["A-1"], "(2), not 1"),
        (["A-1", "A-2", "A-3"], "(2), not 3"),
        (["A-1", "a-1"], "serial number a-1 is given twice"),
        (["Old-7", "A-2"], "serial number Old-7 is already recorded for this product"),
    ],
)
def test_wrong_serial_numbers_refuse_the_whole_shipment(app, kit, serials, message):
    with app.app_context():
        make_unit(kit, "C-10002", "old-7")
        order = confirmed(kit, {"PMP-1": 2, "BOLT-1": 5})
        pump, bolt = line_of(order, "PMP-1"), line_of(order, "BOLT-1")
        with pytest.raises(DomainError) as refused:
            shipments.ship(
                user("fulfilment@vendor.test"),
                order,
                {pump.id: 2, bolt.id: 5},
                carrier="",
                tracking="",
                shipped_on=TODAY,
                today=TODAY,
                serials={pump.id: serials},
            )
        assert message in refused.value.message
        db.session.rollback()
        db.session.refresh(pump)
        db.session.refresh(bolt)
        assert (pump.shipped_quantity, bolt.shipped_quantity) == (0, 0)
        assert unit_count() == 1


def test_the_desk_asks_for_serials_and_keeps_them_when_it_refuses(app, kit, login_as):
    with app.app_context():
        make_unit(kit, "C-10001", "DUP-1")
        order = confirmed(kit, {"PMP-1": 2, "BOLT-1": 4})
        number, pump, bolt = order.number, line_of(order, "PMP-1").id, line_of(order, "BOLT-1").id
    desk = login_as("fulfilment@vendor.test")
    page = soup(desk.get(f"/desk/orders/{number}"))
    assert page.select_one(f"textarea#serials-{pump}") is not None
    assert page.select_one(f"textarea#serials-{bolt}") is None  # not equipment
    form = {
        f"ship-{pump}": "2",
        f"ship-{bolt}": "4",
        f"serials-{pump}": "NEW-1\ndup-1",
        "shipped_on": TODAY.isoformat(),
    }
    response = desk.post(f"/desk/orders/{number}/shipments", form, page=f"/desk/orders/{number}")
    assert response.status_code == 422
    page = soup(response)
    assert "dup-1 is already recorded" in page.select_one("#desk-error").get_text()
    assert page.select_one(f"textarea#serials-{pump}").get_text() == "NEW-1\ndup-1"
    with app.app_context():
        assert unit_count() == 1
    form[f"serials-{pump}"] = "NEW-1, NEW-2"
    response = desk.post(f"/desk/orders/{number}/shipments", form, page=f"/desk/orders/{number}")
    assert response.status_code == 303
    page = desk.get(f"/desk/orders/{number}").get_data(as_text=True)
    assert "NEW-1" in page and "NEW-2" in page
    # A plain line ships as before: no serials asked, a redirect with the message.
    with app.app_context():
        plain = confirmed(kit, {"BOLT-1": 3}, buyer="admin@acme.test")
        plain_number, plain_line = plain.number, plain.lines[0].id
    response = desk.post(
        f"/desk/orders/{plain_number}/shipments",
        {f"ship-{plain_line}": "3", "shipped_on": TODAY.isoformat()},
        page=f"/desk/orders/{plain_number}",
    )
    assert response.status_code == 303
    with app.app_context():
        assert unit_count() == 3


# --- the import ---------------------------------------------------------------------------

GOOD_HEADER = "sku,serial,account,site,installed_on,delivered_on,status\n"


def _site_label(number: str) -> str:
    acc = account(number)
    return db.session.scalar(
        select(Address.label).where(Address.account_id == acc.id, Address.kind == "shipping")
    )


def _upload(person, content: bytes, name: str = "units.csv"):
    return person.post(
        "/equipment/import",
        {"upload": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def _bad_rows(site: str) -> list[list[str]]:
    return [
        ["PMP-1", "G-1", "C-10001", site, "2024-03-01", "", ""],  # line 2: good
        ["NOPE-9", "G-2", "C-10001", site, "", "", ""],  # 3: unknown SKU
        ["BOLT-1", "G-3", "C-10001", site, "", "", ""],  # 4: not equipment
        ["PMP-1", "G-4", "C-99999", site, "", "", ""],  # 5: unknown account
        ["PMP-1", "G-5", "C-10001", "Moon base", "", "", ""],  # 6: unknown site
        ["PMP-1", "g-1", "C-10001", site, "", "", ""],  # 7: twice in the file
        ["PMP-1", "IN-DB-1", "C-10001", site, "", "", ""],  # 8: in the database
        ["PMP-1", "G-8", "C-10001", site, "01.03.2024", "", ""],  # 9: bad date
        ["PMP-1", "G-9", "C-10001", site, "", "", "broken"],  # 10: bad status
    ]


BAD_REASONS = {
    3: "unknown SKU “NOPE-9”",
    4: "BOLT-1 is not an equipment product",
    5: "unknown account “C-99999”",
    6: "unknown site “Moon base”",
    7: "serial g-1 of PMP-1 is on line 2 already",
    8: "serial IN-DB-1 of PMP-1 is already recorded",
    9: "installed on “01.03.2024” is not a date",
    10: "status “broken” is not one of",
}


def _check_refused(app, response):
    assert response.status_code == 422
    page = soup(response)
    assert "Nothing was imported: 8 rows to correct" in page.select_one("[role=alert]").get_text()
    rows = {
        int(tr.select("td")[0].get_text()): tr.select("td")[1].get_text()
        for tr in page.select("#import-problems tbody tr")
    }
    assert set(rows) == set(BAD_REASONS)
    for line, reason in BAD_REASONS.items():
        assert reason in rows[line], (line, rows[line])
    with app.app_context():
        assert unit_count() == 1  # only the one that was there


def test_an_import_with_bad_rows_names_each_and_saves_nothing_csv(app, kit, login_as):
    with app.app_context():
        make_unit(kit, "C-10001", "IN-DB-1")
        site = _site_label("C-10001")
    body = "".join(",".join(row) + "\n" for row in _bad_rows(site))
    _check_refused(app, _upload(login_as("service@vendor.test"), (GOOD_HEADER + body).encode()))


def test_an_import_with_bad_rows_names_each_and_saves_nothing_xlsx(app, kit, login_as):
    with app.app_context():
        make_unit(kit, "C-10001", "IN-DB-1")
        site = _site_label("C-10001")
    book = Workbook()
    book.active.append(GOOD_HEADER.strip().split(","))
    for row in _bad_rows(site):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    _check_refused(app, _upload(login_as("admin@vendor.test"), buffer.getvalue(), "units.xlsx"))


def test_a_good_import_makes_every_unit_with_its_warranty(app, kit, login_as):
    with app.app_context():
        site = _site_label("C-10002")
    book = Workbook()
    book.active.append(["Serial", "SKU", "Account", "Site", "Installed on", "Delivered on"])
    book.active.append(["X-1", "pmp-1", "c-10002", site.upper(), date(2025, 1, 31), None])
    book.active.append(["X-2", "PMP-1", "C-10002", site, None, "2025-03-01"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = _upload(login_as("admin@vendor.test"), buffer.getvalue(), "old.xlsx")
    assert "Imported 2 units" in soup(response).select_one("#import-result").get_text()
    with app.app_context():
        units = {u.serial: u for u in db.session.scalars(select(EquipmentUnit))}
        assert units["X-1"].warranty_until == date(2027, 1, 31)
        assert units["X-2"].warranty_until == date(2027, 3, 1)
        assert units["X-1"].source == "imported" and units["X-1"].order_line_id is None


def test_an_account_manager_imports_only_for_their_accounts(app, kit, login_as):
    with app.app_context():
        site = _site_label("C-10003")  # Initech: manager2@'s
    content = f"sku,serial,account,site\nPMP-1,M-1,C-10003,{site}\n".encode()
    response = _upload(login_as("manager@vendor.test"), content)
    assert "unknown account “C-10003”" in soup(response).select_one("#import-problems").get_text()
    response = _upload(login_as("manager2@vendor.test"), content)
    assert "Imported 1 unit" in soup(response).select_one("#import-result").get_text()
    assert login_as("buyer@acme.test").get("/equipment/import").status_code == 403


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "missing or empty"),
        (b"serial,account\nX,C-10001\n", "the column SKU is missing (name it “SKU”)"),
        (b"sku,serial,account,site\n", "no units"),
    ],
)
def test_files_that_cannot_be_imported_say_why(app, kit, login_as, content, message):
    response = _upload(login_as("admin@vendor.test"), content)
    assert response.status_code == 422
    assert message in soup(response).select_one("#import-result").get_text()


# --- who sees which unit ------------------------------------------------------------------


def test_another_accounts_unit_is_not_there(app, kit, login_as):
    with app.app_context():
        acme = make_unit(kit, "C-10001", "ACME-1").id
        initech = make_unit(kit, "C-10003", "INI-1").id
    buyer = login_as("buyer@acme.test")
    assert buyer.get(f"/equipment/{acme}").status_code == 200
    assert buyer.get(f"/equipment/{initech}").status_code == 404
    assert buyer.get(f"/service/new?equipment={initech}").status_code == 404
    listing = buyer.get("/equipment").get_data(as_text=True)
    assert "ACME-1" in listing and "INI-1" not in listing
    # Account managers see their accounts' units; the others' are not there.
    manager = login_as("manager@vendor.test")
    assert manager.get(f"/equipment/{initech}").status_code == 404
    assert "INI-1" not in manager.get("/equipment").get_data(as_text=True)
    assert login_as("manager2@vendor.test").get(f"/equipment/{initech}").status_code == 200
    # Service sees every account's, filtered by one.
    service = login_as("service@vendor.test")
    with app.app_context():
        initech_id = account("C-10003").id
    page = service.get(f"/equipment?account={initech_id}").get_data(as_text=True)
    assert "INI-1" in page and "ACME-1" not in page
    assert "ACME-1" in service.get("/equipment?serial=acme").get_data(as_text=True)
    assert login_as("planner@vendor.test").get("/equipment").status_code == 403


def test_a_customer_cannot_attach_another_accounts_unit_to_a_request(app, kit):
    with app.app_context():
        initech = make_unit(kit, "C-10003", "INI-2").id
        with pytest.raises(DomainError, match="not one of the customer's"):
            workflow.open_request(
                user("buyer@acme.test"),
                kind="repair",
                priority="high",
                title="Not ours",
                description="",
                now=utcnow(),
                equipment_id=initech,
            )


# --- the unit's page ----------------------------------------------------------------------


def test_the_units_page_shows_warranty_maintenance_history_and_documents(app, kit, login_as):
    installed = TODAY - timedelta(days=800)
    with app.app_context():
        unit = make_unit(
            kit,
            "C-10001",
            "PG-1",
            installed_on=installed,
            warranty_until=equipment.add_months(installed, 24),
        )
        unit_id = unit.id
    buyer = login_as("buyer@acme.test")
    page = soup(buyer.get(f"/equipment/{unit_id}"))
    facts = page.select_one("dl.facts").get_text(" ", strip=True)
    expired = equipment.add_months(installed, 24)
    assert f"Expired {expired:%d %b %Y}" in facts
    due = equipment.add_months(installed, 6)
    assert f"Due since {due:%d %b %Y}" in facts  # never maintained: overdue
    assert "Sold before the portal" in facts
    # The buyer asks for maintenance from the page: the form knows the unit.
    link = page.select_one(f'a[href="/service/new?equipment={unit_id}"]')
    assert link is not None
    form = soup(buyer.get(link["href"]))
    assert form.select_one("input[name=equipment]")["value"] == str(unit_id)
    assert "PG-1" in form.select_one("#title")["value"]
    response = buyer.post(
        f"/service/new?equipment={unit_id}",
        {
            "equipment": str(unit_id),
            "kind": "maintenance",
            "priority": "normal",
            "title": "Due maintenance PG-1",
            "description": "",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        request = db.session.scalar(select(workflow.ServiceRequest))
        assert (request.equipment_id, request.product_id) == (unit_id, kit["PMP-1"])
        resolved_at = utcnow() - timedelta(days=10)
        workflow.change_status(
            user("service@vendor.test"), request, "resolved", now=resolved_at, resolution="Done."
        )
        assert service_reading.last_maintenance([unit_id]) == {unit_id: resolved_at.date()}
    page = soup(buyer.get(f"/equipment/{unit_id}"))
    assert "Due maintenance PG-1" in page.select_one("#unit-history").get_text()
    facts = page.select_one("dl.facts").get_text(" ", strip=True)
    assert equipment.add_months(resolved_at.date(), 6).strftime("%d %b %Y") in facts
    # Documents: vendor staff add them, the customer reads them; internal ones are staff only.
    service = login_as("service@vendor.test")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = service.post(
        f"/equipment/{unit_id}/documents",
        {"files": (io.BytesIO(pdf), "manual.pdf")},
        content_type="multipart/form-data",
        page=f"/equipment/{unit_id}",
    )
    assert response.status_code == 303
    response = service.post(
        f"/equipment/{unit_id}/documents",
        {"files": (io.BytesIO(pdf), "notes.pdf"), "internal": "y"},
        content_type="multipart/form-data",
        page=f"/equipment/{unit_id}",
    )
    assert response.status_code == 303
    documents = soup(buyer.get(f"/equipment/{unit_id}")).select_one("#documents").get_text()
    assert "manual.pdf" in documents and "notes.pdf" not in documents
    refused = service.post(
        f"/equipment/{unit_id}/documents",
        {"files": (io.BytesIO(b"MZ\x90\x00program"), "setup.pdf")},
        content_type="multipart/form-data",
        page=f"/equipment/{unit_id}",
    )
    assert refused.status_code == 422


def test_staff_record_installation_and_the_warranty_follows(app, kit, login_as):
    with app.app_context():
        unit = make_unit(kit, "C-10001", "INS-1", delivered_on=date(2026, 1, 5))
        unit_id = unit.id
    service = login_as("service@vendor.test")
    response = service.post(
        f"/equipment/{unit_id}", {"status": "in_service", "installed_on": "2026-01-04"}
    )
    assert response.status_code == 422
    assert "cannot be installed before" in response.get_data(as_text=True)
    response = service.post(
        f"/equipment/{unit_id}", {"status": "under_repair", "installed_on": "2026-01-20"}
    )
    assert response.status_code == 303
    with app.app_context():
        unit = db.session.get(EquipmentUnit, unit_id)
        assert (unit.status, unit.warranty_until) == ("under_repair", date(2028, 1, 20))
    assert login_as("buyer@acme.test").post(f"/equipment/{unit_id}", {}).status_code == 403


# --- equipment terms ----------------------------------------------------------------------


def test_an_admin_marks_a_product_as_equipment_with_its_plan(app, kit, login_as):
    admin = login_as("admin@vendor.test")
    url = f"/catalog/products/{kit['BOLT-1']}/equipment"
    values = {
        "is_equipment": "y",
        "warranty_months": "12",
        "interval_months": "3",
        "labour_hours": "1.5",
        "labour_rate": "80",
        "kit": "seal-1, 2\nNOPE, 1",
        "consumables": "",
    }
    response = admin.post(url, values)
    assert response.status_code == 422
    assert "Parts kit, line 2: no product “NOPE”" in response.get_data(as_text=True)
    values["kit"] = "seal-1, 2"
    values["consumables"] = "PMP-1; 0.5"
    assert admin.post(url, values).status_code == 303
    with app.app_context():
        spec = equipment.spec_of(kit["BOLT-1"])
        assert (spec.warranty_months, spec.maintenance_interval_months) == (12, 3)
        assert [(k.part_product_id, k.quantity) for k in spec.kit] == [(kit["SEAL-1"], 2)]
        assert [(c.consumable_product_id, c.quantity_per_year) for c in spec.consumables] == [
            (kit["PMP-1"], Decimal("0.50"))
        ]
    page = soup(admin.get(url))
    assert page.select_one("#kit").get_text().strip() == "SEAL-1, 2"
    # A product with units at customers stays equipment.
    with app.app_context():
        make_unit(kit, "C-10001", "KEEP-1")
    response = admin.post(f"/catalog/products/{kit['PMP-1']}/equipment", {"warranty_months": "24"})
    assert "stays equipment" in response.get_data(as_text=True)
    with app.app_context():
        assert equipment.spec_of(kit["PMP-1"]) is not None
        assert equipment.units_per_product([kit["PMP-1"], kit["BOLT-1"]]) == {kit["PMP-1"]: 1}


# --- statements do not grow with the units ------------------------------------------------


def test_the_lists_and_a_units_page_take_the_same_statements_for_few_and_many(app, kit, login_as):
    from .test_ordering import statements_for

    with app.app_context():
        first = make_unit(kit, "C-10001", "S-0").id
    buyer = login_as("buyer@acme.test")
    service = login_as("service@vendor.test")
    before = {
        "customer": statements_for(app, buyer.client, "/equipment"),
        "staff": statements_for(app, service.client, "/equipment"),
        "unit": statements_for(app, buyer.client, f"/equipment/{first}"),
    }
    with app.app_context():
        for n in range(1, 30):
            make_unit(kit, "C-10001" if n % 2 else "C-10002", f"S-{n}")
        request = workflow.open_request(
            user("buyer@acme.test"),
            kind="repair",
            priority="high",
            title="Noise",
            description="",
            now=utcnow(),
            equipment_id=first,
        )
        assert request.equipment_id == first
    assert statements_for(app, buyer.client, "/equipment") == before["customer"]
    assert statements_for(app, service.client, "/equipment") == before["staff"]
    assert statements_for(app, buyer.client, f"/equipment/{first}") == before["unit"]


# --- headers in either language -------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "SKU;Serial number;Account number;Site;Installed on;Delivered on;Status",
        "SKU;Nomor seri;Nomor akun;Lokasi;Dipasang pada;Diterima pada;Status",
    ],
)
def test_the_unit_import_takes_english_and_indonesian_headers(app, kit, login_as, header):
    with app.app_context():
        site = _site_label("C-10001")
    content = f"{header}\nPMP-1;H-1;C-10001;{site};2025-01-31;;in_service\n".encode()
    response = _upload(login_as("admin@vendor.test"), content)
    assert "Imported 1 unit" in soup(response).select_one("#import-result").get_text()
    with app.app_context():
        unit = db.session.scalar(select(EquipmentUnit).where(EquipmentUnit.serial == "H-1"))
        assert unit.installed_on == date(2025, 1, 31)


def test_a_misspelt_unit_header_is_refused_naming_the_column(app, kit, login_as):
    with app.app_context():
        site = _site_label("C-10001")
        before = unit_count()
    content = f"SKU;Nomor sery;Nomor akun;Lokasi\nPMP-1;H-2;C-10001;{site}\n".encode()
    response = _upload(login_as("admin@vendor.test"), content)
    assert response.status_code == 422
    problems = soup(response).select_one("#import-problems").get_text()
    assert "the column Serial number is missing (name it “Serial number” or “Nomor seri”)" in (
        problems
    )
    assert "“Nomor sery”: not a column this import knows" in problems
    # An optional column misspelt would lose its dates silently: it is refused too.
    content = f"SKU;Serial;Account;Site;Instaled on\nPMP-1;H-3;C-10001;{site};2025-01-31\n"
    response = _upload(login_as("admin@vendor.test"), content.encode())
    assert "“Instaled on”" in soup(response).select_one("#import-problems").get_text()
    with app.app_context():
        assert unit_count() == before
