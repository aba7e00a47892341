"""Notifications are a kind and its parameters, written in the reader's language when read:
on the list page in the viewer's, in an e-mail and the daily digest in the recipient's.
Rows from before (text only), and kinds this release does not know, show their stored text."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select, text

from portal.accounts.models import User
from portal.catalog.models import Category, Product, Stock
from portal.extensions import db
from portal.notifications import messages, outbox, preferences, service
from portal.notifications.models import Notification, OutboxMessage
from portal.ordering import service as ordering
from portal.ordering.models import Order

from .support import soup


def user(email_address: str) -> User:
    return db.session.scalar(select(User).where(User.email == email_address))


def speak(email_address: str, language: str | None) -> None:
    """Set a demo user's own language (None: their account's default, else the portal's)."""
    with_user = user(email_address)
    with_user.language = language
    db.session.commit()


@pytest.fixture
def part(app, demo):
    with app.app_context():
        product = Product(
            sku="LNG-1",
            name="Part LNG-1",
            category=Category(name="Language parts"),
            list_price=Decimal("1234.50"),
            lead_time_days=7,
            stock=Stock(on_hand=1000),
        )
        db.session.add(product)
        db.session.commit()
        return product.id


def buyer_orders(app, product_id: int, *, language: str = "en") -> Order:
    """buyer@acme.test places an order (two of the part) while reading the portal in
    `language`: the desk is told. Returns the order (expunged, fields loaded)."""
    with app.test_request_context(method="POST"), force_locale(language):
        buyer = user("buyer@acme.test")
        address = next(a for a in buyer.account.addresses if a.kind == "shipping")
        ordering.add_to_cart(buyer, [(product_id, 2)])
        order, _ = ordering.place_order(
            buyer,
            po_number="PO-LNG",
            ship_to_id=address.id,
            requested_date=None,
            notes="",
            idempotency_key="language-1",
            today=date.today(),
        )
        assert order.status == "placed"  # no approval: straight to the desk
        db.session.refresh(order)
        account, total, currency = order.account.name, order.total, order.currency
        db.session.expunge(order)
        order.account_name, order.total_amount, order.total_currency = account, total, currency
        return order


def list_texts(client) -> list[str]:
    """The sentences of the list page, as the viewer reads them."""
    response = client.get("/notifications")
    assert response.status_code == 200
    return [
        cell.get_text(" ", strip=True).removeprefix("Unread ").removeprefix("Belum dibaca ")
        for cell in soup(response).select("#notifications tbody tr td:first-child")
    ]


def test_a_buyers_order_reads_in_indonesian_to_an_indonesian_and_in_english_to_an_english_reader(
    app, part, login_as
):
    with app.app_context():
        speak("fulfilment@vendor.test", "id")
    order = buyer_orders(app, part)
    assert order.total_currency == "EUR"
    desk = login_as("fulfilment@vendor.test")
    assert list_texts(desk.client) == [
        f"Pesanan baru {order.number} dari {order.account_name}: 1 baris, €2.469,00."
    ]
    # The same row, read after the person switched to English.
    with app.app_context():
        speak("fulfilment@vendor.test", "en")
    assert list_texts(desk.client) == [
        f"New order {order.number} from {order.account_name}: 1 line, 2,469.00 EUR."
    ]
    with app.app_context():
        (row,) = db.session.scalars(
            select(Notification).where(Notification.user_id == user("fulfilment@vendor.test").id)
        )
        # Stored as the kind and its parameters; the English text is only the fallback.
        assert row.kind == "order_placed"
        assert row.params["number"] == order.number
        assert row.params["total"] == {"money": "2469.00", "currency": "EUR"}


def test_the_email_is_in_the_recipients_language_not_the_actors(app, part):
    """The buyer acts in Indonesian; the desk clerk reads Indonesian, the account
    manager English: each e-mail, subject and body, in its recipient's language."""
    with app.app_context():
        speak("fulfilment@vendor.test", "id")
        speak("buyer@acme.test", "id")
        manager = user("buyer@acme.test").account.account_manager
        assert manager is not None and manager.language in (None, "en")
        manager_email = manager.email
    order = buyer_orders(app, part, language="id")
    with app.app_context():
        mails = {
            m.recipient: m
            for m in db.session.scalars(select(OutboxMessage))
            if m.kind == "order_placed"
        }
        clerk = mails["fulfilment@vendor.test"]
        assert clerk.subject == (
            f"Pesanan baru {order.number} dari {order.account_name}: 1 baris, €2.469,00."
        )
        assert clerk.body.startswith(f"Yth. {user('fulfilment@vendor.test').name},\n\n")
        assert clerk.subject in clerk.body
        assert f"Buka di portal: http://localhost:5000/desk/orders/{order.number}" in clerk.body
        assert "Anda menerima e-mail ini" in clerk.body
        assert "Hello" not in clerk.body and "Open it" not in clerk.body
        english = mails[manager_email]
        assert english.subject == (
            f"New order {order.number} from {order.account_name}: 1 line, 2,469.00 EUR."
        )
        assert english.body.startswith("Hello ")
        assert "Open it in the portal:" in english.body


