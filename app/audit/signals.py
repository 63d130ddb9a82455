"""Sign-in and sign-out recorded from Flask-Login's signals, so the auth views need no hook."""

from __future__ import annotations

from typing import Any

from flask_login import user_logged_in, user_logged_out

from app.audit.services import record
from app.extensions import db


def _signed_in(_app: Any, user: Any, **_extra: Any) -> None:
    """A sign-in, committed with the login view's own commit (its last-login update)."""
    record("auth.login", actor=user)


def _signed_out(_app: Any, user: Any, **_extra: Any) -> None:
    """A sign-out; the logout view changes nothing else and commits nothing, so the entry
    commits itself here."""
    if user is None or not getattr(user, "is_authenticated", False):
        return
    record("auth.logout", actor=user)
    db.session.commit()


def listen_for_sign_ins() -> None:
    """Subscribe to Flask-Login's signals (connecting twice changes nothing)."""
    user_logged_in.connect(_signed_in)
    user_logged_out.connect(_signed_out)
