"""The language switch shown on every page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, url_for

from app.auth.access import PUBLIC, allow
from app.i18n.locale import LANGUAGE_COOKIE, LANGUAGE_COOKIE_MAX_AGE, is_supported
from app.web import safe_next_url

bp = Blueprint("i18n", __name__)


@bp.get("/language/<language>")
@allow(PUBLIC)
def switch_language(language: str):
    """Remember the visitor's language choice and go back where they were."""
    if not is_supported(language):
        abort(404)
    response = redirect(safe_next_url(request.args.get("next"), url_for("events.home")))
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=LANGUAGE_COOKIE_MAX_AGE,
        httponly=True,  # no script reads it
        samesite="Lax",
        # Secure wherever the session cookie is (production), and on any HTTPS request.
        secure=current_app.config["SESSION_COOKIE_SECURE"] or request.is_secure,
    )
    # Only this browser's choice changes: a GET (which any page can trigger) must not change
    # the account's stored language, which also decides the language of its emails.
    return response
