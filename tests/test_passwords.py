"""The password policy (OWASP ASVS level 2) and hashing."""

import pytest

from portal.accounts import passwords


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("a" * 11, "at least 12"),
        ("x7#kq" * 25 + "abcd", "at most 128"),  # 129 characters
        ("password1234", "too common"),
        ("Password2024!!", "too common"),  # a common word with decorations
        ("iloveyou12345", "too common"),
        ("aaaaaaaaaaaaaaaa", "too common"),
        ("ababababababab", "too common"),
        ("Bea Buyer 2026 plan", "your name"),
        ("buyer-acme-orders!", "your name"),
    ],
)
def test_weak_passwords_are_refused(app, password, problem):
    with app.app_context():
        problems = passwords.password_problems(password, email="buyer@acme.test", name="Bea Buyer")
    assert problems and problem in problems[0]


@pytest.mark.parametrize(
    "password",
    [
        "copper valve ledger",  # 19 characters, a phrase
        "Tr0ub4dor&3xyz",
        "ü" * 6 + "mountain",  # any Unicode
        "correct horse battery staple " * 4,  # 116 characters
        "k" + "9q!Zx" * 25 + "ab",  # exactly 128
    ],
)
def test_good_passwords_are_accepted(app, password):
    with app.app_context():
        assert (
            passwords.password_problems(password, email="buyer@acme.test", name="Bea Buyer") == []
        )


def test_long_passwords_are_never_truncated(app):
    long_password = "river stone " * 10  # 120 characters
    with app.app_context():
        digest = passwords.hash_password(long_password)
        assert passwords.verify_password(digest, long_password)
        assert not passwords.verify_password(digest, long_password[:72])
        assert not passwords.verify_password(digest, long_password[:-1])


def test_hashes_are_argon2id_and_salted(app):
    with app.app_context():
        first = passwords.hash_password("copper valve ledger")
        second = passwords.hash_password("copper valve ledger")
    assert first.startswith("$argon2id$")
    assert first != second


def test_weaker_stored_hashes_are_upgraded_at_sign_in(app, demo, browser_like):
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.extensions import db

    app.config["PASSWORD_HASH_TIME_COST"] = 2
    assert browser_like.login("buyer@acme.test").status_code == 303
    with app.app_context():
        stored = db.session.scalar(
            select(User.password_hash).where(User.email == "buyer@acme.test")
        )
    assert "t=2" in stored
