"""How the rate limits of app.extensions.limiter are chosen and whom they count against.

The limits themselves are settings (app/config.py, the README's table); a view names its
setting with `@limiter.limit(configured_limit("LOGIN_RATE_LIMIT"), methods=["POST"])`.
A limited client gets 429 with Retry-After and X-RateLimit-* headers, answered by
app/errors.py in the client's language (a page, or JSON under /api/).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user


def configured_limit(setting: str) -> Callable[[], str]:
    """The limit in the named setting, read per request so that each application's own
    settings apply (tests build applications with tiny limits)."""

    def limit() -> str:
        """The setting's current value."""
        return current_app.config[setting]

    limit.__name__ = f"limit_from_{setting.lower()}"
    return limit


def client_address_key() -> str:
    """Count per client address (anonymous visitors)."""
    return f"address:{get_remote_address()}"


def signed_in_user_key() -> str:
    """Count per account when signed in (colleagues share an office address), else per
    address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return client_address_key()