def test_an_account_default_language_decides_for_a_user_without_one(app, part):
    with app.app_context():
        clerk = user("fulfilment@vendor.test")
        assert clerk.account is None  # vendor staff: the portal's default, English
        assert messages.language_of(clerk) == "en"
        buyer = user("buyer@acme.test")
        buyer.language = None
        buyer.account.default_language = "id"
        db.session.commit()
        assert messages.language_of(buyer) == "id"
        buyer.language = "en"
        assert messages.language_of(buyer) == "en"


def test_the_digest_is_in_the_recipients_language(app, part):
    with app.app_context():
        speak("fulfilment@vendor.test", "id")
        preferences.save(user("fulfilment@vendor.test"), {"order_placed": "digest"})
    order = buyer_orders(app, part)
    with app.app_context():
        assert outbox.send_digests() >= 1
        (digest,) = db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == "digest", OutboxMessage.recipient == "fulfilment@vendor.test"
            )
        )
        assert digest.subject == "Ringkasan harian Anda: 1 notifikasi"
        assert "Ringkasan harian Anda dari Portal " in digest.body
        assert f"- Pesanan baru {order.number} dari {order.account_name}" in digest.body
        assert "Anda memilih menerima ini sekali sehari." in digest.body
        assert "daily digest" not in digest.body and "Hello" not in digest.body


def test_dates_amounts_and_labels_are_written_as_the_reader_writes_them(app, demo):
    from portal.fulfilment.models import CHANGE_REASONS

    params = messages.encode(
        {
            "number": "2026-000012",
            "line": 1,
            "sku": "BRK-1",
            "date": date(2026, 12, 24),
            "before": date(2026, 12, 1),
            "reason": CHANGE_REASONS["transport"],
        }
    )
    # A translatable label is kept as its message id, translated for each reader.
    assert params["reason"] == {"msg": "Transport"}
    with app.test_request_context():
        with force_locale("id"):
            indonesian = messages.render("promise_changed", params, "fallback")
        with force_locale("en"):
            english = messages.render("promise_changed", params, "fallback")
    assert indonesian == (
        "Pesanan 2026-000012, baris 1 (BRK-1): kini dijanjikan pada 24 Des 2026, bukan "
        "01 Des 2026 (Transportasi)."
    )
    assert english == (
        "Order 2026-000012, line 1 (BRK-1): now promised for 24 Dec 2026 instead of "
        "01 Dec 2026 (Transport)."
    )


def add_row(email_address: str, kind: str, params, stored: str) -> None:
    db.session.add(
        Notification(
            user_id=user(email_address).id, kind=kind, params=params, text=stored, link="/orders"
        )
    )
    db.session.commit()


def test_an_old_row_with_text_only_and_an_unknown_or_broken_kind_show_their_stored_text(
    app, demo, login_as
):
    with app.app_context():
        speak("buyer@acme.test", "id")
        # Written before 0030: no parameters.
        add_row("buyer@acme.test", "order_confirmed", None, "Order 2026-000001 was confirmed.")
        # Written by a newer release, with a kind this one does not know.
        add_row("buyer@acme.test", "order_teleported", {"number": "1"}, "From the future.")
        # A known kind whose parameters do not fit its sentence (or are not what they say).
        add_row("buyer@acme.test", "order_approved", {"number": "1"}, "Missing an actor.")
        add_row(
            "buyer@acme.test",
            "order_delivered",
            {"number": "1", "quantity": 2, "date": {"date": "not a date"}},
            "A broken date.",
        )
        add_row("buyer@acme.test", "order_delivered", ["not", "a", "mapping"], "Not a mapping.")
    buyer = login_as("buyer@acme.test")
    assert list_texts(buyer.client) == [
        "Not a mapping.",
        "A broken date.",
        "Missing an actor.",
        "From the future.",
        "Order 2026-000001 was confirmed.",
    ]


