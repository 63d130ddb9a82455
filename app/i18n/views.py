"""The language switch shown on every page."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from app.auth.access import PUBLIC, allow
from app.extensions import db
from app.i18n.locale import LANGUAGE_COOKIE, LANGUAGE_COOKIE_MAX_AGE, is_supported
from app.web import safe_next_url

bp = Blueprint("i18n", __name__)


@bp.get("/language/<code>")
@allow(PUBLIC)
def switch_language(code: str):
    """Remember the visitor's language choice and go back where they were."""
    if not is_supported(code):
        abort(404)
    response = redirect(safe_next_url(request.args.get("next"), url_for("events.home")))
    response.set_cookie(
        LANGUAGE_COOKIE,
        code,
        max_age=LANGUAGE_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    if current_user.is_authenticated and current_user.language != code:
        current_user.language = code
        db.session.commit()
    return response
