"""Passport numbers encrypted at rest with Fernet, and their masked form.

Kept apart from personal_data.py (which builds on the registration services) so that the
services can encrypt without importing the module that imports them.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from app.registration.models import Registration

MASK = "•" * 5
# At most this many trailing characters are shown, and never more than half the number.
MASK_VISIBLE = 4


class PassportKeyError(RuntimeError):
    """A stored passport number cannot be read with the configured key."""


@lru_cache(maxsize=4)
def _fernet_for(keys: str) -> MultiFernet:
    """The cipher for a PASSPORT_ENCRYPTION_KEY value (the first key encrypts, all decrypt)."""
    return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])


def _fernet() -> MultiFernet:
    """The cipher for this application's configured key(s)."""
    return _fernet_for(current_app.config["PASSPORT_ENCRYPTION_KEY"])


def encrypt_secret(data: bytes) -> str:
    """A Fernet token for any secret kept at rest with the passport keys (badge signing keys)."""
    return _fernet().encrypt(data).decode("ascii")


def decrypt_secret(token: str) -> bytes:
    """The secret inside a token made by encrypt_secret (InvalidToken with the wrong key)."""
    return _fernet().decrypt(token.encode("ascii"))


def encrypt_passport(text: str) -> str:
    """A Fernet token for a passport number, to store instead of the number."""
    return _fernet().encrypt(text.strip().encode()).decode("ascii")


def decrypt_passport(token: str) -> str:
    """The passport number inside a stored Fernet token."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken as error:
        # Only a wrong or rotated-away PASSPORT_ENCRYPTION_KEY (or a tampered row) gets here.
        raise PassportKeyError(
            "A stored passport number cannot be decrypted: is PASSPORT_ENCRYPTION_KEY the key "
            "it was encrypted with?"
        ) from error


def stored_passport_number(registration: Registration) -> str | None:
    """A registration's passport number in clear, or None when it holds none."""
    if not registration.passport_number_encrypted:
        return None
    return decrypt_passport(registration.passport_number_encrypted)


def mask_number(number: str | None) -> str:
    """A number as "•••••1234": a fixed-width mask (hiding the length) and its last digits."""
    if not number:
        return ""
    visible = min(MASK_VISIBLE, len(number) // 2)
    return MASK + number[len(number) - visible :]


def masked_passport(registration: Registration) -> str:
    """A registration's passport number masked for anyone who may not see it in full."""
    return mask_number(stored_passport_number(registration))
