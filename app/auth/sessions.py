"""Signed-in sessions at the request edge: a fresh session at sign-in, the half-signed-in
state between password and second factor, the session version that lets an account end its
other sessions, and idle and absolute expiry.

Flask's session is a signed cookie without a server-side id, so "ending a session" means
making the cookie's contents worthless: each session carries the account's session_version
from sign-in, and a session whose version is older than the account's is signed out.
"""

from __future__ import annotations

import time
from typing import Any

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth.access import ALWAYS_PUBLIC_ENDPOINTS
from app.auth.models import User
from app.errors import error_response, is_api_request
from app.extensions import db

SESSION_VERSION = "session_version"
SIGNED_IN_AT = "signed_in_at"
LAST_SEEN_AT = "last_seen_at"
SECOND_FACTOR_DONE = "second_factor_done"
PENDING_SIGN_IN = "pending_sign_in"
PENDING_CODE = "code"
PENDING_ENROLMENT = "enrol"
# The last-seen time is rewritten at most this often, so not every request resets the cookie.
LAST_SEEN_RESOLUTION = 60


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the session's user, unless the session is older than the account's
    session version (ended elsewhere) or the account is deactivated. A remember-me cookie
    brings no version, so it cannot sign anyone in either."""
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or session.get(SESSION_VERSION) != user.session_version:
        return None
    return user


def session_limits(user: User) -> tuple[int, int]:
    """Seconds a session may stay idle, and may last in all, for this user."""
    config = current_app.config
    if user.is_staff:
        return config["STAFF_SESSION_IDLE_MINUTES"] * 60, config["STAFF_SESSION_MAX_HOURS"] * 3600
    return (
        config["DELEGATE_SESSION_IDLE_HOURS"] * 3600,
        config["DELEGATE_SESSION_MAX_DAYS"] * 86400,
    )


def start_pending_sign_in(user: User, purpose: str, next_url: str) -> None:
    """Remember a right password while the second factor is asked for (not a sign-in)."""
    session.clear()
    session[PENDING_SIGN_IN] = {
        "user": user.id,
        "purpose": purpose,
        "at": time.time(),
        "version": user.session_version,
        "next": next_url,
    }


def pending_sign_in(purpose: str) -> tuple[User, str] | None:
    """The user half-way through signing in for this purpose, and where they were going;
    None when there is none or it has expired (which also forgets it)."""
    pending = session.get(PENDING_SIGN_IN)
    if not isinstance(pending, dict) or pending.get("purpose") != purpose:
        return None
    minutes = current_app.config[
        "SECOND_FACTOR_STEP_MINUTES" if purpose == PENDING_CODE else "TWO_FACTOR_ENROLMENT_MINUTES"
    ]
    user = db.session.get(User, pending.get("user") or 0)
    fresh = time.time() - float(pending.get("at") or 0) <= minutes * 60
    current = user is not None and pending.get("version") == user.session_version
    if not (fresh and current and user.active):
        session.pop(PENDING_SIGN_IN, None)
        return None
    return user, pending.get("next") or ""


def complete_sign_in(user: User, *, second_factor: bool) -> None:
    """A fresh session for a fully signed-in user: nothing of the old one survives (so a
    planted session is worthless), and a new CSRF token is made on the next form."""
    session.clear()
    login_user(user)
    now = time.time()
    session[SESSION_VERSION] = user.session_version
    session[SIGNED_IN_AT] = now
    session[LAST_SEEN_AT] = now
    session[SECOND_FACTOR_DONE] = second_factor
    session.permanent = not user.is_staff


def keep_current_session(user: User) -> None:
    """After the account's session version went up at this session's request, this session
    takes the new version and stays signed in; every other one ends."""
    session[SESSION_VERSION] = user.session_version


def mark_second_factor_done() -> None:
    """The signed-in user has just proven a second factor in this session."""
    session[SECOND_FACTOR_DONE] = True


def _end_session(message: str) -> Any:
    """Sign out, and send the visitor to the sign-in page saying why."""
    logout_user()
    session.clear()
    if is_api_request():
        return error_response(401, message, "session_ended")
    flash(message, "info")
    next_url = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=next_url))


def enforce_session_rules() -> Any:
    """Before every request: end sessions that another session ended, that lack a second
    factor the account now needs, or that were idle or open too long."""
    if request.endpoint in ALWAYS_PUBLIC_ENDPOINTS or "_user_id" not in session:
        return None
    if not current_user.is_authenticated:
        # The loader refused the session: its version is old or the account is gone.
        return _end_session(_("Your session has ended. Please sign in again."))
    if current_user.requires_two_factor and not session.get(SECOND_FACTOR_DONE):
        return _end_session(_("Your account now needs a second factor. Please sign in again."))
    idle, longest = session_limits(current_user)
    now = time.time()
    signed_in_at = session.get(SIGNED_IN_AT)
    last_seen_at = session.get(LAST_SEEN_AT)
    if (
        not isinstance(signed_in_at, int | float)
        or not isinstance(last_seen_at, int | float)
        or now - signed_in_at > longest
        or now - last_seen_at > idle
    ):
        return _end_session(_("Your session has expired. Please sign in again."))
    if now - last_seen_at >= LAST_SEEN_RESOLUTION:
        session[LAST_SEEN_AT] = now
    return None
