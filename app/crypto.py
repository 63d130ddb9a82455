"""Secrets encrypted at rest with Fernet under the configured PASSPORT_ENCRYPTION_KEY(s).

Shared by every domain that keeps a secret in the database (passport numbers, badge signing
keys, second-factor secrets), so none of them imports another domain for it.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


@lru_cache(maxsize=4)
def _fernet_for(keys: str) -> MultiFernet:
    """The cipher for a PASSPORT_ENCRYPTION_KEY value (the first key encrypts, all decrypt)."""
    return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])


def _fernet() -> MultiFernet:
    """The cipher for this application's configured key(s)."""
    return _fernet_for(current_app.config["PASSPORT_ENCRYPTION_KEY"])


def encrypt_secret(data: bytes) -> str:
    """A Fernet token for a secret kept at rest (InvalidToken on decrypting with a wrong key)."""
    return _fernet().encrypt(data).decode("ascii")


def decrypt_secret(token: str) -> bytes:
    """The secret inside a token made by encrypt_secret (InvalidToken with the wrong key)."""
    return _fernet().decrypt(token.encode("ascii"))
