"""Passport numbers encrypted at rest with Fernet, and their masked form.

Kept apart from personal_data.py (which builds on the registration services) so that the
services can encrypt without importing the module that imports them.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken

from app.crypto import decrypt_secret, encrypt_secret
from app.registration.models import Registration

MASK = "•" * 5
# At most this many trailing characters are shown, and never more than half the number.
MASK_VISIBLE = 4


class PassportKeyError(RuntimeError):
    """A stored passport number cannot be read with the configured key."""


def encrypt_passport(text: str) -> str:
    """A Fernet token for a passport number, to store instead of the number."""
    return encrypt_secret(text.strip().encode())


def decrypt_passport(token: str) -> str:
    """The passport number inside a stored Fernet token."""
    try:
        return decrypt_secret(token).decode()
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
