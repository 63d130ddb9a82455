"""Argon2id password hashing (argon2-cffi), tuned by configuration."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_HASHER_KEY = "kongres_password_hasher"


def _hasher() -> PasswordHasher:
    """The application's hasher, built once from its settings."""
    hasher = current_app.extensions.get(_HASHER_KEY)
    if hasher is None:
        hasher = PasswordHasher(
            time_cost=current_app.config["ARGON2_TIME_COST"],
            memory_cost=current_app.config["ARGON2_MEMORY_COST"],
        )
        current_app.extensions[_HASHER_KEY] = hasher
    return hasher


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password against a stored hash; a missing hash never matches."""
    if not password_hash:
        # Spend the same effort as a real check so timing does not reveal the account state.
        _hasher().hash(password)
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with weaker settings than today's."""
    return _hasher().check_needs_rehash(password_hash)