def test_every_kind_a_person_can_choose_has_a_sentence_and_every_sentence_is_translated(app):
    kinds = {key.split(".")[0] for key in messages.MESSAGES}
    assert kinds == set(preferences.KINDS)
    with app.test_request_context():
        for key, entry in messages.MESSAGES.items():
            for template in entry if isinstance(entry, tuple) else (entry,):
                if isinstance(template, messages.Counted):
                    # Indonesian has one form: the one written for every count.
                    english = template.plural
                    with force_locale("id"):
                        indonesian = template.text(1)
                        assert template.text(2) == indonesian, key
                else:
                    english = template._args[0]
                    with force_locale("id"):
                        indonesian = str(template)
                assert indonesian != english, key
                assert messages.placeholders(template) == set(
                    messages._PLACEHOLDER.findall(indonesian)
                ), key


def test_the_migration_keeps_every_notification_down_and_up(tmp_path):
    """0030 adds `params`: going down drops it and keeps each row with its stored text;
    going up again the rows show that text (no parameters any more)."""
    from flask_migrate import downgrade, upgrade

    from portal import create_app
    from portal import demo as demo_data

    from .support import make_test_config, scratch_database

    with scratch_database(tmp_path, "notify_params") as url:
        app = create_app(make_test_config(url))
        with app.app_context():
            upgrade()
            demo_data.load_people()
            db.session.commit()
            service.notify(
                [user("buyer@acme.test")],
                "order_approved",
                {"number": "2026-000001", "actor": "Anna"},
                "/orders/2026-000001",
            )
            db.session.commit()
            add_row("buyer@acme.test", "order_confirmed", None, "An old row.")
            db.session.remove()
            downgrade(revision="0029")
            with db.engine.connect() as connection:
                kept = connection.execute(
                    text("SELECT kind, text FROM notification ORDER BY id")
                ).all()
            assert [tuple(row) for row in kept] == [
                ("order_approved", "Order 2026-000001 was approved by Anna."),
                ("order_confirmed", "An old row."),
            ]
            upgrade()
            rows = list(db.session.scalars(select(Notification).order_by(Notification.id)))
            assert [(n.params, n.text) for n in rows] == [
                (None, "Order 2026-000001 was approved by Anna."),
                (None, "An old row."),
            ]
            with app.test_request_context(), force_locale("id"):
                assert [service.text_of(n) for n in rows] == [
                    "Order 2026-000001 was approved by Anna.",
                    "An old row.",
                ]
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize(
    ("kind", "params", "english", "indonesian"),
    [
        (
            "order_delivered",
            {"number": "2026-000007", "quantity": 1, "date": {"date": "2026-12-01"}},
            "Order 2026-000007: 1 unit delivered 01 Dec 2026.",
            "Pesanan 2026-000007: 1 unit diterima pada 01 Des 2026.",
        ),
        (
            "order_delivered",
            {"number": "2026-000007", "quantity": 1200, "date": {"date": "2026-12-01"}},
            "Order 2026-000007: 1,200 units delivered 01 Dec 2026.",
            "Pesanan 2026-000007: 1.200 unit diterima pada 01 Des 2026.",
        ),
        (
            "forecast_published",
            {"account": "Acme", "version": 3, "cells": 1},
            "Acme published forecast version 3 (1 cell changed).",
            "Acme menerbitkan prakiraan versi 3 (1 sel berubah).",
        ),
        (
            "commit_mismatch",
            {"vendor": "Vendor", "version": 2, "count": 2},
            "Vendor committed less than your forecast version 2 for 2 product-months.",
            "Vendor memberikan komitmen lebih kecil daripada prakiraan Anda versi 2 untuk "
            "2 produk-bulan.",
        ),
        # A row written before the sentence had plural forms, with its "one" variant.
        (
            "commit_mismatch",
            {"variant": "one", "vendor": "Vendor", "version": 2, "count": 1},
            "Vendor committed less than your forecast version 2 for 1 product-month.",
            "Vendor memberikan komitmen lebih kecil daripada prakiraan Anda versi 2 untuk "
            "1 produk-bulan.",
        ),
    ],
)
def test_counted_sentences_take_the_form_their_count_asks_for(
    app, kind, params, english, indonesian
):
    """English has "1 unit" and "2 units"; Indonesian one form for every count. The
    count is the stored number, whatever the reader's locale writes for it."""
    with app.test_request_context():
        with force_locale("en"):
            assert messages.render(kind, params, "stored") == english
        with force_locale("id"):
            assert messages.render(kind, params, "stored") == indonesian


def test_a_counted_sentence_without_a_whole_count_shows_its_stored_text(app):
    with app.test_request_context():
        for count in ("3", 2.5, True, None):
            params = {"account": "Acme", "version": 3, "cells": count}
            if count is None:
                del params["cells"]
            assert messages.render("forecast_published", params, "stored text") == "stored text"
        with pytest.raises(TypeError, match="lazy_ngettext"):
            messages.Counted("cells", messages.MESSAGES["review_due"])
