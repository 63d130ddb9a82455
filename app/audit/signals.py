"""Sign-in and sign-out recorded from Flask-Login's signals, so the auth views need no hook."""

from __future__ import annotations

from typing import Any

from flask_login import user_logged_in, user_logged_out

from app.audit.services import record
from app.extensions import db

# Both entries commit themselves: signing in is the last step of every flow that calls
# login_user (the login form, a delegate choosing a password after their emailed link) and
# not all of them commit after it; the logout views commit nothing at all.


def _signed_in(_app: Any, user: Any, **_extra: Any) -> None:
    """Record a sign-in."""
    record("auth.login", actor=user)
    db.session.commit()


def _signed_out(_app: Any, user: Any, **_extra: Any) -> None:
    """Record a sign-out (an anonymous visitor has nobody to sign out)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return
    record("auth.logout", actor=user)
    db.session.commit()


def listen_for_sign_ins() -> None:
    """Subscribe to Flask-Login's signals (connecting twice changes nothing)."""
    user_logged_in.connect(_signed_in)
    user_logged_out.connect(_signed_out)
