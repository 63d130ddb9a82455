"""Which language a request is served in."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, has_request_context, request
from flask_login import current_user

LANGUAGE_COOKIE = "kongres_lang"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600

LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}


def supported_languages() -> list[str]:
    """The language codes this installation serves."""
    return current_app.config["LANGUAGES"]


def is_supported(code: str | None) -> bool:
    """Whether a code names one of the served languages."""
    return bool(code) and code in supported_languages()


def choose_locale(default_language: Callable[[], str | None]) -> str:
    """Pick the request's language.

    The visitor's explicit choice wins, then their account's preference, then the browser's
    Accept-Language, then the event's default language. Outside a request (CLI commands,
    background jobs) messages use CLI_LANGUAGE; emails choose their recipient's language
    explicitly with force_locale.
    """
    if not has_request_context():
        return current_app.config["CLI_LANGUAGE"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if is_supported(chosen):
        return chosen
    preferred = getattr(current_user, "language", None)
    if is_supported(preferred):
        return preferred
    from_browser = request.accept_languages.best_match(supported_languages())
    if from_browser:
        return from_browser
    fallback = default_language()
    if is_supported(fallback):
        return fallback
    return current_app.config["BABEL_DEFAULT_LOCALE"]
