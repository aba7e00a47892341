"""Password hashing (argon2id) and the password policy of OWASP ASVS level 2.

Policy: at least 12 characters, up to 128, never truncated, no composition
rules, and not a common password. The common list is Django's (about 20,000
passwords from leaked sets, BSD licence), bundled as common-passwords.txt.gz.
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 128


@cache
def common_passwords() -> frozenset[str]:
    data = resources.files("portal.accounts").joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def password_problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """Why `password` may not be used; an empty list means it is acceptable."""
    if len(password) < MIN_LENGTH:
        return [_("Use at least %(count)s characters.", count=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [_("Use at most %(count)s characters.", count=MAX_LENGTH)]
    lowered = password.lower()
    common = common_passwords()
    # "password2024!" is as weak as "password": strip the usual decorations.
    stem = re.sub(r"[\d\W_]+$", "", re.sub(r"^[\d\W_]+", "", lowered))
    if lowered in common or (len(stem) >= 4 and stem in common) or len(set(lowered)) < 4:
        return [_("This password is too common or too easy to guess; choose another.")]
    local_part = email.split("@", 1)[0].lower()
    name_parts = [p for p in re.split(r"\W+", name.lower()) if len(p) >= 4]
    if (len(local_part) >= 4 and local_part in lowered) or any(p in lowered for p in name_parts):
        return [_("The password must not contain your name or e-mail address.")]
    return []


def _hasher() -> PasswordHasher:
    config = current_app.config
    key = (
        config["PASSWORD_HASH_TIME_COST"],
        config["PASSWORD_HASH_MEMORY_KIB"],
        config["PASSWORD_HASH_PARALLELISM"],
    )
    return _hasher_for(*key)


@cache
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return _hasher_for(time_cost, memory_kib, parallelism).hash("no such user: equal timing")


def burn_verification_time(password: str) -> None:
    """Spend as long as a real verification, so unknown e-mails cannot be told apart by timing."""
    config = current_app.config
    verify_password(
        _dummy_hash(
            config["PASSWORD_HASH_TIME_COST"],
            config["PASSWORD_HASH_MEMORY_KIB"],
            config["PASSWORD_HASH_PARALLELISM"],
        ),
        password,
    )
